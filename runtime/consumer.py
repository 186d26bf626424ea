"""A durable JetStream pull consumer of the event stream.

Messages are handed to the service's handler in batches and acked only after
it returns, so a crash at any point loses nothing: unacked messages come back
to the next consumer. Handlers must therefore be idempotent. A batch whose
handler fails is retried where it is (its messages kept in progress, never
handed back), so a failure cannot let later messages overtake it.

`ExclusiveConsumer` is the variant for work that must follow the stream's
order exactly: one replica at a time consumes the stream (leadership.py) or
one partition of it (partition_leases.py), and its handler writes on the
connection that holds that lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Awaitable, Callable

import asyncpg
from google.protobuf.message import DecodeError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from scimd.events.v1 import event_pb2

from runtime.events import EventStream, SharedConnection, connect_until_ready, stop_background
from runtime.leadership import Leadership, LeadershipLost
from runtime.metrics import CONSUMER_PENDING, CONSUMER_PROCESSED
from runtime.partition_leases import PartitionLease

log = logging.getLogger(__name__)

FETCH_BATCH = 256
# How long a fetch waits for messages beyond the first before handing on what
# it has. nats-py's fetch(n) keeps its pull open until n messages came or it
# timed out, so one fetch of FETCH_BATCH held a lone event for up to its whole
# timeout (a second); instead the first message is awaited alone and the rest
# drained from what is already there.
DRAIN_SECONDS = 0.05
ACK_WAIT_SECONDS = 30
MAX_BACKOFF_SECONDS = 5.0

EventHandler = Callable[[list[event_pb2.Event]], Awaitable[None]]
ExclusiveEventHandler = Callable[[asyncpg.Connection, list[event_pb2.Event]], Awaitable[None]]


class DurableConsumer:
    def __init__(self, stream: EventStream, nats_url: str, service: str, handle: EventHandler,
                 event_type: str = ">", *, durable: str = "", subject: str = "",
                 shared_nats: SharedConnection | None = None):
        """`event_type` narrows the consumer to one event type (or a NATS
        wildcard of them); `subject` replaces that filter (one partition of the
        stream). `durable` names the consumer (default: from `service`), and
        `shared_nats` is a connection to use rather than one of its own."""
        self._subject = subject or stream.subject(event_type)
        self._stream = stream
        self._nats_url = nats_url
        self._service = service
        self._durable = durable or stream.consumer(service)
        self._handle = handle
        self._shared_nats = shared_nats
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._nats = None
        self._pending = CONSUMER_PENDING.labels(self._durable)
        self._processed = CONSUMER_PROCESSED.labels(self._durable)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self._durable}-consumer")

    async def stop(self) -> None:
        # A shared connection is its owner's to close.
        await stop_background(self._stopping, self._task, None if self._shared_nats else self._nats)

    def _config(self, start_sequence: int = 0) -> ConsumerConfig:
        if start_sequence:
            delivery = {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": start_sequence}
        else:
            delivery = {"deliver_policy": DeliverPolicy.ALL}
        return ConsumerConfig(durable_name=self._durable, name=self._durable, filter_subject=self._subject,
                              ack_policy=AckPolicy.EXPLICIT, ack_wait=ACK_WAIT_SECONDS, max_ack_pending=10_000,
                              **delivery)

    async def _connect(self):
        if self._shared_nats is not None:
            return await self._shared_nats.get(self._stopping)
        return await connect_until_ready(self._nats_url, f"scimd-{self._service}-consumer", self._stopping)

    async def _run(self) -> None:
        self._nats = await self._connect()
        if self._nats is None:
            return
        js = self._nats.jetstream()
        backoff = 0.2
        while not self._stopping.is_set():
            subscription = None
            try:
                await self._stream.ensure(self._nats)
                start_sequence = await self._begin(js)
                if start_sequence is None:
                    return  # stopping
                subscription = await self._subscribe(js, start_sequence)
                backoff = 0.2
                await self._consume(subscription)
            except asyncio.CancelledError:
                raise
            except LeadershipLost:
                log.warning(f"{self._durable} consumer: lost the leadership; waiting to take it again")
            except Exception as error:
                log.warning(f"{self._durable} consumer: failed; will retry", extra={"error": repr(error)})
                await self._pause(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                if subscription is not None:
                    with contextlib.suppress(Exception):
                        await subscription.unsubscribe()
                await self._end()

    async def _subscribe(self, js, start_sequence: int):
        """Binds to the durable consumer, making it first if it is missing."""
        try:
            info = await js.consumer_info(self._stream.name, self._durable)
        except NotFoundError:
            info = None
        if info is not None and info.config.filter_subject != self._subject:
            # Made before the stream was partitioned (an upgrade): what it
            # still holds is handled under its old filter, then it is made
            # again under the new one from the start of the stream, which
            # holds the new subjects only since the upgrade.
            log.warning(f"{self._durable} consumer: its filter changed; draining it before making it again",
                        extra={"old": info.config.filter_subject, "new": self._subject})
            await self._drain(js)
            await js.delete_consumer(self._stream.name, self._durable)
            info, start_sequence = None, 0
        if info is None:
            await js.add_consumer(self._stream.name, self._config(start_sequence))
        return await js.pull_subscribe_bind(durable=self._durable, stream=self._stream.name)

    async def _drain(self, js) -> None:
        """Handles what the existing consumer holds, until it is caught up."""
        subscription = await js.pull_subscribe_bind(durable=self._durable, stream=self._stream.name)
        try:
            await self._consume(subscription, until_caught_up=True)
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    async def _begin(self, js) -> int | None:
        """Runs before subscribing; returns the stream sequence to restart the
        consumer from (0: where it is), or None when stopping."""
        return 0

    async def _end(self) -> None:
        """Runs after the subscription ends, whatever ended it."""

    async def _check_in_charge(self) -> None:
        """Runs before each fetch and each retry of a batch; raises to stop
        consuming (what is unacked comes back to the next consumer)."""

    async def _consume(self, subscription, until_caught_up: bool = False) -> None:
        while not self._stopping.is_set():
            await self._check_in_charge()
            try:
                messages = await subscription.fetch(1, timeout=1)
            except asyncio.TimeoutError:
                self._pending.set(0)  # nothing came within the second: caught up
                if until_caught_up:
                    return
                continue
            if messages and messages[-1].metadata.num_pending:
                with contextlib.suppress(asyncio.TimeoutError):
                    messages += await subscription.fetch(FETCH_BATCH - 1, timeout=DRAIN_SECONDS)
            await self._process(messages)

    async def _process(self, messages) -> None:
        events, valid = [], []
        for message in messages:
            event = event_pb2.Event()
            try:
                event.ParseFromString(message.data)
            except DecodeError:
                log.error(f"{self._durable} consumer: undecodable event dropped", extra={"subject": message.subject})
                await message.term()
                continue
            events.append(event)
            valid.append(message)
        backoff = 0.2
        while events:
            try:
                await self._handle(events)
                break
            except asyncio.CancelledError:
                raise
            except LeadershipLost:
                raise
            except Exception as error:
                log.warning(f"{self._durable} consumer: handling a batch failed; retrying it",
                            extra={"error": repr(error), "events": len(events)})
            await self._check_in_charge()
            for message in valid:
                # Keeps the batch ours: not redelivered while it is retried.
                with contextlib.suppress(Exception):
                    await message.in_progress()
            if not await self._pause(backoff):
                return  # stopping: unacked, the batch comes back to the next consumer
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        for message in valid:
            await message.ack()
        self._processed.inc(len(valid))
        if messages:
            # The lag: what the stream holds for this consumer beyond this batch.
            self._pending.set(messages[-1].metadata.num_pending)

    async def _pause(self, seconds: float) -> bool:
        """Waits `seconds` unless stopping; False when stopping."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return not self._stopping.is_set()


