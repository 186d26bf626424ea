"""The JSON shapes scimd shows to vendors (management API and webhooks),
Stytch-compatible where Stytch defines one. One place, so both agree."""

from __future__ import annotations

from typing import Any

import orjson
from scimd.connections.v1 import connection_pb2, organization_pb2
from scimd.directory.v1 import group_pb2, member_pb2, request_record_pb2, schema_extension_pb2
from scimd.rbac.v1 import member_roles_pb2
from scimd.webhooks.v1 import endpoint_pb2

from runtime.timestamps import to_rfc3339

# The identity providers a connection may name (its setup guide and hints depend on it).
IDENTITY_PROVIDERS = (
    "okta", "microsoft-entra", "google-workspace", "onelogin", "jumpcloud",
    "pingfederate", "rippling", "cyberark", "generic",
)

_MEMBER_STATUS = {
    member_pb2.MEMBER_STATUS_ACTIVE: "active",
    member_pb2.MEMBER_STATUS_DEACTIVATED: "deactivated",
    member_pb2.MEMBER_STATUS_DELETED: "deleted",
}


_SOURCE_TYPE = {
    member_roles_pb2.RoleSource.DIRECT_ASSIGNMENT: "direct_assignment",
    member_roles_pb2.RoleSource.SCIM_CONNECTION_GROUP: "scim_connection_group",
    member_roles_pb2.RoleSource.SCIM_ATTRIBUTE: "scim_attribute",
    member_roles_pb2.RoleSource.SCIM_ATTRIBUTE_RULE: "scim_attribute_rule",
}
# The RoleSource fields each type shows as its details.
_SOURCE_DETAILS = {
    member_roles_pb2.RoleSource.SCIM_CONNECTION_GROUP: ("connection_id", "group_id", "group_name"),
    member_roles_pb2.RoleSource.SCIM_ATTRIBUTE: ("connection_id", "attribute", "value"),
    member_roles_pb2.RoleSource.SCIM_ATTRIBUTE_RULE: ("connection_id", "filter"),
}


def roles_json(member_roles: member_roles_pb2.MemberRoles) -> list[dict[str, Any]]:
    """[{role_id, sources: [{type, details}]}], as Stytch shows a member's roles."""
    def details(source: member_roles_pb2.RoleSource) -> dict[str, str]:
        return {name: getattr(source, name) for name in _SOURCE_DETAILS.get(source.type, ())}

    return [
        {
            "role_id": role.role_id,
            "sources": [{"type": _SOURCE_TYPE.get(s.type, "unknown"), "details": details(s)} for s in role.sources],
        }
        for role in member_roles.roles
    ]


def member_json(member: member_pb2.Member) -> dict[str, Any]:
    registration = member.scim_registration
    return {
        "member_id": member.member_id,
        "organization_id": member.organization_id,
        "email_address": member.email_address,
        "name": member.name,
        "status": _MEMBER_STATUS.get(member.status, "unknown"),
        "external_id": member.external_id,
        "scim_registration": {
            "connection_id": registration.connection_id,
            "registration_id": registration.registration_id,
            "external_id": registration.external_id,
            "scim_attributes": orjson.loads(registration.scim_attributes_json or "{}"),
            "undeclared_attributes": orjson.loads(registration.undeclared_attributes_json or "{}"),
        },
        "custom_attributes": orjson.loads(member.custom_attributes_json or "{}"),
        "created_at": to_rfc3339(member.create_time),
        "updated_at": to_rfc3339(member.update_time),
        "etag": member.etag,
    }


def group_json(group: group_pb2.Group) -> dict[str, Any]:
    return {
        "group_id": group.group_id,
        "organization_id": group.organization_id,
        "connection_id": group.connection_id,
        "group_name": group.display_name,
        "external_id": group.external_id,
        "member_count": group.member_count,
        # The values under the vendor's extensions of Group, by schema URN.
        "scim_attributes": orjson.loads(group.scim_attributes_json or "{}"),
        "created_at": to_rfc3339(group.create_time),
        "updated_at": to_rfc3339(group.update_time),
    }


# The types of the vendor's custom member fields (attribute mapping), as the
# management API and gRPC name them.
CUSTOM_FIELD_TYPES = ("string", "number", "boolean", "string_list")


