"""The portal session: a signed, short-lived cookie naming one organization
and carrying the CSRF token its forms must echo. Stateless, so any gateway
replica serves it; signed (HS256, PyJWT) with a key derived from the project
secret, which every replica shares."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

from services.common.settings import Settings

COOKIE = "scimd_portal"
LIFETIME = timedelta(hours=1)
_AUDIENCE = "scimd-admin-portal"


@dataclass(frozen=True)
class PortalSession:
    organization_id: str
    csrf_token: str
    expires_at: datetime


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.project_secret.encode(), b"scimd admin portal session", hashlib.sha256).digest()


def issue(settings: Settings, organization_id: str) -> tuple[str, PortalSession]:
    expires_at = datetime.now(timezone.utc).replace(microsecond=0) + LIFETIME
    session = PortalSession(organization_id, secrets.token_urlsafe(32), expires_at)
    cookie = jwt.encode(
        {"org": organization_id, "csrf": session.csrf_token, "exp": expires_at, "aud": _AUDIENCE},
        _key(settings), algorithm="HS256",
    )
    return cookie, session


def read(settings: Settings, cookie: str) -> PortalSession | None:
    try:
        claims = jwt.decode(cookie, _key(settings), algorithms=["HS256"], audience=_AUDIENCE,
                            options={"require": ["exp", "org", "csrf"]})
    except jwt.PyJWTError:
        return None
    return PortalSession(claims["org"], claims["csrf"], datetime.fromtimestamp(claims["exp"], timezone.utc))


def csrf_matches(session: PortalSession, submitted: str) -> bool:
    return hmac.compare_digest(session.csrf_token.encode(), submitted.encode())
