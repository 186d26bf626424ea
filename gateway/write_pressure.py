"""Back-pressure from webhook delivery onto SCIM writes.

Every write becomes events that every subscribed endpoint must receive; on a
machine the writes and the deliveries share, writes taken as fast as they come
leave the deliveries behind without bound. So each gateway watches how far
delivery is behind (the webhooks service's GetDeliveryLag, twice a second)
and, once that passes the setting, holds the writes it admits to a rate:
  - lag above the setting and not falling: the rate is cut to CUT × what was
    written in the last interval (at least MIN_RATE); falling, it is held;
  - lag under half the setting: the rate grows by GROW, and the limit goes
    once it no longer binds;
a multiplicative increase and decrease on writes per second, as TCP's
congestion control does on its window.
A write over the rate waits its turn (at most MAX_WAIT_SECONDS), else it is a
429 with Retry-After, which Okta and Entra honour. Reads are never held.
When the webhooks service cannot be asked, writes are not held."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Awaitable, Callable

from gateway.rate_limit import retry_after_seconds
from runtime.errors import ServiceError
from runtime.metrics import SCIM_WRITE_LIMIT

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
CUT = 0.7
GROW = 1.25
MIN_RATE = 5.0
MAX_WAIT_SECONDS = 2.0


class WritePressure:
    def __init__(self, lag_threshold: float, read_lag: Callable[[], Awaitable[float]]):
        """`read_lag` asks the webhooks service; `lag_threshold` 0 disables back-pressure."""
        self._threshold = lag_threshold
        self._read_lag = read_lag
        self.limit: float | None = None  # writes per second admitted; None: not limited
        self._written = 0  # writes admitted since the last poll
        self._next_free = 0.0  # monotonic time the next write may start, under a limit
        self._last_lag = 0.0
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if self._threshold > 0:
            self._task = asyncio.create_task(self._watch(), name="write-pressure")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def admit(self, cost: int = 1) -> None:
        """Returns when `cost` writes may go; raises RATE_LIMITED when they would wait too long."""
        self._written += cost
        if self.limit is None:
            return
        now = time.monotonic()
        start = max(now, self._next_free)
        wait = start - now
        if wait > MAX_WAIT_SECONDS:
            self._written -= cost
            raise ServiceError("RATE_LIMITED", "webhook delivery is behind; retry after the given delay",
                               retry_after_seconds=retry_after_seconds(wait))
        self._next_free = start + cost / self.limit
        if wait > 0:
            await asyncio.sleep(wait)

    def observe(self, lag: float, elapsed: float) -> None:
        """Adjusts the limit to one poll's lag and the writes of its `elapsed` seconds."""
        rate = self._written / elapsed if elapsed > 0 else 0.0
        self._written = 0
        falling = lag < self._last_lag * 0.9
        self._last_lag = lag
        if lag > self._threshold and (falling and self.limit is not None or rate == 0):
            pass  # catching up at this rate, or nothing written to hold: as it is
        elif lag > self._threshold:
            self.limit = max(MIN_RATE, CUT * min(rate, self.limit or rate))
            log.info("webhook delivery is behind: SCIM writes held", extra={
                "lag_seconds": round(lag, 2), "writes_per_second": round(self.limit, 1)})
        elif self.limit is not None and lag < self._threshold / 2:
            self.limit *= GROW
            if self.limit > 2 * rate:  # it no longer binds
                self.limit = None
                log.info("webhook delivery caught up: SCIM writes no longer held")
        SCIM_WRITE_LIMIT.set(self.limit or 0)

    async def _watch(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                lag = await self._read_lag()
            except Exception as error:  # not asked: not held
                log.debug("could not read the delivery lag", extra={"error": repr(error)})
                lag = 0.0
            now = time.monotonic()
            self.observe(lag, now - last)
            last = now
