"""Per-connection rate limiting: a token bucket per SCIM connection on each
gateway, holding two seconds' worth of requests, refilled continuously.

A connection over its limit gets 429 with Retry-After (RFC 6585), which
Okta and Entra honour by backing off; other connections are unaffected.
"""

from __future__ import annotations

import math
import time

BURST_SECONDS = 2.0
MAX_TRACKED = 100_000


class RateLimiter:
    def __init__(self, default_per_second: float):
        self._default = default_per_second
        # connection_id → (tokens, last refill time)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, connection_id: str, per_second: float, cost: float = 1.0) -> float:
        """Takes `cost` tokens; returns 0 when allowed, else the seconds to wait.
        `per_second` 0 means the default; a negative default disables limiting."""
        rate = per_second or self._default
        if rate <= 0:
            return 0.0
        capacity = rate * BURST_SECONDS
        now = time.monotonic()
        tokens, last = self._buckets.get(connection_id, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * rate)
        # A request costing more than the bucket holds (a large /Bulk) needs it
        # full and leaves a debt: what it cost is paid back before the next.
        needed = min(cost, capacity)
        if tokens >= needed:
            self._store(connection_id, tokens - cost, now)
            return 0.0
        self._store(connection_id, tokens, now)
        return (needed - tokens) / rate

    def _store(self, connection_id: str, tokens: float, now: float) -> None:
        if len(self._buckets) >= MAX_TRACKED and connection_id not in self._buckets:
            self._buckets.clear()  # a full bucket for everyone: lenient, and bounded memory
        self._buckets[connection_id] = (tokens, now)


def retry_after_seconds(wait_seconds: float) -> int:
    return max(1, math.ceil(wait_seconds))
