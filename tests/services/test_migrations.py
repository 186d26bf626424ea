"""Migrations as a deployment runs them: `scimd migrate` first (a Job), then
services started with SCIMD_MIGRATE=check, which refuse an older schema."""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from services.common.db import open_database, pending_migrations

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
        sys.executable, "-m", "services.supervisor", "migrate", env=env,
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
        sys.executable, "-m", "services.supervisor", "migrate", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2 and b"DATABASE_URL" in output
