"""Authentication of the two kinds of callers: the vendor (HTTP Basic with the
project credentials) and identity providers (a SCIM connection's bearer token)."""

from __future__ import annotations

import base64
import hmac
from datetime import timezone
from typing import Awaitable, Callable, TypeVar

from aiohttp import web
from scimd.connections.v1 import connection_pb2
from scimd.connections.v1 import connections_service_pb2 as connections_pb

from gateway.backends import Backends, call_metadata
from gateway.calls import call
from gateway.keys import AUTHENTICATED_CONNECTION, SETTINGS
from gateway.token_cache import TokenCache
from services.common.errors import ServiceError
from services.common.settings import Settings

Handler = TypeVar("Handler", bound=Callable[[web.Request], Awaitable[web.StreamResponse]])


MANAGEMENT_PATHS = "/v1/"


def public(handler: Handler) -> Handler:
    """Marks a management route that needs no project credentials (a JWKS, say)."""
    handler.scimd_public = True  # type: ignore[attr-defined]
    return handler


@web.middleware
async def management_authentication(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Default-deny for the management API: every route under /v1/ (and every
    path there that names no route) needs the project credentials, unless its
    handler is marked `public`."""
    if request.path.startswith(MANAGEMENT_PATHS) and not getattr(request.match_info.handler, "scimd_public", False):
        require_project(request, request.app[SETTINGS])
    return await handler(request)


def require_project(request: web.Request, settings: Settings) -> None:
    """Checks the management API's Basic credentials in constant time."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    unauthorized = ServiceError("UNAUTHORIZED_CREDENTIALS", "the project id or secret is wrong")
    if scheme.lower() != "basic":
        raise unauthorized
    try:
        project_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 once decoded
        raise unauthorized from None
    id_ok = hmac.compare_digest(project_id.encode(), settings.project_id.encode())
    secret_ok = hmac.compare_digest(secret.encode(), settings.project_secret.encode())
    if not (id_ok and secret_ok and settings.project_secret):
        raise unauthorized


async def authenticate_connection(
    request: web.Request, backends: Backends, cache: TokenCache, connection_id: str
) -> tuple[connection_pb2.Connection, str]:
    """The connection whose bearer token the request carries, if it is the
    connection of the URL, and the token's id; every failure is the same 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    invalid = ServiceError("INVALID_TOKEN", "the bearer token is missing, invalid or expired")
    if scheme.lower() != "bearer" or not token or not token.isascii():  # tokens are ASCII
        raise invalid
    authenticated = cache.get(token)
    if authenticated is None:
        begun = cache.begin()
        response = await call(
            backends.connections.AuthenticateToken(
                connections_pb.AuthenticateTokenRequest(bearer_token=token), metadata=call_metadata()
            )
        )
        authenticated = (response.connection, response.token_id)
        cache.put(token, authenticated, response.expire_time.ToDatetime(tzinfo=timezone.utc), begun)
    if authenticated[0].connection_id != connection_id:
        raise invalid
    request[AUTHENTICATED_CONNECTION] = connection_id
    return authenticated
