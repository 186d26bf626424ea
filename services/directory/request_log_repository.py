"""SQL of the request log (migration 0008): a connection's SCIM requests as its gateways answered them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from runtime.db import in_batches_per_organization

_COLUMNS = (
    "connection_id", "token_id", "request_id", "method", "path", "query", "status", "scim_type", "detail", "hint",
    "latency_ms", "resource_id", "user_name", "body", "created_at",
)
READ_COLUMNS = "record_id, " + ", ".join(_COLUMNS)
FORGET_BATCH = 5000


_TYPES = ("text", "text", "text", "text", "text", "text", "int", "text", "text", "text", "real", "text", "text",
          "text", "timestamptz")


async def insert(conn: asyncpg.Connection, organization_id: str, rows: list[tuple]) -> None:
    """`rows` hold the _COLUMNS values in order (the body as JSON text or None).
    One statement for the whole batch: a column array each, unnested."""
    columns = list(zip(*rows)) if rows else [() for _ in _COLUMNS]
    arrays = ", ".join(f"${i + 2}::{kind}[]" for i, kind in enumerate(_TYPES))
    selected = ", ".join(f"{name}::jsonb" if name == "body" else name for name in _COLUMNS)
    await conn.execute(
        f"INSERT INTO request_log (organization_id, {', '.join(_COLUMNS)})"
        f" SELECT $1, {selected} FROM unnest({arrays}) AS r({', '.join(_COLUMNS)})",
        organization_id, *[list(column) for column in columns],
    )


@dataclass(frozen=True)
class RequestQuery:
    organization_id: str
    connection_id: str
    resource: str = ""
    statuses: tuple[int, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 100


async def page(conn: asyncpg.Connection, query: RequestQuery) -> list[asyncpg.Record]:
    """Newest first. A status of 4 or 5 matches its whole class (4xx, 5xx)."""
    exact = [s for s in query.statuses if s >= 100]
    classes = [s for s in query.statuses if s < 10]
    return await conn.fetch(
        f"SELECT {READ_COLUMNS} FROM request_log"
        " WHERE organization_id = $1 AND connection_id = $2"
        "   AND ($3 = '' OR resource_id = $3 OR lower(user_name) = lower($3) OR resource_id IN ("
        "        SELECT member_id FROM members WHERE organization_id = $1 AND connection_id = $2"
        "        AND user_name_lower = lower($3)))"
        "   AND (cardinality($4::int[]) + cardinality($5::int[]) = 0"
        "        OR status = ANY($4::int[]) OR status / 100 = ANY($5::int[]))"
        "   AND ($6::timestamptz IS NULL OR created_at >= $6) AND ($7::timestamptz IS NULL OR created_at < $7)"
        "   AND ($8::bigint IS NULL OR record_id < $8)"
        " ORDER BY record_id DESC LIMIT $9",
        query.organization_id, query.connection_id, query.resource, exact, classes, query.since, query.until,
        query.before_id, query.limit,
    )


async def stats(conn: asyncpg.Connection, organization_id: str, connection_id: str, now: datetime) -> asyncpg.Record:
    return await conn.fetchrow(
        "SELECT"
        "  (SELECT max(created_at) FROM request_log WHERE organization_id = $1 AND connection_id = $2) AS last,"
        "  count(*) AS requests, count(*) FILTER (WHERE status >= 400) AS errors,"
        "  EXISTS (SELECT 1 FROM request_log WHERE organization_id = $1 AND connection_id = $2"
        "          AND path LIKE '/Groups%') AS groups_received,"
        "  (SELECT count(*) FROM request_log WHERE organization_id = $1 AND connection_id = $2"
        "          AND path LIKE '/Users%' AND method = 'POST') AS users_received"
        " FROM request_log WHERE organization_id = $1 AND connection_id = $2 AND created_at > $3",
        organization_id, connection_id, now - timedelta(hours=1),
    )


async def forget_old(pool: asyncpg.Pool, retention: timedelta) -> int:
    """Deletes the entries past the retention, in batches within each organization."""
    return await in_batches_per_organization(pool, "organizations_with_old_requests", "forget_old_requests",
                                             retention, batch=FORGET_BATCH)
