"""PostgreSQL: one asyncpg pool per service, confined to the service's schema
and running as the service's own role, and forward-only SQL migrations
applied under an advisory lock.

Migrations run as the owner from DATABASE_URL. The pools then switch to
`scimd_<schema>`: a role that is neither superuser nor BYPASSRLS and may
only read and write its own schema's tables, so row-level security on the
tenant tables applies to everything a service does."""

from __future__ import annotations

import logging
import re
import zlib
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from runtime.tenant_scope import TenantBoundConnection, TenantPool

log = logging.getLogger(__name__)

COMMON_MIGRATIONS = Path(__file__).parent / "migrations"
# No statement of a service runs longer: one tenant's expensive query cannot
# hold a pooled connection, and so every other tenant's turn, for long.
STATEMENT_TIMEOUT_MS = 10_000

# What a call raises while the database is restarting, unreachable or full:
# the caller should retry (UNAVAILABLE), nothing is wrong with its request.
DATABASE_UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,  # "connection is closed": the server went away mid-call
    # "cannot switch to state …; another operation is in progress": how asyncpg
    # reports a session the server terminated mid-transaction (MagicStack/asyncpg#784);
    # the pool drops that connection, so a retry gets a sound one.
    asyncpg.InternalClientError,
)


def connection_closed(conn: asyncpg.Connection) -> bool:
    """Whether a connection held for long (a listener, a lock) is gone: closed,
    or taken back by the pool because the server closed it."""
    try:
        return conn.is_closed()
    except asyncpg.InterfaceError:  # "connection has been released back to the pool"
        return True


_SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


async def _init_connection(conn: asyncpg.Connection) -> None:
    for json_type in ("json", "jsonb"):
        await conn.set_type_codec(
            json_type,
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    return None


def service_role(schema: str) -> str:
    return f"scimd_{schema}"


POOL_SIZE = 10

# How a pool's statements are planned (PostgreSQL's plan_cache_mode): PostgreSQL's "auto" unless
# a service chooses otherwise:
#
# FOR_ANY_ORGANIZATION plans each statement once per connection, for an
# organization of average size (generic plans), not for the one it names. The
# statistics know an organization only once ANALYZE has seen it. Until then
# (after a tenant's first import, and on a large shared table for long after)
# a plan made for its value takes it for one row: every index that leads with
# organization_id then ties with the key, and a join runs its inner side once
# per row of the tenant (a SCIM page of users took seconds, a page of a group's
# members 30 times its time, an rbac session touch scanned every session's
# token). Such plans also cost a planning on every execution. For the directory
# and rbac, whose reads are all by tenant and key.
FOR_ANY_ORGANIZATION = "force_generic_plan"


async def create_pool(database_url: str, schema: str, *, max_size: int = POOL_SIZE,
                      statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
                      plan_cache_mode: str = "auto") -> TenantPool:
    """A pool whose connections run as the schema's service role, see only
    `schema` (search_path) and speak JSON via orjson."""
    _check_schema_name(schema)
    pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=max_size,
        init=_init_connection,
        connection_class=TenantBoundConnection,
        # The only session state is the organization binding, which every
        # acquisition sets as needed, so the reset round trip on release is skipped.
        reset=_keep_session,
        server_settings={
            "search_path": schema,
            "application_name": f"scimd-{schema}",
            "role": service_role(schema),
            "statement_timeout": str(statement_timeout_ms),
            "plan_cache_mode": plan_cache_mode,
        },
    )
    try:
        await _refuse_privileged_role(pool)
    except BaseException:
        await pool.close()
        raise
    return TenantPool(pool)


