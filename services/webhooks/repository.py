"""SQL of the webhooks service.

Times that decide scheduling (when a delivery is due, when an endpoint has
failed long enough) are passed in from the worker's clock rather than taken
from the database's now(), so tests can move time without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

import asyncpg
import orjson

from runtime.outbox import QueuedEvent, enqueue_all
from services.webhooks import snapshot_repository
from services.webhooks.snapshot_projection import ProjectionChange, is_projected

ENDPOINT_COLUMNS = (
    "endpoint_id, url, event_types, organization_ids, enabled, disabled_reason, disabled_at, failing_since,"
    " secret_sealed, previous_secret_expires_at, version, created_at, updated_at"
)
ATTEMPT_COLUMNS = (
    "attempt_id, event_id, endpoint_id, attempted_at, status_code, latency_ms, response_snippet, error, outcome,"
    " next_attempt_at"
)
# Whether endpoint `p` subscribes to event `i` (both aliases must be in scope).
SUBSCRIBES = (
    "(cardinality(p.event_types) = 0 OR i.type = ANY(p.event_types))"
    " AND (cardinality(p.organization_ids) = 0 OR i.organization_id = ANY(p.organization_ids))"
)


@dataclass(frozen=True)
class ReceivedEvent:
    event_id: str
    type: str
    organization_id: str
    request_id: str
    body: str
    occurred_at: datetime
    # The resource the event is about; deliveries of one resource to one
    # endpoint happen in the order the events arrived.
    object_id: str = ""


@dataclass(frozen=True)
class OwnEvent:
    """An event the webhooks service raises itself: stored for delivery in
    the transaction that raises it and, when `queued`, also published to
    NATS through the outbox (the copy that comes back is a duplicate)."""

    stored: ReceivedEvent
    queued: QueuedEvent | None = None


# Builds the webhook_endpoint.disabled event of an endpoint row, the reason and the time.
DisabledEventFactory = Callable[[asyncpg.Record, str, datetime], OwnEvent]


@dataclass(frozen=True)
class AttemptRecord:
    """What one attempt of a claimed delivery came to."""

    event_id: str
    endpoint_id: str
    # The claim this attempt ran under: (attempts, lease end) as claimed. A
    # delivery claimed since (lease expired, or replayed) is not overwritten.
    claimed_attempts: int
    lease_until: datetime
    attempted_at: datetime
    status_code: int | None
    latency_ms: float
    response_snippet: str
    error: str
    outcome: str  # succeeded, retrying or failed
    next_attempt_at: datetime | None
    # "gone" (410) disables the endpoint at once.
    disable_reason: str = ""


# --- endpoints


async def insert_endpoint(
    pool: asyncpg.Pool, endpoint_id: str, url: str, event_types: list[str], secret_sealed: bytes,
    organization_ids: list[str] | None = None,
) -> asyncpg.Record:
    return await pool.fetchrow(
        "INSERT INTO endpoints (endpoint_id, url, event_types, secret_sealed, organization_ids)"
        f" VALUES ($1, $2, $3, $4, $5) RETURNING {ENDPOINT_COLUMNS}",
        endpoint_id, url, event_types, secret_sealed, organization_ids or [],
    )


async def get_endpoint(pool: asyncpg.Pool, endpoint_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(f"SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE endpoint_id = $1", endpoint_id)


async def list_endpoints(
    pool: asyncpg.Pool, limit: int, after: tuple[datetime, str] | None, organization_id: str = ""
) -> list[asyncpg.Record]:
    """A page of endpoints; with `organization_id`, those that receive its events."""
    after_time, after_id = after if after is not None else (None, "")
    return await pool.fetch(
        f"SELECT {ENDPOINT_COLUMNS} FROM endpoints"
        " WHERE ($2::timestamptz IS NULL OR (created_at, endpoint_id) > ($2, $3))"
        " AND ($4 = '' OR organization_ids = '{}' OR $4 = ANY(organization_ids))"
        " ORDER BY created_at, endpoint_id LIMIT $1",
        limit, after_time, after_id, organization_id,
    )


UPDATABLE = ("url", "event_types", "organization_ids", "enabled")


async def update_endpoint(
    pool: asyncpg.Pool, endpoint_id: str, changes: dict[str, Any], expected_version: int | None
) -> asyncpg.Record | None | bool:
    """Applies `changes` (columns of UPDATABLE). Returns the row, None when
    there is no such endpoint, False when `expected_version` is stale.
    Enabling an endpoint forgets why it was disabled and its failures."""
    sets, params = [], [endpoint_id, expected_version]
    for column in UPDATABLE:
        if column in changes:
            params.append(changes[column])
            sets.append(f"{column} = ${len(params)}")
    if changes.get("enabled") is True:
        sets += ["disabled_reason = ''", "disabled_at = NULL", "failing_since = NULL"]
    sets += ["version = version + 1", "updated_at = now()"]
    row = await pool.fetchrow(
        f"UPDATE endpoints SET {', '.join(sets)}"
        " WHERE endpoint_id = $1 AND ($2::bigint IS NULL OR version = $2)"
        f" RETURNING {ENDPOINT_COLUMNS}",
        *params,
    )
    if row is not None:
        return row
    exists = await pool.fetchval("SELECT true FROM endpoints WHERE endpoint_id = $1", endpoint_id)
    return False if exists else None


async def rotate_secret(
    pool: asyncpg.Pool, endpoint_id: str, new_sealed: bytes, previous_valid_until: datetime
) -> asyncpg.Record | None:
    """The new secret signs from now on; the current one keeps signing too,
    beside it, until `previous_valid_until`."""
    return await pool.fetchrow(
        "UPDATE endpoints SET previous_secret_sealed = secret_sealed, previous_secret_expires_at = $3,"
        " secret_sealed = $2, version = version + 1, updated_at = now()"
        f" WHERE endpoint_id = $1 RETURNING {ENDPOINT_COLUMNS}",
        endpoint_id, new_sealed, previous_valid_until,
    )


async def delete_endpoint(pool: asyncpg.Pool, endpoint_id: str) -> bool:
    return await pool.fetchval("DELETE FROM endpoints WHERE endpoint_id = $1 RETURNING true", endpoint_id) or False


# --- events and deliveries

# Every transaction that stores events first takes this lock, so event
# sequence numbers commit in increasing order: a reader of the pull Events API
# that has seen one event has seen every earlier one, and may page by seq.
EVENTS_LOCK = "webhooks.events"


@dataclass(frozen=True)
class LeaseOffer:
    """What a store of new events may lease for the delivery worker at once,
    so that a delivery due the moment it is stored needs no claim of its own.
    Only deliveries a claim would take first are leased: to a healthy
    endpoint with nothing due waiting (so none jumps a backlog), not in
    `busy`, the first pending one of its resource, within the endpoint's
    share (`per_endpoint` less what it has `in_flight`) and `slots` in all."""

    slots: int
    lease_seconds: float
    per_endpoint: int
    in_flight: dict[str, int]
    busy: tuple[str, ...] = ()


NO_LEASES = LeaseOffer(slots=0, lease_seconds=0.0, per_endpoint=0, in_flight={})


@dataclass(frozen=True)
class StoredEvents:
    leased: list[dict[str, Any]]  # deliveries leased under the offer, as a claim returns them
    waiting: int  # deliveries stored for a claim to take


async def store_events(conn: asyncpg.Connection, events: list[ReceivedEvent], now: datetime | None = None,
                       offer: LeaseOffer = NO_LEASES) -> StoredEvents:
    """Stores every event (for replays and the pull Events API), in the order
    given, with a pending delivery per enabled endpoint that subscribes to it;
    redelivered ones change nothing. The deliveries it leased under `offer`
    are the caller's to send once the transaction has committed."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", EVENTS_LOCK)
        row = await conn.fetchrow(
            "WITH incoming AS ("
            "  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],"
            "    $7::text[]) WITH ORDINALITY AS t(event_id, type, organization_id, request_id, body, occurred_at,"
            "    object_id, ord)),"
            " subscribed AS ("
            f"  SELECT i.event_id, p.endpoint_id FROM incoming i JOIN endpoints p ON p.enabled AND {SUBSCRIBES}),"
            " stored AS ("
            "  INSERT INTO events (event_id, type, organization_id, request_id, body, occurred_at, object_id)"
            "  SELECT event_id, type, organization_id, request_id, body, occurred_at, object_id FROM incoming"
            "  ORDER BY ord"
            "  ON CONFLICT (event_id) DO NOTHING RETURNING event_id, seq, object_id),"
            # Endpoints a claim would serve at once: healthy, not busy, nothing due waiting.
            " open AS ("
            "  SELECT p.endpoint_id FROM endpoints p"
            "  WHERE $9::int > 0 AND p.endpoint_id IN (SELECT endpoint_id FROM subscribed)"
            "    AND p.failing_since IS NULL AND NOT (p.endpoint_id = ANY($10::text[]))"
            "    AND NOT EXISTS (SELECT 1 FROM deliveries due WHERE due.endpoint_id = p.endpoint_id"
            "      AND due.status = 'pending' AND due.next_attempt_at <= COALESCE($8, now()))),"
            # The first pending delivery of its resource to its endpoint (earlier rows, or earlier in this batch).
            " firsts AS ("
            "  SELECT s.event_id, s.endpoint_id, st.seq, st.object_id,"
            "    o.endpoint_id IS NOT NULL AND (st.object_id = '' OR ("
            "      row_number() OVER (PARTITION BY s.endpoint_id, st.object_id ORDER BY st.seq) = 1"
            "      AND NOT EXISTS (SELECT 1 FROM deliveries earlier WHERE earlier.endpoint_id = s.endpoint_id"
            "        AND earlier.object_id = st.object_id AND earlier.status = 'pending'))) AS leasable"
            "  FROM subscribed s JOIN stored st USING (event_id) LEFT JOIN open o USING (endpoint_id)),"
            " shared AS ("
            "  SELECT f.*, f.leasable AND row_number() OVER (PARTITION BY f.endpoint_id, f.leasable ORDER BY f.seq)"
            "    <= $11::int - COALESCE(flight.n, 0) AS within_share"
            "  FROM firsts f LEFT JOIN unnest($12::text[], $13::int[]) AS flight(endpoint_id, n) USING (endpoint_id)),"
            " leased AS ("
            "  SELECT s.*, s.within_share AND row_number() OVER (PARTITION BY s.within_share ORDER BY s.seq)"
            "    <= $9::int AS lease FROM shared s),"
            " added AS ("
            "  INSERT INTO deliveries (event_id, endpoint_id, seq, object_id, attempts, next_attempt_at, created_at,"
            "    updated_at)"
            "  SELECT event_id, endpoint_id, seq, object_id, CASE WHEN lease THEN 1 ELSE 0 END,"
            "    COALESCE($8, now()) + CASE WHEN lease THEN make_interval(secs => $14) ELSE interval '0' END,"
            "    COALESCE($8, now()), COALESCE($8, now())"
            "  FROM leased ORDER BY seq"
            "  ON CONFLICT DO NOTHING RETURNING event_id, endpoint_id, attempts, next_attempt_at, seq)"
            " SELECT (SELECT count(*) FROM added WHERE attempts = 0) AS waiting,"
            "  (SELECT array_agg(event_id ORDER BY seq) FROM stored) AS stored_ids,"
            "  (SELECT array_agg(seq ORDER BY seq) FROM stored) AS stored_seqs,"
            "  (SELECT array_agg(ROW(a.event_id, a.endpoint_id, a.next_attempt_at, p.url, p.secret_sealed,"
            "     p.previous_secret_sealed, p.previous_secret_expires_at) ORDER BY a.seq)"
            "   FROM added a JOIN endpoints p USING (endpoint_id) WHERE a.attempts > 0) AS leased",
            [e.event_id for e in events], [e.type for e in events], [e.organization_id for e in events],
            [e.request_id for e in events], [e.body for e in events], [e.occurred_at for e in events],
            [e.object_id for e in events], now,
            offer.slots, list(offer.busy), offer.per_endpoint, list(offer.in_flight), list(offer.in_flight.values()),
            offer.lease_seconds,
        )
        # Redelivered events (not stored again) change nothing: folding an old
        # body twice would undo what came after it.
        projected = {e.event_id: e.body for e in events if is_projected(e.type)}
        change = ProjectionChange()
        for event_id, seq in zip(row["stored_ids"] or (), row["stored_seqs"] or ()):
            if event_id in projected:
                change.add(seq, orjson.loads(projected[event_id]))
        await snapshot_repository.apply(conn, change)
    by_id = {e.event_id: e for e in events}
    return StoredEvents(waiting=row["waiting"], leased=[
        {"event_id": event_id, "endpoint_id": endpoint_id, "attempts": 1, "lease_until": lease_until,
         "body": by_id[event_id].body, "request_id": by_id[event_id].request_id, "url": url,
         "secret_sealed": sealed, "previous_secret_sealed": previous_sealed,
         "previous_secret_expires_at": previous_expires}
        for event_id, endpoint_id, lease_until, url, sealed, previous_sealed, previous_expires in row["leased"] or ()
    ])


