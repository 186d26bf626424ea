"""The vendor's matching attributes get indexes (services/directory/extension_indexes.py)
that an `eq` filter uses under row-level security, built and dropped as the
declarations change."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.db import create_pool, migrate
from scim.extensions import parse_extension, with_extensions
from scim.filter import parse_filter
from scim.schema import USER
from services.directory.extension_indexes import PREFIX, ensure_extension_indexes, wanted_indexes
from services.directory.filter_sql import SqlParams, compile_filter

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "directory" / "migrations"
URN = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"


def _extension(uniqueness: str = "server"):
    return parse_extension("User", {"id": URN, "attributes": [
        {"name": "badgeId", "uniqueness": uniqueness},  # folded: caseExact false
        {"name": "token", "uniqueness": "global", "caseExact": True},
        {"name": "nickname"},  # not unique: no index
        {"name": "aliases", "multiValued": True, "uniqueness": "server"},  # multi-valued: no index
    ]})


@pytest.fixture(scope="module")
async def database_url(fresh_database):
    url = await fresh_database()
    await migrate(url, "directory", MIGRATIONS)
    return url


async def _indexes(pool) -> set[str]:
    rows = await pool.shared.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = 'directory'"
                                   " AND indexname LIKE $1", PREFIX + "%")
    return {r["indexname"] for r in rows}


def test_only_single_valued_unique_strings_are_indexed():
    assert sorted(attribute for _, _, attribute in wanted_indexes([_extension()]).values()) == ["badgeId", "token"]
    assert len(wanted_indexes([_extension("none")])) == 1  # token alone


async def test_indexes_follow_the_declarations_and_serve_eq_filters_under_the_policy(database_url):
    pool = await create_pool(database_url, "directory", max_size=2)
    try:
        extension = _extension()
        assert len(await ensure_extension_indexes(database_url, "directory", [extension])) == 2
        assert await ensure_extension_indexes(database_url, "directory", [extension]) == []  # idempotent
        assert await _indexes(pool) == set(wanted_indexes([extension]))

        params = SqlParams(start=2)
        user_type = with_extensions(USER, [extension])
        condition = compile_filter(parse_filter(f'{URN}:badgeId eq "B-42"', user_type), params, user_type)
        async with pool.of("organization-x").acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in await conn.fetch(
                "EXPLAIN SELECT 1 FROM members WHERE organization_id = $1 AND connection_id = $2"
                f" AND status <> 'deleted' AND {condition}", "organization-x", "connection", *params.values))
        assert any(PREFIX in line for line in plan.splitlines() if "Index" in line), plan
        assert any("scim_folded_text" in line for line in plan.splitlines() if "Index Cond" in line), plan

        await ensure_extension_indexes(database_url, "directory", [_extension("none")])  # badgeId no longer unique
        assert await _indexes(pool) == set(wanted_indexes([_extension("none")]))
        await ensure_extension_indexes(database_url, "directory", [])
        assert await _indexes(pool) == set()
    finally:
        await pool.close()
