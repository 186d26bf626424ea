"""Rendering errors: RFC 7644 §3.12 JSON on SCIM paths, the management shape elsewhere."""

from __future__ import annotations

from aiohttp import web

from gateway.json import json_response
from runtime.context import current_request_id
from runtime.errors import ServiceError

SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_CONTENT_TYPE = "application/scim+json"

# HTTP errors raised by aiohttp itself (routing, body size) → reasons.
_REASON_BY_HTTP_STATUS = {
    400: "INVALID_SYNTAX",
    401: "UNAUTHORIZED_CREDENTIALS",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_from_http(exc: web.HTTPException) -> ServiceError:
    reason = _REASON_BY_HTTP_STATUS.get(exc.status, "INVALID_VALUE" if exc.status < 500 else "INTERNAL")
    return ServiceError(reason, exc.reason or reason.lower())


def scim_error(error: ServiceError) -> web.Response:
    kind = error.kind
    body = {"schemas": [SCIM_ERROR_SCHEMA], "status": str(kind.http_status), "detail": error.message}
    if kind.scim_type:
        body["scimType"] = kind.scim_type
    response = json_response(body, status=kind.http_status, content_type=SCIM_CONTENT_TYPE)
    if kind.http_status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="scimd"'
    return _with_retry_after(response, error)


def _with_retry_after(response: web.Response, error: ServiceError) -> web.Response:
    if error.retry_after_seconds is not None:
        response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


def management_error(error: ServiceError) -> web.Response:
    kind = error.kind
    body = {
        "status_code": kind.http_status,
        "request_id": current_request_id(),
        "error_type": error.reason.lower(),
        "error_message": error.message,
    }
    # No WWW-Authenticate on a 401: a browser would offer to keep the project
    # credentials and then send them along with any other site's forms.
    return _with_retry_after(json_response(body, status=kind.http_status), error)