async def claim_due_deliveries(
    pool: asyncpg.Pool, now: datetime, limit: int, lease_seconds: float,
    busy_endpoints: list[str] = (), per_endpoint: int = 16,
) -> list[asyncpg.Record]:
    """Leases due deliveries (so another worker skips them) and returns what
    sending them needs. Only the first pending delivery of each resource to
    each endpoint is due: the next waits until it succeeds or gives up. At
    most `per_endpoint` are claimed per endpoint (one for an endpoint that is
    failing), none for `busy_endpoints`; healthy endpoints' deliveries come
    first, so endpoints that fail never crowd out those that work.

    Each endpoint's due deliveries are read in due order from its own index
    range, and no more than it may take are locked, so a claim costs the same
    whatever the backlog. The rows locked are then updated where they are (by
    ctid, which the lock keeps for the statement): joined back by key, the
    planner could hash the whole table against them, and with the dead rows
    of delivered events a claim took half a second."""
    return await pool.fetch(
        "WITH fair AS ("
        "  SELECT d.row_at FROM endpoints p CROSS JOIN LATERAL ("
        "    SELECT d.ctid AS row_at, d.next_attempt_at FROM deliveries d"
        "    WHERE d.endpoint_id = p.endpoint_id AND d.status = 'pending' AND d.next_attempt_at <= $1"
        "      AND (d.object_id = '' OR NOT EXISTS ("
        "        SELECT 1 FROM deliveries earlier WHERE earlier.endpoint_id = d.endpoint_id"
        "          AND earlier.object_id = d.object_id AND earlier.status = 'pending' AND earlier.seq < d.seq))"
        "    ORDER BY d.next_attempt_at, d.seq"
        "    LIMIT CASE WHEN p.failing_since IS NULL THEN $5 ELSE 1 END FOR UPDATE OF d SKIP LOCKED) d"
        "  WHERE p.enabled AND NOT (p.endpoint_id = ANY($4::text[]))"
        "  ORDER BY p.failing_since IS NOT NULL, d.next_attempt_at LIMIT $2),"
        " claimed AS ("
        "  UPDATE deliveries d SET attempts = d.attempts + 1,"
        "    next_attempt_at = $1 + make_interval(secs => $3), updated_at = $1"
        "  WHERE d.ctid = ANY(ARRAY(SELECT row_at FROM fair))"
        "  RETURNING d.event_id, d.endpoint_id, d.attempts, d.next_attempt_at AS lease_until, d.seq)"
        " SELECT c.event_id, c.endpoint_id, c.attempts, c.lease_until, e.body, e.request_id, p.url,"
        "   p.secret_sealed, p.previous_secret_sealed, p.previous_secret_expires_at"
        " FROM claimed c JOIN events e USING (event_id) JOIN endpoints p USING (endpoint_id)"
        " ORDER BY c.seq",
        now, limit, lease_seconds, list(busy_endpoints), per_endpoint,
    )


