"""The transactional outbox: events are written with the change they describe
and published to JetStream by a relay, so none is lost when NATS is down.

Writers make the change and queue its event in one statement (`with_event`),
so both commit or neither does. One relay per schema is
active at a time: the one whose listening connection holds the schema's
advisory lock (lost with the connection, so a dead relay's successor takes
over at once). It publishes unpublished rows in order with Nats-Msg-Id =
event_id and deletes them only after the PubAck, on that connection: two
statements a batch. A crash between the two republishes the row, which
JetStream drops as a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import asyncpg
from nats.aio.client import Client as NatsClient
from scimd.events.v1 import event_pb2

from runtime.context import current_request_id
from runtime.db import connection_closed
from runtime.events import EventStream, connect_until_ready
from runtime.ids import new_id
from runtime.metrics import OUTBOX_BATCH, OUTBOX_OLDEST_SECONDS, OUTBOX_PUBLISHED, OUTBOX_UNPUBLISHED

log = logging.getLogger(__name__)

BATCH_SIZE = 256
IDLE_POLL_SECONDS = 1.0
# Woken by a commit, the relay waits this long before reading, so the commits
# of concurrent writes go out in one batch (its statements and publish acks)
# rather than one at a time; a few milliseconds on each event's latency.
LINGER_SECONDS = 0.003
# How often rows marked published by a relay of the previous version (during
# a rolling upgrade) are deleted.
CLEANUP_INTERVAL_SECONDS = 60.0
# How often the relay measures the backlog for the metrics.
BACKLOG_OBSERVE_SECONDS = 5.0


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


def new_event(event_type: str, action: str, *, project_id: str, organization_id: str) -> event_pb2.Event:
    event = event_pb2.Event(
        event_id=new_id("event"),
        type=event_type,
        project_id=project_id,
        organization_id=organization_id,
        request_id=current_request_id(),
        action=action,
        source="SCIM",
    )
    event.time.FromDatetime(datetime.now(timezone.utc))
    return event


@dataclass(frozen=True)
class QueuedEvent:
    """An event to queue in `schema`'s outbox together with a change."""

    stream: EventStream
    schema: str
    event: event_pb2.Event


AlsoClause = Callable[[int], tuple[str, list[Any]]]


def with_event(change_sql: str, params: list[Any], queued: QueuedEvent, also: AlsoClause | None = None) -> tuple[str, list[Any]]:
    """One statement that makes a change and queues its event: atomic without
    an explicit transaction, so a write costs one round trip. `change_sql` is
    an INSERT/UPDATE ... RETURNING; the event is queued only when it returns a
    row, and the statement returns those rows. `also(n)` may add one more
    data-modifying clause (its parameters numbered from n) that refers to the
    `change` CTE, e.g. an audit row."""
    return with_events(change_sql, params, [queued], also)


def with_events(change_sql: str, params: list[Any], events: list[QueuedEvent],
                also: AlsoClause | None = None) -> tuple[str, list[Any]]:
    """`with_event` for any number of events (all of one schema; none: the change alone)."""
    n = len(params)
    if not events:
        also_sql, also_params = also(n + 1) if also is not None else ("", [])
        return f"WITH change AS ({change_sql})" + (f", also AS ({also_sql})" if also_sql else "") \
            + " SELECT change.* FROM change", [*params, *also_params]
    also_sql, also_params = also(n + 5) if also is not None else ("", [])
    sql = (
        f"WITH change AS ({change_sql}),"
        f" queued AS (INSERT INTO outbox (event_id, subject, payload)"
        f"  SELECT * FROM unnest(${n + 1}::text[], ${n + 2}::text[], ${n + 3}::bytea[])"
        f"  WHERE EXISTS (SELECT 1 FROM change))"
        + (f", also AS ({also_sql})" if also_sql else "")
        + f" SELECT change.*, pg_notify(${n + 4}, '') AS notified FROM change"
    )
    return sql, [
        *params,
        [q.event.event_id for q in events],
        [q.stream.publish_subject(q.event.type, q.event.organization_id) for q in events],
        [q.event.SerializeToString() for q in events],
        notify_channel(events[0].schema),
        *also_params,
    ]


