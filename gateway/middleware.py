"""Request id, access log and error translation for every request."""

from __future__ import annotations

import logging
import re
import time
from typing import Awaitable, Callable

from aiohttp import web

from gateway.errors import error_from_http, management_error, scim_error
from services.common.context import REQUEST_ID_HEADER, new_request_id, request_id_var
from services.common.errors import ServiceError

log = logging.getLogger("gateway.access")

SCIM_PREFIX = "/scim/"
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _render(request: web.Request, error: ServiceError) -> web.Response:
    if request.path.startswith(SCIM_PREFIX):
        return scim_error(error)
    return management_error(error)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = supplied if _CLIENT_REQUEST_ID.match(supplied) else new_request_id()
    request_id_var.set(request_id)
    started = time.monotonic()
    try:
        response = await handler(request)
    except ServiceError as error:
        response = _render(request, error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _render(request, error_from_http(exc))
    except Exception:
        log.exception("unhandled error", extra={"method": request.method, "path": request.path})
        response = _render(request, ServiceError("INTERNAL", "internal error"))
    response.headers[REQUEST_ID_HEADER] = request_id
    route = request.match_info.route.resource
    log.info(
        "request",
        extra={
            "method": request.method,
            "route": route.canonical if route is not None else "",
            "status": response.status,
            "duration_ms": round((time.monotonic() - started) * 1000, 2),
        },
    )
    return response
