"""SQL of the rbac service."""

from __future__ import annotations

from typing import Any

import asyncpg

from runtime.outbox import QueuedEvent, enqueue_all

Executor = asyncpg.Pool | asyncpg.Connection

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


async def delete_role(executor: Executor, role_id: str, version: int | None) -> str:
    """'deleted', 'missing', or 'stale' when `version` is given and not current.
    Its assignments go with it (ON DELETE CASCADE)."""
    row = await executor.fetchrow(
        "WITH target AS (SELECT version FROM roles WHERE role_id = $1),"
        " gone AS (DELETE FROM roles WHERE role_id = $1 AND ($2::bigint IS NULL OR version = $2) RETURNING 1)"
        " SELECT (SELECT version FROM target) AS version, (SELECT count(*) FROM gone) AS deleted",
        role_id, version,
    )
    if row["version"] is None:
        return "missing"
    return "deleted" if row["deleted"] else "stale"


async def update_role(
    pool: asyncpg.Pool, role_id: str, description: str, permissions: list[dict[str, Any]], version: int | None
) -> tuple[str, asyncpg.Record | None]:
    """('updated', row), ('missing', None), or ('stale', None) when `version` is given and not current."""
    async with pool.acquire() as conn, conn.transaction():
        current = await conn.fetchval("SELECT version FROM roles WHERE role_id = $1 FOR UPDATE", role_id)
        if current is None:
            return "missing", None
        if version is not None and version != current:
            return "stale", None
        row = await conn.fetchrow(
            "UPDATE roles SET description = $2, permissions = $3, version = version + 1, updated_at = now()"
            f" WHERE role_id = $1 RETURNING {ROLE_COLUMNS}",
            role_id, description, permissions,
        )
        return "updated", row


async def existing_role_ids(executor: Executor, role_ids: list[str]) -> set[str]:
    rows = await executor.fetch("SELECT role_id FROM roles WHERE role_id = ANY($1::text[])", role_ids)
    return {r["role_id"] for r in rows}


async def organizations_holding_role(executor: Executor, role_id: str) -> list[str]:
    """The one look across organizations (row-level security hides the rest):
    which of them hold `role_id`, through a function that sees every row."""
    return await executor.fetchval("SELECT organizations_holding_role($1)", role_id)


async def holders_of_role(executor: Executor, organization_id: str, role_id: str) -> list[str]:
    rows = await executor.fetch(
        "SELECT member_id FROM member_roles WHERE organization_id = $1 AND roles @> $2::jsonb",
        organization_id, [{"role_id": role_id}],
    )
    return [row["member_id"] for row in rows]


async def lock_organization(conn: asyncpg.Connection, organization_id: str) -> None:
    """Makes this transaction the organization's one writer of roles until it
    ends. It also shares the roles lock, so a role cannot be deleted while
    the transaction may still grant it."""
    await conn.execute("SELECT lock_organization_roles($1)", organization_id)


