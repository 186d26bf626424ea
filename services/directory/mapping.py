"""SCIM user attributes → member fields, and database rows → protos."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
from scimd.directory.v1 import member_pb2

from runtime.timestamps import to_timestamp

STATUS_TO_PROTO = {
    "active": member_pb2.MEMBER_STATUS_ACTIVE,
    "deactivated": member_pb2.MEMBER_STATUS_DEACTIVATED,
    "deleted": member_pb2.MEMBER_STATUS_DELETED,
}


def email_address_of(attributes: dict[str, Any], user_name: str) -> str:
    """The primary email, else the first one, else userName when it is an address."""
    emails = [e for e in attributes.get("emails") or [] if isinstance(e, dict) and e.get("value")]
    primary = next((e for e in emails if e.get("primary") in (True, "true", "True")), None)
    chosen = primary or (emails[0] if emails else None)
    if chosen is not None:
        return str(chosen["value"]).strip().lower()
    return user_name.strip().lower() if "@" in user_name else ""


def name_of(attributes: dict[str, Any]) -> str:
    name = attributes.get("name")
    if isinstance(name, dict):
        if name.get("formatted"):
            return str(name["formatted"])
        parts = [name.get("givenName"), name.get("familyName")]
        joined = " ".join(str(p) for p in parts if p)
        if joined:
            return joined
    return str(attributes.get("displayName") or "")


def status_of(attributes: dict[str, Any]) -> str:
    return "deactivated" if attributes.get("active") is False else "active"


def member_from_row(row: asyncpg.Record, *, as_the_idp_sees_it: bool = False) -> member_pb2.Member:
    """The member as the app sees it (its status in effect), or as its identity
    provider does (the status it last wrote, held or not)."""
    status = row["status"]
    if as_the_idp_sees_it and status != "deleted":
        status = row.get("scim_status") or status
    return member_pb2.Member(
        member_id=row["member_id"],
        organization_id=row["organization_id"],
        email_address=row["email_address"],
        name=row["name"],
        status=STATUS_TO_PROTO[status],
        external_id=row["external_id"] or "",
        scim_registration=member_pb2.ScimRegistration(
            connection_id=row["connection_id"],
            registration_id=row["registration_id"],
            external_id=row["external_id"] or "",
            user_name=row["user_name"],
            # Sorted keys: the same member gives the same text, whether it was read back from
            # jsonb (which reorders keys) or built before writing it.
            scim_attributes_json=orjson.dumps(row["scim_attributes"], option=orjson.OPT_SORT_KEYS).decode(),
            undeclared_attributes_json=_undeclared_json(row),
        ),
        create_time=to_timestamp(row["created_at"]),
        update_time=to_timestamp(row["updated_at"]),
        etag=str(row["version"]),
        groups=[member_pb2.MemberGroup(**group) for group in _groups_of(row)],
        custom_attributes_json=orjson.dumps(row.get("custom_attributes") or {}, option=orjson.OPT_SORT_KEYS).decode(),
    )


def _undeclared_json(row) -> str:
    try:
        undeclared = row["undeclared_attributes"]
    except KeyError:  # rows read by older queries
        return ""
    return orjson.dumps(undeclared, option=orjson.OPT_SORT_KEYS).decode() if undeclared else ""


def _groups_of(row) -> list[dict]:
    try:
        return row["groups"] or []
    except KeyError:  # rows of writes carry no groups
        return []
