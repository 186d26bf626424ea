"""What every management endpoint shares: the response envelope, and reading
fields and paging parameters. (Authentication is the gateway's middleware's:
every route under /v1/ needs the project credentials unless marked `public`.)"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from aiohttp import web
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.json import json_response
from runtime.context import current_request_id
from runtime.errors import ServiceError

DEFAULT_LIMIT = 100
# Pages larger than this are cut to it (the services cap their pages too).
MAX_LIMIT = 1000
# The widest integer a gRPC field here holds; the services check their own ranges within it.
INT32_MAX = 2**31 - 1


def envelope(status: int, **fields: Any) -> web.Response:
    return json_response({"status_code": status, "request_id": current_request_id(), **fields}, status=status)


def string_field(body: dict[str, Any], field: str, *, required: bool = False) -> str:
    value = body.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ServiceError("INVALID_VALUE", f"{field} must be a string")
    if required and not value.strip():
        raise ServiceError("INVALID_VALUE", f"{field} is required")
    return value


def id_field(body: dict[str, Any], field: str) -> str:
    """A required id. Every id of scimd is printable ASCII, so any other names
    nothing; the services also pass ids on in gRPC metadata, which holds no other."""
    value = string_field(body, field, required=True)
    if not (value.isascii() and value.isprintable()):
        raise ServiceError("NOT_FOUND", f"no such {field.removesuffix('_id')}")
    return value


def string_list_field(body: dict[str, Any], field: str) -> list[str] | None:
    """A list of strings, or None when the field is absent."""
    if field not in body or body[field] is None:
        return None
    value = body[field]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ServiceError("INVALID_VALUE", f"{field} must be a list of strings")
    return value


def limit_param(request: web.Request, default: int = DEFAULT_LIMIT) -> int:
    try:
        limit = int(request.query.get("limit", str(default)))
    except ValueError:
        raise ServiceError("INVALID_VALUE", "limit must be an integer") from None
    if limit < 1:
        raise ServiceError("INVALID_VALUE", "limit must be at least 1")
    return min(limit, MAX_LIMIT)


def bounded_int_field(body: dict[str, Any], field: str, lowest: int, highest: int) -> int | None:
    """An optional integer field within [lowest, highest]; None when absent or null."""
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
        raise ServiceError("INVALID_VALUE", f"{field} must be an integer from {lowest} to {highest}")
    return value


def bool_field(body: dict[str, Any], field: str) -> bool | None:
    """An optional true/false field (None when absent or null)."""
    value = body.get(field)
    if value is not None and not isinstance(value, bool):
        raise ServiceError("INVALID_VALUE", f"{field} must be true or false")
    return value


def flag_param(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise ServiceError("INVALID_VALUE", f"{name} must be true or false")
    return value in ("true", "1")


def if_match_etag(request: web.Request) -> str:
    """The etag an If-Match header names ("" for none): "3", W/"3" → "3"."""
    # aiohttp keeps bytes that are not UTF-8 as lone surrogates, which protobuf
    # refuses; as U+FFFD they make an etag that matches none.
    value = request.headers.get("If-Match", "").encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value.strip().strip('"').removeprefix("W/").strip('"')


# Times the management API takes: no event is older than the Unix epoch, and
# every one fits a protobuf Timestamp (which ends with year 9999).
_EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LATEST = datetime(9999, 12, 30, tzinfo=timezone.utc)


def rfc3339_value(text: str, field: str) -> Timestamp:
    """An RFC 3339 time (UTC when it names no offset) within the range a timestamp holds, or a 400."""
    invalid = ServiceError("INVALID_VALUE", f"{field} must be an RFC 3339 time between 1970 and 9999")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        if not _EARLIEST <= when <= _LATEST:
            raise invalid
    except (ValueError, OverflowError):  # unparsable, or out of range once in UTC
        raise invalid from None
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp
