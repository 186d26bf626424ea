"""SQL of the directory service. Every statement is parameterised and scoped
by organization (and by connection where the caller is a SCIM connection)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from runtime.db import in_batches_per_organization
from runtime.outbox import AlsoClause, QueuedEvent, with_event, with_events
from services.directory.keyset import Position

Executor = asyncpg.Pool | asyncpg.Connection

MEMBER_COLUMNS = (
    "member_id, organization_id, connection_id, registration_id, user_name, external_id,"
    " email_address, name, status, scim_status, scim_attributes, undeclared_attributes, version, created_at,"
    " updated_at, custom_attributes, custom_attributes_version"
)
# Which members a read sees: those not deleted for the app (its view), or
# those not deleted for the identity provider (its view over SCIM, where a
# held deletion is done). See services/directory/deprovision_guard.py.
EFFECTIVE, IDENTITY_PROVIDER = "effective", "identity_provider"
_LIVE = {EFFECTIVE: "status <> 'deleted'",
         IDENTITY_PROVIDER: "status <> 'deleted' AND coalesce(scim_status, '') <> 'deleted'"}


# What reads return: the columns, and the member's groups in the same statement.
READ_COLUMNS = MEMBER_COLUMNS + (
    ", (SELECT COALESCE(jsonb_agg(jsonb_build_object('group_id', g.group_id, 'display_name', g.display_name)"
    "    ORDER BY g.display_name), '[]') FROM group_members gm JOIN groups g USING (organization_id, group_id)"
    "   WHERE gm.organization_id = members.organization_id AND gm.member_id = members.member_id"
    "     AND g.status <> 'deleted') AS groups"
)


class UserNameTaken(Exception):
    pass


_WRITABLE_COLUMNS = (
    "member_id", "organization_id", "connection_id", "registration_id", "user_name", "external_id",
    "email_address", "name", "status", "scim_attributes", "undeclared_attributes", "version", "created_at",
    "updated_at", "custom_attributes", "custom_attributes_version",
)


async def insert_member(executor: Executor, values: dict[str, Any], queued: QueuedEvent,
                        also: AlsoClause | None = None) -> asyncpg.Record:
    """Inserts the member and queues its event (and `also`, e.g. its audit row) in one statement."""
    placeholders = ", ".join(f"${i}" for i in range(1, len(_WRITABLE_COLUMNS) + 1))
    sql, params = with_event(
        f"INSERT INTO members ({', '.join(_WRITABLE_COLUMNS)}) VALUES ({placeholders}) RETURNING {MEMBER_COLUMNS}",
        [values[column] for column in _WRITABLE_COLUMNS],
        queued,
        also,
    )
    return await _write(executor, sql, params)


async def update_member(
    executor: Executor, values: dict[str, Any], expected_version: int, events: list[QueuedEvent],
    also: AlsoClause | None = None,
) -> asyncpg.Record | None:
    """Writes `values` (version and updated_at included) if the member is still
    at `expected_version`, and queues the events; None if it has moved on."""
    sql, params = with_events(
        "UPDATE members SET user_name = $2, external_id = $3, email_address = $4, name = $5, status = $6,"
        " scim_attributes = $7, version = $8, updated_at = $9,"
        " deleted_at = CASE WHEN $6 = 'deleted' THEN $9 ELSE deleted_at END, scim_status = $11,"
        " undeclared_attributes = $12, custom_attributes = $13, custom_attributes_version = $14"
        f" WHERE organization_id = $15 AND member_id = $1 AND version = $10 AND status <> 'deleted'"
        f" RETURNING {MEMBER_COLUMNS}",
        [
            values["member_id"], values["user_name"], values["external_id"], values["email_address"], values["name"],
            values["status"], values["scim_attributes"], values["version"], values["updated_at"], expected_version,
            values.get("scim_status"), values.get("undeclared_attributes"), values["custom_attributes"],
            values["custom_attributes_version"], values["organization_id"],
        ],
        events,
        also,
    )
    return await _write(executor, sql, params)


async def _write(executor: Executor, sql: str, params: list[Any]) -> asyncpg.Record | None:
    try:
        return await executor.fetchrow(sql, *params)
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == "members_user_name":
            raise UserNameTaken() from None
        raise


async def get_member(
    pool: asyncpg.Pool, organization_id: str, connection_id: str, member_id: str, view: str = EFFECTIVE
) -> asyncpg.Record | None:
    """A member not deleted (in `view`), of the organization (and connection, if given)."""
    return await pool.fetchrow(
        f"SELECT {READ_COLUMNS} FROM members"
        " WHERE member_id = $1 AND organization_id = $2 AND ($3 = '' OR connection_id = $3)"
        f"   AND {_LIVE[view]}",
        member_id, organization_id, connection_id,
    )


async def get_members(
    pool: asyncpg.Pool, organization_id: str, connection_id: str, member_ids: list[str]
) -> list[asyncpg.Record]:
    """`get_member` for many ids, in one statement (the app's view)."""
    return await pool.fetch(
        f"SELECT {READ_COLUMNS} FROM members"
        " WHERE member_id = ANY($1::text[]) AND organization_id = $2 AND ($3 = '' OR connection_id = $3)"
        "   AND status <> 'deleted'",
        member_ids, organization_id, connection_id,
    )


async def lock_member(
    conn: asyncpg.Connection, organization_id: str, connection_id: str, member_id: str, view: str = EFFECTIVE
) -> asyncpg.Record | None:
    """The member, locked for update until the transaction ends."""
    return await conn.fetchrow(
        f"SELECT {READ_COLUMNS} FROM members"
        " WHERE member_id = $1 AND organization_id = $2 AND ($3 = '' OR connection_id = $3)"
        f"   AND {_LIVE[view]} FOR UPDATE OF members",
        member_id, organization_id, connection_id,
    )


@dataclass(frozen=True)
class MemberQuery:
    """What to list: the tenant scope, a compiled filter, order and window."""

    organization_id: str
    connection_id: str
    show_deleted: bool = False
    view: str = EFFECTIVE
    filter_sql: str = ""
    filter_params: tuple = ()
    order_sql: str = ""
    # The sort expression's own parameters, numbered right after the filter's.
    order_params: tuple = ()
    descending: bool = False
    after: Position | None = None
    offset: int = 0
    limit: int = 100


def _scope(query: MemberQuery) -> tuple[str, list]:
    """The WHERE clause of a listing. The tenant is always $1 and $2; compiled
    filters number their parameters after them. The clause is written out per
    case (not as `$2 = '' OR …`) so that cached plans use the indexes, the
    partial unique index on userName included."""
    where = "organization_id = $1 AND " + ("connection_id = $2" if query.connection_id else "$2 = ''")
    if not query.show_deleted:
        where += f" AND {_LIVE[query.view]}"
    if query.filter_sql:
        where += f" AND ({query.filter_sql})"
    return where, [query.organization_id, query.connection_id, *query.filter_params]


SCOPE_PARAMETERS = 2


async def count_members(pool: asyncpg.Pool, query: MemberQuery) -> int:
    where, params = _scope(query)
    return await pool.fetchval(f"SELECT count(*) FROM members WHERE {where}", *params)


async def list_members(pool: asyncpg.Pool, query: MemberQuery) -> tuple[list[asyncpg.Record], int]:
    """A page of members in a stable order, and how many match in all."""
    where, params = _scope(query)
    direction = "DESC" if query.descending else "ASC"
    tie_break = f"created_at {direction}, member_id {direction}"
    order = f"{query.order_sql} {direction} NULLS LAST, {tie_break}" if query.order_sql else tie_break
    page_where, page_params = where, [*params, *query.order_params]
    if query.after is not None:
        condition, after_params = query.after.condition(query.order_sql, query.descending, "member_id",
                                                        len(page_params) + 1)
        page_where += f" AND {condition}"
        page_params += after_params
    page_params += [query.limit, query.offset]
    window = f"LIMIT ${len(page_params) - 1} OFFSET ${len(page_params)}"
    # Each row carries its sort value, for the keyset of the page after it.
    sort_key = f", {query.order_sql} AS sort_key" if query.order_sql else ""
    if query.filter_sql:
        # The filter is planned on its own (its index first), then ordered: with
        # ORDER BY and LIMIT together, generic plans scan in order and test
        # every row instead.
        matched_order = f"sort_key {direction} NULLS LAST, {tie_break}" if query.order_sql else tie_break
        page = (
            f"WITH matched AS MATERIALIZED (SELECT member_id, created_at{sort_key} FROM members WHERE {page_where})"
            f" SELECT member_id{', sort_key' if sort_key else ''} FROM matched ORDER BY {matched_order} {window}"
        )
    else:
        page = f"SELECT member_id{sort_key} FROM members WHERE {page_where} ORDER BY {order} {window}"
    page_order = (f"page.sort_key {direction} NULLS LAST, " if sort_key else "") + (
        f"member.created_at {direction}, member.member_id {direction}")
    async with pool.acquire() as conn:
        # A deferred join: the window is found on the index alone, and only
        # the rows of the page are read from the table, however deep the offset.
        # The page drives the join: a LATERAL lookup by key per row, kept from
        # being flattened into a plain join by OFFSET 0, so that no plan can run
        # the window once per member of the tenant (see runtime.db.FOR_ANY_ORGANIZATION).
        rows = await conn.fetch(
            f"SELECT member.*{', page.sort_key' if sort_key else ''} FROM ({page}) AS page"
            f" CROSS JOIN LATERAL (SELECT {READ_COLUMNS} FROM members"
            f"   WHERE members.organization_id = $1 AND members.member_id = page.member_id OFFSET 0) AS member"
            f" ORDER BY {page_order}",
            *page_params,
        )
        # A page that reaches the end tells the total without a count, unless
        # it started from a keyset position or past the end.
        reached_end = len(rows) < query.limit and query.after is None and (rows or query.offset == 0)
        if reached_end:
            total = query.offset + len(rows)
        else:
            total = await conn.fetchval(f"SELECT count(*) FROM members WHERE {where}", *params)
    return rows, total


FORGET_BATCH = 500


async def forget_deleted_members(pool: asyncpg.Pool, retention: timedelta) -> int:
    """Forgets the personal data of members deleted longer than `retention` ago
    (see migrations 0006, 0014); returns how many were forgotten."""
    return await in_batches_per_organization(pool, "organizations_with_deleted_members_due", "forget_deleted_members",
                                             retention, batch=FORGET_BATCH)
