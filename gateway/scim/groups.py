"""How a group is shown as a SCIM Group (RFC 7643 §4.2)."""

from __future__ import annotations

from typing import Any, Iterable

import orjson
from scimd.directory.v1 import group_pb2

from runtime.timestamps import to_rfc3339
from scim.projection import parse_attribute_list
from scim.schema import CORE_GROUP, GROUP, ResourceType

_MEMBERS_NAMES = ("members", f"{CORE_GROUP.lower()}:members")


def etag_of(group: group_pb2.Group) -> str:
    return f'W/"{group.etag}"'


def includes_members(attributes: str | None, excluded: str | None) -> bool:
    """Whether a response projected with these parameters shows `members`, so
    that a group's members are read only when they will be returned."""
    def names_members(names: list[str]) -> bool:
        return any(n.lower() in _MEMBERS_NAMES or n.lower().startswith(tuple(f"{m}." for m in _MEMBERS_NAMES))
                   or n.lower() == CORE_GROUP.lower() for n in names)

    wanted = parse_attribute_list(attributes)
    if wanted:
        return names_members(wanted)
    return not any(n.lower() in _MEMBERS_NAMES for n in parse_attribute_list(excluded))


def extension_values_of(body: dict[str, Any]) -> dict[str, Any]:
    """The part of a Group body the directory reads for extension values:
    its URN keys (the extension objects and URN-qualified attributes), so a
    body of 10,000 members is not sent twice."""
    return {key: value for key, value in body.items() if isinstance(key, str) and key.lower().startswith("urn:")}


def group_resource(group: group_pb2.Group, members: Iterable[group_pb2.GroupMember] | None,
                   base_url: str, group_type: ResourceType = GROUP) -> dict[str, Any]:
    """The group as a SCIM Group, with every extension `group_type` declares
    that the group holds (projection is left to scim.projection)."""
    stored = orjson.loads(group.scim_attributes_json) if group.scim_attributes_json else {}
    extensions = {urn: stored[urn] for urn in group_type.schema_urns[1:] if urn in stored}
    resource: dict[str, Any] = {"schemas": [CORE_GROUP, *extensions], "id": group.group_id}
    if group.external_id:
        resource["externalId"] = group.external_id
    resource["displayName"] = group.display_name
    if members is not None:
        resource["members"] = [
            {"value": m.member_id, "display": m.display, "type": "User", "$ref": f"{base_url}/Users/{m.member_id}"}
            for m in members
        ]
    resource.update(extensions)
    resource["meta"] = {
        "resourceType": "Group",
        "created": to_rfc3339(group.create_time),
        "lastModified": to_rfc3339(group.update_time),
        "location": f"{base_url}/Groups/{group.group_id}",
        "version": etag_of(group),
    }
    return resource