async def lock_roles_exclusively(conn: asyncpg.Connection) -> None:
    """Waits out every transaction holding an organization lock, and keeps new
    ones out until this transaction ends. Taken before any organization lock."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('scimd.rbac.roles'))")


async def group_role_ids(executor: Executor, organization_id: str, group_ids: list[str]) -> dict[str, list[str]]:
    """group_id → the roles that group implies, for the given groups."""
    rows = await executor.fetch(
        "SELECT group_id, role_id FROM group_role_assignments"
        " WHERE organization_id = $1 AND group_id = ANY($2::text[])",
        organization_id, group_ids,
    )
    mapping: dict[str, list[str]] = {}
    for row in rows:
        mapping.setdefault(row["group_id"], []).append(row["role_id"])
    return mapping


async def connection_assignments(executor: Executor, organization_id: str, connection_id: str) -> list[tuple[str, str]]:
    """(group_id, role_id) pairs of the connection, ordered."""
    rows = await executor.fetch(
        "SELECT group_id, role_id FROM group_role_assignments WHERE organization_id = $1 AND connection_id = $2"
        " ORDER BY group_id, role_id",
        organization_id, connection_id,
    )
    return [(r["group_id"], r["role_id"]) for r in rows]


async def replace_connection_assignments(
    conn: asyncpg.Connection, organization_id: str, connection_id: str, pairs: list[tuple[str, str]]
) -> None:
    await conn.execute(
        "DELETE FROM group_role_assignments WHERE organization_id = $1 AND connection_id = $2",
        organization_id, connection_id,
    )
    await conn.execute(
        "INSERT INTO group_role_assignments (organization_id, connection_id, group_id, role_id)"
        " SELECT $1, $2, g, r FROM unnest($3::text[], $4::text[]) AS pairs (g, r)",
        organization_id, connection_id, [g for g, _ in pairs], [r for _, r in pairs],
    )


async def forget_groups(conn: asyncpg.Connection, organization_id: str, group_ids: list[str]) -> None:
    await conn.execute(
        "DELETE FROM group_role_assignments WHERE organization_id = $1 AND group_id = ANY($2::text[])",
        organization_id, group_ids,
    )


async def connection_group_ids(executor: Executor, organization_id: str, connection_id: str) -> list[str]:
    rows = await executor.fetch(
        "SELECT DISTINCT group_id FROM group_role_assignments WHERE organization_id = $1 AND connection_id = $2",
        organization_id, connection_id,
    )
    return [r["group_id"] for r in rows]


async def forget_connection(conn: asyncpg.Connection, organization_id: str, connection_id: str) -> None:
    await conn.execute(
        "DELETE FROM group_role_assignments WHERE organization_id = $1 AND connection_id = $2",
        organization_id, connection_id,
    )


async def holders_through_group(executor: Executor, organization_id: str, group_id: str) -> list[str]:
    """Members holding a role through `group_id`."""
    rows = await executor.fetch(
        "SELECT member_id FROM member_roles WHERE organization_id = $1 AND roles @> $2::jsonb",
        organization_id, [{"sources": [{"details": {"group_id": group_id}}]}],
    )
    return [r["member_id"] for r in rows]


async def holders_through_connection(executor: Executor, organization_id: str, connection_id: str,
                                     source_type: str) -> list[str]:
    """Members holding a role through a source of `source_type` of the connection."""
    rows = await executor.fetch(
        "SELECT member_id FROM member_roles WHERE organization_id = $1 AND roles @> $2::jsonb",
        organization_id, [{"sources": [{"type": source_type, "details": {"connection_id": connection_id}}]}],
    )
    return [r["member_id"] for r in rows]


async def direct_role_ids(executor: Executor, organization_id: str, member_ids: list[str]) -> dict[str, list[str]]:
    rows = await executor.fetch(
        "SELECT member_id, role_id FROM direct_role_assignments"
        " WHERE organization_id = $1 AND member_id = ANY($2::text[])",
        organization_id, member_ids,
    )
    direct: dict[str, list[str]] = {}
    for row in rows:
        direct.setdefault(row["member_id"], []).append(row["role_id"])
    return direct


async def replace_direct_role_ids(
    conn: asyncpg.Connection, organization_id: str, member_id: str, role_ids: list[str]
) -> None:
    await conn.execute(
        "DELETE FROM direct_role_assignments WHERE organization_id = $1 AND member_id = $2", organization_id, member_id
    )
    await conn.execute(
        "INSERT INTO direct_role_assignments (organization_id, member_id, role_id)"
        " SELECT $1, $2, r FROM unnest($3::text[]) AS r",
        organization_id, member_id, role_ids,
    )


async def stored_roles(executor: Executor, organization_id: str, member_ids: list[str]) -> dict[str, list]:
    rows = await executor.fetch(
        "SELECT member_id, roles FROM member_roles WHERE organization_id = $1 AND member_id = ANY($2::text[])",
        organization_id, member_ids,
    )
    return {r["member_id"]: r["roles"] for r in rows}


async def member_roles(executor: Executor, organization_id: str, member_id: str) -> list:
    roles = await executor.fetchval(
        "SELECT roles FROM member_roles WHERE organization_id = $1 AND member_id = $2", organization_id, member_id
    )
    return roles or []


async def store_roles(
    conn: asyncpg.Connection, organization_id: str, roles_by_member: dict[str, list], events: list[QueuedEvent]
) -> None:
    """Writes the members' new roles (a member without roles loses its row)
    and queues the events, inside the caller's transaction."""
    holders = {m: r for m, r in roles_by_member.items() if r}
    empty = [m for m, r in roles_by_member.items() if not r]
    if holders:
        await conn.execute(
            "INSERT INTO member_roles (organization_id, member_id, roles)"
            " SELECT $1, key, value FROM jsonb_each($2::jsonb)"
            " ON CONFLICT (organization_id, member_id) DO UPDATE SET roles = EXCLUDED.roles, updated_at = now()",
            organization_id, holders,
        )
    if empty:
        await conn.execute(
            "DELETE FROM member_roles WHERE organization_id = $1 AND member_id = ANY($2::text[])", organization_id, empty
        )
    await enqueue_all(conn, events)


async def forget_members(conn: asyncpg.Connection, organization_id: str, member_ids: list[str]) -> None:
    """Drops everything kept about members that no longer exist."""
    await conn.execute(
        "DELETE FROM direct_role_assignments WHERE organization_id = $1 AND member_id = ANY($2::text[])",
        organization_id, member_ids,
    )
    await conn.execute(
        "DELETE FROM member_roles WHERE organization_id = $1 AND member_id = ANY($2::text[])", organization_id, member_ids
    )


async def permissions_of_member(executor: Executor, organization_id: str, member_id: str) -> list[asyncpg.Record]:
    """(role_id, permissions) of each role the member holds."""
    return await executor.fetch(
        "SELECT r.role_id, r.permissions FROM member_roles m"
        " CROSS JOIN LATERAL jsonb_array_elements(m.roles) AS held (role)"
        " JOIN roles r ON r.role_id = held.role ->> 'role_id'"
        " WHERE m.organization_id = $1 AND m.member_id = $2 ORDER BY r.role_id",
        organization_id, member_id,
    )
