"""Events → PostgreSQL: each event is stored with its pending deliveries
before the shared consumer acks its message. Events are stored in the order
JetStream delivers them, which is the order deliveries of one resource keep."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

import asyncpg
from scimd.events.v1 import event_pb2

from services.common.consumer import DurableConsumer
from services.common.events import EventStream
from services.webhooks import repository
from services.webhooks.payload import object_id, webhook_body


def _received(event: event_pb2.Event, public_url: str) -> repository.ReceivedEvent:
    return repository.ReceivedEvent(
        event_id=event.event_id,
        type=event.type,
        organization_id=event.organization_id,
        request_id=event.request_id,
        body=webhook_body(event, public_url),
        occurred_at=event.time.ToDatetime(tzinfo=timezone.utc),
        object_id=object_id(event),
    )


def event_consumer(pool: asyncpg.Pool, stream: EventStream, nats_url: str, public_url: str,
                   on_stored: Callable[[], None]) -> DurableConsumer:
    async def store(events: list[event_pb2.Event]) -> None:
        # Due now by the service's clock, the one the delivery worker schedules by.
        await repository.store_events(pool, [_received(e, public_url) for e in events], datetime.now(timezone.utc))
        on_stored()

    return DurableConsumer(stream, nats_url, "webhooks", store)