# Changes to the deliveries table after which its statistics are refreshed
# when they counted fewer rows than that (see migration 0005).
QUEUE_STATISTICS_MIN_CHANGES = 1000


async def refresh_queue_statistics(pool: asyncpg.Pool, at_least: int = QUEUE_STATISTICS_MIN_CHANGES) -> bool:
    """Analyzes the deliveries table when it changed by more than it held at
    its last ANALYZE (and by `at_least`); True when it did. Plans made for an
    empty queue read the whole queue for each claim and each batch of successes."""
    return await pool.fetchval("SELECT analyze_deliveries_if_outgrown($1)", at_least)


async def delivery_lag_seconds(pool: asyncpg.Pool, now: datetime) -> float:
    """How long the oldest delivery due to an enabled, not failing endpoint has
    waited (0 when none waits): one index probe per endpoint."""
    return await pool.fetchval(
        "SELECT COALESCE(EXTRACT(EPOCH FROM $1 - min(due.next_attempt_at)), 0)::float8"
        " FROM endpoints p CROSS JOIN LATERAL ("
        "  SELECT d.next_attempt_at FROM deliveries d"
        "  WHERE d.endpoint_id = p.endpoint_id AND d.status = 'pending' AND d.next_attempt_at <= $1"
        "  ORDER BY d.next_attempt_at LIMIT 1) due"
        " WHERE p.enabled AND p.failing_since IS NULL",
        now,
    )


