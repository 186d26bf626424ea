"""The portal session: a signed, short-lived cookie naming one session and
its organization, and carrying the CSRF token its forms must echo. Signed
(HS256, PyJWT) with a key derived from the project secret, which every
gateway replica shares. The cookie alone cannot be taken back, so leaving
the portal is recorded by the connections service, which every replica asks
before serving a page."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt
from scimd.connections.v1 import connections_service_pb2 as connections_pb

from gateway.backends import Backends
from gateway.calls import call
from runtime.errors import ServiceError
from runtime.settings import Settings

COOKIE = "scimd_portal"
LIFETIME = timedelta(hours=1)
# The page a portal link shows before it is used sets this cookie, and its
# form must echo it: only that page, in that browser, can use the link.
ENTRY_COOKIE = "scimd_portal_entry"
ENTRY_LIFETIME = timedelta(hours=1)  # as long as a link may wait to be opened
_AUDIENCE = "scimd-admin-portal"


@dataclass(frozen=True)
class PortalSession:
    session_id: str
    organization_id: str
    csrf_token: str
    expires_at: datetime


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.project_secret.encode(), b"scimd admin portal session", hashlib.sha256).digest()


def issue(settings: Settings, session_id: str, organization_id: str) -> tuple[str, PortalSession]:
    expires_at = datetime.now(timezone.utc).replace(microsecond=0) + LIFETIME
    session = PortalSession(session_id, organization_id, secrets.token_urlsafe(32), expires_at)
    cookie = jwt.encode(
        {"sid": session_id, "org": organization_id, "csrf": session.csrf_token, "exp": expires_at, "aud": _AUDIENCE},
        _key(settings), algorithm="HS256",
    )
    return cookie, session


def read(settings: Settings, cookie: str) -> PortalSession | None:
    """The session the cookie names if its signature holds and it has not expired
    (whether it was ended is `is_open`'s question)."""
    try:
        claims = jwt.decode(cookie, _key(settings), algorithms=["HS256"], audience=_AUDIENCE,
                            options={"require": ["exp", "sid", "org", "csrf"]})
    except jwt.PyJWTError:
        return None
    return PortalSession(claims["sid"], claims["org"], claims["csrf"],
                         datetime.fromtimestamp(claims["exp"], timezone.utc))


def csrf_matches(session: PortalSession, submitted: str) -> bool:
    return hmac.compare_digest(session.csrf_token.encode(), submitted.encode())


def new_entry_token() -> str:
    return secrets.token_urlsafe(32)


def entry_matches(cookie: str, submitted: str) -> bool:
    return bool(cookie) and hmac.compare_digest(cookie.encode(), submitted.encode())


async def is_open(backends: Backends, session: PortalSession) -> bool:
    """False once the admin left the portal, or once the organization is gone."""
    try:
        response = await call(backends.connections.GetPortalSession(
            connections_pb.GetPortalSessionRequest(
                organization_id=session.organization_id, session_id=session.session_id),
        ))
    except ServiceError as error:
        if error.kind.reason == "NOT_FOUND":
            return False
        raise
    return not response.HasField("end_time")


async def end(backends: Backends, session: PortalSession) -> None:
    await call(backends.connections.EndPortalSession(
        connections_pb.EndPortalSessionRequest(organization_id=session.organization_id, session_id=session.session_id),
    ))
