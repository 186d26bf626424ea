"""Migrations as a deployment runs them: `scimd migrate` first (a Job), then
services started with SCIMD_MIGRATE=check, which refuse an older schema."""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from runtime.db import open_database, pending_migrations

SERVICES = Path(__file__).resolve().parents[2] / "services"
NAMES = ("connections", "directory", "rbac", "webhooks")


async def test_services_refuse_an_older_schema_until_scimd_migrate_ran(fresh_database):
    database_url = await fresh_database()
    for name in NAMES:
        async with AsyncExitStack() as stack:
            with pytest.raises(RuntimeError, match="scimd migrate"):
                await open_database(stack, database_url, name, SERVICES / name / "migrations", migrate_mode="check")

    env = {**os.environ, "DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "migrate", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, output.decode()

    for name in NAMES:
        assert await pending_migrations(database_url, name, SERVICES / name / "migrations") == []
        async with AsyncExitStack() as stack:
            pool = await open_database(stack, database_url, name, SERVICES / name / "migrations", migrate_mode="check")
            assert await pool.shared.fetchval("SELECT current_user") == f"scimd_{name}"


async def test_migrate_without_a_database_url_says_so():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "migrate", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2 and b"DATABASE_URL" in output


async def test_an_owner_without_createrole_uses_roles_an_administrator_made(postgres_admin_url, tmp_path):
    """A managed PostgreSQL may not let the application's user create roles:
    the administrator creates scimd_<schema> and grants it, and migrations
    and pools go ahead without CREATEROLE."""
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    from runtime.db import create_pool, migrate, service_role

    suffix = uuid.uuid4().hex[:8]
    owner, database, schema = f"owner_{suffix}", f"scimd_owner_{suffix}", f"probe_{suffix}"
    admin = await asyncpg.connect(postgres_admin_url)
    try:
        await admin.execute(f'CREATE ROLE "{owner}" LOGIN NOCREATEROLE')
        await admin.execute(f'CREATE DATABASE "{database}" OWNER "{owner}"')
        await admin.execute(f'CREATE ROLE "{service_role(schema)}" NOLOGIN')
        await admin.execute(f'GRANT "{service_role(schema)}" TO "{owner}"')
        parts = urlsplit(postgres_admin_url)
        url = urlunsplit(parts._replace(netloc=f"{owner}@{parts.hostname}:{parts.port or 5432}", path=f"/{database}"))
        await migrate(url, schema, tmp_path)
        pool = await create_pool(url, schema, max_size=1)
        try:
            assert await pool.shared.fetchval("SELECT current_user") == service_role(schema)
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE IF EXISTS "{service_role(schema)}"')
        await admin.execute(f'DROP ROLE IF EXISTS "{owner}"')
        await admin.close()