def schema_extension_json(extension: schema_extension_pb2.SchemaExtension) -> dict[str, Any]:
    """A vendor's schema extension: its URN, the resource type it extends and its RFC 7643 §7 definition."""
    return {
        "schema_id": extension.schema_id,
        "resource_type": extension.resource_type,
        **{key: value for key, value in orjson.loads(extension.definition_json or "{}").items() if key != "id"},
        "version": extension.version,
        "created_at": to_rfc3339(extension.create_time),
        "updated_at": to_rfc3339(extension.update_time),
    }


def organization_json(organization: organization_pb2.Organization) -> dict[str, Any]:
    return {
        "organization_id": organization.organization_id,
        "organization_name": organization.organization_name,
        "organization_slug": organization.organization_slug,
        "created_at": to_rfc3339(organization.create_time),
        "updated_at": to_rfc3339(organization.update_time),
    }


_CONNECTION_STATUS = {
    connection_pb2.CONNECTION_STATUS_ACTIVE: "active",
    connection_pb2.CONNECTION_STATUS_DISABLED: "disabled",
}


def scim_base_url(public_url: str, connection: connection_pb2.Connection) -> str:
    base = f"{public_url}/scim/v2/{connection.connection_id}"
    # Makes Entra send RFC 7644-compliant PATCH requests.
    return base + "?aadOptscim062020" if connection.identity_provider == "microsoft-entra" else base


def connection_json(connection: connection_pb2.Connection, public_url: str) -> dict[str, Any]:
    def expiry(field: str) -> str | None:
        return to_rfc3339(getattr(connection, field)) if connection.HasField(field) else None

    return {
        "connection_id": connection.connection_id,
        "organization_id": connection.organization_id,
        "status": _CONNECTION_STATUS.get(connection.status, "unknown"),
        "display_name": connection.display_name,
        "identity_provider": connection.identity_provider,
        "base_url": scim_base_url(public_url, connection),
        "bearer_token_last_four": connection.bearer_token_last_four,
        "bearer_token_expires_at": expiry("bearer_token_expires_at"),
        "next_bearer_token_last_four": connection.next_bearer_token_last_four,
        "next_bearer_token_expires_at": expiry("next_bearer_token_expires_at"),
        "rate_limit_per_second": connection.rate_limit_per_second,
        "bearer_token_last_used_at": expiry("bearer_token_last_used_at"),
        "next_bearer_token_last_used_at": expiry("next_bearer_token_last_used_at"),
        "bearer_token_enabled": connection.bearer_token_enabled,
        "strict_attributes": connection.strict_attributes,
        "oauth_token_endpoint": f"{scim_base_url(public_url, connection).split('?')[0]}/oauth2/token",
        "oauth_client": {
            "client_id": connection.oauth_client.client_id,
            "client_secret_last_four": connection.oauth_client.client_secret_last_four,
            "next_client_secret_last_four": connection.oauth_client.next_client_secret_last_four,
        } if connection.HasField("oauth_client") else None,
        "assertion_trust": {
            "issuer": connection.assertion_trust.issuer, "subject": connection.assertion_trust.subject,
            "audience": connection.assertion_trust.audience, "jwks_url": connection.assertion_trust.jwks_url,
        } if connection.HasField("assertion_trust") else None,
    }


def request_record_json(record: request_record_pb2.RequestRecord) -> dict[str, Any]:
    """One entry of a connection's request log (its body already redacted)."""
    return {
        "request_id": record.request_id, "token_id": record.token_id, "method": record.method,
        "path": record.path, "query": record.query, "status": record.status, "scim_type": record.scim_type,
        "detail": record.detail, "hint": record.hint, "latency_ms": round(record.latency_ms, 1),
        "resource_id": record.resource_id, "user_name": record.user_name,
        "body": orjson.loads(record.body_json) if record.body_json else None,
        "time": to_rfc3339(record.time),
    }


def endpoint_json(endpoint: endpoint_pb2.Endpoint) -> dict[str, Any]:
    """A webhook endpoint, as the management API and the webhook of its disabling show it."""
    shown = {
        "endpoint_id": endpoint.endpoint_id,
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "organization_ids": list(endpoint.organization_ids),
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason or None,
        "disabled_at": to_rfc3339(endpoint.disable_time) if endpoint.HasField("disable_time") else None,
        "failing_since": to_rfc3339(endpoint.failing_since_time) if endpoint.HasField("failing_since_time") else None,
        "previous_secret_expires_at": (
            to_rfc3339(endpoint.previous_secret_expire_time)
            if endpoint.HasField("previous_secret_expire_time") else None
        ),
        "created_at": to_rfc3339(endpoint.create_time),
        "updated_at": to_rfc3339(endpoint.update_time),
        "etag": endpoint.etag,
    }
    return shown
