"""Values read from the database at most every few seconds, per key: what a
replica keeps of settings another replica may change (it sees its own
changes at once by forgetting them)."""

from __future__ import annotations

import time
from typing import Awaitable, Callable, Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, seconds: float, max_entries: int = 10_000):
        self._seconds = seconds
        self._max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        # When each key was last forgotten: a read that began before must not be kept.
        self._forgotten: dict[K, float] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The value kept for `key` if read within the last `seconds`, else `load()`'s."""
        kept = self._entries.get(key)
        if kept is not None and time.monotonic() - kept[0] < self._seconds:
            return kept[1]
        read_at = time.monotonic()
        value = await load()
        if self._forgotten.get(key, float("-inf")) < read_at:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[key] = (read_at, value)
        return value

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)
        if len(self._forgotten) >= self._max_entries:
            self._forgotten.clear()
        self._forgotten[key] = time.monotonic()
