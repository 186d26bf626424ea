"""The background apply of an attribute mapping (services/directory/
attribute_mapping_apply.py), process by process against a real database:
resumed where a dead process left it, superseded by a newer mapping, each
member's update event queued once per change, and the mappings themselves
under row-level security."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from runtime.context import Tenant
from runtime.db import create_pool, migrate
from runtime.events import EventStream
from services.directory import attribute_mapping_apply
from services.directory import attribute_mapping_repository as mappings
from services.directory.service import DirectoryServicer

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "directory" / "migrations"
MEMBERS = 1200  # more than two batches


@pytest.fixture(scope="module")
async def database_url(fresh_database):
    url = await fresh_database()
    await migrate(url, "directory", MIGRATIONS)
    return url


@pytest.fixture
async def pool(database_url, monkeypatch):
    # No other process computes with an older mapping here: no need to wait for their caches.
    monkeypatch.setattr(attribute_mapping_apply, "SETTLE_SECONDS", 0.0)
    pool = await create_pool(database_url, "directory", max_size=4)
    yield pool
    await pool.close()


def process(pool) -> DirectoryServicer:
    """What one directory process holds (its applier has an owner id of its own)."""
    return DirectoryServicer(pool, EventStream("mapping-apply-test"), "project-test")


@pytest.fixture
async def tenant(pool) -> Tenant:
    tenant = Tenant(f"organization-{uuid.uuid4()}", f"scim-connection-{uuid.uuid4()}")
    await pool.of(tenant.organization_id).execute(
        "INSERT INTO members (member_id, organization_id, connection_id, registration_id, user_name, status,"
        " scim_attributes)"
        " SELECT $3 || n, $1, $2, $3 || 'r' || n, 'user' || n, 'active', jsonb_build_object('title', 'T' || n)"
        " FROM generate_series(1, $4) AS n",
        tenant.organization_id, tenant.connection_id, f"member-{uuid.uuid4().hex[:8]}-", MEMBERS,
    )
    return tenant


async def _field(pool) -> str:
    key = f"title_{uuid.uuid4().hex[:8]}"
    await pool.shared.execute("INSERT INTO custom_fields (key, type) VALUES ($1, 'string')", key)
    return key


async def _save(pool, tenant: Tenant, definition: list) -> int:
    async with pool.of(tenant.organization_id).acquire() as conn:
        row = await mappings.save_mapping(conn, tenant.organization_id, tenant.connection_id, definition)
    return row["version"]


async def _events(pool) -> int:
    return await pool.shared.fetchval("SELECT count(*) FROM outbox")


async def _values(pool, tenant: Tenant) -> dict[int, int]:
    """How many members carry each mapping version."""
    rows = await pool.of(tenant.organization_id).fetch(
        "SELECT custom_attributes_version AS version, count(*) FROM members WHERE organization_id = $1"
        " GROUP BY 1", tenant.organization_id)
    return {r["version"]: r["count"] for r in rows}


async def _one_batch_then_die(applier, tenant: Tenant, version: int) -> None:
    """What a process does before it is killed: claims the apply, brings one batch up to date."""
    db = applier._pool.of(tenant.organization_id)
    claimed = await mappings.claim(db, tenant.organization_id, tenant.connection_id, applier._owner, 30)
    assert claimed["version"] == version
    evaluator = await applier._custom.compiled(
        attribute_mapping_apply.stored_mapping(claimed["definition"], await applier._custom.fields()), version)
    await applier._batch(tenant, evaluator, None)


async def test_an_apply_a_dead_process_left_is_resumed_where_it_stopped(pool, tenant):
    key = await _field(pool)
    version = await _save(pool, tenant, [{"field": key, "sources": ["title"], "transforms": []}])
    events_before = await _events(pool)
    first, second = process(pool), process(pool)
    await _one_batch_then_die(first._applier, tenant, version)
    assert await _values(pool, tenant) == {version: attribute_mapping_apply.BATCH, 0: MEMBERS - attribute_mapping_apply.BATCH}

    # Its lease holds the apply: nobody else takes it, until the lease ends.
    await second._applier.resume_due()
    assert await mappings.claim(pool.of(tenant.organization_id), tenant.organization_id, tenant.connection_id,
                                "someone-else", 30) is None
    await pool.of(tenant.organization_id).execute(
        "UPDATE attribute_mappings SET apply_lease_until = now() - interval '1 second' WHERE organization_id = $1",
        tenant.organization_id)
    due = await mappings.due(pool.shared)
    assert (tenant.organization_id, tenant.connection_id) in {(d["organization_id"], d["connection_id"]) for d in due}
    await second._applier.run(tenant)

    assert await _values(pool, tenant) == {version: MEMBERS}
    assert await _events(pool) - events_before == MEMBERS  # each member's change once, across both processes
    stored = await mappings.get_mapping(pool.of(tenant.organization_id), tenant.organization_id, tenant.connection_id)
    assert (stored["applied_version"], stored["apply_done"], stored["apply_changed"]) == (version, MEMBERS, MEMBERS)
    sample = await pool.of(tenant.organization_id).fetchrow(
        "SELECT scim_attributes, custom_attributes FROM members WHERE organization_id = $1 LIMIT 1",
        tenant.organization_id)
    assert sample["custom_attributes"] == {key: sample["scim_attributes"]["title"]}


async def test_a_newer_mapping_supersedes_the_apply_and_rolls_its_batch_back(pool, tenant):
    key = await _field(pool)
    first = await _save(pool, tenant, [{"field": key, "sources": ["title"], "transforms": []}])
    events_before = await _events(pool)
    applier = process(pool)._applier
    await _one_batch_then_die(applier, tenant, first)
    second = await _save(pool, tenant, [{"field": key, "sources": ["title"], "transforms": [{"type": "lower"}]}])

    evaluator = await applier._custom.compiled(attribute_mapping_apply.stored_mapping(
        [{"field": key, "sources": ["title"], "transforms": []}], await applier._custom.fields()), first)
    with pytest.raises(attribute_mapping_apply.Superseded):
        await applier._batch(tenant, evaluator, None)  # the older version's next batch
    assert await _values(pool, tenant) == {first: attribute_mapping_apply.BATCH,
                                           0: MEMBERS - attribute_mapping_apply.BATCH}

    await applier.run(tenant)
    assert await _values(pool, tenant) == {second: MEMBERS}
    assert await _events(pool) - events_before == attribute_mapping_apply.BATCH + MEMBERS
    values = await pool.of(tenant.organization_id).fetch(
        "SELECT DISTINCT custom_attributes ->> $2 AS value FROM members WHERE organization_id = $1",
        tenant.organization_id, key)
    assert all(v["value"].startswith("t") for v in values)


async def test_mappings_are_under_row_level_security(pool, tenant):
    key = await _field(pool)
    await _save(pool, tenant, [{"field": key, "sources": ["title"], "transforms": []}])
    stranger = f"organization-{uuid.uuid4()}"
    assert await pool.of(stranger).fetchval("SELECT count(*) FROM attribute_mappings") == 0
    assert await pool.of(stranger).execute(
        "UPDATE attribute_mappings SET definition = '[]' WHERE organization_id = $1", tenant.organization_id
    ) == "UPDATE 0"
    # The project's fields belong to no organization; whether one is mapped is counted across them.
    assert await pool.of(stranger).fetchval("SELECT custom_field_mappings($1)", key) == 1
