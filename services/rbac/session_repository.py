"""SQL of sessions. Callers pass a connection bound to the organization
(row-level security), except for the lookup by token id."""

from __future__ import annotations

from datetime import datetime

import asyncpg

SESSION_COLUMNS = "session_id, organization_id, member_id, started_at, last_accessed_at, expires_at"


async def insert_session(executor, *, session_id: str, organization_id: str, member_id: str, token_id: str,
                         secret_hash: bytes, started_at: datetime, expires_at: datetime) -> None:
    await executor.execute(
        "INSERT INTO sessions (session_id, organization_id, member_id, token_id, secret_hash, started_at,"
        " last_accessed_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
        session_id, organization_id, member_id, token_id, secret_hash, started_at, expires_at,
    )


async def sessions_by_token_id(executor, token_id: str) -> list[asyncpg.Record]:
    """The sessions with this token id, in any organization (almost always
    one: token ids are random, unique only within an organization)."""
    return await executor.fetch(
        f"SELECT {SESSION_COLUMNS}, secret_hash, revoked_at FROM session_by_token_id($1)", token_id
    )


async def touch_live_session(executor, organization_id: str, session_id: str) -> asyncpg.Record | None:
    """Marks the session used and answers it with the member's current role
    ids; None unless it exists, is not revoked and has not expired."""
    return await executor.fetchrow(
        "WITH touched AS ("
        "  UPDATE sessions SET last_accessed_at = now()"
        "  WHERE organization_id = $1 AND session_id = $2 AND revoked_at IS NULL AND expires_at > now()"
        f"  RETURNING {SESSION_COLUMNS})"
        " SELECT t.*, COALESCE((SELECT array_agg(r ->> 'role_id' ORDER BY r ->> 'role_id')"
        "   FROM member_roles mr, jsonb_array_elements(mr.roles) r"
        "   WHERE mr.organization_id = $1 AND mr.member_id = t.member_id), '{}') AS role_ids"
        " FROM touched t",
        organization_id, session_id,
    )


async def role_ids(executor, organization_id: str, member_id: str) -> list[str]:
    return await executor.fetchval(
        "SELECT COALESCE(array_agg(r ->> 'role_id' ORDER BY r ->> 'role_id'), '{}')"
        " FROM member_roles mr, jsonb_array_elements(mr.roles) r WHERE mr.organization_id = $1 AND mr.member_id = $2",
        organization_id, member_id,
    )


async def revoke(conn: asyncpg.Connection, organization_id: str, reason: str, *,
                 member_ids: list[str] | None = None, session_id: str | None = None) -> list[asyncpg.Record]:
    """Revokes the live sessions of the members, or one session; answers
    (member_id, session_id) of each session revoked now."""
    if session_id is not None:
        condition, argument = "session_id = $3", session_id
    else:
        condition, argument = "member_id = ANY($3::text[])", member_ids or []
    return await conn.fetch(
        "UPDATE sessions SET revoked_at = now(), revoke_reason = $2"
        f" WHERE organization_id = $1 AND {condition} AND revoked_at IS NULL AND expires_at > now()"
        " RETURNING member_id, session_id",
        organization_id, reason, argument,
    )


async def revoke_organization(conn: asyncpg.Connection, organization_id: str, reason: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "UPDATE sessions SET revoked_at = now(), revoke_reason = $2"
        " WHERE organization_id = $1 AND revoked_at IS NULL AND expires_at > now() RETURNING member_id, session_id",
        organization_id, reason,
    )
