"""SQL of the connections service. Every statement is parameterised."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

Executor = asyncpg.Pool | asyncpg.Connection

_ORGANIZATION_COLUMNS = "organization_id, organization_name, organization_slug, version, created_at, updated_at"
CONNECTION_COLUMNS = """
    c.connection_id, c.organization_id, c.status, c.display_name, c.identity_provider,
    c.rate_limit_per_second, c.version, c.created_at, c.updated_at, c.bearer_token_enabled, c.strict_attributes,
    cur.last_four AS token_last_four, cur.expires_at AS token_expires_at, cur.last_used_at AS token_last_used_at,
    nxt.last_four AS next_token_last_four, nxt.expires_at AS next_token_expires_at,
    nxt.last_used_at AS next_token_last_used_at,
    ocur.last_four AS client_secret_last_four, onxt.last_four AS next_client_secret_last_four,
    trust.issuer AS trust_issuer, trust.subject AS trust_subject, trust.audience AS trust_audience,
    trust.jwks_url AS trust_jwks_url
"""
CONNECTION_FROM = """
    connections c
    LEFT JOIN bearer_tokens cur ON cur.connection_id = c.connection_id AND cur.slot = 'current'
    LEFT JOIN bearer_tokens nxt ON nxt.connection_id = c.connection_id AND nxt.slot = 'next'
    LEFT JOIN oauth_client_secrets ocur ON ocur.connection_id = c.connection_id AND ocur.slot = 'current'
    LEFT JOIN oauth_client_secrets onxt ON onxt.connection_id = c.connection_id AND onxt.slot = 'next'
    LEFT JOIN assertion_trusts trust ON trust.connection_id = c.connection_id
"""


class UniqueViolation(Exception):
    """A unique constraint rejected the write; `constraint` names it."""

    def __init__(self, constraint: str):
        super().__init__(constraint)
        self.constraint = constraint


async def insert_organization(conn: asyncpg.Connection, organization_id: str, name: str, slug: str) -> asyncpg.Record:
    try:
        return await conn.fetchrow(
            f"INSERT INTO organizations (organization_id, organization_name, organization_slug)"
            f" VALUES ($1, $2, $3) RETURNING {_ORGANIZATION_COLUMNS}",
            organization_id, name, slug,
        )
    except asyncpg.UniqueViolationError as error:
        raise UniqueViolation(error.constraint_name or "") from None


async def get_organization(executor: Executor, organization_id: str, *, lock: bool = False) -> asyncpg.Record | None:
    return await executor.fetchrow(
        f"SELECT {_ORGANIZATION_COLUMNS} FROM organizations WHERE organization_id = $1"
        + (" FOR UPDATE" if lock else ""),
        organization_id,
    )


async def update_organization(conn: asyncpg.Connection, organization_id: str, name: str, slug: str) -> asyncpg.Record | None:
    """Sets the non-empty fields; None when there is no such organization."""
    try:
        return await conn.fetchrow(
            "UPDATE organizations SET organization_name = COALESCE(NULLIF($2, ''), organization_name),"
            " organization_slug = COALESCE(NULLIF($3, ''), organization_slug), version = version + 1,"
            f" updated_at = now() WHERE organization_id = $1 RETURNING {_ORGANIZATION_COLUMNS}",
            organization_id, name, slug,
        )
    except asyncpg.UniqueViolationError as error:
        raise UniqueViolation(error.constraint_name or "") from None


async def delete_organization(conn: asyncpg.Connection, organization_id: str) -> None:
    """Deletes the organization; its connection and tokens go with it (ON DELETE CASCADE)."""
    await conn.execute("DELETE FROM organizations WHERE organization_id = $1", organization_id)


async def list_organizations(
    pool: asyncpg.Pool, limit: int, after: tuple[datetime, str] | None
) -> list[asyncpg.Record]:
    if after is None:
        return await pool.fetch(
            f"SELECT {_ORGANIZATION_COLUMNS} FROM organizations"
            " ORDER BY created_at, organization_id LIMIT $1",
            limit,
        )
    return await pool.fetch(
        f"SELECT {_ORGANIZATION_COLUMNS} FROM organizations"
        " WHERE (created_at, organization_id) > ($2, $3)"
        " ORDER BY created_at, organization_id LIMIT $1",
        limit, after[0], after[1],
    )


async def insert_connection(
    conn: asyncpg.Connection,
    *,
    connection_id: str,
    organization_id: str,
    display_name: str,
    identity_provider: str,
    token_id: str,
    secret_hash: bytes,
    last_four: str,
    expires_at: datetime,
) -> asyncpg.Record:
    try:
        await conn.execute(
            "INSERT INTO connections (connection_id, organization_id, display_name, identity_provider)"
            " VALUES ($1, $2, $3, $4)",
            connection_id, organization_id, display_name, identity_provider,
        )
    except asyncpg.UniqueViolationError as error:
        raise UniqueViolation(error.constraint_name or "") from None
    await insert_token(conn, connection_id, organization_id, "current", token_id, secret_hash, last_four, expires_at)
    return await get_connection(conn, organization_id, connection_id)


async def insert_token(conn: asyncpg.Connection, connection_id: str, organization_id: str, slot: str, token_id: str,
                       secret_hash: bytes, last_four: str, expires_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO bearer_tokens (token_id, connection_id, organization_id, slot, secret_hash, last_four, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        token_id, connection_id, organization_id, slot, secret_hash, last_four, expires_at,
    )


async def token_ids(conn: asyncpg.Connection, connection_id: str) -> dict[str, str]:
    """slot → token_id of the connection's tokens."""
    rows = await conn.fetch("SELECT slot, token_id FROM bearer_tokens WHERE connection_id = $1", connection_id)
    return {r["slot"]: r["token_id"] for r in rows}


