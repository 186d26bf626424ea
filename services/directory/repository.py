"""SQL of the directory service. Every statement is parameterised and scoped
by organization (and by connection where the caller is a SCIM connection)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

MEMBER_COLUMNS = (
    "member_id, organization_id, connection_id, registration_id, user_name, external_id,"
    " email_address, name, status, scim_attributes, version, created_at, updated_at"
)


class UserNameTaken(Exception):
    pass


async def insert_member(
    conn: asyncpg.Connection,
    *,
    member_id: str,
    organization_id: str,
    connection_id: str,
    registration_id: str,
    user_name: str,
    external_id: str | None,
    email_address: str,
    name: str,
    status: str,
    scim_attributes: dict[str, Any],
) -> asyncpg.Record:
    try:
        return await conn.fetchrow(
            "INSERT INTO members (member_id, organization_id, connection_id, registration_id, user_name,"
            " external_id, email_address, name, status, scim_attributes)"
            f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {MEMBER_COLUMNS}",
            member_id, organization_id, connection_id, registration_id, user_name,
            external_id, email_address, name, status, scim_attributes,
        )
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == "members_user_name":
            raise UserNameTaken() from None
        raise


async def get_member(
    pool: asyncpg.Pool, organization_id: str, connection_id: str, member_id: str
) -> asyncpg.Record | None:
    """A member not deleted, of the organization (and connection, if given)."""
    return await pool.fetchrow(
        f"SELECT {MEMBER_COLUMNS} FROM members"
        " WHERE member_id = $1 AND organization_id = $2 AND ($3 = '' OR connection_id = $3)"
        "   AND status <> 'deleted'",
        member_id, organization_id, connection_id,
    )


async def list_members(
    pool: asyncpg.Pool,
    organization_id: str,
    connection_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None,
    show_deleted: bool,
) -> tuple[list[asyncpg.Record], int]:
    after_time, after_id = after if after is not None else (None, "")
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {MEMBER_COLUMNS} FROM members"
            " WHERE organization_id = $1 AND ($2 = '' OR connection_id = $2)"
            "   AND ($3 OR status <> 'deleted')"
            "   AND ($4::timestamptz IS NULL OR (created_at, member_id) > ($4, $5))"
            " ORDER BY created_at, member_id LIMIT $6",
            organization_id, connection_id, show_deleted, after_time, after_id, limit,
        )
        total = await conn.fetchval(
            "SELECT count(*) FROM members"
            " WHERE organization_id = $1 AND ($2 = '' OR connection_id = $2) AND ($3 OR status <> 'deleted')",
            organization_id, connection_id, show_deleted,
        )
    return rows, total
