"""The delivery queue's statements read only what they take, whatever the
table held before.

A claim updates the rows it locked where they are. Every claim and every
success leaves a dead row version, so the deliveries table carries many dead
rows between autovacuums; joined back by key, the claim's UPDATE hashed or
scanned the whole table on every claim (5 ms and 6,000 buffers with nothing to
claim). And when ANALYZE last saw the table empty, every plan took the queue for
one row: the webhooks service refreshes its statistics once it outgrew them."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import asyncpg
import pytest

from runtime.db import create_pool, migrate
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
        # What is left is pages of dead row versions (of claims and successes) the statistics do not count.
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


@pytest.fixture
async def refilled_queue(fresh_database):
    """Deliveries whose last ANALYZE saw an empty table (every endpoint deleted,
    as after a bench run or on a new install), filled again since: thousands
    pending for three new endpoints, the statistics still counting none."""
    url = await fresh_database()
    await migrate(url, "webhooks", ROOT / "services" / "webhooks" / "migrations")
    conn = await asyncpg.connect(url, server_settings={"search_path": "webhooks"})
    try:
        await conn.execute("ALTER TABLE deliveries SET (autovacuum_enabled = false)")
        await _deliveries_for_new_endpoints(conn, "old", 2000)
        await conn.execute("DELETE FROM endpoints")
        await conn.execute("VACUUM ANALYZE deliveries")
        await _deliveries_for_new_endpoints(conn, "new", 1500)
        # Half of them delivered: each resource's queue has a head and a tail.
        await conn.execute("UPDATE deliveries SET status = 'succeeded' WHERE seq % 2 = 0")
        await conn.execute("SELECT pg_stat_force_next_flush()")
        yield url, conn
    finally:
        await conn.close()


async def _deliveries_for_new_endpoints(conn: asyncpg.Connection, name: str, events: int) -> None:
    await conn.execute("INSERT INTO endpoints (endpoint_id, url, secret_sealed)"
                       " SELECT $1 || n, 'http://x', '\\x00' FROM generate_series(1, 3) n", name)
    await conn.execute(
        "INSERT INTO events (event_id, type, organization_id, body, occurred_at, object_id)"
        " SELECT $1 || '-event-' || n, 'scim.member.create', 'organization', '{}', now(), $1 || '-member-' || n"
        " FROM generate_series(1, $2) n",
        name, events,
    )
    await conn.execute(
        "INSERT INTO deliveries (event_id, endpoint_id, seq, object_id, next_attempt_at)"
        " SELECT e.event_id, p.endpoint_id, e.seq, e.object_id, now() - interval '1 minute'"
        " FROM events e CROSS JOIN endpoints p WHERE e.event_id LIKE $1 || '-%'",
        name,
    )


async def _indexes_reading_deliveries(conn: asyncpg.Connection, sql: str, args: tuple) -> list[str]:
    transaction = conn.transaction()
    await transaction.start()
    try:
        [explained] = json.loads(await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args))
    finally:
        await transaction.rollback()
    return [node.get("Index Name") or node["Node Type"] for node in plan_nodes(explained["Plan"])
            if node.get("Relation Name") == "deliveries" and node["Node Type"] != "ModifyTable"]


async def test_a_refilled_queue_gets_its_statistics_back_and_claims_read_only_what_they_take(refilled_queue):
    url, conn = refilled_queue
    pool = await create_pool(url, "webhooks")
    try:
        async with conn.transaction():  # another replica analyzing: this one skips
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('webhooks.analyze_deliveries'))")
            assert not await repository.refresh_queue_statistics(pool.shared)
        assert await repository.refresh_queue_statistics(pool.shared)
        assert not await repository.refresh_queue_statistics(pool.shared)  # nothing changed since
    finally:
        await pool.close()

    now = datetime.now(timezone.utc)
    recorder = StatementRecorder()
    await repository.claim_due_deliveries(recorder, now, 64, 30.0, [], 16)
    pending = await conn.fetch("SELECT event_id, endpoint_id, attempts, next_attempt_at FROM deliveries"
                               " WHERE status = 'pending' LIMIT 16")
    await repository.record_successes(recorder, [
        repository.AttemptRecord(row["event_id"], row["endpoint_id"], row["attempts"], row["next_attempt_at"], now,
                                 200, 1.0, "", "", "succeeded", None)
        for row in pending
    ])
    [claim, successes] = recorder.statements
    # Each endpoint's due range in order; each candidate checked against its own resource's queue.
    assert await _indexes_reading_deliveries(conn, *claim) == [
        "deliveries_due_per_endpoint", "deliveries_pending_per_resource", "Tid Scan"]
    # Each success by its key, not the queue hashed whole; its resource's next one in the resource's queue.
    assert await _indexes_reading_deliveries(conn, *successes) == ["deliveries_pkey", "deliveries_pending_per_resource"]

    # A store that leases what it can: each endpoint's due range, each new delivery's resource queue.
    recorder = StatementRecorder()
    events = [repository.ReceivedEvent(f"stored-{n}", "scim.member.create", "organization", "", "{}", now,
                                       f"new-member-{n}") for n in range(1, 20)]
    await repository.store_events(recorder, events, now, repository.LeaseOffer(64, 30.0, 16, {}))
    [_, store, *_] = recorder.statements
    assert set(await _indexes_reading_deliveries(conn, *store)) == {
        "deliveries_due_per_endpoint", "deliveries_pending_per_resource"}
