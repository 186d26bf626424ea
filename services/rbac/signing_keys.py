"""The keys that sign session JWTs: ES256 (ECDSA P-256), kept in PostgreSQL
with the private half sealed under SCIMD_ENCRYPTION_KEY, so every replica
signs and verifies with the same keys.

The newest key not retired signs. Rotating retires it and adds a new one; a
retired key stays published (and trusted) until every JWT it signed has
expired. Replicas reload the keys every RELOAD_SECONDS, and at once when they
meet a key id they do not know.
"""

from __future__ import annotations

import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from runtime.sealing import SecretBox

ALGORITHM = "ES256"
RELOAD_SECONDS = 30.0
# Clocks of replicas and verifiers differ a little; retired keys stay this much longer.
CLOCK_MARGIN = timedelta(seconds=60)
_LOCK_KEY = zlib.crc32(b"scimd.rbac.signing_keys")
_UNKNOWN_KID_RELOAD_SECONDS = 1.0


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    public_jwk: dict
    created_at: datetime
    retired_at: datetime | None

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()


def _new_key(box: SecretBox) -> tuple[str, bytes, dict]:
    private_key = ec.generate_private_key(ec.SECP256R1())
    kid = f"jwk-{uuid.uuid4()}"
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    jwk = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update(kid=kid, alg=ALGORITHM, use="sig")
    return kid, box.seal(pem), jwk


class KeyRing:
    def __init__(self, pool: asyncpg.Pool, box: SecretBox, jwt_lifetime: timedelta):
        self._pool = pool
        self._box = box
        self._published_after_retirement = jwt_lifetime + CLOCK_MARGIN
        self._keys: dict[str, SigningKey] = {}
        self._last_load = 0.0

    async def start(self) -> None:
        """Loads the keys, creating the first one if there is none. The
        service then calls load() every RELOAD_SECONDS."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
            if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)"):
                await self._insert(conn)
        await self.load()

    async def _insert(self, conn: asyncpg.Connection) -> None:
        kid, sealed, jwk = _new_key(self._box)
        await conn.execute(
            "INSERT INTO signing_keys (kid, private_key_sealed, public_jwk) VALUES ($1, $2, $3)", kid, sealed, jwk
        )

    async def load(self) -> None:
        rows = await self._pool.fetch(
            "SELECT kid, private_key_sealed, public_jwk, created_at, retired_at FROM signing_keys"
            " WHERE retired_at IS NULL OR retired_at > now() - $1::interval ORDER BY created_at",
            self._published_after_retirement,
        )
        keys = {}
        for row in rows:
            known = self._keys.get(row["kid"])
            private_key = known.private_key if known else serialization.load_pem_private_key(
                self._box.open(row["private_key_sealed"]).encode(), password=None
            )
            keys[row["kid"]] = SigningKey(row["kid"], private_key, row["public_jwk"], row["created_at"], row["retired_at"])
        self._keys = keys
        self._last_load = time.monotonic()

    async def rotate(self) -> SigningKey:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
            await conn.execute("UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL")
            await self._insert(conn)
        await self.load()
        return self.signing_key()

    def signing_key(self) -> SigningKey:
        active = [key for key in self._keys.values() if key.retired_at is None]
        if not active:
            raise RuntimeError("no signing key is loaded")
        return max(active, key=lambda key: key.created_at)

    async def verifying_key(self, kid: str) -> SigningKey | None:
        key = self._keys.get(kid)
        if key is None and time.monotonic() - self._last_load > _UNKNOWN_KID_RELOAD_SECONDS:
            await self.load()  # perhaps another replica has just rotated
            key = self._keys.get(kid)
        return key

    def published(self) -> list[dict]:
        return [key.public_jwk for key in sorted(self._keys.values(), key=lambda key: key.created_at, reverse=True)]
