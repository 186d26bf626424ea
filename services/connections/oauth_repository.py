"""Storage of OAuth 2.0 for SCIM connections: client secrets (hashed, in
rotation slots), assertion trusts, used assertion ids, and access tokens."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.connections.repository import CONNECTION_COLUMNS, CONNECTION_FROM


async def client_secret_ids(conn: asyncpg.Connection, connection_id: str) -> dict[str, str]:
    """slot → secret id of the connection's client secrets."""
    rows = await conn.fetch("SELECT slot, secret_id FROM oauth_client_secrets WHERE connection_id = $1", connection_id)
    return {r["slot"]: r["secret_id"] for r in rows}


async def insert_client_secret(conn: asyncpg.Connection, connection_id: str, organization_id: str, slot: str,
                               secret_id: str, secret_hash: bytes, last_four: str) -> None:
    await conn.execute(
        "INSERT INTO oauth_client_secrets (secret_id, connection_id, organization_id, slot, secret_hash, last_four)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        secret_id, connection_id, organization_id, slot, secret_hash, last_four)


async def delete_client_secrets(conn: asyncpg.Connection, secret_ids: list[str]) -> list[str]:
    """Deletes the secrets and the access tokens issued for them; returns those tokens' ids."""
    await conn.execute("DELETE FROM oauth_client_secrets WHERE secret_id = ANY($1::text[])", secret_ids)
    return await _revoke(conn, [f"client_secret:{s}" for s in secret_ids])


async def promote_next_client_secret(conn: asyncpg.Connection, connection_id: str) -> None:
    await conn.execute("UPDATE oauth_client_secrets SET slot = 'current' WHERE connection_id = $1 AND slot = 'next'",
                       connection_id)


async def find_client_secret(executor, secret_id: str) -> asyncpg.Record | None:
    return await executor.fetchrow(
        "SELECT secret_id, connection_id, organization_id, secret_hash FROM oauth_client_secrets WHERE secret_id = $1",
        secret_id)


async def set_assertion_trust(conn: asyncpg.Connection, connection_id: str, organization_id: str, issuer: str,
                              subject: str, audience: str, jwks_url: str) -> list[str]:
    """Sets the trust; a changed issuer revokes the tokens the old one's assertions got (their ids)."""
    previous = await conn.fetchval("SELECT issuer FROM assertion_trusts WHERE connection_id = $1", connection_id)
    await conn.execute(
        "INSERT INTO assertion_trusts (connection_id, organization_id, issuer, subject, audience, jwks_url)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (connection_id) DO UPDATE SET issuer = excluded.issuer,"
        " subject = excluded.subject, audience = excluded.audience, jwks_url = excluded.jwks_url",
        connection_id, organization_id, issuer, subject, audience, jwks_url)
    return await revoke_assertion_tokens(conn, connection_id) if previous not in (None, issuer) else []


async def delete_assertion_trust(conn: asyncpg.Connection, connection_id: str) -> list[str] | None:
    """None when there was no trust; else the ids of the tokens it had issued, now revoked."""
    deleted = await conn.fetchval("DELETE FROM assertion_trusts WHERE connection_id = $1 RETURNING true", connection_id)
    return await revoke_assertion_tokens(conn, connection_id) if deleted else None


async def revoke_assertion_tokens(conn: asyncpg.Connection, connection_id: str) -> list[str]:
    return [public_token_id(r["token_id"], r["credential"]) for r in await conn.fetch(
        "DELETE FROM access_tokens WHERE connection_id = $1 AND credential LIKE 'assertion:%'"
        " RETURNING token_id, credential", connection_id)]


async def assertion_trust(executor, connection_id: str) -> asyncpg.Record | None:
    return await executor.fetchrow(
        "SELECT connection_id, organization_id, issuer, subject, audience, jwks_url FROM assertion_trusts"
        " WHERE connection_id = $1", connection_id)


async def use_assertion(conn: asyncpg.Connection, issuer: str, replay_key: str, expires_at: datetime) -> bool:
    """Records the assertion as used; False when it already was (a replay)."""
    return bool(await conn.fetchval(
        "INSERT INTO used_assertions (issuer, replay_key, expires_at) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING true", issuer, replay_key, expires_at))


async def insert_access_token(conn: asyncpg.Connection, token_id: str, connection_id: str, organization_id: str,
                              secret_hash: bytes, credential: str, expires_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO access_tokens (token_id, connection_id, organization_id, secret_hash, credential, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        token_id, connection_id, organization_id, secret_hash, credential, expires_at)


async def find_access_token(executor, token_id: str) -> asyncpg.Record | None:
    """The access token with its connection."""
    return await executor.fetchrow(
        f"SELECT t.token_id, t.secret_hash, t.credential, t.expires_at AS presented_expires_at, {CONNECTION_COLUMNS}"
        f" FROM access_tokens t JOIN {CONNECTION_FROM} ON c.connection_id = t.connection_id"
        " WHERE t.token_id = $1", token_id)


async def access_token_ids(executor, connection_id: str) -> list[str]:
    return [public_token_id(r["token_id"], r["credential"]) for r in await executor.fetch(
        "SELECT token_id, credential FROM access_tokens WHERE connection_id = $1", connection_id)]


async def _revoke(conn: asyncpg.Connection, credentials: list[str]) -> list[str]:
    return [public_token_id(r["token_id"], r["credential"]) for r in await conn.fetch(
        "DELETE FROM access_tokens WHERE credential = ANY($1::text[]) RETURNING token_id, credential", credentials)]


def public_token_id(token_id: str, credential: str) -> str:
    """How an access token is named outside this table (authentication
    answers, revocations, audit and request logs): with the credential that
    got it, e.g. `oauth-client-secret-<secret id>.<id>` or `oauth-assertion.<id>`."""
    kind, _, secret_id = credential.partition(":")
    prefix = f"oauth-client-secret-{secret_id}" if kind == "client_secret" else "oauth-assertion"
    return f"{prefix}.{token_id}"


async def forget_expired(pool: asyncpg.Pool, now: datetime) -> int:
    """Drops expired access tokens and used assertion ids (nothing can use them any more)."""
    tokens = await pool.execute("DELETE FROM access_tokens WHERE expires_at < $1", now)
    assertions = await pool.execute("DELETE FROM used_assertions WHERE expires_at < $1", now)
    return int(tokens.split()[-1]) + int(assertions.split()[-1])
