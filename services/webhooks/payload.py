"""Event → the JSON body of a webhook, {type, timestamp, data}, and the row the
webhooks service stores for it; what `data` holds is the event catalog's."""

from __future__ import annotations

from datetime import timezone

import orjson
from scimd.events.v1 import event_pb2

from runtime.event_catalog import object_id, webhook_data
from runtime.timestamps import to_rfc3339
from services.webhooks.repository import ReceivedEvent


def webhook_body(event: event_pb2.Event, public_url: str) -> str:
    body = {"type": event.type, "timestamp": to_rfc3339(event.time), "data": webhook_data(event, public_url)}
    return orjson.dumps(body).decode()


def received_event(event: event_pb2.Event, public_url: str) -> ReceivedEvent:
    """The event as the webhooks service stores it."""
    return ReceivedEvent(
        event_id=event.event_id,
        type=event.type,
        organization_id=event.organization_id,
        request_id=event.request_id,
        body=webhook_body(event, public_url),
        occurred_at=event.time.ToDatetime(tzinfo=timezone.utc),
        object_id=object_id(event),
    )
