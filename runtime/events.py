"""NATS JetStream: the event stream's names, and connecting to it.

An event is published on `<prefix>.events.<partition>.<type>`: the partition
(two digits) is a stable hash of its organization, so every event of one
resource shares a partition, and the webhooks intake can spread partitions
over its replicas while keeping each partition's order. Consumers of a type
filter on `<prefix>.events.*.<type>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from dataclasses import dataclass

from nats import errors as nats_errors
from nats.aio.client import Client as NatsClient
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

log = logging.getLogger(__name__)

DUPLICATE_WINDOW_SECONDS = 15 * 60
RETENTION_SECONDS = 30 * 24 * 3600
# Fixed: an organization's partition must never change while its events are
# in the stream (changing it would need the stream drained first).
PARTITIONS = 32


def partition_of(organization_id: str) -> int:
    """The organization's partition: CRC-32, stable across processes and releases."""
    return zlib.crc32(organization_id.encode()) % PARTITIONS


@dataclass(frozen=True)
class EventStream:
    """The JetStream names of one scimd system, derived from its prefix."""

    prefix: str
    # Every process of a system must agree on it: ensure() sets it on the stream.
    replicas: int = 1

    @property
    def name(self) -> str:
        return f"{self.prefix.upper()}_EVENTS"

    @property
    def subjects(self) -> str:
        return f"{self.prefix}.events.>"

    def subject(self, event_type: str) -> str:
        """The filter of the events of `event_type` (or a wildcard of types) in every partition."""
        if event_type == ">":
            return self.subjects
        return f"{self.prefix}.events.*.{event_type}"

    def publish_subject(self, event_type: str, organization_id: str) -> str:
        return f"{self.prefix}.events.{partition_of(organization_id):02d}.{event_type}"

    def is_partitioned(self, subject: str) -> bool:
        partition = subject[len(self.prefix) + len(".events."):].partition(".")[0]
        return len(partition) == 2 and partition.isdigit()

    def partition_subject(self, partition: int) -> str:
        return f"{self.prefix}.events.{partition:02d}.>"

    def consumer(self, service: str) -> str:
        return f"{self.prefix}_{service}"

    async def ensure(self, nc: NatsClient) -> None:
        """Creates the stream, or brings an existing one to this configuration."""
        config = StreamConfig(
            name=self.name,
            subjects=[self.subjects],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            max_age=RETENTION_SECONDS,
            num_replicas=self.replicas,
        )
        js = nc.jetstream()
        try:
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)


class SharedConnection:
    """One NATS connection for several background tasks of a process (the
    webhooks intake's partition consumers), made when the first asks for it."""

    def __init__(self, url: str, name: str):
        self._url = url
        self._name = name
        self._lock = asyncio.Lock()
        self._client: NatsClient | None = None

    async def get(self, stopping: asyncio.Event) -> NatsClient | None:
        """The connection, or None when `stopping` was set before it was made."""
        async with self._lock:
            if self._client is None:
                self._client = await connect_until_ready(self._url, self._name, stopping)
            return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 2)


async def connect_until_ready(url: str, name: str, stopping: asyncio.Event) -> NatsClient | None:
    """Connects to NATS, retrying with backoff until it answers or `stopping` is set.

    Once connected, the client reconnects by itself forever. Returns None only
    when stopping before a connection was made.
    """
    delay = 0.2
    while not stopping.is_set():
        client = NatsClient()
        try:
            await client.connect(
                url,
                name=name,
                connect_timeout=2,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                **_connection_callbacks(name, client),
            )
            return client
        except Exception as error:  # nats raises several unrelated types here
            log.warning("NATS not reachable; retrying", extra={"error": repr(error)})
        try:
            await asyncio.wait_for(stopping.wait(), delay)
        except asyncio.TimeoutError:
            delay = min(delay * 2, 5.0)
    return None


# What a server going away or coming back raises: said quietly (info), as the
# outage itself is noticed by whatever needed the server.
_CONNECTION_ERRORS = (
    nats_errors.UnexpectedEOF, nats_errors.ConnectionClosedError, nats_errors.StaleConnectionError,
    nats_errors.NoServersError, OSError, asyncio.TimeoutError,
)


def _connection_callbacks(name: str, client: NatsClient) -> dict:
    """One short line per connection change, instead of nats-py's default of a
    traceback at error level for every failed reconnection attempt."""

    async def on_error(error: Exception) -> None:
        level = logging.INFO if isinstance(error, _CONNECTION_ERRORS) else logging.WARNING
        log.log(level, "NATS connection error", extra={"connection": name, "error": repr(error)})

    async def on_disconnect() -> None:
        if not client.is_closed:  # closing is no loss
            log.info("NATS disconnected; reconnecting", extra={"connection": name})

    async def on_reconnect() -> None:
        log.info("NATS reconnected", extra={"connection": name})

    return {"error_cb": on_error, "disconnected_cb": on_disconnect, "reconnected_cb": on_reconnect}


async def stop_background(stopping: asyncio.Event, task: asyncio.Task | None, nc: NatsClient | None) -> None:
    """Stops a background task that holds its own NATS connection. Nothing
    is drained: what a durable consumer has not acked comes back to the next."""
    stopping.set()
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if nc is not None and not nc.is_closed:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(nc.close(), 2)
