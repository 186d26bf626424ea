"""OAuth 2.0 for a SCIM connection, managed by the vendor: the OAuth client
(client credentials, its secret shown once and rotated like the bearer
token) and the trust in an issuer's signed assertions (RFC 7523, e.g. Entra
workload identity federation). Every change that ends a credential's life
revokes the access tokens it got, on this gateway at once and on every
other within about a second."""

from __future__ import annotations

from aiohttp import web
from scimd.connections.v1 import connection_pb2
from scimd.connections.v1 import connections_service_pb2 as connections_pb

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS, SETTINGS, TOKEN_CACHE
from gateway.management.common import envelope, string_field
from gateway.management.connections import connection_json, shown_role_assignments
from runtime.errors import ServiceError

routes = web.RouteTableDef()
CONNECTION = "/v1/b2b/scim/{organization_id}/connection/{connection_id}"
SECRET_STEPS = {
    "start": ("StartClientSecretRotation", connections_pb.StartClientSecretRotationRequest),
    "complete": ("CompleteClientSecretRotation", connections_pb.CompleteClientSecretRotationRequest),
    "cancel": ("CancelClientSecretRotation", connections_pb.CancelClientSecretRotationRequest),
}


async def _shown(request: web.Request, connection: connection_pb2.Connection) -> dict:
    """The connection as every management answer shows it, its role assignments included."""
    shown = connection_json(request.app[SETTINGS], connection)
    shown.update(await shown_role_assignments(request, connection))
    return shown


async def _change(request: web.Request, method: str, message, **fields):
    """Calls a connections RPC that changes the connection's credentials."""
    ids = {"organization_id": request.match_info["organization_id"],
           "connection_id": request.match_info["connection_id"]}
    with request.app[TOKEN_CACHE].changing(connection_id=ids["connection_id"]):
        return await call(getattr(request.app[BACKENDS].connections, method)(message(**ids, **fields)))


@routes.post(CONNECTION + "/oauth_client")
async def enable_client_credentials(request: web.Request) -> web.Response:
    """Gives the connection an OAuth client: client_id (the connection id) and
    client_secret, shown once. 409 if it has one."""
    response = await _change(request, "EnableClientCredentials", connections_pb.EnableClientCredentialsRequest)
    return envelope(201, connection=await _shown(request, response.connection),
                    client_id=response.connection.connection_id, client_secret=response.client_secret)


@routes.delete(CONNECTION + "/oauth_client")
async def disable_client_credentials(request: web.Request) -> web.Response:
    """Removes the OAuth client; every access token its secrets got stops working."""
    response = await _change(request, "DisableClientCredentials", connections_pb.DisableClientCredentialsRequest)
    return envelope(200, connection=await _shown(request, response.connection))


@routes.post(CONNECTION + "/oauth_client/rotate/{step}")
async def rotate_client_secret(request: web.Request) -> web.Response:
    """`start` returns next_client_secret once; both secrets work until
    `complete` (the new one only) or `cancel` (the old one only). Access tokens
    got with the secret that stops working stop working too."""
    step = SECRET_STEPS.get(request.match_info["step"])
    if step is None:
        raise ServiceError("NOT_FOUND", "the rotation steps are start, complete and cancel")
    response = await _change(request, *step)
    shown = await _shown(request, response.connection)
    if request.match_info["step"] == "start":
        shown["next_client_secret"] = response.next_client_secret
    return envelope(200, connection=shown)


@routes.put(CONNECTION + "/assertion_trust")
async def set_assertion_trust(request: web.Request) -> web.Response:
    """Accept JWT client assertions signed by `issuer`'s keys at `jwks_url`,
    for `subject` and `audience`, in place of a secret."""
    body = await read_json_object(request)
    trust = connection_pb2.AssertionTrust(**{name: string_field(body, name, required=True)
                                             for name in ("issuer", "subject", "audience", "jwks_url")})
    response = await _change(request, "SetAssertionTrust", connections_pb.SetAssertionTrustRequest, trust=trust)
    return envelope(200, connection=await _shown(request, response.connection))


@routes.delete(CONNECTION + "/assertion_trust")
async def delete_assertion_trust(request: web.Request) -> web.Response:
    """Stops accepting assertions; the access tokens they got stop working."""
    response = await _change(request, "DeleteAssertionTrust", connections_pb.DeleteAssertionTrustRequest)
    return envelope(200, connection=await _shown(request, response.connection))
