"""The schema is ready to be distributed by organization (issue 19; see
deploy/k8s/README.md, "Past one primary: Citus").

A tenant table is one with an `organization_id` column, unless it is listed
below as project-level (a Citus reference table) or as staying on one node
(coordinator-local). Every key of a tenant table leads with organization_id,
every foreign key between tenant tables carries it on both sides, the hot
queries are index scans on a key that starts with it, and
deploy/citus/distribute.sql names every table in the class it is here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import asyncpg
import pytest

from runtime.db import migrate
from scim.filter import parse_filter
from scim.schema import USER
from services.directory import group_repository
from services.directory import repository as member_repository
from services.directory.filter_sql import SqlParams, compile_filter
from services.rbac import repository as rbac_repository
from services.rbac import session_repository
from tests.support import StatementRecorder, plan_nodes

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ("connections", "directory", "rbac", "webhooks")
DISTRIBUTE_SQL = ROOT / "deploy" / "citus" / "distribute.sql"

# Project-level: the same rows for every organization, replicated to every node.
REFERENCE_TABLES = {
    # The registry of organizations and connections and their credentials:
    # each credential (bearer token, OAuth client, portal link) is looked up
    # by an id that names no organization.
    "connections.organizations", "connections.connections", "connections.bearer_tokens",
    "connections.oauth_client_secrets", "connections.access_tokens", "connections.assertion_trusts",
    "connections.portal_links", "connections.used_assertions",
    # The vendor's definitions, and what signs session JWTs.
    "directory.schema_extensions", "directory.custom_fields", "rbac.roles", "rbac.signing_keys",
}
# Staying on one node (the coordinator): each is read across organizations in
# one order under row locks (SELECT ... FOR UPDATE works in single-shard queries
# only on Citus), or is bookkeeping.
LOCAL_TABLES = {
    # The event log (one seq for every organization, the Events API cursor and
    # the snapshots' consistency point) and the delivery queue claimed per
    # endpoint across organizations with FOR UPDATE SKIP LOCKED.
    "webhooks.endpoints", "webhooks.events", "webhooks.deliveries", "webhooks.attempts",
    "webhooks.snapshot_epoch", "webhooks.snapshot_organizations", "webhooks.snapshot_members",
    "webhooks.snapshot_member_roles", "webhooks.snapshot_groups", "webhooks.snapshot_memberships",
    # Each service's outbox, relayed across organizations in seq order.
    *(f"{schema}.outbox" for schema in SCHEMAS),
    *(f"{schema}.schema_migrations" for schema in SCHEMAS),
}


@pytest.fixture(scope="module")
async def database_url(fresh_database):
    url = await fresh_database()
    for schema in SCHEMAS:
        await migrate(url, schema, ROOT / "services" / schema / "migrations")
    return url


@pytest.fixture(scope="module")
async def owner(database_url):
    # With no schema on the search path, every regclass reads schema-qualified.
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "pg_catalog"})
    yield conn
    await conn.close()


async def _all_tables(conn) -> set[str]:
    rows = await conn.fetch(
        "SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])",
        list(SCHEMAS),
    )
    return {row["name"] for row in rows}


async def tenant_tables(conn) -> set[str]:
    rows = await conn.fetch(
        "SELECT table_schema || '.' || table_name AS name FROM information_schema.columns"
        " WHERE column_name = 'organization_id' AND table_schema = ANY($1::text[])",
        list(SCHEMAS),
    )
    return {row["name"] for row in rows} - REFERENCE_TABLES - LOCAL_TABLES


async def key_offenders(conn, tables: set[str]) -> list[str]:
    """Each primary key, unique constraint or unique index of `tables` whose
    first column is not organization_id, and each foreign key from one of them
    to a tenant table that does not pair organization_id with organization_id."""
    offenders = []
    unique_indexes = await conn.fetch(
        "SELECT i.indrelid::regclass::text AS table_name, i.indexrelid::regclass::text AS index_name,"
        "  a.attname AS first_column"
        " FROM pg_index i LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
        " WHERE i.indisunique AND i.indrelid = ANY($1::regclass[])",
        sorted(tables),
    )
    for row in unique_indexes:
        if row["first_column"] != "organization_id":  # NULL: an expression leads
            offenders.append(f"{row['table_name']}: unique key {row['index_name']} leads with {row['first_column']}")
    foreign_keys = await conn.fetch(
        "SELECT c.conrelid::regclass::text AS table_name, c.conname, c.confrelid::regclass::text AS referenced,"
        "  (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)"
        "     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,"
        "  (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)"
        "     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS referenced_columns"
        " FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY($1::regclass[])",
        sorted(tables),
    )
    for row in foreign_keys:
        referenced = row["referenced"]
        if referenced not in tables and referenced in REFERENCE_TABLES:
            continue  # a distributed table may refer to a reference table
        pairs = list(zip(row["columns"], row["referenced_columns"]))
        if referenced not in tables or ("organization_id", "organization_id") not in pairs:
            offenders.append(f"{row['table_name']}: foreign key {row['conname']} to {referenced} crosses organizations")
    return offenders


async def test_every_key_of_a_tenant_table_leads_with_organization_id(owner):
    tables = await tenant_tables(owner)
    assert {"directory.members", "directory.groups", "directory.group_members", "rbac.sessions"} <= tables
    assert await key_offenders(owner, tables) == []


async def test_the_check_finds_keys_without_the_organization(owner):
    transaction = owner.transaction()
    await transaction.start()
    try:
        await owner.execute(
            "CREATE TABLE directory.probe (organization_id text NOT NULL, probe_id text PRIMARY KEY,"
            " member_id text, FOREIGN KEY (organization_id, member_id) REFERENCES directory.members)"
        )
        await owner.execute(
            "CREATE TABLE directory.probe_child (organization_id text NOT NULL, probe_id text"
            " REFERENCES directory.probe, UNIQUE (probe_id, organization_id))"
        )
        offenders = await key_offenders(owner, {"directory.probe", "directory.probe_child", "directory.members"})
    finally:
        await transaction.rollback()
    assert sorted(offenders) == [
        "directory.probe: unique key directory.probe_pkey leads with probe_id",
        "directory.probe_child: foreign key probe_child_probe_id_fkey to directory.probe crosses organizations",
        "directory.probe_child: unique key directory.probe_child_probe_id_organization_id_key leads with probe_id",
    ]


async def test_every_table_is_classified_and_the_citus_statements_name_them(owner):
    tables = await _all_tables(owner)
    tenants = await tenant_tables(owner)
    assert REFERENCE_TABLES | LOCAL_TABLES <= tables, "an allow-listed table no longer exists"
    unclassified = tables - tenants - REFERENCE_TABLES - LOCAL_TABLES
    assert unclassified == set(), "a table without organization_id must be listed as reference or local"

    statements = DISTRIBUTE_SQL.read_text()
    distributed = re.findall(r"create_distributed_table\('([a-z_.]+)', 'organization_id'", statements)
    referenced = re.findall(r"create_reference_table\('([a-z_.]+)'\)", statements)
    assert sorted(distributed) == sorted(tenants)
    assert sorted(referenced) == sorted(REFERENCE_TABLES)
    colocated_with = set(re.findall(r"colocate_with => '([a-z_.]+)'", statements)) - {"none"}
    assert colocated_with == {distributed[0]}, "one colocation group, that of the first tenant table"


# --- the hot queries' plans

ORGANIZATIONS = [f"organization-{n}" for n in range(4)]
MEMBERS_PER_ORGANIZATION = 2000
GROUPS_PER_ORGANIZATION = 1000


@pytest.fixture(scope="module")
async def populated(owner):
    """Several thousand rows in each hot tenant table, with statistics, so
    that a scan of the whole table would cost the planner more than the index."""
    await owner.execute(
        "INSERT INTO directory.members (organization_id, member_id, connection_id, registration_id, user_name, status,"
        " scim_attributes)"
        " SELECT o, o || '-member-' || n, 'connection-' || o, o || '-registration-' || n, 'user' || n || '@example.com',"
        "   'active', jsonb_build_object('displayName', 'User ' || n)"
        " FROM unnest($1::text[]) AS o, generate_series(1, $2) AS n",
        ORGANIZATIONS, MEMBERS_PER_ORGANIZATION,
    )
    await owner.execute(
        "INSERT INTO directory.groups (organization_id, group_id, connection_id, display_name)"
        " SELECT o, o || '-group-' || n, 'connection-' || o, 'Group ' || n"
        " FROM unnest($1::text[]) AS o, generate_series(1, $2) AS n",
        ORGANIZATIONS, GROUPS_PER_ORGANIZATION,
    )
    await owner.execute(
        "INSERT INTO directory.group_members (organization_id, group_id, member_id)"
        " SELECT o, o || '-group-' || (n % $3 + 1), o || '-member-' || n"
        " FROM unnest($1::text[]) AS o, generate_series(1, $2) AS n",
        ORGANIZATIONS, MEMBERS_PER_ORGANIZATION, GROUPS_PER_ORGANIZATION,
    )
    await owner.execute("INSERT INTO rbac.roles (role_id) VALUES ('reader'), ('writer')")
    await owner.execute(
        "INSERT INTO rbac.member_roles (organization_id, member_id, roles)"
        " SELECT o, o || '-member-' || n, '[{\"role_id\": \"reader\", \"sources\": []}]'"
        " FROM unnest($1::text[]) AS o, generate_series(1, $2) AS n",
        ORGANIZATIONS, MEMBERS_PER_ORGANIZATION,
    )
    await owner.execute(
        "INSERT INTO rbac.sessions (organization_id, session_id, member_id, token_id, secret_hash, started_at,"
        " last_accessed_at, expires_at)"
        " SELECT o, o || '-session-' || n, o || '-member-' || n, md5(o || n), '\\x00', now(), now(),"
        "   now() + interval '1 hour'"
        " FROM unnest($1::text[]) AS o, generate_series(1, $2) AS n",
        ORGANIZATIONS, MEMBERS_PER_ORGANIZATION,
    )
    await owner.execute("ANALYZE directory.members, directory.groups, directory.group_members,"
                        " rbac.member_roles, rbac.sessions")
    return ORGANIZATIONS[1]


async def _statement(call) -> tuple[str, tuple]:
    recorder = StatementRecorder()
    await call(recorder)
    [statement] = recorder.statements
    return statement


def _directory_queries(organization: str):
    member, group, connection = f"{organization}-member-7", f"{organization}-group-3", f"connection-{organization}"
    params = SqlParams(start=member_repository.SCOPE_PARAMETERS)
    by_user_name = compile_filter(parse_filter('userName eq "user7@example.com"', USER), params)
    query = member_repository.MemberQuery(organization, connection, filter_sql=by_user_name,
                                          filter_params=tuple(params.values))
    return {
        "member by id": lambda r: member_repository.get_member(r, organization, connection, member),
        "member by userName": lambda r: member_repository.count_members(r, query),
        "group by id": lambda r: group_repository.get_group(r, organization, connection, group),
        "a page of a group's members": lambda r: group_repository.list_group_members(r, organization, group, 100, ""),
        "a member leaving every group": lambda r: group_repository.remove_member_everywhere(r, organization, member),
    }


def _rbac_queries(organization: str):
    member, session = f"{organization}-member-7", f"{organization}-session-7"
    return {
        "a session used": lambda r: session_repository.touch_live_session(r, organization, session),
        "a member's sessions revoked": lambda r: session_repository.revoke(r, organization, "test", member_ids=[member]),
        "a member's role ids": lambda r: session_repository.role_ids(r, organization, member),
        "a member's permissions": lambda r: rbac_repository.permissions_of_member(r, organization, member),
    }


async def _plan_offenders(conn, sql: str, args: tuple, tenant: set[str]) -> list[str]:
    """Each way the plan reads a tenant table other than through an index whose
    first column is organization_id."""
    [explained] = json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON, VERBOSE) {sql}", *args))
    offenders = []
    for node in plan_nodes(explained["Plan"]):
        if "Index Name" in node:
            index = await conn.fetchrow(
                "SELECT format('%s.%s', c.relnamespace::regnamespace, c.relname) AS table_name,"
                "  a.attname AS first_column FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                " LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                " WHERE i.indexrelid = to_regclass($1)",
                node["Index Name"],
            )
            if index["table_name"] in tenant and index["first_column"] != "organization_id":
                offenders.append(f"{node['Node Type']} on {node['Index Name']}, which leads with {index['first_column']}")
        elif node["Node Type"].endswith("Scan") and f"{node.get('Schema')}.{node.get('Relation Name')}" in tenant:
            offenders.append(f"{node['Node Type']} on {node['Relation Name']}")
    return offenders


@pytest.mark.parametrize("schema", ["directory", "rbac"])
async def test_hot_tenant_queries_are_index_scans_on_an_organization_key(database_url, owner, populated, schema):
    """Planned as the owner, whom row-level security does not restrict: the
    planner knows only the organization the SQL itself names, as a distributed
    planner would (Citus routes by the query's own conditions, not by a policy's)."""
    organization = populated
    tenant = {name for name in await tenant_tables(owner) if name.startswith(f"{schema}.")}
    queries = (_directory_queries if schema == "directory" else _rbac_queries)(organization)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        found = {}
        for name, call in queries.items():
            sql, args = await _statement(call)
            offenders = await _plan_offenders(conn, sql, args, tenant)
            if offenders:
                found[name] = offenders
    finally:
        await conn.close()
    assert found == {}


# --- an existing install migrates forward

NEW_MIGRATIONS = {"directory": "0013_distribution_keys.sql", "rbac": "0007_distribution_keys.sql"}
# One row in every tenant table, as the schema before the new keys took them.
EXISTING_ROWS = [
    "INSERT INTO directory.members (organization_id, member_id, connection_id, registration_id, user_name, status,"
    " scim_attributes) VALUES ('org', 'member', 'conn', 'registration', 'someone', 'active', '{\"urn:x\": {}}')",
    "INSERT INTO directory.groups (organization_id, group_id, connection_id, display_name, scim_attributes)"
    " VALUES ('org', 'group', 'conn', 'Group', '{\"urn:x\": {}}')",
    "INSERT INTO directory.group_members (organization_id, group_id, member_id) VALUES ('org', 'group', 'member')",
    "INSERT INTO directory.audit_log (organization_id, connection_id, token_id, request_id, operation, resource_type,"
    " resource_id, changed_attributes, result) VALUES ('org', 'conn', 't', 'r', 'create', 'User', 'member', '{}', 'ok')",
    "INSERT INTO directory.deprovisions (organization_id, connection_id, member_id, change, state)"
    " VALUES ('org', 'conn', 'member', 'delete', 'held')",
    "INSERT INTO directory.deprovision_guards (organization_id, connection_id, enabled, percent, max_count,"
    " window_seconds, auto_apply_seconds) VALUES ('org', 'conn', true, 10, 10, 60, 0)",
    "INSERT INTO directory.request_log (organization_id, connection_id, token_id, request_id, method, path, query,"
    " status, scim_type, detail, hint, latency_ms, resource_id, user_name, created_at)"
    " VALUES ('org', 'conn', 't', 'r', 'GET', '/Users', '', 200, '', '', '', 1, '', '', now())",
    "INSERT INTO directory.seen_attributes (organization_id, connection_id, path, locator, json_type)"
    " VALUES ('org', 'conn', 'title', '$.declared.title', 'string')",
    "INSERT INTO directory.attribute_mappings (organization_id, connection_id, definition)"
    " VALUES ('org', 'conn', '[]')",
    "INSERT INTO rbac.roles (role_id) VALUES ('reader')",
    "INSERT INTO rbac.group_role_assignments (organization_id, connection_id, group_id, role_id)"
    " VALUES ('org', 'conn', 'group', 'reader')",
    "INSERT INTO rbac.direct_role_assignments (organization_id, member_id, role_id) VALUES ('org', 'member', 'reader')",
    "INSERT INTO rbac.member_roles (organization_id, member_id, roles) VALUES ('org', 'member', '[]')",
    "INSERT INTO rbac.attribute_role_assignments (organization_id, connection_id, attribute, value, role_id)"
    " VALUES ('org', 'conn', 'roles', 'Reader', 'reader')",
    "INSERT INTO rbac.rule_role_assignments (organization_id, connection_id, position, filter, role_id)"
    " VALUES ('org', 'conn', 1, 'title pr', 'reader')",
    "INSERT INTO rbac.sessions (organization_id, session_id, member_id, token_id, secret_hash, started_at,"
    " last_accessed_at, expires_at) VALUES ('org', 'session', 'member', 'token', '\\x00', now(), now(), now())",
]


async def test_an_install_with_data_migrates_to_the_new_keys(fresh_database, tmp_path):
    url = await fresh_database()
    for schema in SCHEMAS:
        previous = tmp_path / schema
        previous.mkdir()
        for path in sorted((ROOT / "services" / schema / "migrations").glob("*.sql")):
            if path.name != NEW_MIGRATIONS.get(schema):
                (previous / path.name).write_text(path.read_text())
        await migrate(url, schema, previous)
    conn = await asyncpg.connect(url, server_settings={"search_path": "pg_catalog"})
    try:
        for insert in EXISTING_ROWS:
            await conn.execute(insert)
        tenant = await tenant_tables(conn)
        before = {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in tenant}
        assert all(before.values()), "a row in every tenant table"
        assert await key_offenders(conn, tenant) != []

        for schema in SCHEMAS:
            await migrate(url, schema, ROOT / "services" / schema / "migrations")

        assert {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in tenant} == before
        assert await key_offenders(conn, tenant) == []
        # The checks of extension values page by the new keys.
        assert await conn.fetchval("SELECT count(*) FROM directory.extension_values('urn:x', '', '', 10)") == 1
        assert await conn.fetchval("SELECT count(*) FROM directory.group_extension_values('urn:x', '', '', 10)") == 1
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute("INSERT INTO directory.group_members (organization_id, group_id, member_id)"
                               " VALUES ('another-org', 'group', 'member')")
    finally:
        await conn.close()
