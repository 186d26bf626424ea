"""The OAuth 2.0 token endpoint of a SCIM connection,
POST /scim/v2/{connection}/oauth2/token (RFC 6749 §3.2, §4.4; RFC 7523).

Grants:
- `client_credentials`, the client authenticated by its secret (HTTP Basic,
  RFC 6749 §2.3.1, or client_id/client_secret in the form), or by a signed
  assertion (`client_assertion_type` =
  urn:ietf:params:oauth:client-assertion-type:jwt-bearer, RFC 7523 §2.2: how
  Entra's workload identity federation authenticates);
- `urn:ietf:params:oauth:grant-type:jwt-bearer` with `assertion` (RFC 7523 §2.1).

The answer is a Bearer access token good for an hour; errors are RFC 6749
§5.2 JSON (`invalid_request`, `invalid_client`, `invalid_grant`,
`unsupported_grant_type`), never SCIM's.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from aiohttp import web
from scimd.connections.v1 import connections_service_pb2 as connections_pb

from gateway.auth import public
from gateway.calls import call
from gateway.json import json_response
from gateway.keys import BACKENDS
from gateway.scim.routes import PREFIX
from runtime.errors import ServiceError

routes = web.RouteTableDef()
CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_BEARER_CLIENT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400, *, basic: bool = False) -> None:
        super().__init__(description)
        self.error, self.description, self.status, self.basic = error, description, status, basic

    def response(self) -> web.Response:
        headers = dict(NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="scimd"' if self.basic else 'Bearer realm="scimd"'
        response = json_response({"error": self.error, "error_description": self.description}, status=self.status)
        response.headers.update(headers)
        return response


@routes.post(PREFIX + "/oauth2/token")
@public
async def token(request: web.Request) -> web.Response:
    form: dict[str, str] = {}
    try:
        form = await _form(request)
        issued = await call(request.app[BACKENDS].connections.IssueAccessToken(
            _issue_request(request.match_info["connection_id"], form, request.headers.get("Authorization", ""))))
    except OAuthError as error:
        return error.response()
    except ServiceError as error:
        basic = request.headers.get("Authorization", "").lower().startswith("basic ")
        return _oauth_error(error, form.get("grant_type", ""), basic).response()
    response = json_response({"access_token": issued.access_token, "token_type": "Bearer",
                              "expires_in": issued.expires_in_seconds})
    response.headers.update(NO_STORE)
    return response


async def _form(request: web.Request) -> dict[str, str]:
    if request.content_type != FORM:
        raise OAuthError("invalid_request", f"the request body must be {FORM} (RFC 6749 §4.4.2)")
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "the request body is too large")
    body = await request.content.read(MAX_FORM_BYTES + 1)
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "the request body is too large")
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "the form must be URL-encoded ASCII") from None
    form: dict[str, str] = {}
    for pair in filter(None, text.split("&")):
        name, _, value = pair.partition("=")
        name, value = unquote_plus(name), unquote_plus(value)
        if name in form:  # RFC 6749 §3.2: parameters must not repeat
            raise OAuthError("invalid_request", f"{name} is given twice")
        form[name] = value
    return form


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "the Basic credentials are malformed", 401, basic=True) from None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise OAuthError("invalid_client", "the Basic credentials are malformed", 401, basic=True)
    # RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


def _issue_request(connection_id: str, form: dict[str, str], authorization: str) -> connections_pb.IssueAccessTokenRequest:
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    request = connections_pb.IssueAccessTokenRequest(connection_id=connection_id)
    if grant_type == JWT_BEARER_GRANT:
        if not form.get("assertion"):
            raise OAuthError("invalid_request", "the jwt-bearer grant needs an assertion")
        request.client_assertion = form["assertion"]
        return request
    if grant_type != CLIENT_CREDENTIALS:
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported: use "
                                                   f"{CLIENT_CREDENTIALS} or {JWT_BEARER_GRANT}")
    basic = _basic_credentials(authorization)
    methods = [m for m in (basic, form.get("client_secret"), form.get("client_assertion")) if m]
    if len(methods) != 1:
        raise OAuthError("invalid_client" if not methods else "invalid_request",
                         "authenticate the client with exactly one method: HTTP Basic, client_secret or"
                         " client_assertion", 401 if not methods else 400)
    if basic:
        request.client_secret.client_id, request.client_secret.client_secret = basic
        request.client_secret.client_id = request.client_secret.client_id or connection_id
    elif form.get("client_secret"):
        request.client_secret.client_id = form.get("client_id") or connection_id
        request.client_secret.client_secret = form["client_secret"]
    else:
        if form.get("client_assertion_type") != JWT_BEARER_CLIENT:
            raise OAuthError("invalid_request", f"client_assertion_type must be {JWT_BEARER_CLIENT}")
        request.client_assertion = form["client_assertion"]
        request.client_id = form.get("client_id", "")
    return request


def _oauth_error(error: ServiceError, grant_type: str, basic: bool) -> OAuthError:
    if error.reason == "INVALID_CLIENT":
        if grant_type == JWT_BEARER_GRANT:  # RFC 7523 §3.1: the grant's assertion is the grant
            return OAuthError("invalid_grant", error.message)
        return OAuthError("invalid_client", error.message, 401, basic=basic)
    if error.reason == "INVALID_GRANT":
        return OAuthError("invalid_grant", error.message)
    if error.reason in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
        return OAuthError("temporarily_unavailable", error.message, 503)
    return OAuthError("invalid_request", error.message)
