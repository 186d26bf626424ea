"""One outbox relay per schema publishes, whatever the number of replicas: the
one whose listening connection holds the schema's lock. When that connection
dies another relay takes over at once; a relay that stops gives the lock back.
Every queued event reaches the stream once, in the order it was queued, and
leaves the outbox."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import nats
import pytest

from runtime.db import create_pool, migrate
from runtime.events import EventStream
from runtime.outbox import OutboxRelay, QueuedEvent, enqueue_all, new_event
from tests.conftest import delete_stream, unique_prefix

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "webhooks"  # any schema: each has its outbox


@pytest.fixture
async def outbox(fresh_database, nats_url):
    url = await fresh_database()
    await migrate(url, SCHEMA, ROOT / "services" / "webhooks" / "migrations")
    pool = await create_pool(url, SCHEMA)
    stream = EventStream(unique_prefix())
    try:
        yield pool.shared, stream, url
    finally:
        await pool.close()
        await delete_stream(nats_url, stream.prefix)


async def _queue(pool, stream: EventStream, count: int) -> list[str]:
    events = [QueuedEvent(stream, SCHEMA, new_event("scim.member.create", "CREATE", project_id="project",
                                                    organization_id=f"organization-{n % 3}"))
              for n in range(count)]
    async with pool.acquire() as conn, conn.transaction():
        await enqueue_all(conn, events)
    return [queued.event.event_id for queued in events]


async def _published(nats_url: str, stream: EventStream, expected: int, deadline_s: float = 20) -> list[str]:
    """The Nats-Msg-Id of every message of the stream, in stream order, once it holds `expected`."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        deadline = time.monotonic() + deadline_s
        while (await js.stream_info(stream.name)).state.messages < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # polling for the relay's publishes, with a deadline
        count = (await js.stream_info(stream.name)).state.messages
        return [(await js.get_msg(stream.name, seq)).headers["Nats-Msg-Id"] for seq in range(1, count + 1)]
    finally:
        await connection.close()


async def _relay_lock_holders(pool, relay: OutboxRelay) -> int:
    return await pool.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1::bigint::oid"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        relay._lock_key,
    )


async def test_one_relay_publishes_and_another_takes_over_when_its_connection_dies(outbox, nats_url):
    pool, stream, url = outbox
    # A row a relay of the previous version marked published (rows are deleted now).
    [marked] = await _queue(pool, stream, 1)
    await pool.execute("UPDATE outbox SET published_at = now() WHERE event_id = $1", marked)
    relays = [OutboxRelay(pool, SCHEMA, stream, nats_url) for _ in range(2)]
    for relay in relays:
        await relay.start()
    try:
        first = await _queue(pool, stream, 40)
        assert await _published(nats_url, stream, 40) == first
        [leader] = [relay for relay in relays if relay._relaying]
        assert await _relay_lock_holders(pool, relays[0]) == 1
        # Published rows leave the outbox; the marked one too, once the relay finds nothing to publish.
        deadline = time.monotonic() + 10
        while await pool.fetchval("SELECT count(*) FROM outbox") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # polling for the relay's cleanup, with a deadline
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0

        # The leader's connection dies (its process, or the network): the other relay takes over.
        admin = await asyncpg.connect(url)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", leader._listener.get_server_pid())
        finally:
            await admin.close()
        second = await _queue(pool, stream, 40)
        assert await _published(nats_url, stream, 80) == first + second
        [follower] = [relay for relay in relays if relay is not leader]
        assert follower._relaying

        await follower.stop()
        third = await _queue(pool, stream, 10)  # the first relay, back on a new connection, is the one left
        assert await _published(nats_url, stream, 90) == first + second + third
    finally:
        for relay in relays:
            await relay.stop()
    assert await _relay_lock_holders(pool, relays[0]) == 0  # stopped relays give the lock back
