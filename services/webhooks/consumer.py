"""Events → PostgreSQL: each event is stored with its pending deliveries
before the consumer acks its message.

The stream is partitioned by organization (runtime/events.py), so every
event of one resource is in one partition. Each partition has its own
exclusive consumer, which stores its events in stream order on the
connection that holds the partition's lease; the leases are spread over the
live replicas (runtime/partition_leases.py). So the order of the stored
events of one resource, which its deliveries keep, is the order they were
published in, however many replicas take events in and whatever fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timezone
from typing import Protocol

import asyncpg
from nats.js.errors import NotFoundError
from scimd.events.v1 import event_pb2

from runtime.consumer import ExclusiveConsumer
from runtime.events import PARTITIONS, EventStream, SharedConnection
from runtime.leadership import Leadership
from runtime.partition_leases import PartitionLeases
from services.webhooks import repository
from services.webhooks.payload import received_event

log = logging.getLogger(__name__)

DRAIN_POLL_SECONDS = 0.5


class DeliveryHandOff(Protocol):
    """The delivery worker as the intake sees it: the deliveries a store may
    lease for it at once, and what the store leased (services/webhooks/delivery.py)."""

    def offer_leases(self) -> repository.LeaseOffer: ...

    def take_leased(self, offer: repository.LeaseOffer, stored: repository.StoredEvents | None) -> None: ...


class EventIntake:
    def __init__(self, pool: asyncpg.Pool, schema: str, stream: EventStream, nats_url: str, public_url: str,
                 deliveries: DeliveryHandOff | None):
        """`deliveries`: the worker that sends what is stored (None: store only)."""
        self._pool = pool
        self._schema = schema
        self._stream = stream
        self._nats_url = nats_url
        self._public_url = public_url
        self._deliveries = deliveries
        self._nats = SharedConnection(nats_url, "scimd-webhooks-intake")
        self.leases = PartitionLeases(pool, f"{schema}.intake:{stream.consumer('webhooks')}", PARTITIONS)
        self._consumers = [
            ExclusiveConsumer(stream, nats_url, "webhooks", self._store, self.leases.lease(p),
                              subject=stream.partition_subject(p), durable=stream.consumer(f"webhooks_p{p:02d}"),
                              shared_nats=self._nats)
            for p in range(PARTITIONS)
        ]
        self._unpartitioned: ExclusiveConsumer | None = None
        self._stopping = asyncio.Event()
        self._starting: asyncio.Task | None = None

    async def _store(self, conn: asyncpg.Connection, events: list[event_pb2.Event]) -> None:
        received = [received_event(e, self._public_url) for e in events]
        if self._deliveries is None:
            await repository.store_events(conn, received, datetime.now(timezone.utc))
            return
        # A delivery due as it is stored is leased in the same statement and
        # sent at once: no claim per event when the worker keeps up.
        offer, stored = self._deliveries.offer_leases(), None
        try:
            # Due now by the service's clock, the one the delivery worker schedules by.
            stored = await repository.store_events(conn, received, datetime.now(timezone.utc), offer)
        finally:
            self._deliveries.take_leased(offer, stored)

    async def start(self) -> None:
        self._starting = asyncio.create_task(self._start_after_draining(), name="webhooks-intake-start")

    async def stop(self) -> None:
        self._stopping.set()
        if self._starting is not None:
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting
        for consumer in [*self._consumers, *filter(None, [self._unpartitioned])]:
            await consumer.stop()
        await self.leases.stop()
        await self._nats.close()

    async def _start_after_draining(self) -> None:
        await self._drain_unpartitioned_consumer()
        if self._stopping.is_set():
            return
        await self.leases.start()
        for consumer in self._consumers:
            await consumer.start()

    async def _drain_unpartitioned_consumer(self) -> None:
        """Before the stream was partitioned one consumer took every event in;
        after an upgrade it may still hold some, on the old subjects that no
        partition's consumer sees. Until it is drained and deleted the
        partitions are not taken in, or a resource's later events (on the new
        subjects) would be stored before its earlier ones. It keeps its
        leadership, so one replica, of this version or the previous, drains it;
        the others wait for it to be gone."""
        durable = self._stream.consumer("webhooks")
        client = await self._nats.get(self._stopping)
        if client is None:
            return
        js = client.jetstream()
        while not self._stopping.is_set():
            try:
                await js.consumer_info(self._stream.name, durable)
            except NotFoundError:
                return  # none (or no stream yet): nothing published before the partitions
            except Exception as error:  # NATS away: whether there is one is unknown yet
                log.info("webhooks intake: cannot see the unpartitioned consumer yet", extra={"error": repr(error)})
            else:
                if self._unpartitioned is None:
                    log.warning("webhooks intake: draining the unpartitioned consumer before the partitions",
                                extra={"consumer": durable})
                    leadership = Leadership(self._pool, f"{self._schema}.intake:{durable}")
                    self._unpartitioned = _DrainingConsumer(self._stream, self._nats_url, "webhooks", self._store,
                                                            leadership, shared_nats=self._nats)
                    await self._unpartitioned.start()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), DRAIN_POLL_SECONDS)


class _DrainingConsumer(ExclusiveConsumer):
    """Consumes until caught up, then deletes its durable consumer and ends."""

    async def _restart_point(self, js) -> int | None:
        try:
            await js.consumer_info(self._stream.name, self._durable)
        except NotFoundError:
            return None  # drained by another replica: never made again
        return await super()._restart_point(js)

    async def _consume(self, subscription, until_caught_up: bool = False) -> None:
        await super()._consume(subscription, until_caught_up=True)
        if self._stopping.is_set():
            return
        with contextlib.suppress(NotFoundError):
            await self._nats.jetstream().delete_consumer(self._stream.name, self._durable)
        log.warning("webhooks intake: the unpartitioned consumer was drained and deleted",
                    extra={"consumer": self._durable})
        self._stopping.set()