_RECORD_DELIVERY = (
    "UPDATE deliveries SET status = $5, last_status_code = $6, last_error = NULLIF($7, ''),"
    "  next_attempt_at = COALESCE($8, next_attempt_at), updated_at = $9"
    " WHERE event_id = $1 AND endpoint_id = $2 AND attempts = $3 AND next_attempt_at = $4 AND status = 'pending'"
)
_LOG_ATTEMPT = (
    f"INSERT INTO attempts ({ATTEMPT_COLUMNS.removeprefix('attempt_id, ')})"
    " VALUES ($1, $2, $9, $6, $10, $11, $7, $12, $8)"
)


def _attempt_params(attempt: AttemptRecord) -> list[Any]:
    status = {"succeeded": "succeeded", "retrying": "pending", "failed": "failed"}[attempt.outcome]
    return [
        attempt.event_id, attempt.endpoint_id, attempt.claimed_attempts, attempt.lease_until, status,
        attempt.status_code, attempt.error[:500], attempt.next_attempt_at, attempt.attempted_at,
        attempt.latency_ms, attempt.response_snippet, attempt.outcome,
    ]


async def record_successes(pool: asyncpg.Pool, attempts: list[AttemptRecord]) -> bool:
    """Records successful attempts, any number in one statement (one round
    trip, atomic): each delivery succeeded (unless claimed again since), each
    attempt logged, and each endpoint's failing streak ended. True when that
    made deliveries due: a later one of a delivered resource, or any of an
    endpoint that was failing."""
    return await pool.fetchval(
        "WITH done AS ("
        "  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::int[], $6::timestamptz[],"
        "    $7::float8[], $8::text[]) AS t(event_id, endpoint_id, attempts, lease_until, status_code, attempted_at,"
        "    latency_ms, response_snippet)),"
        " recorded AS ("
        "  UPDATE deliveries d SET status = 'succeeded', last_status_code = done.status_code, last_error = NULL,"
        "    updated_at = done.attempted_at"
        "  FROM done WHERE d.event_id = done.event_id AND d.endpoint_id = done.endpoint_id"
        "    AND d.attempts = done.attempts AND d.next_attempt_at = done.lease_until AND d.status = 'pending'"
        "  RETURNING d.endpoint_id, d.object_id, d.seq),"
        " logged AS ("
        f"  INSERT INTO attempts ({ATTEMPT_COLUMNS.removeprefix('attempt_id, ')})"
        "  SELECT event_id, endpoint_id, attempted_at, status_code, latency_ms, response_snippet, '', 'succeeded',"
        "    NULL FROM done RETURNING 1),"
        " healed AS ("
        "  UPDATE endpoints SET failing_since = NULL"
        "  WHERE endpoint_id IN (SELECT endpoint_id FROM done) AND failing_since IS NOT NULL RETURNING 1)"
        " SELECT EXISTS (SELECT 1 FROM healed) OR EXISTS (SELECT 1 FROM recorded r WHERE r.object_id <> ''"
        "   AND EXISTS (SELECT 1 FROM deliveries later WHERE later.endpoint_id = r.endpoint_id"
        "     AND later.object_id = r.object_id AND later.status = 'pending' AND later.seq > r.seq))",
        [a.event_id for a in attempts], [a.endpoint_id for a in attempts], [a.claimed_attempts for a in attempts],
        [a.lease_until for a in attempts], [a.status_code for a in attempts], [a.attempted_at for a in attempts],
        [a.latency_ms for a in attempts], [a.response_snippet for a in attempts],
    )


