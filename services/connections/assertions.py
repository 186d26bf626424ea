"""JWT client assertions (RFC 7523 §3) checked against the issuer's published
keys. The keys are fetched through the same SSRF guard as webhooks, cached,
and fetched again when an assertion names a key id the cache lacks (at most
once per REFRESH_SECONDS per URL, so forged key ids cannot make us hammer it).

PyJWT does the signature and claim checks: a maintained implementation of
the JOSE rules (algorithm pinning, exp/nbf/iat leeway), not ours to get wrong.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import aiohttp
import jwt

from runtime.errors import ServiceError
from runtime.ssrf import AllowList, GuardedResolver, guarded_socket_factory

# Asymmetric algorithms only: a JWKS never holds a shared secret.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
CACHE_SECONDS = 600
REFRESH_SECONDS = 30
FETCH_TIMEOUT_SECONDS = 5
MAX_JWKS_BYTES = 256 * 1024
# An assertion is a one-time credential: one that lives longer is refused.
# (Entra's workload identity assertions live about 65 minutes.)
MAX_LIFETIME_SECONDS = 2 * 3600
LEEWAY_SECONDS = 60


@dataclass(frozen=True)
class Trust:
    issuer: str
    subject: str
    audience: str
    jwks_url: str


@dataclass(frozen=True)
class VerifiedAssertion:
    # What makes it single-use: its jti, or when it has none (Entra sends
    # none) a digest of the assertion itself.
    replay_key: str
    expires_at: datetime


def _refused(why: str) -> ServiceError:
    return ServiceError("INVALID_CLIENT", f"the client assertion is not valid: {why}")


class KeySets:
    """Cached JWKS documents by URL."""

    def __init__(self, allowed: AllowList, clock=time.monotonic) -> None:
        self._allowed = allowed
        self._clock = clock
        self._cached: dict[str, tuple[float, jwt.PyJWKSet]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def key(self, url: str, kid: str | None) -> jwt.PyJWK:
        keys = await self._keys(url, refresh=False)
        found = _find(keys, kid)
        if found is None:
            keys = await self._keys(url, refresh=True)
            found = _find(keys, kid)
        if found is None:
            raise _refused(f"no key {kid!r} at the trusted JWKS URL")
        return found

    async def _keys(self, url: str, *, refresh: bool) -> jwt.PyJWKSet:
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            fetched_at, keys = self._cached.get(url, (float("-inf"), None))
            age = self._clock() - fetched_at
            if keys is not None and (age < CACHE_SECONDS and not refresh or refresh and age < REFRESH_SECONDS):
                return keys
            try:
                fresh = await self._fetch(url)
            except ServiceError:
                if keys is not None and not refresh:
                    return keys  # the issuer's keys are unreachable for now: the ones we hold still verify
                raise
            self._cached[url] = (self._clock(), fresh)
            return fresh

    async def _fetch(self, url: str) -> jwt.PyJWKSet:
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self._allowed),
                                         socket_factory=guarded_socket_factory(self._allowed))
        try:
            async with aiohttp.ClientSession(connector=connector, trust_env=False,
                                             timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)) as http:
                async with http.get(url, allow_redirects=False) as response:
                    if response.status != 200:
                        raise ServiceError("UNAVAILABLE", f"the JWKS URL answered {response.status}",
                                           retry_after_seconds=1)
                    body = await response.content.read(MAX_JWKS_BYTES + 1)
            if len(body) > MAX_JWKS_BYTES:
                raise _refused("the JWKS document is too large")
            return jwt.PyJWKSet.from_json(body.decode())
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise ServiceError("UNAVAILABLE", f"the JWKS URL could not be read ({type(error).__name__})",
                               retry_after_seconds=1) from None
        except (jwt.PyJWKSetError, jwt.InvalidKeyError, UnicodeDecodeError, ValueError):
            raise _refused("the JWKS URL holds no usable keys") from None


def _find(keys: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    candidates = [k for k in keys.keys if kid is None or k.key_id == kid]
    return candidates[0] if len(candidates) == 1 or (candidates and kid is not None) else None


async def verify(assertion: str, trust: Trust, keys: KeySets) -> VerifiedAssertion:
    """The assertion's id and expiry, once its signature, issuer, subject,
    audience, lifetime and id are all as the trust requires."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise _refused("it is not a JWT") from None
    if header.get("alg") not in ALGORITHMS:
        raise _refused(f"algorithm {header.get('alg')!r} is not accepted")
    key = await keys.key(trust.jwks_url, header.get("kid"))
    # Entra shows admins the audience as api://<app id>/.default and puts api://<app id> in the token.
    audiences = sorted({trust.audience, trust.audience.removesuffix("/.default")})
    try:
        claims = jwt.decode(
            assertion, key.key, algorithms=ALGORITHMS, audience=audiences, issuer=trust.issuer,
            leeway=LEEWAY_SECONDS, options={"require": ["exp", "iss", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise _refused("it has expired") from None
    except jwt.InvalidAudienceError:
        raise _refused("wrong audience") from None
    except jwt.InvalidIssuerError:
        raise _refused("wrong issuer") from None
    except jwt.PyJWTError as error:
        raise _refused(type(error).__name__) from None
    if claims["sub"] != trust.subject:
        raise _refused("wrong subject")
    jti = claims.get("jti")
    if jti is not None and (not isinstance(jti, str) or not jti):
        raise _refused("jti must be a non-empty string")
    now = time.time()
    issued = claims.get("iat", claims.get("nbf", now))
    if not isinstance(issued, (int, float)) or claims["exp"] - min(issued, now) > MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise _refused(f"it lives longer than {MAX_LIFETIME_SECONDS} s")
    replay_key = f"jti:{jti}" if jti else "sha256:" + hashlib.sha256(assertion.encode()).hexdigest()
    return VerifiedAssertion(replay_key, datetime.fromtimestamp(claims["exp"] + LEEWAY_SECONDS, timezone.utc))