async def delete_token(conn: asyncpg.Connection, token_id: str) -> None:
    await conn.execute("DELETE FROM bearer_tokens WHERE token_id = $1", token_id)


async def promote_next_token(conn: asyncpg.Connection, connection_id: str) -> None:
    await conn.execute("UPDATE bearer_tokens SET slot = 'current' WHERE connection_id = $1 AND slot = 'next'", connection_id)


async def touch_connection(conn: asyncpg.Connection, connection_id: str) -> None:
    await conn.execute(
        "UPDATE connections SET version = version + 1, updated_at = now() WHERE connection_id = $1", connection_id
    )


async def delete_connection(conn: asyncpg.Connection, connection_id: str) -> None:
    await conn.execute("DELETE FROM connections WHERE connection_id = $1", connection_id)


async def update_connection(
    conn: asyncpg.Connection, organization_id: str, connection_id: str, display_name: str, identity_provider: str,
    rate_limit_per_second: int | None, bearer_token_enabled: bool | None = None, strict_attributes: bool | None = None,
) -> asyncpg.Record | None:
    """Sets the non-empty fields; None when there is no such connection."""
    updated = await conn.fetchval(
        "UPDATE connections SET display_name = COALESCE(NULLIF($3, ''), display_name),"
        " identity_provider = COALESCE(NULLIF($4, ''), identity_provider),"
        " rate_limit_per_second = COALESCE($5, rate_limit_per_second),"
        " bearer_token_enabled = COALESCE($6, bearer_token_enabled),"
        " strict_attributes = COALESCE($7, strict_attributes),"
        " version = version + 1, updated_at = now()"
        " WHERE organization_id = $1 AND connection_id = $2 RETURNING connection_id",
        organization_id, connection_id, display_name, identity_provider, rate_limit_per_second, bearer_token_enabled,
        strict_attributes,
    )
    return None if updated is None else await get_connection(conn, organization_id, connection_id)


async def get_connection(
    executor: Executor, organization_id: str, connection_id: str, *, lock: bool = False
) -> asyncpg.Record | None:
    """The organization's connection; `connection_id` empty means whichever it has."""
    return await executor.fetchrow(
        f"SELECT {CONNECTION_COLUMNS} FROM {CONNECTION_FROM}"
        " WHERE c.organization_id = $1 AND ($2 = '' OR c.connection_id = $2)"
        + (" FOR UPDATE OF c" if lock else ""),
        organization_id, connection_id,
    )


async def get_connection_by_id(executor: Executor, connection_id: str) -> asyncpg.Record | None:
    return await executor.fetchrow(f"SELECT {CONNECTION_COLUMNS} FROM {CONNECTION_FROM} WHERE c.connection_id = $1",
                                   connection_id)


