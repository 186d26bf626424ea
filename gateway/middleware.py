"""Request id, access log and error translation for every request."""

from __future__ import annotations

import logging
import re
import time
from typing import Awaitable, Callable

from aiohttp import web

from gateway.errors import error_from_http, management_error, scim_error
from gateway.json import SCIM_PATHS
from gateway.keys import AUTHENTICATED, CONNECTION_SLOTS, SLOT_HELD
from gateway.request_log import record_scim_request
from runtime.context import REQUEST_ID_HEADER, new_request_id, request_id_var, tenant_var
from runtime.errors import ServiceError
from runtime.metrics import HTTP_LATENCY, HTTP_REQUESTS, BoundedLabel
from scim.errors import ScimError

log = logging.getLogger("gateway.access")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Connections are made by the vendor, so their number is bounded already; this bounds it for sure.
_connection_label = BoundedLabel(10_000)
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _render(request: web.Request, error: ServiceError) -> web.Response:
    if request.path.startswith(SCIM_PATHS):
        return scim_error(error)
    return management_error(error)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = supplied if _CLIENT_REQUEST_ID.match(supplied) else new_request_id()
    request_id_var.set(request_id)
    tenant_var.set(None)  # until authenticated (gateway.auth)
    started = time.monotonic()
    failure: ServiceError | None = None
    try:
        if not all(value.isascii() and value.isprintable() for value in request.match_info.values()):
            # Every id, name and URN in our paths is printable ASCII (and gRPC
            # metadata and PostgreSQL text hold no NUL): any other names nothing.
            raise ServiceError("NOT_FOUND", "no such resource")
        response = await handler(request)
    except (ServiceError, ScimError) as error:
        failure = error if isinstance(error, ServiceError) else ServiceError.from_scim(error)
        response = _render(request, failure)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        failure = error_from_http(exc)
        response = _render(request, failure)
    except Exception:
        log.exception("unhandled error", extra={"method": request.method, "path": request.path})
        failure = ServiceError("INTERNAL", "internal error")
        response = _render(request, failure)
    finally:
        held = request.get(SLOT_HELD)
        if held:
            request.app[CONNECTION_SLOTS].give_back(held)
    response.headers[REQUEST_ID_HEADER] = request_id
    route = request.match_info.route.resource
    canonical = route.canonical if route is not None else ""
    elapsed = time.monotonic() - started
    resource = _resource_of(canonical)
    # Labels only from bounded sets: an unauthenticated path or method adds no series.
    connection = _connection_label(request[AUTHENTICATED][0].connection_id if AUTHENTICATED in request else "")
    method = request.method if request.method in _METHODS else "other"
    if AUTHENTICATED in request:
        record_scim_request(request, response, failure, elapsed)
    HTTP_REQUESTS.labels(connection, resource, method, response.status).inc()
    HTTP_LATENCY.labels(resource, method).observe(elapsed)
    log.log(
        _level_of(response.status, elapsed),
        "request",
        extra={
            "method": request.method,
            "route": canonical,
            "status": response.status,
            "duration_ms": round(elapsed * 1000, 2),
        },
    )
    return response


# A line per request was tens of thousands of lines a minute at full load:
# answers that went well are logged at debug level (SCIMD_LOG_LEVEL=DEBUG
# shows them); their counts and latencies are in /metrics.
SLOW_REQUEST_SECONDS = 1.0


def _level_of(status: int, elapsed: float) -> int:
    if status >= 500 or elapsed >= SLOW_REQUEST_SECONDS:
        return logging.WARNING
    return logging.INFO if status >= 400 else logging.DEBUG


def _resource_of(canonical: str) -> str:
    """A bounded label for a route: the SCIM resource (Users, Groups, Bulk, …),
    the management API's first path segment after the version, or the path."""
    parts = canonical.strip("/").split("/")
    if canonical.startswith(SCIM_PATHS) and len(parts) > 3:
        return parts[3]
    if parts[0] == "v1" and len(parts) > 1:
        return "/".join(parts[1:3]) if parts[1] == "b2b" else parts[1]
    return canonical or "unmatched"
