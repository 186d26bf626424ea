"""JetStream → PostgreSQL: each event is stored with its pending deliveries
before its message is acked, so a crash at any point loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timezone
from typing import Callable

import asyncpg
from google.protobuf.message import DecodeError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from scimd.events.v1 import event_pb2

from services.common.events import EventStream, connect_until_ready
from services.webhooks import repository
from services.webhooks.payload import webhook_body

log = logging.getLogger(__name__)

FETCH_BATCH = 256
ACK_WAIT_SECONDS = 30


def _received(event: event_pb2.Event) -> repository.ReceivedEvent:
    return repository.ReceivedEvent(
        event_id=event.event_id,
        type=event.type,
        organization_id=event.organization_id,
        request_id=event.request_id,
        body=webhook_body(event),
        occurred_at=event.time.ToDatetime(tzinfo=timezone.utc),
    )


class EventConsumer:
    def __init__(self, pool: asyncpg.Pool, stream: EventStream, nats_url: str, on_stored: Callable[[], None]):
        self._pool = pool
        self._stream = stream
        self._nats_url = nats_url
        self._on_stored = on_stored
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._nats = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhooks-consumer")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._nats is not None and not self._nats.is_closed:
            # Unacked messages are redelivered to the next consumer; no drain needed.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nats.close(), 2)

    async def _run(self) -> None:
        self._nats = await connect_until_ready(self._nats_url, "scimd-webhooks-consumer", self._stopping)
        if self._nats is None:
            return
        js = self._nats.jetstream()
        subscription = None
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                if subscription is None:
                    await self._stream.ensure(self._nats)
                    subscription = await js.pull_subscribe(
                        self._stream.subjects,
                        durable=self._stream.consumer("webhooks"),
                        stream=self._stream.name,
                        config=ConsumerConfig(
                            ack_policy=AckPolicy.EXPLICIT,
                            ack_wait=ACK_WAIT_SECONDS,
                            deliver_policy=DeliverPolicy.ALL,
                            max_ack_pending=10_000,
                        ),
                    )
                try:
                    messages = await subscription.fetch(FETCH_BATCH, timeout=1)
                except asyncio.TimeoutError:
                    continue
                await self._handle(messages)
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("webhooks consumer: failed; will retry", extra={"error": repr(error)})
                await asyncio.sleep(backoff)  # bounded backoff between retries, not a wait for a result
                backoff = min(backoff * 2, 5.0)

    async def _handle(self, messages) -> None:
        received, valid = [], []
        for message in messages:
            event = event_pb2.Event()
            try:
                event.ParseFromString(message.data)
            except DecodeError:
                log.error("webhooks consumer: undecodable event dropped", extra={"subject": message.subject})
                await message.term()
                continue
            received.append(_received(event))
            valid.append(message)
        if received:
            await repository.store_events(self._pool, received)
            self._on_stored()
        for message in valid:
            await message.ack()
