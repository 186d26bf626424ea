"""PostgreSQL: one asyncpg pool per service, confined to the service's schema,
and forward-only SQL migrations applied under an advisory lock."""

from __future__ import annotations

import logging
import re
import zlib
from pathlib import Path

import asyncpg
import orjson

log = logging.getLogger(__name__)

COMMON_MIGRATIONS = Path(__file__).parent / "migrations"
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


async def create_pool(database_url: str, schema: str, *, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections see only `schema` (search_path) and speak JSON via orjson."""
    _check_schema_name(schema)
    return await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=max_size,
        init=_init_connection,
        # No session state is ever left on a connection (no SET, no LISTEN outside
        # the relay's own), so the reset round trip on every release is skipped.
        reset=_keep_session,
        server_settings={"search_path": schema, "application_name": f"scimd-{schema}"},
    )


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
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", lock_key)
    finally:
        await conn.close()
    return applied_now


async def open_database(stack, database_url: str, schema: str, service_migrations: Path) -> asyncpg.Pool:
    """Migrates the schema, then opens a pool closed when `stack` unwinds."""
    await migrate(database_url, schema, service_migrations)
    pool = await create_pool(database_url, schema)
    stack.push_async_callback(pool.close)
    return pool
