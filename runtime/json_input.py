"""JSON that arrives from outside (HTTP bodies, JSON fields of gRPC requests),
parsed once with the limits every reader relies on: an object at the top, no
deeper than MAX_DEPTH, and no U+0000 in any string or key (PostgreSQL's text
and jsonb cannot hold it). The checks walk the value without recursion, so no
input can exhaust the stack."""

from __future__ import annotations

from typing import Any

import orjson

from runtime.errors import ServiceError

# SCIM resources nest a few levels (a Bulk operation's data, a complex
# multi-valued attribute, an extension's object): 32 leaves room for any real one.
MAX_DEPTH = 32


def parse_json_object(raw: bytes | str, what: str = "the request body") -> dict[str, Any]:
    """`raw` as a JSON object, or INVALID_SYNTAX / INVALID_VALUE naming `what`."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson refuses nesting past its own limit (1,024) as invalid JSON too.
        raise ServiceError("INVALID_SYNTAX", f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise ServiceError("INVALID_SYNTAX", f"{what} must be a JSON object")
    check_json_value(value, what)
    return value


def check_json_value(value: Any, what: str) -> None:
    """Refuses nesting deeper than MAX_DEPTH and NUL characters, anywhere in `value`."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise _nul(what)
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise ServiceError("INVALID_VALUE", f"{what} nests deeper than {MAX_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    if "\x00" in key:
                        raise _nul(what)
                    pending.append((child, depth + 1))
            else:
                pending.extend((child, depth + 1) for child in item)


def _nul(what: str) -> ServiceError:
    return ServiceError("INVALID_VALUE", f"strings in {what} must not contain the NUL character (\\u0000)")
