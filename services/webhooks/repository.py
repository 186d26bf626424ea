"""SQL of the webhooks service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

ENDPOINT_COLUMNS = "endpoint_id, url, event_types, enabled, secret_sealed, version, created_at, updated_at"


@dataclass(frozen=True)
class ReceivedEvent:
    event_id: str
    type: str
    organization_id: str
    request_id: str
    body: str
    occurred_at: datetime


async def insert_endpoint(
    pool: asyncpg.Pool, endpoint_id: str, url: str, event_types: list[str], secret_sealed: bytes
) -> asyncpg.Record:
    return await pool.fetchrow(
        f"INSERT INTO endpoints (endpoint_id, url, event_types, secret_sealed) VALUES ($1, $2, $3, $4)"
        f" RETURNING {ENDPOINT_COLUMNS}",
        endpoint_id, url, event_types, secret_sealed,
    )


async def get_endpoint(pool: asyncpg.Pool, endpoint_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(f"SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE endpoint_id = $1", endpoint_id)


async def list_endpoints(
    pool: asyncpg.Pool, limit: int, after: tuple[datetime, str] | None
) -> list[asyncpg.Record]:
    after_time, after_id = after if after is not None else (None, "")
    return await pool.fetch(
        f"SELECT {ENDPOINT_COLUMNS} FROM endpoints"
        " WHERE ($2::timestamptz IS NULL OR (created_at, endpoint_id) > ($2, $3))"
        " ORDER BY created_at, endpoint_id LIMIT $1",
        limit, after_time, after_id,
    )


async def delete_endpoint(pool: asyncpg.Pool, endpoint_id: str) -> bool:
    return await pool.fetchval("DELETE FROM endpoints WHERE endpoint_id = $1 RETURNING true", endpoint_id) or False


async def store_events(pool: asyncpg.Pool, events: list[ReceivedEvent]) -> int:
    """Stores each event that some enabled endpoint subscribes to, with a
    pending delivery per such endpoint, in one statement; events nobody
    subscribes to are not kept, and redelivered ones change nothing. Returns
    the number of deliveries created."""
    return await pool.fetchval(
        "WITH incoming AS ("
        "  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])"
        "    AS t(event_id, type, organization_id, request_id, body, occurred_at)),"
        " subscribed AS ("
        "  SELECT i.event_id, p.endpoint_id FROM incoming i JOIN endpoints p"
        "    ON p.enabled AND (cardinality(p.event_types) = 0 OR i.type = ANY(p.event_types))),"
        " stored AS ("
        "  INSERT INTO events (event_id, type, organization_id, request_id, body, occurred_at)"
        "  SELECT * FROM incoming WHERE event_id IN (SELECT event_id FROM subscribed)"
        "  ON CONFLICT (event_id) DO NOTHING),"
        " added AS ("
        "  INSERT INTO deliveries (event_id, endpoint_id) SELECT event_id, endpoint_id FROM subscribed"
        "  ON CONFLICT DO NOTHING RETURNING 1)"
        " SELECT count(*) FROM added",
        [e.event_id for e in events], [e.type for e in events], [e.organization_id for e in events],
        [e.request_id for e in events], [e.body for e in events], [e.occurred_at for e in events],
    )


async def claim_due_deliveries(pool: asyncpg.Pool, limit: int, lease_seconds: float) -> list[asyncpg.Record]:
    """Leases due deliveries (so another worker skips them) and returns what
    sending them needs."""
    return await pool.fetch(
        "WITH due AS ("
        "  SELECT event_id, endpoint_id FROM deliveries"
        "  WHERE status = 'pending' AND next_attempt_at <= now()"
        "  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED),"
        " claimed AS ("
        "  UPDATE deliveries d SET attempts = d.attempts + 1,"
        "    next_attempt_at = now() + make_interval(secs => $2), updated_at = now()"
        "  FROM due WHERE d.event_id = due.event_id AND d.endpoint_id = due.endpoint_id"
        "  RETURNING d.event_id, d.endpoint_id, d.attempts, d.created_at)"
        " SELECT c.event_id, c.endpoint_id, c.attempts, c.created_at, e.body, e.request_id, p.url, p.secret_sealed"
        " FROM claimed c JOIN events e USING (event_id) JOIN endpoints p USING (endpoint_id)"
        " ORDER BY e.occurred_at",
        limit, lease_seconds,
    )


async def record_success(pool: asyncpg.Pool, event_id: str, endpoint_id: str, status_code: int) -> None:
    await pool.execute(
        "UPDATE deliveries SET status = 'succeeded', last_status_code = $3, last_error = NULL, updated_at = now()"
        " WHERE event_id = $1 AND endpoint_id = $2",
        event_id, endpoint_id, status_code,
    )


async def record_failure(
    pool: asyncpg.Pool, event_id: str, endpoint_id: str, status_code: int | None, error: str,
    retry_in_seconds: float | None,
) -> None:
    """Schedules the next attempt, or marks the delivery failed when there is none."""
    await pool.execute(
        "UPDATE deliveries SET last_status_code = $3, last_error = $4, updated_at = now(),"
        "  status = CASE WHEN $5::float8 IS NULL THEN 'failed' ELSE 'pending' END,"
        "  next_attempt_at = CASE WHEN $5::float8 IS NULL THEN next_attempt_at"
        "                    ELSE now() + make_interval(secs => $5) END"
        " WHERE event_id = $1 AND endpoint_id = $2",
        event_id, endpoint_id, status_code, error[:500], retry_in_seconds,
    )
