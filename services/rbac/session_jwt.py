"""Session JWTs in the Stytch B2B shape: `sub` is the member, the session
and the organization are namespaced claims (Stytch's own names, so code
written against Stytch's JWTs reads ours), signed ES256 with a `kid`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

from services.rbac.signing_keys import ALGORITHM, KeyRing

SESSION_CLAIM = "https://stytch.com/session"
ORGANIZATION_CLAIM = "https://stytch.com/organization"
# A JWT refreshed through its session may have expired this long ago at most;
# older ones must authenticate with the session token.
REFRESH_WINDOW = timedelta(days=366)
# Apps authenticate the same JWT on request after request: a valid one is
# verified once, then recognised (exact string) until it expires.
VERIFIED_CACHE_SIZE = 10_000


class InvalidJwt(Exception):
    """Not a session JWT of this project, or not signed by one of its keys."""


@dataclass(frozen=True)
class SessionClaims:
    member_id: str
    organization_id: str
    session_id: str
    started_at: datetime
    last_accessed_at: datetime
    expires_at: datetime
    roles: tuple[str, ...]
    issued_at: datetime
    jwt_expires_at: datetime


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class SessionJwts:
    def __init__(self, keys: KeyRing, *, issuer: str, project_id: str, lifetime: timedelta):
        self._keys = keys
        self._issuer = issuer
        self._project_id = project_id
        self.lifetime = lifetime
        self._verified: dict[str, SessionClaims] = {}

    def mint(self, *, member_id: str, organization_id: str, session_id: str, started_at: datetime,
             last_accessed_at: datetime, expires_at: datetime, roles: list[str]) -> tuple[str, datetime]:
        """The JWT, and when it was issued. It never outlives its session."""
        now = datetime.now(timezone.utc).replace(microsecond=0)
        key = self._keys.signing_key()
        claims = {
            "iss": self._issuer,
            "aud": [self._project_id],
            "sub": member_id,
            "iat": now,
            "nbf": now,
            "exp": min(now + self.lifetime, expires_at),
            SESSION_CLAIM: {
                "id": session_id,
                "started_at": _iso(started_at),
                "last_accessed_at": _iso(last_accessed_at),
                "expires_at": _iso(expires_at),
                "roles": roles,
            },
            ORGANIZATION_CLAIM: {"organization_id": organization_id},
        }
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid}), now

    async def verify(self, token: str) -> tuple[SessionClaims, bool]:
        """The claims of a JWT signed by one of our keys, and whether it has
        expired (an expired one may still be refreshed through its session)."""
        known = self._verified.get(token)
        if known is not None and known.jwt_expires_at > datetime.now(timezone.utc):
            return known, False
        try:
            kid = jwt.get_unverified_header(token).get("kid", "")
        except jwt.PyJWTError:
            raise InvalidJwt("not a JWT") from None
        key = await self._keys.verifying_key(str(kid))
        if key is None:
            raise InvalidJwt("signed by an unknown key")
        options = {"require": ["exp", "iat", "sub", "iss", "aud"]}
        try:
            claims = jwt.decode(token, key.public_key, algorithms=[ALGORITHM], audience=self._project_id,
                                issuer=self._issuer, options=options)
            expired = False
        except jwt.ExpiredSignatureError:
            claims = jwt.decode(token, key.public_key, algorithms=[ALGORITHM], audience=self._project_id,
                                issuer=self._issuer, options={**options, "verify_exp": False})
            expired = True
        except jwt.PyJWTError as error:
            raise InvalidJwt(str(error)) from None
        try:
            session, organization = claims[SESSION_CLAIM], claims[ORGANIZATION_CLAIM]
            parsed = SessionClaims(
                member_id=claims["sub"],
                organization_id=organization["organization_id"],
                session_id=session["id"],
                started_at=_parse_iso(session["started_at"]),
                last_accessed_at=_parse_iso(session["last_accessed_at"]),
                expires_at=_parse_iso(session["expires_at"]),
                roles=tuple(session.get("roles", ())),
                issued_at=datetime.fromtimestamp(claims["iat"], timezone.utc),
                jwt_expires_at=datetime.fromtimestamp(claims["exp"], timezone.utc),
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidJwt("not a session JWT") from None
        if expired and datetime.now(timezone.utc) - parsed.jwt_expires_at > REFRESH_WINDOW:
            raise InvalidJwt("expired too long ago")
        if not expired:
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = parsed
        return parsed, expired
