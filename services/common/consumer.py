"""A durable JetStream pull consumer of the event stream.

Messages are handed to the service's handler in batches and acked only after
it returns, so a crash at any point loses nothing: unacked messages come back
to the next consumer. Handlers must therefore be idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Awaitable, Callable

from google.protobuf.message import DecodeError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from scimd.events.v1 import event_pb2

from services.common.events import EventStream, connect_until_ready, stop_background
from services.common.metrics import CONSUMER_PENDING, CONSUMER_PROCESSED

log = logging.getLogger(__name__)

FETCH_BATCH = 256
ACK_WAIT_SECONDS = 30

EventHandler = Callable[[list[event_pb2.Event]], Awaitable[None]]


class DurableConsumer:
    def __init__(self, stream: EventStream, nats_url: str, service: str, handle: EventHandler,
                 event_type: str = ">"):
        """`event_type` narrows the consumer to one event type (or a NATS wildcard of them)."""
        self._subject = stream.subject(event_type)
        self._stream = stream
        self._nats_url = nats_url
        self._service = service
        self._handle = handle
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._nats = None
        consumer = stream.consumer(service)
        self._pending = CONSUMER_PENDING.labels(consumer)
        self._processed = CONSUMER_PROCESSED.labels(consumer)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self._service}-consumer")

    async def stop(self) -> None:
        await stop_background(self._stopping, self._task, self._nats)

    async def _run(self) -> None:
        self._nats = await connect_until_ready(self._nats_url, f"scimd-{self._service}-consumer", self._stopping)
        if self._nats is None:
            return
        js = self._nats.jetstream()
        subscription = None
        backoff = 0.2
        while not self._stopping.is_set():
            messages = []
            try:
                if subscription is None:
                    await self._stream.ensure(self._nats)
                    subscription = await js.pull_subscribe(
                        self._subject,
                        durable=self._stream.consumer(self._service),
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
                    self._pending.set(0)  # nothing came within the second: caught up
                    continue
                await self._deliver(messages)
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(f"{self._service} consumer: failed; will retry", extra={"error": repr(error)})
                for message in messages:
                    # Back to the stream now rather than after ack_wait.
                    with contextlib.suppress(Exception):
                        await message.nak(delay=backoff)
                await asyncio.sleep(backoff)  # bounded backoff between retries, not a wait for a result
                backoff = min(backoff * 2, 5.0)

    async def _deliver(self, messages) -> None:
        events, valid = [], []
        for message in messages:
            event = event_pb2.Event()
            try:
                event.ParseFromString(message.data)
            except DecodeError:
                log.error(f"{self._service} consumer: undecodable event dropped", extra={"subject": message.subject})
                await message.term()
                continue
            events.append(event)
            valid.append(message)
        if events:
            await self._handle(events)
        for message in valid:
            await message.ack()
        self._processed.inc(len(valid))
        if messages:
            # The lag: what the stream holds for this consumer beyond this batch.
            self._pending.set(messages[-1].metadata.num_pending)
