"""Authentication of the two kinds of callers: the vendor (HTTP Basic with the
project credentials) and identity providers (a SCIM connection's bearer token).

Default-deny: the `authentication` middleware authenticates every request to
either API before its handler runs (and before a byte of its body is read);
a route that needs no credentials is the declared exception (`public`)."""

from __future__ import annotations

import base64
import hmac
from datetime import timezone
from typing import Awaitable, Callable, TypeVar

from aiohttp import web
from scimd.connections.v1 import connection_pb2
from scimd.connections.v1 import connections_service_pb2 as connections_pb

from gateway.backends import Backends
from gateway.calls import call
from gateway.json import SCIM_PATHS
from gateway.keys import AUTHENTICATED, BACKENDS, SETTINGS, TOKEN_CACHE
from gateway.token_cache import TokenCache
from runtime.context import Tenant, tenant_var
from runtime.errors import ServiceError
from runtime.settings import Settings

Handler = TypeVar("Handler", bound=Callable[[web.Request], Awaitable[web.StreamResponse]])


MANAGEMENT_PATHS = "/v1/"


def public(handler: Handler) -> Handler:
    """Marks a route that needs no credentials (a JWKS, SCIM discovery)."""
    handler.scimd_public = True  # type: ignore[attr-defined]
    return handler


def is_public(handler: Callable[..., object]) -> bool:
    return getattr(handler, "scimd_public", False)


@web.middleware
async def authentication(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every route under /v1/ needs the project credentials, every route under
    /scim/v2/{connection_id}/ that connection's bearer token, and so does every
    path there that names no route (what exists is not told to strangers).
    The request then acts for its tenant: every gRPC call it makes carries it."""
    if not is_public(request.match_info.handler):
        if request.path.startswith(MANAGEMENT_PATHS):
            require_project(request, request.app[SETTINGS])
            _act_for_the_path_tenant(request)
        elif request.path.startswith(SCIM_PATHS):
            connection_id = request.match_info.get("connection_id") or _path_segment(request.path, 3)
            connection, token_id = await authenticate_connection(
                request, request.app[BACKENDS], request.app[TOKEN_CACHE], connection_id)
            request[AUTHENTICATED] = (connection, token_id)
            tenant_var.set(Tenant(connection.organization_id, connection.connection_id, token_id))
    return await handler(request)


def _act_for_the_path_tenant(request: web.Request) -> None:
    """A management route under an organization (and a connection) acts for it."""
    organization_id = request.match_info.get("organization_id")
    if organization_id:
        tenant_var.set(Tenant(organization_id, request.match_info.get("connection_id", "")))


def _path_segment(path: str, index: int) -> str:
    parts = path.split("/")
    return parts[index] if len(parts) > index else ""


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
            backends.connections.AuthenticateToken(connections_pb.AuthenticateTokenRequest(bearer_token=token))
        )
        authenticated = (response.connection, response.token_id)
        cache.put(token, authenticated, response.expire_time.ToDatetime(tzinfo=timezone.utc), begun)
    if authenticated[0].connection_id != connection_id:
        raise invalid
    return authenticated
