"""Every gateway replica drops a connection's cached tokens as soon as the
connections service reports a change to it (token rotation completed or
cancelled, connection or organization deleted), so a revoked token stops
working everywhere within about a second rather than after the cache TTL.

The reports are the connections service's scim.connection.* events, read with
an ordered JetStream consumer from the moment the gateway starts (its cache
starts empty, so nothing earlier matters). If NATS is unreachable the cache
TTL still bounds how long a revoked token can be accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from google.protobuf.message import DecodeError
from nats.js.api import DeliverPolicy
from scimd.events.v1 import event_pb2

from gateway.token_cache import TokenCache
from services.common.events import EventStream, connect_until_ready

log = logging.getLogger(__name__)


class RevocationListener:
    def __init__(self, cache: TokenCache, stream: EventStream, nats_url: str):
        self._cache = cache
        self._stream = stream
        self._nats_url = nats_url
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._nats = None
        self.subscribed = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="token-revocations")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._nats is not None and not self._nats.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nats.close(), 2)

    async def _run(self) -> None:
        self._nats = await connect_until_ready(self._nats_url, "scimd-gateway-revocations", self._stopping)
        if self._nats is None:
            return
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                await self._stream.ensure(self._nats)
                await self._nats.jetstream().subscribe(
                    self._stream.subject("scim.connection.*"),
                    stream=self._stream.name,
                    cb=self._on_message,
                    ordered_consumer=True,
                    deliver_policy=DeliverPolicy.NEW,
                )
                self.subscribed.set()
                await self._stopping.wait()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("token revocations: cannot subscribe; will retry", extra={"error": repr(error)})
                await asyncio.sleep(backoff)  # bounded backoff between retries
                backoff = min(backoff * 2, 5.0)

    async def _on_message(self, message) -> None:
        event = event_pb2.Event()
        try:
            event.ParseFromString(message.data)
        except DecodeError:
            return
        if event.WhichOneof("payload") == "connection_changed":
            self._cache.evict_connection(event.connection_changed.connection.connection_id)
