"""How a member is shown as a SCIM User (RFC 7643 §4.1, enterprise extension
§4.3). What a request may write lives in `scim.users`."""

from __future__ import annotations

from typing import Any

import orjson
from scimd.directory.v1 import member_pb2

from runtime.timestamps import to_rfc3339
from scim.schema import CORE_USER, ENTERPRISE_USER, USER, USER_SCHEMA, ResourceType

_ATTRIBUTE_ORDER = ("externalId", *(attribute.name for attribute in USER_SCHEMA.attributes))


def user_resource(member: member_pb2.Member, base_url: str, user_type: ResourceType = USER) -> dict[str, Any]:
    """The member as a SCIM User, with full meta and every extension `user_type`
    declares that the member holds (what is returned only on request or never
    is left to scim.projection)."""
    attributes = orjson.loads(member.scim_registration.scim_attributes_json)
    extensions = {urn: attributes.pop(urn) for urn in user_type.schema_urns[1:] if urn in attributes}
    enterprise = extensions.get(ENTERPRISE_USER)
    attributes["userName"] = member.scim_registration.user_name
    attributes["active"] = member.status == member_pb2.MEMBER_STATUS_ACTIVE
    if member.groups:
        attributes["groups"] = [
            {"value": g.group_id, "display": g.display_name, "type": "direct", "$ref": f"{base_url}/Groups/{g.group_id}"}
            for g in member.groups
        ]
    resource: dict[str, Any] = {"schemas": [CORE_USER, *extensions], "id": member.member_id}
    # Attributes in the order RFC 7643 §4.1 lists them (externalId first).
    resource.update((name, attributes[name]) for name in _ATTRIBUTE_ORDER if name in attributes)
    if enterprise:
        manager = enterprise.get("manager")
        if isinstance(manager, dict) and manager.get("value") and "$ref" not in manager:
            # RFC 7643 §4.3: the manager is a reference; Entra may have sent only the id.
            enterprise["manager"] = {**manager, "$ref": f"{base_url}/Users/{manager['value']}"}
    resource.update(extensions)
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