class ExclusiveConsumer(DurableConsumer):
    """A durable consumer that one replica at a time runs, in stream order.

    Several fetchers would each store their batches as they finish, so a
    later message could be stored before an earlier one. Here a replica first
    takes the leadership. If the previous holder died with messages unacked,
    the consumer is restarted from its ack floor: everything up to the floor
    was handled, so redelivering from there keeps the order, and what was
    handled beyond it comes again (handlers are idempotent).
    """

    def __init__(self, stream: EventStream, nats_url: str, service: str, handle: ExclusiveEventHandler,
                 leadership: Leadership | PartitionLease, event_type: str = ">", **naming):
        """`leadership`: of the whole stream, or the lease of one partition
        (then `subject` and `durable` name the partition's consumer)."""
        super().__init__(stream, nats_url, service, self._handle_on_leader_connection, event_type, **naming)
        self._handle_exclusively = handle
        self._leadership = leadership

    async def _handle_on_leader_connection(self, events: list[event_pb2.Event]) -> None:
        await self._leadership.run(lambda conn: self._handle_exclusively(conn, events))

    async def _begin(self, js) -> int | None:
        if not await self._leadership.acquire(self._stopping):
            return None
        return await self._restart_point(js)

    async def _restart_point(self, js) -> int | None:
        """Where the consumer resumes, once in charge (see `_begin`)."""
        try:
            info = await js.consumer_info(self._stream.name, self._durable)
        except NotFoundError:
            return 0
        if not info.num_ack_pending:
            return 0
        start = (info.ack_floor.stream_seq if info.ack_floor else 0) + 1
        log.warning(f"{self._durable} consumer: taking over with messages unacked; restarting from the ack floor",
                    extra={"unacked": info.num_ack_pending, "start_sequence": start})
        await js.delete_consumer(self._stream.name, self._durable)
        return start

    async def _check_in_charge(self) -> None:
        await self._leadership.confirm()

    async def _end(self) -> None:
        await self._leadership.release()
