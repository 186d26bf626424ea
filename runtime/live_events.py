"""Events as they happen, for in-memory state that must follow them within a
second on every replica (the gateway's token cache, the rbac service's set of
revoked sessions).

An ordered JetStream consumer (no durable state, no acks) reads the stream's
events of one subject pattern from `since` ago (default: from now on) for as
long as the process lives, reconnecting with a bounded backoff. Whatever the
state follows must stay correct without it (a TTL, a database check): this
only makes it faster.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Awaitable, Callable

from google.protobuf.message import DecodeError
from nats.js.api import ConsumerConfig, DeliverPolicy
from scimd.events.v1 import event_pb2

from runtime.events import EventStream, connect_until_ready, stop_background

log = logging.getLogger(__name__)


class LiveEvents:
    def __init__(self, stream: EventStream, nats_url: str, event_types: str,
                 handle: Callable[[event_pb2.Event], Awaitable[None] | None], *, name: str,
                 since: timedelta | None = None):
        self._stream = stream
        self._nats_url = nats_url
        self._event_types = event_types
        self._handle = handle
        self._name = name
        self._since = since
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._nats = None
        self.subscribed = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        await stop_background(self._stopping, self._task, self._nats)

    def _delivery(self) -> dict:
        if self._since is None:
            return {"deliver_policy": DeliverPolicy.NEW}
        start = datetime.now(timezone.utc) - self._since
        return {"deliver_policy": DeliverPolicy.BY_START_TIME, "config": ConsumerConfig(opt_start_time=start)}

    async def _run(self) -> None:
        self._nats = await connect_until_ready(self._nats_url, f"scimd-{self._name}", self._stopping)
        if self._nats is None:
            return
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                await self._stream.ensure(self._nats)
                await self._nats.jetstream().subscribe(
                    self._stream.subject(self._event_types),
                    stream=self._stream.name,
                    cb=self._on_message,
                    ordered_consumer=True,
                    **self._delivery(),
                )
                self.subscribed.set()
                await self._stopping.wait()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(f"{self._name}: cannot subscribe; will retry", extra={"error": repr(error)})
                await asyncio.sleep(backoff)  # bounded backoff between retries
                backoff = min(backoff * 2, 5.0)

    async def _on_message(self, message) -> None:
        event = event_pb2.Event()
        try:
            event.ParseFromString(message.data)
        except DecodeError:
            return
        outcome = self._handle(event)
        if outcome is not None:
            await outcome

