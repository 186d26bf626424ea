"""The JSON shapes scimd shows to vendors (management API and webhooks),
Stytch-compatible where Stytch defines one. One place, so both agree."""

from __future__ import annotations

from typing import Any

import orjson
from scimd.directory.v1 import group_pb2, member_pb2

from services.common.timestamps import to_rfc3339

_MEMBER_STATUS = {
    member_pb2.MEMBER_STATUS_ACTIVE: "active",
    member_pb2.MEMBER_STATUS_DEACTIVATED: "deactivated",
    member_pb2.MEMBER_STATUS_DELETED: "deleted",
}


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
        },
        "created_at": to_rfc3339(member.create_time),
        "updated_at": to_rfc3339(member.update_time),
    }


def group_json(group: group_pb2.Group) -> dict[str, Any]:
    return {
        "group_id": group.group_id,
        "organization_id": group.organization_id,
        "connection_id": group.connection_id,
        "group_name": group.display_name,
        "external_id": group.external_id,
        "member_count": group.member_count,
        "created_at": to_rfc3339(group.create_time),
        "updated_at": to_rfc3339(group.update_time),
    }
