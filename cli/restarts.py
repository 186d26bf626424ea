"""When to restart a process that died, and when to call it a crash loop:
the rules of a process supervisor, with no I/O (the clock is passed in)."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

INITIAL_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 30.0
CRASH_LOOP_RESTARTS = 5
CRASH_LOOP_WINDOW_SECONDS = 60.0
# A process that ran this long before it died starts its backoff afresh.
STABLE_AFTER_SECONDS = 30.0


@dataclass
class RestartPolicy:
    initial_delay: float = INITIAL_DELAY_SECONDS
    max_delay: float = MAX_DELAY_SECONDS
    loop_restarts: int = CRASH_LOOP_RESTARTS
    loop_window: float = CRASH_LOOP_WINDOW_SECONDS
    stable_after: float = STABLE_AFTER_SECONDS
    _delay: float = 0.0
    _exits: collections.deque[float] = field(default_factory=collections.deque)

    def next_delay(self, now: float, ran_for: float) -> float:
        """Records an exit (or a failed start: ran_for 0) at `now`; returns how
        long to wait before starting the process again: doubling from the
        initial delay to the ceiling, afresh after a stable run."""
        self._exits.append(now)
        while self._exits and self._exits[0] <= now - self.loop_window:
            self._exits.popleft()
        if ran_for >= self.stable_after or not self._delay:
            self._delay = self.initial_delay
        else:
            self._delay = min(self._delay * 2, self.max_delay)
        return self._delay

    @property
    def crash_looping(self) -> bool:
        """At least `loop_restarts` exits within the window of the latest one."""
        return len(self._exits) >= self.loop_restarts

    def recent_exits(self) -> int:
        return len(self._exits)
