"""SQL of attribute mappings and of their background apply. Every statement
is parameterised and names its organization and connection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import orjson

from runtime.tenant_scope import OrganizationScope
from services.directory.repository import READ_COLUMNS

Executor = OrganizationScope | asyncpg.Connection
MAPPING_COLUMNS = ("organization_id, connection_id, definition, version, updated_at, applied_version, apply_total,"
                   " apply_done, apply_changed")


async def get_mapping(db: Executor, organization_id: str, connection_id: str) -> asyncpg.Record | None:
    return await db.fetchrow(
        f"SELECT {MAPPING_COLUMNS} FROM attribute_mappings WHERE organization_id = $1 AND connection_id = $2",
        organization_id, connection_id,
    )


async def mapping_version(db: Executor, organization_id: str, connection_id: str) -> tuple[int, Any]:
    """(version, definition) of the connection's mapping; (0, []) when it has none."""
    row = await db.fetchrow(
        "SELECT version, definition FROM attribute_mappings WHERE organization_id = $1 AND connection_id = $2",
        organization_id, connection_id,
    )
    return (row["version"], row["definition"]) if row else (0, [])


async def save_mapping(conn: asyncpg.Connection, organization_id: str, connection_id: str,
                       definition: list[dict[str, Any]]) -> asyncpg.Record:
    """Stores a new definition (a new version, its apply not started); an
    unchanged one changes nothing."""
    return await conn.fetchrow(
        "INSERT INTO attribute_mappings (organization_id, connection_id, definition) VALUES ($1, $2, $3)"
        " ON CONFLICT (organization_id, connection_id) DO UPDATE SET definition = excluded.definition,"
        "   version = attribute_mappings.version + 1, updated_at = now(), apply_total = NULL, apply_done = 0,"
        "   apply_changed = 0"
        " WHERE attribute_mappings.definition IS DISTINCT FROM excluded.definition"
        f" RETURNING {MAPPING_COLUMNS}",
        organization_id, connection_id, definition,
    ) or await get_mapping(conn, organization_id, connection_id)


async def forget_organization(conn: asyncpg.Connection, organization_id: str) -> None:
    await conn.execute("DELETE FROM attribute_mappings WHERE organization_id = $1", organization_id)


async def forget_connection(conn: asyncpg.Connection, organization_id: str, connection_id: str) -> None:
    await conn.execute("DELETE FROM attribute_mappings WHERE organization_id = $1 AND connection_id = $2",
                       organization_id, connection_id)


# ------------------------------------------------------------- the apply