async def list_connections(
    pool: asyncpg.Pool, organization_id: str, limit: int, after: tuple[datetime, str] | None
) -> list[asyncpg.Record]:
    after_time, after_id = after if after is not None else (None, "")
    return await pool.fetch(
        f"SELECT {CONNECTION_COLUMNS} FROM {CONNECTION_FROM}"
        " WHERE ($2 = '' OR c.organization_id = $2)"
        "   AND ($3::timestamptz IS NULL OR (c.created_at, c.connection_id) > ($3, $4))"
        " ORDER BY c.created_at, c.connection_id LIMIT $1",
        limit, organization_id, after_time, after_id,
    )


async def find_token(pool: asyncpg.Pool, token_id: str) -> asyncpg.Record | None:
    """The token with its connection, if the token exists."""
    return await pool.fetchrow(
        f"SELECT t.token_id, t.secret_hash, t.expires_at AS presented_expires_at, {CONNECTION_COLUMNS}"
        f" FROM bearer_tokens t JOIN {CONNECTION_FROM} ON c.connection_id = t.connection_id"
        " WHERE t.token_id = $1",
        token_id,
    )


async def insert_portal_link(pool: asyncpg.Pool, link_id: str, organization_id: str, secret_hash: bytes,
                             expires_at: datetime) -> bool:
    """False when the organization does not exist."""
    return bool(await pool.fetchval(
        "INSERT INTO portal_links (link_id, organization_id, secret_hash, expires_at)"
        " SELECT $1, organization_id, $3, $4 FROM organizations WHERE organization_id = $2 RETURNING true",
        link_id, organization_id, secret_hash, expires_at,
    ))


async def find_portal_link(pool: asyncpg.Pool, link_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT organization_id, secret_hash FROM portal_links"
        " WHERE link_id = $1 AND used_at IS NULL AND expires_at > now()",
        link_id,
    )


async def use_portal_link(pool: asyncpg.Pool, link_id: str) -> bool:
    """Marks the link used; False if it was used (or expired) meanwhile."""
    return bool(await pool.fetchval(
        "UPDATE portal_links SET used_at = now() WHERE link_id = $1 AND used_at IS NULL AND expires_at > now()"
        " RETURNING true",
        link_id,
    ))


async def forget_spent_portal_links(pool: asyncpg.Pool, kept_for: timedelta) -> int:
    """Deletes the links that can open nothing any more: unused past their
    expiry, or used longer ago than any portal session lives, both by more
    than `kept_for`. Returns how many were deleted."""
    deleted = await pool.execute(
        "DELETE FROM portal_links WHERE coalesce(used_at, expires_at) < now() - $1::interval", kept_for)
    return int(deleted.split()[-1])


async def find_portal_session(pool: asyncpg.Pool, organization_id: str, session_id: str) -> asyncpg.Record | None:
    """The session a used link opened (its id is the link's), with its end if it ended."""
    return await pool.fetchrow(
        "SELECT session_ended_at FROM portal_links"
        " WHERE link_id = $1 AND organization_id = $2 AND used_at IS NOT NULL",
        session_id, organization_id,
    )


async def end_portal_session(pool: asyncpg.Pool, organization_id: str, session_id: str) -> bool:
    """Records the session's end (keeping the first one); False for an unknown session."""
    return bool(await pool.fetchval(
        "UPDATE portal_links SET session_ended_at = coalesce(session_ended_at, now())"
        " WHERE link_id = $1 AND organization_id = $2 AND used_at IS NOT NULL RETURNING true",
        session_id, organization_id,
    ))


async def touch_tokens(pool: asyncpg.Pool, uses: list[tuple[str, datetime]]) -> None:
    """Records when tokens were last used; an earlier use than the one recorded changes nothing."""
    if not uses:
        return
    await pool.execute(
        "UPDATE bearer_tokens t SET last_used_at = u.used_at"
        " FROM unnest($1::text[], $2::timestamptz[]) AS u(token_id, used_at)"
        " WHERE t.token_id = u.token_id AND (t.last_used_at IS NULL OR t.last_used_at < u.used_at)",
        [token_id for token_id, _ in uses], [used_at for _, used_at in uses],
    )
