"""Pages stay fast for a tenant the planner's statistics have not seen yet:
an IdP's first import fills a connection and lists it before autovacuum
analyzes the tables (and on a large shared table, long after). A plan made
for that tenant's value takes it for one row: every index leading with
organization_id ties with the key, and a join runs its inner side once per
row of the tenant. The directory's and rbac's pools plan for an organization
of average size (runtime.db.FOR_ANY_ORGANIZATION); these plans are checked as they
run there."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import pytest

from runtime.db import FOR_ANY_ORGANIZATION, migrate
from services.directory import group_repository, repository
from services.rbac import session_repository
from tests.support import StatementRecorder, plan_nodes

ROOT = Path(__file__).resolve().parents[2]
KNOWN = ["organization-known-1", "organization-known-2"]
NEW = "organization-new"
MEMBERS = 1500
GROUPS = 10
TABLES = ("directory.members", "directory.groups", "directory.group_members", "rbac.sessions")


async def _fill(conn, organizations: list[str]) -> None:
    await conn.execute(
        "INSERT INTO directory.members (organization_id, member_id, connection_id, registration_id, user_name, status,"
        " scim_attributes, created_at)"
        " SELECT o, o || '-member-' || n, 'connection-' || o, o || '-registration-' || n, 'user' || n || '@example.com',"
        "   'active', '{}', now() + n * interval '1 millisecond'"
        " FROM unnest($1::text[]) AS o, generate_series(1, $2) AS n",
        organizations, MEMBERS,
    )
    await conn.execute(
        "INSERT INTO directory.groups (organization_id, group_id, connection_id, display_name)"
        " SELECT o, o || '-group-' || n, 'connection-' || o, 'Group ' || n"
        " FROM unnest($1::text[]) AS o, generate_series(1, $2) AS n",
        organizations, GROUPS,
    )
    await conn.execute(
        "INSERT INTO directory.group_members (organization_id, group_id, member_id)"
        " SELECT o, o || '-group-' || (n % $3 + 1), o || '-member-' || n"
        " FROM unnest($1::text[]) AS o, generate_series(1, $2) AS n",
        organizations, MEMBERS, GROUPS,
    )
    await conn.execute(
        "INSERT INTO rbac.sessions (organization_id, session_id, member_id, token_id, secret_hash, started_at,"
        " last_accessed_at, expires_at)"
        " SELECT o, o || '-session-' || n, o || '-member-' || n, md5(o || n), '\\x00', now(), now(),"
        "   now() + interval '1 hour'"
        " FROM unnest($1::text[]) AS o, generate_series(1, $2) AS n",
        organizations, MEMBERS,
    )


@pytest.fixture(scope="module")
async def unseen_tenant(fresh_database):
    url = await fresh_database()
    for schema in ("directory", "rbac"):
        await migrate(url, schema, ROOT / "services" / schema / "migrations")
    conn = await asyncpg.connect(url, server_settings={"search_path": "directory, rbac",
                                                           "plan_cache_mode": FOR_ANY_ORGANIZATION})
    try:
        for table in TABLES:
            await conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        await _fill(conn, KNOWN)
        await conn.execute(f"ANALYZE {', '.join(TABLES)}")
        await _fill(conn, [NEW])  # after the statistics
        yield conn
    finally:
        await conn.close()


async def _explained(conn, call) -> list[dict]:
    """The nodes of the plan of the first statement `call` runs, as a service's
    pool runs it: prepared, then executed under the pool's settings."""
    recorder = StatementRecorder()
    await call(recorder)
    sql, args = recorder.statements[0]
    # EXPLAIN of a statement with parameters plans it for their values; a
    # prepared statement's EXECUTE is planned as the settings say.
    await conn.execute(f"PREPARE under_test AS {sql}")
    try:
        arguments = ", ".join(str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"
                              for value in args)
        [explained] = json.loads(await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE under_test({arguments})"))
    finally:
        await conn.execute("DEALLOCATE under_test")
    return list(plan_nodes(explained["Plan"]))


@pytest.mark.parametrize("offset", [0, 700])
async def test_a_page_of_users_reads_its_window_once_and_then_only_the_page_by_key(unseen_tenant, offset):
    query = repository.MemberQuery(NEW, f"connection-{NEW}", view=repository.IDENTITY_PROVIDER,
                                   limit=101, offset=offset)
    nodes = await _explained(unseen_tenant, lambda pool: repository.list_members(pool, query))
    windows = [node for node in nodes if node["Node Type"] == "Limit"]
    assert windows, "the page has no window"
    assert [node["Actual Loops"] for node in windows] == [1] * len(windows)
    below_windows = [child for window in windows for child in plan_nodes(window)]
    # Past the window, the members of the page are read by their key, not by
    # ranging over the tenant in another index that leads with organization_id.
    lookups = [node for node in nodes if node.get("Relation Name") == "members" and node not in below_windows]
    assert lookups and {node.get("Index Name") for node in lookups} == {"members_pkey"}, lookups
    assert nodes[0]["Actual Rows"] == 101


async def test_a_page_of_a_groups_members_reads_each_member_by_key(unseen_tenant):
    nodes = await _explained(unseen_tenant, lambda pool: group_repository.list_group_members(
        pool, NEW, f"{NEW}-group-3", 100, ""))
    members = [node for node in nodes if node.get("Relation Name") == "members"]
    assert members and all(node["Actual Rows"] <= 1 for node in members), [
        (node.get("Index Name"), node["Actual Rows"], node["Actual Loops"]) for node in members]
    assert nodes[0]["Actual Rows"] == 100


async def test_a_session_of_an_unseen_tenant_is_touched_by_its_key(unseen_tenant):
    nodes = await _explained(unseen_tenant, lambda pool: session_repository.touch_live_session(
        pool, NEW, f"{NEW}-session-7"))
    sessions = [node for node in nodes if node.get("Relation Name") == "sessions" and node["Node Type"].endswith("Scan")]
    assert sessions and {node.get("Index Name") for node in sessions} == {"sessions_pkey"}, [
        (node.get("Index Name"), node["Actual Rows"]) for node in sessions]
