"""SCIM User rules, free of I/O: what a request may write, and how a member
is shown as a SCIM resource (RFC 7643 §4.1, enterprise extension §4.3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from scimd.directory.v1 import member_pb2

from services.common.errors import ServiceError
from services.common.timestamps import to_rfc3339

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

# Writable core attributes, by lower-cased name → canonical name.
_WRITABLE = {
    name.lower(): name
    for name in (
        "userName", "externalId", "name", "displayName", "nickName", "profileUrl", "title",
        "userType", "preferredLanguage", "locale", "timezone", "active", "emails",
        "phoneNumbers", "ims", "photos", "addresses", "entitlements", "roles", "x509Certificates",
    )
}
# Sent by clients but never stored: read-only (RFC 7643 §3.1, §4.1.2) or write-only.
_IGNORED = {"id", "meta", "groups", "schemas", "password"}


@dataclass(frozen=True)
class UserWrite:
    user_name: str
    external_id: str
    attributes: dict[str, Any]


def _boolean(value: Any, attribute: str) -> bool:
    # Entra sends booleans as the strings "True"/"False".
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ServiceError("INVALID_VALUE", f"{attribute} must be a boolean")


def user_write(body: dict[str, Any]) -> UserWrite:
    """The attributes a POST body sets. Read-only and unknown attributes are
    ignored; attribute names match without case."""
    attributes: dict[str, Any] = {}
    for key, value in body.items():
        lowered = key.lower()
        if lowered in _IGNORED:
            continue
        if lowered == ENTERPRISE_USER.lower():
            if value is not None and not isinstance(value, dict):
                raise ServiceError("INVALID_SYNTAX", f"{ENTERPRISE_USER} must be an object")
            if value:
                attributes[ENTERPRISE_USER] = value
            continue
        canonical = _WRITABLE.get(lowered)
        if canonical is None or value is None:
            continue
        attributes[canonical] = value
    user_name = attributes.get("userName")
    if not isinstance(user_name, str) or not user_name.strip():
        raise ServiceError("INVALID_VALUE", "userName is required and must be a non-empty string")
    external_id = attributes.get("externalId", "")
    if not isinstance(external_id, str):
        raise ServiceError("INVALID_VALUE", "externalId must be a string")
    if "active" in attributes:
        attributes["active"] = _boolean(attributes["active"], "active")
    for multi in ("emails", "phoneNumbers", "ims", "photos", "addresses", "entitlements", "roles", "x509Certificates"):
        if multi in attributes and not isinstance(attributes[multi], list):
            raise ServiceError("INVALID_VALUE", f"{multi} must be an array")
    if "name" in attributes and not isinstance(attributes["name"], dict):
        raise ServiceError("INVALID_VALUE", "name must be an object")
    return UserWrite(user_name=user_name.strip(), external_id=external_id, attributes=attributes)


def user_resource(member: member_pb2.Member, base_url: str) -> dict[str, Any]:
    """The member as a SCIM User, with full meta."""
    attributes = json_format.MessageToDict(member.scim_registration.scim_attributes)
    enterprise = attributes.pop(ENTERPRISE_USER, None)
    resource: dict[str, Any] = {
        "schemas": [CORE_USER] + ([ENTERPRISE_USER] if enterprise else []),
        "id": member.member_id,
    }
    resource.update(attributes)
    resource["userName"] = member.scim_registration.user_name
    resource["active"] = member.status == member_pb2.MEMBER_STATUS_ACTIVE
    if enterprise:
        resource[ENTERPRISE_USER] = enterprise
    resource["meta"] = {
        "resourceType": "User",
        "created": to_rfc3339(member.create_time),
        "lastModified": to_rfc3339(member.update_time),
        "location": f"{base_url}/Users/{member.member_id}",
        "version": etag_of(member),
    }
    return resource


def etag_of(member: member_pb2.Member) -> str:
    return f'W/"{member.etag}"'
