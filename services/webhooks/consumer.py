"""Events → PostgreSQL: each event is stored with its pending deliveries
before the consumer acks its message. One replica at a time stores, in the
order of the stream (an ExclusiveConsumer), so the order of the stored
events, which deliveries of one resource keep, is the order the events were
published in, whatever the number of replicas and whatever fails."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

import asyncpg
from scimd.events.v1 import event_pb2

from runtime.consumer import ExclusiveConsumer
from runtime.events import EventStream
from runtime.leadership import Leadership
from services.webhooks import repository
from services.webhooks.payload import received_event


def event_consumer(pool: asyncpg.Pool, schema: str, stream: EventStream, nats_url: str, public_url: str,
                   on_stored: Callable[[], None]) -> ExclusiveConsumer:
    async def store(conn: asyncpg.Connection, events: list[event_pb2.Event]) -> None:
        # Due now by the service's clock, the one the delivery worker schedules by.
        await repository.store_events(conn, [received_event(e, public_url) for e in events], datetime.now(timezone.utc))
        on_stored()

    leadership = Leadership(pool, f"{schema}.intake:{stream.consumer('webhooks')}")
    return ExclusiveConsumer(stream, nats_url, "webhooks", store, leadership)
