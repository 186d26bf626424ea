"""A short-lived cache of bearer token → connection, so that authenticating a
SCIM request does not cost a gRPC call and a database query every time.

Entries live at most `ttl` seconds and never past the token's expiry. Keys are
SHA-256 digests: the cache holds no plaintext token.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from datetime import datetime, timezone

from scimd.connections.v1 import connection_pb2

Authenticated = tuple[connection_pb2.Connection, str]  # the connection, and which of its tokens


class TokenCache:
    def __init__(self, ttl: float, max_entries: int = 10_000):
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[float, Authenticated]] = OrderedDict()

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str) -> Authenticated | None:
        if self._ttl <= 0:
            return None
        key = self.key(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        deadline, authenticated = entry
        if time.monotonic() >= deadline:
            del self._entries[key]
            return None
        return authenticated

    def put(self, token: str, authenticated: Authenticated, token_expires: datetime) -> None:
        if self._ttl <= 0:
            return
        until_expiry = (token_expires - datetime.now(timezone.utc)).total_seconds()
        lifetime = min(self._ttl, until_expiry)
        if lifetime <= 0:
            return
        self._entries[self.key(token)] = (time.monotonic() + lifetime, authenticated)
        self._entries.move_to_end(self.key(token))
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def evict_connection(self, connection_id: str) -> None:
        """Forgets every token of the connection (a few thousand entries at most are scanned)."""
        for key in [k for k, (_, (c, _token)) in self._entries.items() if c.connection_id == connection_id]:
            del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()
