"""A SCIM listing stays driven by its page for a tenant the planner's
statistics have not seen yet: an IdP's first import lists a connection it
has just filled, before autovacuum analyzes the table (and on a large shared
table, long after). The planner then takes the tenant for one row; as a plain
join, the listing put the tenant's members outside and ran the page's window
again for each of them, seconds a page."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import pytest

from runtime.db import migrate
from services.directory import repository

ROOT = Path(__file__).resolve().parents[2]
KNOWN = ["organization-known-1", "organization-known-2"]
NEW = "organization-new"
MEMBERS = 1500


class _Recorder:
    """Stands in for a pool: keeps the statements list_members would run."""

    def __init__(self):
        self.statements: list[tuple[str, tuple]] = []
        self.settings: list[str] = []  # what list_members set on its connection before its first statement

    def acquire(self):
        return self

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        return False

    async def fetch(self, sql: str, *args):
        self.statements.append((sql, args))
        return []

    fetchval = fetch

    async def execute(self, sql: str, *args):
        if not self.statements:
            self.settings.append(sql)
        return ""


async def _insert_members(conn, organizations: list[str], count: int) -> None:
    await conn.execute(
        "INSERT INTO directory.members (organization_id, member_id, connection_id, registration_id, user_name, status,"
        " scim_attributes, created_at)"
        " SELECT o, o || '-member-' || n, 'connection-' || o, o || '-registration-' || n, 'user' || n || '@example.com',"
        "   'active', '{}', now() + n * interval '1 millisecond'"
        " FROM unnest($1::text[]) AS o, generate_series(1, $2) AS n",
        organizations, count,
    )


@pytest.fixture(scope="module")
async def unseen_tenant(fresh_database):
    url = await fresh_database()
    await migrate(url, "directory", ROOT / "services" / "directory" / "migrations")
    conn = await asyncpg.connect(url, server_settings={"search_path": "directory"})
    try:
        await conn.execute("ALTER TABLE directory.members SET (autovacuum_enabled = false)")
        await _insert_members(conn, KNOWN, MEMBERS)
        await conn.execute("ANALYZE directory.members")
        await _insert_members(conn, [NEW], MEMBERS)  # after the statistics
        yield conn
    finally:
        await conn.close()


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


async def _explained(conn, settings: list[str], sql: str, args: tuple) -> dict:
    """The plan of the statement as the directory runs it: prepared, under its settings."""
    for setting in settings:
        await conn.execute(setting)
    # EXPLAIN of a statement with parameters plans it for their values; a
    # prepared statement's EXECUTE is planned as the settings say.
    await conn.execute(f"PREPARE page AS {sql}")
    try:
        arguments = ", ".join(str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"
                              for value in args)
        [explained] = json.loads(await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE page({arguments})"))
    finally:
        await conn.execute("DEALLOCATE page")
        await conn.execute("RESET ALL")
    return explained


@pytest.mark.parametrize("offset", [0, 700])
async def test_a_page_of_an_unseen_tenant_reads_its_window_once_and_then_only_the_page(unseen_tenant, offset):
    query = repository.MemberQuery(NEW, f"connection-{NEW}", view=repository.IDENTITY_PROVIDER,
                                   limit=101, offset=offset)
    recorder = _Recorder()
    await repository.list_members(recorder, query)
    page_sql, args = recorder.statements[0]
    explained = await _explained(unseen_tenant, recorder.settings, page_sql, args)
    nodes = list(_nodes(explained["Plan"]))
    windows = [node for node in nodes if node["Node Type"] == "Limit"]
    assert windows, "the page has no window"
    assert [node["Actual Loops"] for node in windows] == [1] * len(windows)
    # Past the window, the members of the page are read by their key, not by
    # ranging over the tenant in another index that leads with organization_id.
    lookups = [node for node in nodes if node.get("Relation Name") == "members" and node not in _below(windows)]
    assert lookups and {node.get("Index Name") for node in lookups} == {"members_pkey"}, lookups
    assert explained["Plan"]["Actual Rows"] == 101


def _below(nodes: list[dict]) -> list[dict]:
    return [child for node in nodes for child in _nodes(node)]
