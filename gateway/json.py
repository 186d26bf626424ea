"""Fast JSON in and out (orjson)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from services.common.errors import ServiceError

MAX_BODY_BYTES = 1024 * 1024


def json_response(body: Any, *, status: int = 200, content_type: str = "application/json") -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type=content_type, charset="utf-8")


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or INVALID_SYNTAX."""
    raw = await request.read()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ServiceError("INVALID_SYNTAX", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ServiceError("INVALID_SYNTAX", "the request body must be a JSON object")
    # PostgreSQL's text and jsonb cannot hold U+0000, so no value of ours contains it.
    if b"\\u0000" in raw and _has_nul(body):
        raise ServiceError("INVALID_VALUE", "strings must not contain the NUL character (\\u0000)")
    return body


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any("\x00" in key or _has_nul(item) for key, item in value.items())
    return False
