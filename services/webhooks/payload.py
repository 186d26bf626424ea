"""Event → the JSON body of a webhook: {type, timestamp, data}."""

from __future__ import annotations

from datetime import timezone
from typing import Any

import orjson
from scimd.events.v1 import event_pb2
from scimd.webhooks.v1 import endpoint_pb2

from runtime.shapes import (
    connection_json,
    group_json,
    member_json,
    organization_json,
    request_record_json,
    roles_json,
)
from runtime.timestamps import to_rfc3339
from services.webhooks.repository import ReceivedEvent


def webhook_body(event: event_pb2.Event, public_url: str) -> str:
    data: dict[str, Any] = {
        "event_id": event.event_id,
        "project_id": event.project_id,
        "organization_id": event.organization_id,
        "action": event.action,
        "source": event.source,
        "request_id": event.request_id,
    }
    payload = event.WhichOneof("payload")
    if payload == "member_changed":
        data["object_type"] = "member"
        data["id"] = event.member_changed.member.member_id
        data["member"] = member_json(event.member_changed.member)
        if event.member_changed.HasField("roles"):
            data["member"]["roles"] = roles_json(event.member_changed.roles)
        if event.member_changed.previous_attributes_json:
            data["previous_attributes"] = orjson.loads(event.member_changed.previous_attributes_json)
    elif payload == "group_changed":
        changed = event.group_changed
        data["object_type"] = "idp_group"
        data["id"] = changed.group.group_id
        data["idp_group"] = group_json(changed.group)
        if changed.member_ids:
            data["member_ids"] = list(changed.member_ids)
        if changed.previous_attributes_json:
            data["previous_attributes"] = orjson.loads(changed.previous_attributes_json)
    elif payload == "organization_changed":
        changed = event.organization_changed
        data["object_type"] = "organization"
        data["id"] = changed.organization.organization_id
        data["organization"] = organization_json(changed.organization)
        if changed.previous_attributes_json:
            data["previous_attributes"] = orjson.loads(changed.previous_attributes_json)
    elif payload == "connection_changed":
        changed = event.connection_changed
        data["object_type"] = "scim_connection"
        data["id"] = changed.connection.connection_id
        data["connection"] = connection_json(changed.connection, public_url)
    elif payload == "sessions_revoked":
        revoked = event.sessions_revoked
        data["object_type"] = "member_session"
        data["id"] = revoked.member_id
        data["member_id"] = revoked.member_id
        data["member_session_ids"] = list(revoked.session_ids)
        data["reason"] = revoked.reason
        data["jwts_expire_by"] = to_rfc3339(revoked.jwts_expire_by)
    elif payload == "endpoint_disabled":
        disabled = event.endpoint_disabled
        data["object_type"] = "webhook_endpoint"
        data["id"] = disabled.endpoint.endpoint_id
        data["webhook_endpoint"] = endpoint_json(disabled.endpoint)
        data["reason"] = disabled.reason
        data["previous_attributes"] = {"enabled": True}
    elif payload == "deprovision_held":
        held = event.deprovision_held
        data["object_type"] = "scim_connection"
        data["id"] = held.connection_id
        data["connection_id"] = held.connection_id
        data["applied_in_window"] = held.applied_in_window
        data["allowance"] = held.allowance
        data["first_held"] = {"member_id": held.member_id, "change": held.change}
    elif payload == "request_failed":
        failed = event.request_failed
        data["object_type"] = "scim_request"
        data["id"] = failed.connection_id
        data["connection_id"] = failed.connection_id
        data["request"] = request_record_json(failed.request)
    body = {"type": event.type, "timestamp": to_rfc3339(event.time), "data": data}
    return orjson.dumps(body).decode()


def object_id(event: event_pb2.Event) -> str:
    """The resource the event is about (its `data.id`); deliveries of one
    resource to one endpoint keep their order."""
    payload = event.WhichOneof("payload")
    if payload == "member_changed":
        return event.member_changed.member.member_id
    if payload == "group_changed":
        return event.group_changed.group.group_id
    if payload == "organization_changed":
        return event.organization_changed.organization.organization_id
    if payload == "connection_changed":
        return event.connection_changed.connection.connection_id
    if payload == "sessions_revoked":
        return event.sessions_revoked.member_id
    if payload == "endpoint_disabled":
        return event.endpoint_disabled.endpoint.endpoint_id
    if payload == "deprovision_held":
        return event.deprovision_held.connection_id
    if payload == "request_failed":
        return event.request_failed.connection_id
    return ""


def endpoint_json(endpoint: endpoint_pb2.Endpoint) -> dict[str, Any]:
    return {
        "endpoint_id": endpoint.endpoint_id,
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "organization_ids": list(endpoint.organization_ids),
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": to_rfc3339(endpoint.create_time),
    }


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
