"""A short-lived cache of bearer token → connection, so that authenticating a
SCIM request does not cost a gRPC call and a database query every time.

Entries live at most `ttl` seconds and never past the token's expiry. Keys are
SHA-256 digests: the cache holds no plaintext token.

The guarantee on a change to a connection (rotation completed or cancelled,
connection updated or deleted, organization deleted): the gateway that made the
change evicts before it answers, other gateways when the change's event reaches
them (about a second). An authentication already in flight when an eviction
happens is never cached afterwards: every eviction is numbered, and an answer
is cached only if no eviction of its connection or organization came after
the lookup began (`begin()`).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Iterator

from scimd.connections.v1 import connection_pb2

Authenticated = tuple[connection_pb2.Connection, str]  # the connection, and which of its tokens


class TokenCache:
    def __init__(self, ttl: float, max_entries: int = 10_000):
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[float, Authenticated]] = OrderedDict()
        self._generation = 0
        # The generation of the latest eviction of each connection or organization id,
        # bounded: what falls off raises the floor, below which nothing is cached.
        self._evicted: OrderedDict[str, int] = OrderedDict()
        self._floor = 0

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def begin(self) -> int:
        """Call before looking a token up; pass the result to `put`."""
        return self._generation

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

    def put(self, token: str, authenticated: Authenticated, token_expires: datetime, begun: int) -> None:
        """Caches the answer of a lookup that began at generation `begun`,
        unless its connection changed since (the answer may be stale)."""
        if self._ttl <= 0 or self._stale(authenticated[0], begun):
            return
        until_expiry = (token_expires - datetime.now(timezone.utc)).total_seconds()
        lifetime = min(self._ttl, until_expiry)
        if lifetime <= 0:
            return
        key = self.key(token)
        self._entries[key] = (time.monotonic() + lifetime, authenticated)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def _stale(self, connection: connection_pb2.Connection, begun: int) -> bool:
        if begun < self._floor:
            return True
        return any(self._evicted.get(i, -1) > begun for i in (connection.connection_id, connection.organization_id))

    def evict_connection(self, connection_id: str) -> None:
        """Forgets every token of the connection (a few thousand entries at most are scanned)."""
        self._evict(connection_id, lambda connection: connection.connection_id == connection_id)

    def evict_organization(self, organization_id: str) -> None:
        """Forgets every token of the organization's connections."""
        self._evict(organization_id, lambda connection: connection.organization_id == organization_id)

    def _evict(self, evicted_id: str, matches) -> None:
        self._generation += 1
        self._evicted[evicted_id] = self._generation
        self._evicted.move_to_end(evicted_id)
        while len(self._evicted) > self._max_entries:
            _, generation = self._evicted.popitem(last=False)
            self._floor = max(self._floor, generation)
        for key in [k for k, (_, (connection, _token)) in self._entries.items() if matches(connection)]:
            del self._entries[key]

    @contextlib.contextmanager
    def changing(self, *, connection_id: str = "", organization_id: str = "") -> Iterator[None]:
        """Wraps a call that changes a connection (or deletes an organization):
        its tokens are evicted once the call returns, or fails (it may have
        committed all the same)."""
        try:
            yield
        finally:
            if connection_id:
                self.evict_connection(connection_id)
            if organization_id:
                self.evict_organization(organization_id)

    def clear(self) -> None:
        self._generation += 1
        self._floor = self._generation
        self._entries.clear()
