"""Secret tokens: `<prefix><token id>_<secret>`, for SCIM bearer tokens
(`scimd_…`), session tokens (`scimd_session_…`), Admin Portal links
(`scimd_portal_…`), OAuth client secrets (`scimd_client_…`) and OAuth access
tokens (`scimd_at_…`).

The token id (64 random bits, hex) finds the row without scanning; the secret
(256 random bits) is stored only as its SHA-256 and compared in constant time.
A plain hash suffices because the secret is random, not a password.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class IssuedToken:
    token_id: str
    plaintext: str
    secret_hash: bytes

    @property
    def last_four(self) -> str:
        return self.plaintext[-4:]


class TokenKind:
    def __init__(self, prefix: str):
        self.prefix = prefix
        self._format = re.compile(rf"^{re.escape(prefix)}([0-9a-f]{{16}})_([A-Za-z0-9_-]{{43}})$")

    def issue(self) -> IssuedToken:
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        return IssuedToken(token_id, f"{self.prefix}{token_id}_{secret}", hash_secret(secret))

    def parse(self, plaintext: str) -> tuple[str, str] | None:
        """(token id, secret) of a well-formed token of this kind, else None."""
        match = self._format.match(plaintext)
        return (match.group(1), match.group(2)) if match else None


BEARER_TOKENS = TokenKind("scimd_")
SESSION_TOKENS = TokenKind("scimd_session_")
PORTAL_LINKS = TokenKind("scimd_portal_")
OAUTH_CLIENT_SECRETS = TokenKind("scimd_client_")
ACCESS_TOKENS = TokenKind("scimd_at_")


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def secret_matches(secret: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