async def _refuse_privileged_role(pool: asyncpg.Pool) -> None:
    row = await pool.fetchrow(
        "SELECT current_user AS role, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    if row["rolsuper"] or row["rolbypassrls"]:
        raise RuntimeError(f"database role {row['role']} bypasses row-level security; refusing to serve with it")


def _check_schema_name(schema: str) -> None:
    # Schema names come from code, never from requests; this guards the one
    # place an identifier is interpolated into SQL.
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")


def _migration_files(folder: Path, namespace: str) -> list[tuple[str, str]]:
    return [
        (f"{namespace}/{path.stem}", path.read_text())
        for path in sorted(folder.glob("*.sql"))
    ]


async def migrate(database_url: str, schema: str, service_migrations: Path) -> list[str]:
    """Applies the shared migrations (the outbox) then the service's own, each
    once and in order, in its own transaction. Concurrent starters wait on an
    advisory lock, so replicas never race. Returns the versions applied."""
    _check_schema_name(schema)
    migrations = _migration_files(COMMON_MIGRATIONS, "common") + _migration_files(
        service_migrations, schema
    )
    lock_key = zlib.crc32(f"scimd.migrate.{schema}".encode())
    conn = await asyncpg.connect(database_url)
    applied_now: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", lock_key)
        try:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(f'SET search_path TO "{schema}"')
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            for version, sql in migrations:
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
                applied_now.append(version)
                log.info("applied migration", extra={"schema": schema, "version": version})
            await _grant_service_role(conn, schema)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", lock_key)
    finally:
        await conn.close()
    return applied_now


async def _grant_service_role(conn: asyncpg.Connection, schema: str) -> None:
    """Creates the schema's service role if needed and lets it use the
    schema's tables (and nothing else). Roles are cluster-wide, so another
    database of the same cluster may be creating it at the same moment."""
    role = service_role(schema)
    # PostgreSQL checks the right to create roles before whether one exists,
    # so a role an administrator created beforehand is looked up first.
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role):
        try:
            await conn.execute(
                "DO $$ BEGIN"
                f' CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;'
                " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;"
                " END $$"
            )
        except asyncpg.InsufficientPrivilegeError:
            raise RuntimeError(
                f"the DATABASE_URL user may not create the role {role}: give it CREATEROLE, or create"
                f" {role} (NOLOGIN NOBYPASSRLS) and grant it to that user"
            ) from None
    if not await conn.fetchval("SELECT pg_has_role(current_user, $1, 'MEMBER')", role):
        # A non-superuser owner needs membership to switch its pools to the role.
        await conn.execute(f'GRANT "{role}" TO CURRENT_USER')
    await conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
    await conn.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
    await conn.execute(f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"')
    await conn.execute(f'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA "{schema}" TO "{role}"')


async def pending_migrations(database_url: str, schema: str, service_migrations: Path) -> list[str]:
    """The versions this code has that the schema has not applied yet."""
    _check_schema_name(schema)
    conn = await asyncpg.connect(database_url)
    try:
        exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f'"{schema}".schema_migrations')
        done = set()
        if exists:
            done = {r["version"] for r in await conn.fetch(f'SELECT version FROM "{schema}".schema_migrations')}
    finally:
        await conn.close()
    migrations = _migration_files(COMMON_MIGRATIONS, "common") + _migration_files(service_migrations, schema)
    return [version for version, _ in migrations if version not in done]


async def open_database(stack, database_url: str, schema: str, service_migrations: Path, *,
                        migrate_mode: str = "apply", plan_cache_mode: str = "auto") -> TenantPool:
    """Migrates the schema (or, with migrate_mode "check", refuses an older
    one), then opens a pool closed when `stack` unwinds."""
    if migrate_mode == "check":
        pending = await pending_migrations(database_url, schema, service_migrations)
        if pending:
            raise RuntimeError(
                f"the {schema} schema lacks migrations {', '.join(pending)}; run `scimd migrate` first"
            )
    else:
        await migrate(database_url, schema, service_migrations)
    pool = await create_pool(database_url, schema, plan_cache_mode=plan_cache_mode)
    stack.push_async_callback(pool.close)
    return pool


async def in_batches(pool: asyncpg.Pool, batch_function: str, *args: Any, batch: int) -> int:
    """Calls `batch_function(*args, batch)` (SQL returning how many rows it
    handled) until a batch comes back short; returns the total. For the
    periodic forgetting jobs, so that none holds locks on many rows at once."""
    placeholders = ", ".join(f"${i + 1}" for i in range(len(args) + 1))
    total = 0
    while True:
        handled = await pool.fetchval(f"SELECT {batch_function}({placeholders})", *args, batch)
        total += handled
        if handled < batch:
            return total


async def in_batches_per_organization(pool: asyncpg.Pool, organizations_function: str, batch_function: str,
                                      *args: Any, batch: int) -> int:
    """`in_batches` of `batch_function(organization, *args, batch)` within each
    organization `organizations_function(*args)` names: a job never locks rows
    of several organizations at once (a multi-shard locking read on a
    distributed PostgreSQL)."""
    placeholders = ", ".join(f"${i + 1}" for i in range(len(args)))
    total = 0
    for (organization_id,) in await pool.fetch(f"SELECT * FROM {organizations_function}({placeholders})", *args):
        total += await in_batches(pool, batch_function, organization_id, *args, batch=batch)
    return total
