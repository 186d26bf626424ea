"""Tenant isolation's second line: PostgreSQL row-level security on the
tenant tables, and services that connect as a role unable to bypass it.

Every query of the services names its organization; these tests check what
happens when one does not."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import pytest

from runtime.db import create_pool, migrate, service_role
from runtime.tenant_scope import bind_for_transaction
from scim.filter import parse_filter
from scim.schema import GROUP, USER
from services.directory.filter_sql import SqlParams, compile_filter
from services.directory.group_filter_sql import compile_group_filter

SERVICES = Path(__file__).resolve().parents[2] / "services"


@pytest.fixture(scope="module")
async def database_url(fresh_database):
    url = await fresh_database()
    for schema in ("connections", "directory", "rbac", "webhooks"):
        await migrate(url, schema, SERVICES / schema / "migrations")
    return url


@pytest.fixture
async def directory(database_url):
    pool = await create_pool(database_url, "directory", max_size=1)
    yield pool
    await pool.close()


async def _as_owner(database_url: str, query: str, *args) -> None:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "directory"})
    try:
        await conn.execute(query, *args)
    finally:
        await conn.close()


@pytest.fixture
async def two_organizations(database_url):
    """A member and a group with that member in each of two organizations,
    written by the owner, whom the policies do not restrict."""
    suffix = uuid.uuid4().hex[:8]
    organizations = [f"organization-a-{suffix}", f"organization-b-{suffix}"]
    for organization_id in organizations:
        await _as_owner(
            database_url,
            "INSERT INTO members (member_id, organization_id, connection_id, registration_id, user_name, status,"
            " scim_attributes) VALUES ($1, $2, 'connection', $3, 'someone', 'active', '{}')",
            f"member-{organization_id}", organization_id, f"registration-{organization_id}",
        )
        await _as_owner(
            database_url,
            "INSERT INTO groups (group_id, organization_id, connection_id, display_name) VALUES ($1, $2, 'c', 'g')",
            f"group-{organization_id}", organization_id,
        )
        await _as_owner(
            database_url,
            "INSERT INTO group_members (group_id, member_id, organization_id) VALUES ($1, $2, $3)",
            f"group-{organization_id}", f"member-{organization_id}", organization_id,
        )
    return organizations


@pytest.mark.parametrize("schema", ["connections", "directory", "rbac", "webhooks"])
async def test_services_connect_as_a_role_that_cannot_bypass_it(database_url, schema):
    pool = await create_pool(database_url, schema, max_size=1)
    try:
        row = await pool.shared.fetchrow(
            "SELECT current_user AS role, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
    finally:
        await pool.close()
    assert row["role"] == service_role(schema)
    assert not row["rolsuper"] and not row["rolbypassrls"]


async def test_a_service_role_cannot_read_another_services_schema(database_url):
    pool = await create_pool(database_url, "directory", max_size=1)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.shared.fetch("SELECT * FROM connections.bearer_tokens")
    finally:
        await pool.close()


async def test_an_unscoped_query_sees_only_the_bound_organization(directory, two_organizations):
    a, b = two_organizations
    for table in ("members", "groups", "group_members"):
        # No organization_id in the WHERE clause: the policy supplies it.
        seen_by_a = await directory.of(a).fetch(f"SELECT DISTINCT organization_id FROM {table}")
        seen_by_b = await directory.of(b).fetch(f"SELECT DISTINCT organization_id FROM {table}")
        assert [r["organization_id"] for r in seen_by_a] == [a]
        assert [r["organization_id"] for r in seen_by_b] == [b]


async def test_a_connection_bound_to_no_organization_sees_nothing(database_url, directory, two_organizations):
    assert await directory.of("").fetchval("SELECT count(*) FROM members") == 0
    # A fresh connection has never been bound at all.
    fresh = await create_pool(database_url, "directory", max_size=1)
    try:
        assert await fresh.shared.fetchval("SELECT count(*) FROM members") == 0
    finally:
        await fresh.close()


async def test_another_organizations_rows_cannot_be_written(directory, two_organizations):
    a, b = two_organizations
    scoped = directory.of(a)
    assert await scoped.execute("UPDATE members SET name = 'taken over' WHERE member_id = $1", f"member-{b}") == "UPDATE 0"
    assert await scoped.execute("DELETE FROM group_members WHERE group_id = $1", f"group-{b}") == "DELETE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await scoped.execute(
            "INSERT INTO members (member_id, organization_id, connection_id, registration_id, user_name, status,"
            " scim_attributes) VALUES ($1, $2, 'connection', $1, 'intruder', 'active', '{}')",
            f"intruder-{uuid.uuid4().hex}", b,
        )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await scoped.execute("UPDATE members SET organization_id = $1 WHERE member_id = $2", b, f"member-{a}")


async def test_a_membership_takes_the_bound_organization(database_url, directory, two_organizations):
    a, _b = two_organizations
    member_id = f"member-{uuid.uuid4().hex}"
    await _as_owner(
        database_url,
        "INSERT INTO members (member_id, organization_id, connection_id, registration_id, user_name, status,"
        " scim_attributes) VALUES ($1, $2, 'connection', $1, 'new', 'active', '{}')",
        member_id, a,
    )
    await directory.of(a).execute("INSERT INTO group_members (group_id, member_id) VALUES ($1, $2)", f"group-{a}", member_id)
    assert await directory.of(a).fetchval(
        "SELECT organization_id FROM group_members WHERE member_id = $1", member_id
    ) == a


async def test_one_pooled_connection_follows_each_binding(directory, two_organizations):
    """The pool has one connection: it serves a, b, a in turn, and a failed
    transaction in between does not undo its binding."""
    a, b = two_organizations
    for organization_id in (a, b, a):
        assert await directory.of(organization_id).fetchval("SELECT organization_id FROM members") == organization_id
    with pytest.raises(asyncpg.UndefinedTableError):
        async with directory.of(b).acquire() as conn, conn.transaction():
            await conn.execute("SELECT * FROM no_such_table")
    assert await directory.of(b).fetchval("SELECT organization_id FROM members") == b


async def test_a_transaction_can_visit_another_organization_and_come_back(directory, two_organizations):
    a, b = two_organizations
    async with directory.of(a).acquire() as conn:
        async with conn.transaction():
            await bind_for_transaction(conn, b)
            assert await conn.fetchval("SELECT organization_id FROM members") == b
        assert await conn.fetchval("SELECT organization_id FROM members") == a


async def test_a_pool_refuses_a_role_that_bypasses_it(database_url, tmp_path):
    schema = f"probe_{uuid.uuid4().hex[:8]}"
    await migrate(database_url, schema, tmp_path)
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute(f'ALTER ROLE "{service_role(schema)}" BYPASSRLS')
        with pytest.raises(RuntimeError, match="bypasses row-level security"):
            await create_pool(database_url, schema)
    finally:
        await owner.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await owner.execute(f'DROP OWNED BY "{service_role(schema)}"')
        await owner.execute(f'DROP ROLE "{service_role(schema)}"')
        await owner.close()


@pytest.mark.parametrize(
    ("compile_filter", "resource", "table", "attribute", "index_column"),
    [
        (compile_filter, USER, "members", "userName", "user_name_lower"),
        (compile_group_filter, GROUP, "groups", "displayName", "display_name_lower"),
        # Entra matching users on the enterprise employeeNumber (migration 0012's leakproof wrapper).
        (compile_filter, USER, "members", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
         "scim_folded_text"),
    ],
)
async def test_name_lookups_stay_index_conditions_under_the_policy(directory, two_organizations, compile_filter,
                                                                  resource, table, attribute, index_column):
    """IdPs look every user and group up by name before writing (Okta:
    `userName eq`, Entra: `displayName eq`, or a matching attribute such as
    `employeeNumber eq`); with the policy in place the
    compiled filter must still be an index condition, not a filter over every
    row of the organization."""
    params = SqlParams(start=2)
    condition = compile_filter(parse_filter(f'{attribute} eq "Someone@Example.COM"', resource), params)
    a, _b = two_organizations
    async with directory.of(a).acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            row[0] for row in await conn.fetch(
                f"EXPLAIN SELECT 1 FROM {table} WHERE organization_id = $1 AND connection_id = $2"
                f" AND status <> 'deleted' AND {condition}",
                a, "connection", *params.values,
            )
        )
    index_conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert any(index_column in line for line in index_conditions), plan
