"""Fast JSON in and out (orjson)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from services.common.json_input import parse_json_object

MAX_BODY_BYTES = 1024 * 1024


def json_response(body: Any, *, status: int = 200, content_type: str = "application/json") -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type=content_type, charset="utf-8")


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object within the limits of json_input, or a 400."""
    return parse_json_object(await request.read())
