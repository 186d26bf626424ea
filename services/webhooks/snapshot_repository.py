"""Organization snapshots: the projection of the stored events (kept in the
transaction that stores them) and its reading, in one REPEATABLE READ
transaction, with the Events API position it corresponds to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, AsyncIterator

import asyncpg
import orjson

from services.webhooks.snapshot_projection import ProjectionChange

READ_BATCH = 500


async def apply(conn: asyncpg.Connection, change: ProjectionChange) -> None:
    """Writes a batch's net effect; inside the transaction that stored its events."""
    if change.is_empty():
        return
    if change.organizations_deleted:
        gone = sorted(change.organizations_deleted)
        for table in ("snapshot_members", "snapshot_member_roles", "snapshot_groups", "snapshot_memberships",
                      "snapshot_organizations"):
            await conn.execute(f"DELETE FROM {table} WHERE organization_id = ANY($1::text[])", gone)
    if change.organizations_started:
        started = sorted(change.organizations_started.items())
        await conn.execute(
            "INSERT INTO snapshot_organizations (organization_id, since_seq)"
            " SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING",
            [o for o, _ in started], [s for _, s in started])
    await _put_and_delete(conn, "snapshot_members", "member_id", "member", change.members)
    await _put_and_delete(conn, "snapshot_member_roles", "member_id", "roles", change.roles)
    await _put_and_delete(conn, "snapshot_groups", "group_id", "idp_group", change.groups)
    if change.groups_emptied:
        emptied = sorted(change.groups_emptied)
        await conn.execute(
            "DELETE FROM snapshot_memberships m USING unnest($1::text[], $2::text[]) AS g(organization_id, group_id)"
            " WHERE m.organization_id = g.organization_id AND m.group_id = g.group_id",
            [o for o, _ in emptied], [g for _, g in emptied])
    removed = sorted(k for k, joined in change.memberships.items() if not joined)
    added = sorted(k for k, joined in change.memberships.items() if joined)
    if removed:
        await conn.execute(
            "DELETE FROM snapshot_memberships m"
            " USING unnest($1::text[], $2::text[], $3::text[]) AS r(organization_id, group_id, member_id)"
            " WHERE (m.organization_id, m.group_id, m.member_id) = (r.organization_id, r.group_id, r.member_id)",
            *_columns(removed, 3))
    if added:
        await conn.execute(
            "INSERT INTO snapshot_memberships (organization_id, group_id, member_id)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING",
            *_columns(added, 3))


async def _put_and_delete(conn: asyncpg.Connection, table: str, id_column: str, value_column: str,
                          changes: dict[tuple[str, str], Any]) -> None:
    if not changes:
        return
    deleted = sorted(k for k, v in changes.items() if v is None)
    put = sorted((k, v) for k, v in changes.items() if v is not None)
    if deleted:
        await conn.execute(
            f"DELETE FROM {table} t USING unnest($1::text[], $2::text[]) AS d(organization_id, id)"
            f" WHERE t.organization_id = d.organization_id AND t.{id_column} = d.id",
            *_columns(deleted, 2))
    if put:
        # Sorted by key: two stores never take the same rows' locks in opposite orders.
        await conn.execute(
            f"INSERT INTO {table} (organization_id, {id_column}, {value_column})"
            f" SELECT o, i, v::json FROM unnest($1::text[], $2::text[], $3::text[]) AS t(o, i, v)"
            f" ON CONFLICT (organization_id, {id_column}) DO UPDATE SET {value_column} = excluded.{value_column}",
            [k[0] for k, _ in put], [k[1] for k, _ in put], [orjson.dumps(v).decode() for _, v in put])


def _columns(rows: list[tuple[str, ...]], width: int) -> list[list[str]]:
    return [[row[i] for row in rows] for i in range(width)]


@dataclass(frozen=True)
class SnapshotHeader:
    organization_id: str
    # The highest stored event's seq when the snapshot was read: the snapshot
    # is every event up to it, and the Events API's `after` continues from it.
    through_seq: int


class SnapshotUnavailable(Exception):
    """The organization was created before snapshots began: they never saw its first events."""


class SnapshotNotReady(Exception):
    """Some of a new organization's events are stored, but not its organization.create yet."""


async def read(pool: asyncpg.Pool, organization_id: str,
               created_at: datetime) -> AsyncIterator[SnapshotHeader | tuple[str, dict]]:
    """The header, then ("member", …), ("idp_group", …), ("membership", …)
    records, all from one REPEATABLE READ transaction."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        through = await conn.fetchval("SELECT COALESCE(max(seq), 0) FROM events")
        if not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM snapshot_organizations WHERE organization_id = $1)", organization_id):
            if created_at < await conn.fetchval("SELECT min(started_at) FROM snapshot_epoch"):
                raise SnapshotUnavailable(organization_id)
            if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM events WHERE organization_id = $1)", organization_id):
                raise SnapshotNotReady(organization_id)
            # Newer than snapshots and none of its events stored yet: all of them come after `through`.
            yield SnapshotHeader(organization_id, through)
            return
        yield SnapshotHeader(organization_id, through)
        members = conn.cursor(
            "SELECT m.member, r.roles"
            " FROM snapshot_members m LEFT JOIN snapshot_member_roles r USING (organization_id, member_id)"
            " WHERE m.organization_id = $1 ORDER BY m.member_id", organization_id, prefetch=READ_BATCH)
        async for row in members:
            yield "member", {**row["member"], "roles": row["roles"] or []}
        groups = conn.cursor(
            "SELECT idp_group AS record FROM snapshot_groups WHERE organization_id = $1 ORDER BY group_id",
            organization_id, prefetch=READ_BATCH)
        async for row in groups:
            yield "idp_group", row["record"]
        memberships = conn.cursor(
            "SELECT group_id, member_id FROM snapshot_memberships WHERE organization_id = $1"
            " ORDER BY group_id, member_id", organization_id, prefetch=READ_BATCH)
        async for row in memberships:
            yield "membership", {"group_id": row["group_id"], "member_id": row["member_id"]}