async def record_attempt(
    pool: asyncpg.Pool, attempt: AttemptRecord, disable_after: timedelta, disabled_event: DisabledEventFactory
) -> str:
    """Logs a failed attempt and applies its outcome to the delivery and the
    endpoint, atomically (successes: record_successes). Returns why the
    endpoint was disabled (gone, failing) or ''."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            f"WITH recorded AS ({_RECORD_DELIVERY} RETURNING 1) {_LOG_ATTEMPT}", *_attempt_params(attempt)
        )
        failing_since = await conn.fetchval(
            "UPDATE endpoints SET failing_since = COALESCE(failing_since, $2) WHERE endpoint_id = $1"
            " RETURNING failing_since",
            attempt.endpoint_id, attempt.attempted_at,
        )
        reason = attempt.disable_reason
        if not reason and failing_since is not None and attempt.attempted_at - failing_since >= disable_after:
            reason = "failing"
        if reason and await disable_endpoint(conn, attempt.endpoint_id, reason, attempt.attempted_at, disabled_event):
            return reason
        return ""


async def disable_endpoint(
    conn: asyncpg.Connection, endpoint_id: str, reason: str, now: datetime, disabled_event: DisabledEventFactory
) -> bool:
    """Disables an enabled endpoint and, in the same transaction, stores the
    webhook_endpoint.disabled event for the endpoints that subscribe to it."""
    row = await conn.fetchrow(
        "UPDATE endpoints SET enabled = false, disabled_reason = $2, disabled_at = $3, version = version + 1,"
        f" updated_at = now() WHERE endpoint_id = $1 AND enabled RETURNING {ENDPOINT_COLUMNS}",
        endpoint_id, reason, now,
    )
    if row is None:
        return False
    event = disabled_event(row, reason, now)
    await store_events(conn, [event.stored], now)
    if event.queued is not None:
        await enqueue_all(conn, [event.queued])
    return True


# --- the delivery log and replays


async def list_attempts(
    pool: asyncpg.Pool, endpoint_id: str, event_id: str, limit: int, before_id: int | None
) -> list[asyncpg.Record]:
    """Attempts, newest first, of one endpoint and/or one event."""
    return await pool.fetch(
        f"SELECT {ATTEMPT_COLUMNS} FROM attempts"
        " WHERE ($1 = '' OR endpoint_id = $1) AND ($2 = '' OR event_id = $2)"
        "   AND ($4::bigint IS NULL OR attempt_id < $4)"
        " ORDER BY attempt_id DESC LIMIT $3",
        endpoint_id, event_id, limit, before_id,
    )


async def event_exists(pool: asyncpg.Pool, event_id: str) -> bool:
    return bool(await pool.fetchval("SELECT true FROM events WHERE event_id = $1", event_id))


async def replay(
    pool: asyncpg.Pool, now: datetime, *, event_id: str = "", endpoint_id: str = "",
    start: datetime | None = None, end: datetime | None = None,
) -> int:
    """Schedules the stored events chosen (one event, or those of [start,
    end)) again to the endpoints chosen (one, or every subscriber), from
    their first attempt; returns how many deliveries were scheduled. Every
    subscriber means every enabled one; a disabled endpoint named gets its
    replays when it is enabled again."""
    return await pool.fetchval(
        "WITH chosen AS ("
        "  SELECT i.event_id, p.endpoint_id, i.seq, i.object_id FROM events i JOIN endpoints p"
        f"    ON {SUBSCRIBES}"
        "  WHERE ($2 = '' OR i.event_id = $2) AND (CASE WHEN $3 = '' THEN p.enabled ELSE p.endpoint_id = $3 END)"
        "    AND ($4::timestamptz IS NULL OR i.occurred_at >= $4) AND ($5::timestamptz IS NULL OR i.occurred_at < $5)),"
        " scheduled AS ("
        "  INSERT INTO deliveries (event_id, endpoint_id, seq, object_id, next_attempt_at, created_at, updated_at)"
        "  SELECT event_id, endpoint_id, seq, object_id, $1, $1, $1 FROM chosen"
        "  ON CONFLICT (event_id, endpoint_id) DO UPDATE SET status = 'pending', attempts = 0,"
        "    next_attempt_at = $1, updated_at = $1"
        "  RETURNING 1)"
        " SELECT count(*) FROM scheduled",
        now, event_id, endpoint_id, start, end,
    )


async def forget_events_before(pool: asyncpg.Pool, cutoff: datetime, batch: int = 10_000) -> int:
    """Deletes up to `batch` events that occurred before `cutoff` and have no
    pending delivery, with their deliveries and attempts; returns how many."""
    return await pool.fetchval(
        "WITH old AS ("
        "  SELECT event_id FROM events e WHERE occurred_at < $1"
        "    AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.event_id AND d.status = 'pending')"
        "  LIMIT $2),"
        " gone AS (DELETE FROM events WHERE event_id IN (SELECT event_id FROM old) RETURNING 1)"
        " SELECT count(*) FROM gone",
        cutoff, batch,
    )


async def list_events(pool: asyncpg.Pool, after_seq: int, limit: int, event_types: list[str],
                      organization_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT seq, event_id, type, organization_id, body FROM events"
        " WHERE seq > $1 AND (cardinality($3::text[]) = 0 OR type = ANY($3::text[]))"
        " AND ($4 = '' OR organization_id = $4)"
        " ORDER BY seq LIMIT $2",
        after_seq, limit, event_types, organization_id,
    )
