"""SQL of the rbac service."""

from __future__ import annotations

from typing import Any

import asyncpg

ROLE_COLUMNS = "role_id, description, permissions, version, created_at, updated_at"


class RoleExists(Exception):
    pass


async def insert_role(pool: asyncpg.Pool, role_id: str, description: str, permissions: list[dict[str, Any]]) -> asyncpg.Record:
    try:
        return await pool.fetchrow(
            f"INSERT INTO roles (role_id, description, permissions) VALUES ($1, $2, $3) RETURNING {ROLE_COLUMNS}",
            role_id, description, permissions,
        )
    except asyncpg.UniqueViolationError:
        raise RoleExists() from None


async def get_role(pool: asyncpg.Pool, role_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(f"SELECT {ROLE_COLUMNS} FROM roles WHERE role_id = $1", role_id)


async def list_roles(pool: asyncpg.Pool, limit: int, after_role_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        f"SELECT {ROLE_COLUMNS} FROM roles WHERE role_id > $1 ORDER BY role_id LIMIT $2", after_role_id, limit
    )


async def delete_role(pool: asyncpg.Pool, role_id: str, version: int | None) -> str:
    """'deleted', 'missing', or 'stale' when `version` is given and not current."""
    row = await pool.fetchrow(
        "WITH target AS (SELECT version FROM roles WHERE role_id = $1),"
        " gone AS (DELETE FROM roles WHERE role_id = $1 AND ($2::bigint IS NULL OR version = $2) RETURNING 1)"
        " SELECT (SELECT version FROM target) AS version, (SELECT count(*) FROM gone) AS deleted",
        role_id, version,
    )
    if row["version"] is None:
        return "missing"
    return "deleted" if row["deleted"] else "stale"
