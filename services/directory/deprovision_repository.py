"""SQL of the mass-deprovision guard: the connections' guards, and every
deprovision, applied or held, in commit order."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from services.directory.deprovision_guard import GuardPolicy

Executor = asyncpg.Connection


async def lock_connection(conn: asyncpg.Connection, connection_id: str) -> None:
    """Serialises the connection's deprovision decisions until the transaction ends,
    so that exactly the allowance takes effect however many arrive at once."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('scimd.deprovision:' || $1, 0))", connection_id)


async def connection_guard(conn: Executor, organization_id: str, connection_id: str) -> GuardPolicy | None:
    row = await conn.fetchrow(
        "SELECT enabled, percent, max_count, window_seconds, auto_apply_seconds FROM deprovision_guards"
        " WHERE organization_id = $1 AND connection_id = $2",
        organization_id, connection_id,
    )
    if row is None:
        return None
    return GuardPolicy(
        enabled=row["enabled"], percent=row["percent"], max_count=row["max_count"],
        window=timedelta(seconds=row["window_seconds"]),
        auto_apply_after=timedelta(seconds=row["auto_apply_seconds"]) if row["auto_apply_seconds"] else None,
        source="connection",
    )


async def set_connection_guard(conn: Executor, organization_id: str, connection_id: str,
                               guard: GuardPolicy | None) -> None:
    """Stores the connection's own guard, or forgets it (None: the project default applies)."""
    if guard is None:
        await conn.execute("DELETE FROM deprovision_guards WHERE organization_id = $1 AND connection_id = $2",
                           organization_id, connection_id)
        return
    auto = int(guard.auto_apply_after.total_seconds()) if guard.auto_apply_after else 0
    await conn.execute(
        "INSERT INTO deprovision_guards (organization_id, connection_id, enabled, percent, max_count,"
        "  window_seconds, auto_apply_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (organization_id, connection_id) DO UPDATE SET enabled = $3, percent = $4, max_count = $5,"
        "  window_seconds = $6, auto_apply_seconds = $7, updated_at = now()",
        organization_id, connection_id, guard.enabled, guard.percent, guard.max_count,
        int(guard.window.total_seconds()), auto,
    )


async def window_counts(conn: Executor, organization_id: str, connection_id: str,
                        since: datetime) -> tuple[int, int, int]:
    """(deprovisions that took effect since `since`, deprovisions held now,
    members active now) for the connection."""
    row = await conn.fetchrow(
        "SELECT"
        "  (SELECT count(*) FROM deprovisions WHERE organization_id = $1 AND connection_id = $2"
        "     AND created_at > $3 AND state IN ('applied', 'approved')) AS applied,"
        "  (SELECT count(*) FROM deprovisions WHERE organization_id = $1 AND connection_id = $2"
        "     AND state = 'held') AS held,"
        "  (SELECT count(*) FROM members WHERE organization_id = $1 AND connection_id = $2"
        "     AND status = 'active') AS active",
        organization_id, connection_id, since,
    )
    return row["applied"], row["held"], row["active"]


async def record(conn: Executor, organization_id: str, connection_id: str, member_id: str, change: str,
                 state: str) -> None:
    await conn.execute(
        "INSERT INTO deprovisions (organization_id, connection_id, member_id, change, state)"
        " VALUES ($1, $2, $3, $4, $5)",
        organization_id, connection_id, member_id, change, state,
    )


async def release_member(conn: Executor, organization_id: str, member_id: str) -> None:
    """The IdP took back what it asked: the member's held deprovisions are superseded."""
    await conn.execute(
        "UPDATE deprovisions SET state = 'superseded', resolved_at = now()"
        " WHERE organization_id = $1 AND member_id = $2 AND state = 'held'",
        organization_id, member_id,
    )


async def held(conn: Executor, organization_id: str, connection_id: str, *, lock: bool = False) -> list[asyncpg.Record]:
    """The connection's held deprovisions in the order they were held, with the member's userName."""
    return await conn.fetch(
        "SELECT d.deprovision_id, d.member_id, d.change, d.created_at, m.user_name"
        " FROM deprovisions d JOIN members m ON m.member_id = d.member_id AND m.organization_id = d.organization_id"
        " WHERE d.organization_id = $1 AND d.connection_id = $2 AND d.state = 'held'"
        " ORDER BY d.deprovision_id" + (" FOR UPDATE OF d" if lock else ""),
        organization_id, connection_id,
    )


async def resolve(conn: Executor, organization_id: str, deprovision_ids: list[int], state: str) -> None:
    await conn.execute(
        "UPDATE deprovisions SET state = $3, resolved_at = now()"
        " WHERE organization_id = $1 AND deprovision_id = ANY($2::bigint[])",
        organization_id, deprovision_ids, state,
    )


async def connections_held_since(pool: asyncpg.Pool, held_before: datetime) -> list[asyncpg.Record]:
    """Across organizations: (organization_id, connection_id, first_held_at) of the connections
    holding deprovisions since before `held_before`."""
    return await pool.fetch("SELECT * FROM connections_with_held_deprovisions($1)", held_before)
