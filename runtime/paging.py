"""Opaque keyset page tokens (AIP-158) and page-size clamping."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import orjson

from runtime.errors import ServiceError

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_size(requested: int) -> int:
    if requested < 0:
        raise ServiceError("INVALID_VALUE", "page_size must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_page_token(last_key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(last_key)).decode().rstrip("=")


def decode_page_token(token: str, arity: int) -> list[Any] | None:
    """The keyset position after which the page starts, or None for the first page."""
    if not token:
        return None
    try:
        key = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise ServiceError("INVALID_PAGE_TOKEN", "page_token is not valid") from None
    if not isinstance(key, list) or len(key) != arity or not all(_storable(part) for part in key):
        raise ServiceError("INVALID_PAGE_TOKEN", "page_token is not valid")
    return key


_INT64 = range(-(2**63), 2**63)


def _storable(part: Any) -> bool:
    """A keyset part a query can take: a string, or an integer PostgreSQL's bigint holds."""
    return isinstance(part, str) or (isinstance(part, int) and not isinstance(part, bool) and part in _INT64)


def decode_time_keyset(token: str) -> tuple[datetime, str] | None:
    """The (created_at, id) position of a page token made by `time_keyset_token`."""
    key = decode_page_token(token, 2)
    if key is None:
        return None
    try:
        return datetime.fromisoformat(key[0]), str(key[1])
    except (TypeError, ValueError):
        raise ServiceError("INVALID_PAGE_TOKEN", "page_token is not valid") from None


def time_keyset_token(created_at: datetime, resource_id: str) -> str:
    return encode_page_token([created_at.isoformat(), resource_id])