async def due(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """(organization_id, connection_id) of every apply not done and not being run."""
    return await pool.fetch("SELECT organization_id, connection_id FROM attribute_mappings_to_apply()")


async def claim(db: Executor, organization_id: str, connection_id: str, owner: str,
                lease_seconds: float) -> asyncpg.Record | None:
    """The mapping, if its apply is due and now `owner`'s for lease_seconds."""
    return await db.fetchrow(
        "UPDATE attribute_mappings SET apply_owner = $3, apply_lease_until = now() + make_interval(secs => $4)"
        " WHERE organization_id = $1 AND connection_id = $2 AND applied_version < version"
        "   AND (apply_owner = $3 OR apply_lease_until IS NULL OR apply_lease_until < now())"
        f" RETURNING {MAPPING_COLUMNS}",
        organization_id, connection_id, owner, lease_seconds,
    )


async def count_stale(db: Executor, organization_id: str, connection_id: str, version: int) -> int:
    return await db.fetchval(
        "SELECT count(*) FROM members WHERE organization_id = $1 AND connection_id = $2 AND status <> 'deleted'"
        " AND custom_attributes_version < $3",
        organization_id, connection_id, version,
    )


async def start_counting(db: Executor, organization_id: str, connection_id: str, version: int, total: int) -> None:
    await db.execute(
        "UPDATE attribute_mappings SET apply_total = $4"
        " WHERE organization_id = $1 AND connection_id = $2 AND version = $3 AND apply_total IS NULL",
        organization_id, connection_id, version, total,
    )


async def lock_stale_members(conn: asyncpg.Connection, organization_id: str, connection_id: str, version: int,
                             after: tuple[datetime, str] | None, batch: int) -> list[asyncpg.Record]:
    """The next live members (in creation order, after `after`) whose custom
    attributes an older mapping computed, locked until the transaction ends."""
    keyset, keyset_params = _after(after, 5)
    return await conn.fetch(
        f"SELECT {READ_COLUMNS} FROM members"
        " WHERE organization_id = $1 AND connection_id = $2 AND status <> 'deleted'"
        f"   AND custom_attributes_version < $3{keyset}"
        " ORDER BY created_at, member_id LIMIT $4 FOR NO KEY UPDATE OF members",
        organization_id, connection_id, version, batch, *keyset_params,
    )


async def write_custom_attributes(conn: asyncpg.Connection, organization_id: str, version: int,
                                  unchanged: list[str], changed: dict[str, dict[str, Any]],
                                  updated_at: datetime) -> None:
    """Stamps `unchanged` members with the mapping version; gives `changed`
    ones (member id → custom attributes) their values, a new version and
    updated_at too."""
    await conn.execute(
        "UPDATE members m SET custom_attributes_version = $2,"
        "   custom_attributes = coalesce(u.custom::jsonb, m.custom_attributes),"
        "   version = m.version + (u.custom IS NOT NULL)::int,"
        "   updated_at = CASE WHEN u.custom IS NULL THEN m.updated_at ELSE $5 END"
        " FROM unnest($3::text[], $4::text[]) AS u(member_id, custom)"
        " WHERE m.organization_id = $1 AND m.member_id = u.member_id",
        organization_id, version, [*unchanged, *changed], [*([None] * len(unchanged)), *map(_json, changed.values())],
        updated_at,
    )


def _json(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode()


def _after(after: tuple[datetime, str] | None, first: int) -> tuple[str, list[Any]]:
    """The keyset condition past `after` (a plain one for the first batch, so
    that either plan is an index range in creation order)."""
    if after is None:
        return "", []
    return f" AND (created_at, member_id) > (${first}, ${first + 1})", list(after)


async def record_progress(conn: asyncpg.Connection, organization_id: str, connection_id: str, version: int,
                          owner: str, done: int, changed: int, lease_seconds: float) -> bool:
    """Counts a batch and renews the lease; False when the mapping changed or
    the lease went to another process (the batch must not commit)."""
    return await conn.fetchval(
        "UPDATE attribute_mappings SET apply_done = apply_done + $5, apply_changed = apply_changed + $6,"
        "   apply_total = greatest(coalesce(apply_total, 0), apply_done + $5),"
        "   apply_lease_until = now() + make_interval(secs => $7)"
        " WHERE organization_id = $1 AND connection_id = $2 AND version = $3 AND apply_owner = $4 RETURNING true",
        organization_id, connection_id, version, owner, done, changed, lease_seconds,
    ) or False


async def settle_wait(db: Executor, organization_id: str, connection_id: str, version: int, owner: str,
                      settle_seconds: float) -> float | None:
    """Seconds until `settle_seconds` have passed since the mapping changed (0
    when they have); None when it is no longer this apply's."""
    return await db.fetchval(
        "SELECT greatest(0, extract(epoch FROM updated_at + make_interval(secs => $5) - now()))::float8"
        " FROM attribute_mappings"
        " WHERE organization_id = $1 AND connection_id = $2 AND version = $3 AND apply_owner = $4",
        organization_id, connection_id, version, owner, settle_seconds,
    )


async def finish(db: Executor, organization_id: str, connection_id: str, version: int, owner: str) -> bool:
    return await db.fetchval(
        "UPDATE attribute_mappings SET applied_version = version, apply_owner = NULL, apply_lease_until = NULL"
        " WHERE organization_id = $1 AND connection_id = $2 AND version = $3 AND apply_owner = $4 RETURNING true",
        organization_id, connection_id, version, owner,
    ) or False


async def release(db: Executor, organization_id: str, connection_id: str, owner: str) -> None:
    """Gives the apply back (this process stops): another may take it at once."""
    await db.execute(
        "UPDATE attribute_mappings SET apply_owner = NULL, apply_lease_until = NULL"
        " WHERE organization_id = $1 AND connection_id = $2 AND apply_owner = $3",
        organization_id, connection_id, owner,
    )


# ------------------------------------------------------------ the preview

async def live_members(db: Executor, organization_id: str, connection_id: str,
                       after: tuple[datetime, str] | None, batch: int) -> list[asyncpg.Record]:
    """The next live members in creation order, with what a mapping reads and writes."""
    keyset, keyset_params = _after(after, 4)
    return await db.fetch(
        "SELECT member_id, user_name, created_at, scim_attributes, undeclared_attributes, custom_attributes"
        f" FROM members WHERE organization_id = $1 AND connection_id = $2 AND status <> 'deleted'{keyset}"
        " ORDER BY created_at, member_id LIMIT $3",
        organization_id, connection_id, batch, *keyset_params,
    )
