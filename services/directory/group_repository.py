"""SQL of groups and their membership. Membership changes are set-based:
one statement adds or removes any number of members."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from runtime.outbox import QueuedEvent, with_events
from services.directory.keyset import Position

GROUP_COLUMNS = (
    "group_id, organization_id, connection_id, display_name, external_id, member_count, status, version,"
    " created_at, updated_at, scim_attributes"
)


class DisplayNameTaken(Exception):
    pass


def _unique(error: asyncpg.UniqueViolationError) -> Exception:
    return DisplayNameTaken() if error.constraint_name == "groups_display_name" else error


async def insert_group(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    try:
        return await conn.fetchrow(
            "INSERT INTO groups (group_id, organization_id, connection_id, display_name, external_id,"
            " created_at, updated_at, scim_attributes) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)"
            f" RETURNING {GROUP_COLUMNS}",
            values["group_id"], values["organization_id"], values["connection_id"], values["display_name"],
            values["external_id"], values["created_at"], values["scim_attributes"],
        )
    except asyncpg.UniqueViolationError as error:
        raise _unique(error) from None


async def set_initial_member_count(conn, organization_id: str, group_id: str, count: int) -> asyncpg.Record:
    """Records the members a new group was created with (still version 1)."""
    return await conn.fetchrow(
        f"UPDATE groups SET member_count = $3 WHERE organization_id = $1 AND group_id = $2 RETURNING {GROUP_COLUMNS}",
        organization_id, group_id, count,
    )


async def get_group(executor, organization_id: str, connection_id: str, group_id: str, *, lock: bool = False):
    """A group not deleted, of the tenant; with `lock`, held until the transaction ends."""
    return await executor.fetchrow(
        f"SELECT {GROUP_COLUMNS} FROM groups"
        " WHERE group_id = $1 AND organization_id = $2 AND ($3 = '' OR connection_id = $3) AND status <> 'deleted'"
        + (" FOR UPDATE" if lock else ""),
        group_id, organization_id, connection_id,
    )


async def unknown_members(conn, organization_id: str, connection_id: str, member_ids: list[str]) -> list[str]:
    """The ids that are not live members of the tenant's connection, found by
    primary key, (organization_id, member_id), whose every column is bound."""
    rows = await conn.fetch(
        "SELECT member_id FROM members WHERE organization_id = $1 AND member_id = ANY($3::text[])"
        " AND connection_id = $2 AND status <> 'deleted'",
        organization_id, connection_id, member_ids,
    )
    found = {row["member_id"] for row in rows}
    return [member_id for member_id in member_ids if member_id not in found]


async def add_members(conn, organization_id: str, group_id: str, member_ids: list[str]) -> list[str]:
    """Adds the members not yet in the group; returns those added."""
    rows = await conn.fetch(
        "INSERT INTO group_members (organization_id, group_id, member_id)"
        " SELECT $1, $2, id FROM unnest($3::text[]) AS id ON CONFLICT DO NOTHING RETURNING member_id",
        organization_id, group_id, member_ids,
    )
    return [row["member_id"] for row in rows]


async def remove_members(conn, organization_id: str, group_id: str, member_ids: list[str] | None) -> list[str]:
    """Removes the listed members (None: all); returns those removed."""
    if member_ids is None:
        rows = await conn.fetch(
            "DELETE FROM group_members WHERE organization_id = $1 AND group_id = $2 RETURNING member_id",
            organization_id, group_id,
        )
    else:
        rows = await conn.fetch(
            "DELETE FROM group_members WHERE organization_id = $1 AND group_id = $2 AND member_id = ANY($3::text[])"
            " RETURNING member_id",
            organization_id, group_id, member_ids,
        )
    return [row["member_id"] for row in rows]


async def replace_members(conn, organization_id: str, group_id: str,
                          member_ids: list[str]) -> tuple[list[str], list[str]]:
    """Makes the membership exactly `member_ids`; returns (added, removed)."""
    removed = await conn.fetch(
        "DELETE FROM group_members WHERE organization_id = $1 AND group_id = $2 AND NOT (member_id = ANY($3::text[]))"
        " RETURNING member_id",
        organization_id, group_id, member_ids,
    )
    added = await add_members(conn, organization_id, group_id, member_ids)
    return added, [row["member_id"] for row in removed]


async def update_group(conn, organization_id: str, group_id: str, *, display_name: str, external_id: str | None,
                       member_delta: int, status: str = "active") -> asyncpg.Record:
    try:
        return await conn.fetchrow(
            "UPDATE groups SET display_name = $2, external_id = $3, member_count = member_count + $4, status = $5,"
            " deleted_at = CASE WHEN $5 = 'deleted' THEN now() ELSE deleted_at END, version = version + 1,"
            f" updated_at = now() WHERE organization_id = $6 AND group_id = $1 RETURNING {GROUP_COLUMNS}",
            group_id, display_name, external_id, member_delta, status, organization_id,
        )
    except asyncpg.UniqueViolationError as error:
        raise _unique(error) from None


async def update_group_queueing(conn, values: dict[str, Any], member_delta: int, events: list[QueuedEvent]):
    """Writes the group's new attributes, version and member count, and queues
    its events, in one statement."""
    sql, params = with_events(
        "UPDATE groups SET display_name = $2, external_id = $3, member_count = member_count + $4, version = $5,"
        f" updated_at = $6, scim_attributes = $7 WHERE organization_id = $8 AND group_id = $1 RETURNING {GROUP_COLUMNS}",
        [values["group_id"], values["display_name"], values["external_id"], member_delta, values["version"],
         values["updated_at"], values["scim_attributes"], values["organization_id"]],
        events,
    )
    try:
        return await conn.fetchrow(sql, *params)
    except asyncpg.UniqueViolationError as error:
        raise _unique(error) from None


@dataclass(frozen=True)
class GroupQuery:
    organization_id: str
    connection_id: str
    filter_sql: str = ""
    filter_params: tuple = ()
    order_sql: str = ""
    order_params: tuple = ()  # the sort expression's, after filter_params
    descending: bool = False
    after: Position | None = None
    offset: int = 0
    limit: int = 100


SCOPE_PARAMETERS = 2


async def list_groups(pool: asyncpg.Pool, query: GroupQuery, *, total_only: bool = False):
    """A page of groups in a stable order (each row with its sort_key when
    sorted), and how many match in all."""
    where = "organization_id = $1 AND " + ("connection_id = $2" if query.connection_id else "$2 = ''")
    where += " AND status <> 'deleted'"
    if query.filter_sql:
        where += f" AND ({query.filter_sql})"
    params = [query.organization_id, query.connection_id, *query.filter_params]
    async with pool.acquire() as conn:
        total = await conn.fetchval(f"SELECT count(*) FROM groups WHERE {where}", *params)
        if total_only:
            return [], total
        direction = "DESC" if query.descending else "ASC"
        order = f"created_at {direction}, group_id {direction}"
        if query.order_sql:
            order = f"{query.order_sql} {direction} NULLS LAST, {order}"
        page_where, page_params = where, [*params, *query.order_params]
        if query.after is not None:
            condition, after_params = query.after.condition(query.order_sql, query.descending, "group_id",
                                                            len(page_params) + 1)
            page_where += f" AND {condition}"
            page_params += after_params
        sort_key = f", {query.order_sql} AS sort_key" if query.order_sql else ""
        rows = await conn.fetch(
            f"SELECT {GROUP_COLUMNS}{sort_key} FROM groups WHERE {page_where} ORDER BY {order}"
            f" LIMIT ${len(page_params) + 1} OFFSET ${len(page_params) + 2}",
            *page_params, query.limit, query.offset,
        )
    return rows, total


async def list_group_members(pool: asyncpg.Pool, organization_id: str, group_id: str, limit: int,
                             after_member_id: str):
    """Members in id order with their SCIM display (displayName, else userName)."""
    return await pool.fetch(
        "SELECT gm.member_id, COALESCE(NULLIF(m.scim_attributes ->> 'displayName', ''), m.user_name) AS display"
        " FROM group_members gm JOIN members m USING (organization_id, member_id)"
        " WHERE gm.organization_id = $1 AND gm.group_id = $2 AND gm.member_id > $3 ORDER BY gm.member_id LIMIT $4",
        organization_id, group_id, after_member_id, limit,
    )


async def remove_member_everywhere(conn, organization_id: str, member_id: str) -> list[asyncpg.Record]:
    """Takes a (deleted) member out of every group; returns the groups changed."""
    return await conn.fetch(
        "WITH gone AS (DELETE FROM group_members WHERE organization_id = $1 AND member_id = $2 RETURNING group_id)"
        " UPDATE groups SET member_count = member_count - 1, version = version + 1, updated_at = now()"
        " FROM gone WHERE groups.organization_id = $1 AND groups.group_id = gone.group_id"
        f" RETURNING {', '.join('groups.' + c.strip() for c in GROUP_COLUMNS.split(','))}",
        organization_id, member_id,
    )
