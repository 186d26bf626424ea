"""Every event scimd publishes, in one place: its type, the payload it carries,
the object it is about (deliveries of one object keep their order) and the
`data` of its webhook body. Services emit by these names; the webhooks
service builds bodies and orders deliveries by it; subscriptions and the
Events API accept only its types; docs/events.md is rendered from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import orjson
from google.protobuf.message import Message
from scimd.events.v1 import event_pb2

from runtime.shapes import (
    connection_json,
    endpoint_json,
    group_json,
    member_json,
    organization_json,
    request_record_json,
    roles_json,
    schema_extension_json,
)
from runtime.timestamps import to_rfc3339

MEMBER_CREATE = "scim.member.create"
MEMBER_UPDATE = "scim.member.update"
MEMBER_DELETE = "scim.member.delete"
GROUP_CREATE = "scim.idp_group.create"
GROUP_UPDATE = "scim.idp_group.update"
GROUP_DELETE = "scim.idp_group.delete"
GROUP_MEMBER_ADD = "scim.idp_group.member_add"
GROUP_MEMBER_DELETE = "scim.idp_group.member_delete"
ORGANIZATION_CREATE = "organization.create"
ORGANIZATION_UPDATE = "organization.update"
ORGANIZATION_DELETE = "organization.delete"
CONNECTION_CREATE = "scim.connection.create"
CONNECTION_UPDATE = "scim.connection.update"
CONNECTION_DELETE = "scim.connection.delete"
DEPROVISION_HELD = "scim.connection.deprovision_held"
REQUEST_FAILED = "scim.request.failed"
SESSION_REVOKED = "session.revoked"
ENDPOINT_DISABLED = "webhook_endpoint.disabled"
SCHEMA_EXTENSION_UPDATE = "scim.schema_extension.update"
SCHEMA_EXTENSION_DELETE = "scim.schema_extension.delete"


def _previous(data: dict[str, Any], previous_attributes_json: str) -> dict[str, Any]:
    if previous_attributes_json:
        data["previous_attributes"] = orjson.loads(previous_attributes_json)
    return data


def _member(changed: event_pb2.MemberChanged, _public_url: str) -> dict[str, Any]:
    member = member_json(changed.member)
    if changed.HasField("roles"):
        member["roles"] = roles_json(changed.roles)
    return _previous({"member": member}, changed.previous_attributes_json)


def _group(changed: event_pb2.GroupChanged, _public_url: str) -> dict[str, Any]:
    data: dict[str, Any] = {"idp_group": group_json(changed.group)}
    if changed.member_ids:
        data["member_ids"] = list(changed.member_ids)
    return _previous(data, changed.previous_attributes_json)


def _organization(changed: event_pb2.OrganizationChanged, _public_url: str) -> dict[str, Any]:
    return _previous({"organization": organization_json(changed.organization)}, changed.previous_attributes_json)


def _connection(changed: event_pb2.ConnectionChanged, public_url: str) -> dict[str, Any]:
    return {"connection": connection_json(changed.connection, public_url)}


def _sessions_revoked(revoked: event_pb2.SessionsRevoked, _public_url: str) -> dict[str, Any]:
    return {"member_id": revoked.member_id, "member_session_ids": list(revoked.session_ids),
            "reason": revoked.reason, "jwts_expire_by": to_rfc3339(revoked.jwts_expire_by)}


def _endpoint_disabled(disabled: event_pb2.EndpointDisabled, _public_url: str) -> dict[str, Any]:
    return {"webhook_endpoint": endpoint_json(disabled.endpoint), "reason": disabled.reason,
            "previous_attributes": {"enabled": True}}


def _deprovision_held(held: event_pb2.DeprovisionHeld, _public_url: str) -> dict[str, Any]:
    return {"connection_id": held.connection_id, "applied_in_window": held.applied_in_window,
            "allowance": held.allowance, "first_held": {"member_id": held.member_id, "change": held.change}}


def _request_failed(failed: event_pb2.RequestFailed, _public_url: str) -> dict[str, Any]:
    return {"connection_id": failed.connection_id, "request": request_record_json(failed.request)}


def _schema_extension(changed: event_pb2.SchemaExtensionChanged, _public_url: str) -> dict[str, Any]:
    return {"schema_extension": schema_extension_json(changed.extension)}


@dataclass(frozen=True)
class Payload:
    """One kind of Event payload (the `payload` oneof of scimd.events.v1.Event)."""

    field: str
    object_type: str
    object_id: Callable[[Any], str]
    data: Callable[[Any, str], dict[str, Any]]  # (payload, public URL) → the rest of the webhook's data


PAYLOADS: dict[str, Payload] = {payload.field: payload for payload in (
    Payload("member_changed", "member", lambda p: p.member.member_id, _member),
    Payload("group_changed", "idp_group", lambda p: p.group.group_id, _group),
    Payload("organization_changed", "organization", lambda p: p.organization.organization_id, _organization),
    Payload("connection_changed", "scim_connection", lambda p: p.connection.connection_id, _connection),
    Payload("sessions_revoked", "member_session", lambda p: p.member_id, _sessions_revoked),
    Payload("endpoint_disabled", "webhook_endpoint", lambda p: p.endpoint.endpoint_id, _endpoint_disabled),
    Payload("deprovision_held", "scim_connection", lambda p: p.connection_id, _deprovision_held),
    Payload("request_failed", "scim_request", lambda p: p.connection_id, _request_failed),
    Payload("schema_extension_changed", "schema_extension", lambda p: p.extension.schema_id, _schema_extension),
)}


@dataclass(frozen=True)
class EventType:
    name: str
    payload: str  # a key of PAYLOADS
    description: str


CATALOG: tuple[EventType, ...] = (
    EventType(MEMBER_CREATE, "member_changed", "An identity provider created a member."),
    EventType(MEMBER_UPDATE, "member_changed",
              "A member changed (attributes, custom attributes, status, roles); `previous_attributes` holds the old "
              "values."),
    EventType(MEMBER_DELETE, "member_changed", "A member was deleted (by the IdP, or with its organization)."),
    EventType(GROUP_CREATE, "group_changed", "An identity provider created a group."),
    EventType(GROUP_UPDATE, "group_changed", "A group's attributes changed; `previous_attributes` holds the old values."),
    EventType(GROUP_DELETE, "group_changed", "A group was deleted."),
    EventType(GROUP_MEMBER_ADD, "group_changed", "Members joined a group; `member_ids` lists them."),
    EventType(GROUP_MEMBER_DELETE, "group_changed", "Members left a group; `member_ids` lists them."),
    EventType(ORGANIZATION_CREATE, "organization_changed", "An organization was created."),
    EventType(ORGANIZATION_UPDATE, "organization_changed", "An organization changed."),
    EventType(ORGANIZATION_DELETE, "organization_changed", "An organization was deleted, with all its data."),
    EventType(CONNECTION_CREATE, "connection_changed", "A SCIM connection was created."),
    EventType(CONNECTION_UPDATE, "connection_changed",
              "A SCIM connection changed (settings, a token rotation, OAuth setup)."),
    EventType(CONNECTION_DELETE, "connection_changed", "A SCIM connection was deleted; its tokens no longer work."),
    EventType(DEPROVISION_HELD, "deprovision_held",
              "The mass-deprovision guard held a deactivation or deletion for approval."),
    EventType(REQUEST_FAILED, "request_failed", "An identity provider's SCIM request was refused or failed (not 401 or 429)."),
    EventType(SESSION_REVOKED, "sessions_revoked", "A member's sessions were revoked; their JWTs expire soon."),
    EventType(ENDPOINT_DISABLED, "endpoint_disabled", "A webhook endpoint was disabled (410 Gone, or days of failures)."),
    EventType(SCHEMA_EXTENSION_UPDATE, "schema_extension_changed",
              "A schema extension of the project was declared or changed (project-wide: no organization)."),
    EventType(SCHEMA_EXTENSION_DELETE, "schema_extension_changed",
              "A schema extension of the project was deleted; members keep their values, no longer advertised."),
)
EVENT_TYPES: dict[str, EventType] = {event_type.name: event_type for event_type in CATALOG}


def unknown_event_types(names: list[str]) -> list[str]:
    """The names among `names` that are no event type of scimd's."""
    return [name for name in names if name not in EVENT_TYPES]


def object_id(event: event_pb2.Event) -> str:
    """The object the event is about (its webhook's `data.id`)."""
    field = event.WhichOneof("payload")
    return PAYLOADS[field].object_id(getattr(event, field)) if field in PAYLOADS else ""


def webhook_data(event: event_pb2.Event, public_url: str) -> dict[str, Any]:
    """The `data` of the event's webhook body."""
    data: dict[str, Any] = {
        "event_id": event.event_id,
        "project_id": event.project_id,
        "organization_id": event.organization_id,
        "action": event.action,
        "source": event.source,
        "request_id": event.request_id,
    }
    field = event.WhichOneof("payload")
    if field in PAYLOADS:
        payload: Message = getattr(event, field)
        kind = PAYLOADS[field]
        data["object_type"] = kind.object_type
        data["id"] = kind.object_id(payload)
        data.update(kind.data(payload, public_url))
    return data


def markdown_table() -> str:
    """The catalog as docs/events.md shows it."""
    rows = [f"| `{t.name}` | `{PAYLOADS[t.payload].object_type}` | {t.description} |" for t in CATALOG]
    return "\n".join(["| type | data.object_type | when |", "|---|---|---|", *rows]) + "\n"
