"""The outbox relay killed between JetStream's PubAck and deleting its published
rows: a new relay publishes them again, JetStream drops the copies by
Nats-Msg-Id, and every change still reaches the endpoint exactly once."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import nats

from runtime import outbox
from runtime.events import EventStream
from services.directory import server as directory_server
from services.webhooks.config import WebhookConfig
from tests.conftest import delete_stream, make_settings, unique_prefix
from tests.faults.reconcile import CountingReceiver, Writer, reconcile
from tests.faults.test_webhook_faults import LOCAL, _create_endpoint, _start_in_process


class RelayKilledAfterPubAck(outbox.OutboxRelay):
    """Dies (its task ends, its transaction rolls back) right after its first
    batch was acknowledged by JetStream and before the rows are deleted."""

    killed = asyncio.Event()
    published_before_death = 0

    async def _remove_published(self, conn, rows) -> None:
        if not RelayKilledAfterPubAck.killed.is_set():
            RelayKilledAfterPubAck.published_before_death = len(rows)
            RelayKilledAfterPubAck.killed.set()
            raise asyncio.CancelledError()  # the kill: nothing after this line runs
        await super()._remove_published(conn, rows)


async def test_relay_killed_between_puback_and_marking(fresh_database, nats_url, monkeypatch, record_property):
    relays: list[outbox.OutboxRelay] = []

    async def start_doomed_relay(stack, pool, schema, stream, url):
        relay = RelayKilledAfterPubAck(pool, schema, stream, url)
        relays.append(relay)
        await relay.start()
        stack.push_async_callback(relay.stop)
        return relay

    RelayKilledAfterPubAck.killed = asyncio.Event()
    monkeypatch.setattr(directory_server, "start_relay", start_doomed_relay)
    prefix = unique_prefix()
    settings = make_settings(await fresh_database(), nats_url, prefix)
    try:
        async with AsyncExitStack() as stack, CountingReceiver() as receiver:
            directory, webhooks = await _start_in_process(stack, settings, WebhookConfig(allowed=LOCAL))
            await _create_endpoint(webhooks, receiver.url)
            writer = Writer(directory)
            writing = asyncio.create_task(writer.write(60, 40.0))
            await asyncio.wait_for(RelayKilledAfterPubAck.killed.wait(), 30)
            doomed = relays[0]
            assert doomed._task is not None
            await asyncio.wait_for(asyncio.shield(asyncio.gather(doomed._task, return_exceptions=True)), 10)

            # The batch reached JetStream but is still unpublished in the outbox.
            assert RelayKilledAfterPubAck.published_before_death > 0
            assert await doomed._pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") > 0

            # A new relay (as after a restart) publishes everything again.
            restarted = outbox.OutboxRelay(doomed._pool, "directory", EventStream(prefix), nats_url)
            await restarted.start()
            stack.push_async_callback(restarted.stop)
            await writing
            assert not writer.failed, writer.failed
            result = await reconcile(settings, writer, receiver, deadline_s=60)

            connection = await nats.connect(nats_url)
            try:
                stored = (await connection.jetstream().stream_info(EventStream(prefix).name)).state.messages
            finally:
                await connection.close()
    finally:
        await delete_stream(nats_url, prefix)
    record_property("reconciliation", result.report())
    print("relay killed after PubAck:", result.report())
    assert stored == result.committed == 60  # the copies were dropped by Nats-Msg-Id
    assert not result.changes_without_one_event
    assert not result.missing
    assert result.duplicates == 0
