"""Member sessions of the vendor's app (Stytch's B2B Sessions API shapes).

The app starts a session after its own login; the session JWT it gets lives
minutes and carries the member's roles, and the app refreshes it through
`authenticate`. The JWKS is public: anyone may verify a session JWT.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scimd.rbac.v1 import session_pb2
from scimd.rbac.v1 import session_service_pb2 as session_pb

from gateway.auth import public
from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS, SETTINGS
from gateway.management.common import INT32_MAX, bounded_int_field, envelope, id_field, string_field
from runtime.errors import ServiceError
from runtime.shapes import member_json
from runtime.timestamps import to_rfc3339

routes = web.RouteTableDef()


def session_json(session: session_pb2.Session) -> dict[str, Any]:
    return {
        "member_session_id": session.session_id,
        "member_id": session.member_id,
        "organization_id": session.organization_id,
        "started_at": to_rfc3339(session.started_at),
        "last_accessed_at": to_rfc3339(session.last_accessed_at),
        "expires_at": to_rfc3339(session.expires_at),
        "roles": list(session.roles),
    }


def _session_answer(response, **extra: str) -> web.Response:
    """Stytch's shape of a session answer: the member, the session, the JWT."""
    return envelope(
        200,
        member_id=response.session.member_id,
        organization_id=response.session.organization_id,
        member=member_json(response.member),
        member_session=session_json(response.session),
        **extra,
        session_jwt=response.session_jwt,
    )


def _jwk_json(key: session_pb2.Jwk) -> dict[str, str]:
    return {name: value for name in ("kid", "kty", "alg", "use", "crv", "x", "y") if (value := getattr(key, name))}


def _duration(body: dict[str, Any]) -> int:
    # 0 (or absent): the default duration.
    return bounded_int_field(body, "session_duration_minutes", 0, INT32_MAX) or 0


@routes.post("/v1/b2b/sessions")
async def create_session(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    response = await call(request.app[BACKENDS].sessions.CreateSession(
        session_pb.CreateSessionRequest(
            organization_id=id_field(body, "organization_id"),
            member_id=id_field(body, "member_id"),
            session_duration_minutes=_duration(body),
        ),
    ))
    return _session_answer(response, session_token=response.session_token)


@routes.post("/v1/b2b/sessions/authenticate")
async def authenticate_session(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    token, jwt = string_field(body, "session_token"), string_field(body, "session_jwt")
    if bool(token) == bool(jwt):
        raise ServiceError("INVALID_VALUE", "give exactly one of session_token and session_jwt")
    message = (session_pb.AuthenticateSessionRequest(session_token=token) if token
               else session_pb.AuthenticateSessionRequest(session_jwt=jwt))
    response = await call(request.app[BACKENDS].sessions.AuthenticateSession(message))
    return _session_answer(response)


@routes.post("/v1/b2b/sessions/revoke")
async def revoke_sessions(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    organization_id = string_field(body, "organization_id", required=True)
    session_id, member_id = string_field(body, "member_session_id"), string_field(body, "member_id")
    if bool(session_id) == bool(member_id):
        raise ServiceError("INVALID_VALUE", "give exactly one of member_session_id and member_id")
    message = (session_pb.RevokeSessionsRequest(organization_id=organization_id, session_id=session_id) if session_id
               else session_pb.RevokeSessionsRequest(organization_id=organization_id, member_id=member_id))
    response = await call(request.app[BACKENDS].sessions.RevokeSessions(message))
    return envelope(200, revoked_member_session_ids=list(response.revoked_session_ids))


@routes.get("/v1/b2b/sessions/jwks/{project_id}")
@public  # like any JWKS: verifiers fetch it without the project secret
async def jwks(request: web.Request) -> web.Response:
    if request.match_info["project_id"] != request.app[SETTINGS].project_id:
        raise ServiceError("NOT_FOUND", "no such project")
    response = await call(request.app[BACKENDS].sessions.GetJwks(session_pb.GetJwksRequest()))
    reply = envelope(200, keys=[_jwk_json(key) for key in response.keys])
    # Short, so that verifiers see a rotation's new key soon; they should also
    # refetch when they meet an unknown kid.
    reply.headers["Cache-Control"] = "public, max-age=60"
    return reply


@routes.post("/v1/b2b/sessions/jwks/rotate")
async def rotate_signing_key(request: web.Request) -> web.Response:
    response = await call(
        request.app[BACKENDS].sessions.RotateSigningKey(session_pb.RotateSigningKeyRequest())
    )
    return envelope(200, signing_key=_jwk_json(response.signing_key))
