"""A delivery claim updates the rows it locked where they are. Delivered rows
are deleted, so the deliveries table carries many dead rows between
autovacuums; joined back by key, the claim's UPDATE hashed or scanned the whole
table on every claim (5 ms and 6,000 buffers with nothing to claim, half a
second under load after a quiet spell)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import asyncpg
import pytest

from runtime.db import migrate
from services.webhooks import repository
from tests.support import StatementRecorder, plan_nodes

ROOT = Path(__file__).resolve().parents[2]
ROWS = 3000


@pytest.fixture
async def bloated_deliveries(fresh_database):
    url = await fresh_database()
    await migrate(url, "webhooks", ROOT / "services" / "webhooks" / "migrations")
    conn = await asyncpg.connect(url, server_settings={"search_path": "webhooks"})
    try:
        await conn.execute("ALTER TABLE deliveries SET (autovacuum_enabled = false)")
        await conn.execute("INSERT INTO endpoints (endpoint_id, url, secret_sealed) VALUES ('endpoint', 'http://x', '\\x00')")
        await conn.execute(
            "INSERT INTO events (event_id, type, organization_id, body, occurred_at)"
            " SELECT 'event-' || n, 'scim.member.create', 'organization', '{}', now() FROM generate_series(1, $1) n",
            ROWS,
        )
        await conn.execute("INSERT INTO deliveries (event_id, endpoint_id) SELECT event_id, 'endpoint' FROM events")
        await conn.execute("ANALYZE deliveries")
        # Delivered: what is left is pages of dead rows the statistics do not count.
        await conn.execute("DELETE FROM deliveries WHERE event_id <> 'event-7'")
        yield conn
    finally:
        await conn.close()


async def test_a_claim_updates_what_it_locked_without_reading_the_table(bloated_deliveries):
    recorder = StatementRecorder()
    await repository.claim_due_deliveries(recorder, datetime.now(timezone.utc), 64, 30.0, [], 16)
    [(sql, args)] = recorder.statements
    transaction = bloated_deliveries.transaction()
    await transaction.start()
    try:
        statement = await bloated_deliveries.prepare(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        [explained] = json.loads(await statement.fetchval(*args))
    finally:
        await transaction.rollback()
    nodes = list(plan_nodes(explained["Plan"]))
    [update] = [node for node in nodes if node["Node Type"] == "ModifyTable"]
    reads = [(node["Node Type"], node.get("Index Name")) for node in plan_nodes(update)
             if node.get("Relation Name") == "deliveries" and node is not update]
    assert reads == [("Tid Scan", None)], reads
    assert explained["Plan"]["Actual Rows"] == 1