async def enqueue_all(conn: asyncpg.Connection, events: list[QueuedEvent]) -> None:
    """Queues events in one statement; call inside the transaction of the change."""
    if not events:
        return
    await conn.execute(
        "WITH added AS (INSERT INTO outbox (event_id, subject, payload)"
        "  SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]))"
        " SELECT pg_notify($4, '')",
        [q.event.event_id for q in events],
        [q.stream.publish_subject(q.event.type, q.event.organization_id) for q in events],
        [q.event.SerializeToString() for q in events],
        notify_channel(events[0].schema),
    )


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, schema: str, stream: EventStream, nats_url: str):
        self._pool = pool
        self._schema = schema
        self._stream = stream
        self._nats_url = nats_url
        self._lock_key = zlib.crc32(f"scimd.outbox.{schema}".encode())
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._listener: asyncpg.Connection | None = None
        self._relaying = False  # the listener holds the relay's lock
        self._nats: NatsClient | None = None
        self._last_cleanup = 0.0
        self._last_observed = 0.0
        self._published = OUTBOX_PUBLISHED.labels(schema)
        self._batch = OUTBOX_BATCH.labels(schema)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._schema}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            # Safe at any point: an interrupted batch rolls back and is
            # republished later, and JetStream drops the duplicates.
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_listener()
        if self._nats is not None and not self._nats.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nats.close(), 2)

    async def _run(self) -> None:
        self._nats = await connect_until_ready(self._nats_url, f"scimd-{self._schema}-relay", self._stopping)
        if self._nats is None:
            return
        try:
            await self._relay(self._nats.jetstream())
        finally:
            await self._close_listener()  # and the lock with it, whatever ended the relay

    async def _relay(self, js) -> None:
        backoff = 0.2
        stream_ready = False
        while not self._stopping.is_set():
            try:
                if not stream_ready:
                    await self._stream.ensure(self._nats)
                    stream_ready = True
                await self._ensure_listener()
                published = await self._publish_batch(js)
                if published:
                    self._published.inc(published)
                    self._batch.observe(published)
                await self._observe_backlog()
                backoff = 0.2
                if published < BATCH_SIZE:
                    await self._idle()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("outbox relay: publish failed; will retry", extra={"schema": self._schema, "error": repr(error)})
                await self._close_listener()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff)
                backoff = min(backoff * 2, 5.0)

    async def _idle(self) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), IDLE_POLL_SECONDS)
        if self._wakeup.is_set():
            await asyncio.sleep(LINGER_SECONDS)
        self._wakeup.clear()

    async def _ensure_listener(self) -> None:
        if self._listener is not None and not connection_closed(self._listener):
            return
        await self._close_listener()
        self._listener = await self._pool.acquire()
        await self._listener.add_listener(notify_channel(self._schema), self._on_notify)

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        relaying, self._relaying = self._relaying, False
        if listener is None:
            return
        with contextlib.suppress(Exception):
            await listener.remove_listener(notify_channel(self._schema), self._on_notify)
        if relaying and not connection_closed(listener):
            try:
                # A session lock outlives a connection returned to the pool.
                await listener.execute("SELECT pg_advisory_unlock($1)", self._lock_key, timeout=2)
            except Exception:
                listener.terminate()  # the lock goes with the connection
        with contextlib.suppress(Exception), warnings.catch_warnings():
            # A closed connection cannot UNLISTEN, and asyncpg warns that its listener is still registered.
            warnings.simplefilter("ignore", asyncpg.InterfaceWarning)
            await self._pool.release(listener)

    async def _forget_marked(self, conn: asyncpg.Connection) -> None:
        now = time.monotonic()
        if now - self._last_cleanup < CLEANUP_INTERVAL_SECONDS:
            return
        self._last_cleanup = now
        await conn.execute("DELETE FROM outbox WHERE published_at IS NOT NULL")

    async def _observe_backlog(self) -> None:
        now = time.monotonic()
        if now - self._last_observed < BACKLOG_OBSERVE_SECONDS:
            return
        self._last_observed = now
        row = await self._pool.fetchrow(
            "SELECT count(*) AS waiting, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) AS oldest"
            " FROM outbox WHERE published_at IS NULL"
        )
        OUTBOX_UNPUBLISHED.labels(self._schema).set(row["waiting"])
        OUTBOX_OLDEST_SECONDS.labels(self._schema).set(float(row["oldest"]))

    def _on_notify(self, *_args) -> None:
        self._wakeup.set()

    async def _publish_batch(self, js) -> int:
        conn = self._listener
        if not self._relaying:
            self._relaying = await conn.fetchval("SELECT pg_try_advisory_lock($1)", self._lock_key)
            if not self._relaying:
                return 0  # another replica is the relay
        rows = await conn.fetch(
            "SELECT seq, event_id, subject, payload FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1",
            BATCH_SIZE,
        )
        if not rows:
            await self._forget_marked(conn)
            return 0
        # Publishes are written to the socket in call order, so JetStream
        # stores them in outbox order; the acks are awaited together.
        await asyncio.gather(
            *(
                js.publish(self._subject(row), row["payload"], timeout=5, headers={"Nats-Msg-Id": row["event_id"]})
                for row in rows
            )
        )
        await self._remove_published(conn, rows)
        return len(rows)

    def _subject(self, row: asyncpg.Record) -> str:
        """The row's subject; one queued before the stream was partitioned gets its partition now."""
        if self._stream.is_partitioned(row["subject"]):
            return row["subject"]
        event = event_pb2.Event.FromString(row["payload"])
        return self._stream.publish_subject(event.type, event.organization_id)

    async def _remove_published(self, conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> None:
        # A crash before this commits republishes the rows; JetStream drops the
        # copies by Nats-Msg-Id (within its duplicate window).
        await conn.execute("DELETE FROM outbox WHERE seq = ANY($1::bigint[])", [row["seq"] for row in rows])


async def start_relay(stack, pool: asyncpg.Pool, schema: str, stream: EventStream, nats_url: str) -> OutboxRelay:
    """Starts the relay of `schema`; it stops when `stack` unwinds."""
    relay = OutboxRelay(pool, schema, stream, nats_url)
    await relay.start()
    stack.push_async_callback(relay.stop)
    return relay
