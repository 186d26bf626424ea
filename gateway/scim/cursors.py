"""SCIM cursors (RFC 9865): opaque to the client, signed by the gateways
(HMAC-SHA256 under a key derived from SCIMD_ENCRYPTION_KEY, so any gateway
of the project reads any other's), bound to one connection and one query
(resource type, filter, sortBy, sortOrder), and valid for CURSOR_TIMEOUT_SECONDS.

Inside is the directory's keyset page token: the next page continues after
the last resource returned, so creations and deletions between pages never
make a resource that existed throughout be skipped or repeated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from functools import cache
from typing import Any

import orjson

from gateway.scim.context import ScimContext
from gateway.scim.requests import ListQuery
from runtime.errors import ServiceError
from scim.schema import LIST_RESPONSE

CURSOR_TIMEOUT_SECONDS = 3600
_VERSION = 1
_MAC_BYTES = 16


@cache
def _key(encryption_key: str) -> bytes:
    return hmac.new(encryption_key.encode(), b"scimd SCIM cursor v1", hashlib.sha256).digest()


def _fingerprint(resource: str, filter_text: str, sort_by: str, descending: bool) -> str:
    query = orjson.dumps([resource, filter_text, sort_by, descending])
    return base64.urlsafe_b64encode(hashlib.sha256(query).digest()[:12]).decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Seals and opens the cursors of one connection's listings."""

    def __init__(self, encryption_key: str, connection_id: str, *, clock=time.time) -> None:
        self._key = _key(encryption_key)
        self._connection_id = connection_id
        self._clock = clock

    def seal(self, page_token: str, resource: str, filter_text: str, sort_by: str, descending: bool) -> str:
        payload = orjson.dumps([_VERSION, self._connection_id, _fingerprint(resource, filter_text, sort_by, descending),
                                page_token, int(self._clock()) + CURSOR_TIMEOUT_SECONDS])
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def open(self, cursor: str, resource: str, filter_text: str, sort_by: str, descending: bool) -> str:
        """The page token inside `cursor`; 400 invalidCursor unless it is this
        connection's for this query, 400 expiredCursor once its time is up."""
        invalid = ServiceError("INVALID_CURSOR", "the cursor is not valid for this query: send the nextCursor"
                                                 " of the previous page with the same filter, sortBy and sortOrder,"
                                                 " or an empty cursor for the first page")
        try:
            payload_text, mac_text = cursor.split(".")
            payload, mac = _unb64(payload_text), _unb64(mac_text)
        except (ValueError, binascii.Error):
            raise invalid from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise invalid
        version, connection_id, fingerprint, page_token, expires_at = orjson.loads(payload)
        if (version, connection_id, fingerprint) != (_VERSION, self._connection_id,
                                                     _fingerprint(resource, filter_text, sort_by, descending)):
            raise invalid
        if self._clock() > expires_at:
            raise ServiceError("EXPIRED_CURSOR", f"the cursor has expired (cursors last {CURSOR_TIMEOUT_SECONDS} s);"
                                                 " start again with an empty cursor")
        return page_token

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def page_token_of(ctx: ScimContext, resource: str, query: ListQuery) -> str:
    """The directory page token a list query continues from ("" for the first page)."""
    if not query.cursor:
        return ""
    return _codec(ctx).open(query.cursor, resource, query.filter, query.sort_by, query.descending)


def list_envelope(ctx: ScimContext, resource: str, query: ListQuery, total: int, items: int,
                  next_page_token: str) -> dict[str, Any]:
    """The ListResponse without its Resources: startIndex when paged by index,
    nextCursor (unless this is the last page) when paged by cursor."""
    envelope: dict[str, Any] = {"schemas": [LIST_RESPONSE], "totalResults": total, "itemsPerPage": items}
    if query.cursor is None:
        envelope["startIndex"] = query.start_index
    elif next_page_token:
        envelope["nextCursor"] = _codec(ctx).seal(next_page_token, resource, query.filter, query.sort_by,
                                                  query.descending)
    return envelope


def _codec(ctx: ScimContext) -> CursorCodec:
    return CursorCodec(ctx.settings.encryption_key, ctx.connection.connection_id)


def open_search_cursor(ctx: ScimContext, query: ListQuery, phases: list[str]) -> tuple[str, str]:
    """Where a root /.search walk by cursor stands: the resource type it is in
    (one of `phases`, Users then Groups) and that type's own cursor."""
    if not query.cursor:
        return phases[0], ""
    position = orjson.loads(_codec(ctx).open(query.cursor, "Search", query.filter, query.sort_by, query.descending))
    if not (isinstance(position, list) and len(position) == 2 and position[0] in phases
            and isinstance(position[1], str)):
        raise ServiceError("INVALID_CURSOR", "the cursor is not valid for this query")
    return position[0], position[1]


def seal_search_cursor(ctx: ScimContext, query: ListQuery, phase: str, inner: str) -> str:
    return _codec(ctx).seal(orjson.dumps([phase, inner]).decode(), "Search", query.filter, query.sort_by,
                            query.descending)
