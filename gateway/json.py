"""Fast JSON in and out (orjson)."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, TypeVar

import orjson
from aiohttp import web

from gateway.keys import REQUEST_BODY, SETTINGS
from runtime.errors import ServiceError
from runtime.json_input import parse_json_object

T = TypeVar("T")


def json_response(body: Any, *, status: int = 200, content_type: str = "application/json") -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type=content_type, charset="utf-8")


# Where the SCIM API lives; everything else answers in the management API's shapes.
SCIM_PATHS = "/scim/"


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object within the limits of json_input, or a 400.
    The management API takes only application/json, so that no other site's
    form (text/plain, form-encoded) can post to it with a browser's credentials."""
    if not request.path.startswith(SCIM_PATHS) and request.content_type != "application/json":
        raise ServiceError("UNSUPPORTED_MEDIA_TYPE", "the request body must be application/json")
    body = parse_json_object(await within_body_timeout(request, request.read()))
    request[REQUEST_BODY] = body  # for the request log, which redacts it
    return body


async def within_body_timeout(request: web.Request, reading: Awaitable[T]) -> T:
    """`reading` of the body, unless the client takes longer than the body timeout (408)."""
    try:
        return await asyncio.wait_for(reading, request.app[SETTINGS].http_body_timeout)
    except asyncio.TimeoutError:
        raise ServiceError("REQUEST_TIMEOUT", "the request body did not arrive in time") from None
