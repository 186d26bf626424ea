"""Fairness between tenants: at most `limit` pieces of work of one tenant at a
time, so one tenant saturating its own share leaves the rest to the others.

A tenant alone (no other tenant seen within ACTIVE_WINDOW_SECONDS) may use
`alone_limit` instead: the bound costs nothing when nobody else is waiting,
and applies again as soon as another tenant shows up.

`TenantSlots` keeps a count per tenant, and forgets a tenant when its count
returns to zero, so memory is bounded by the work in flight (and by the
tenants seen within the window).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import AsyncIterator

ACTIVE_WINDOW_SECONDS = 1.0


class TenantSlots:
    def __init__(self, limit: int, alone_limit: int | None = None):
        self.limit = limit
        self.alone_limit = max(limit, alone_limit or limit)
        self._in_use: dict[str, int] = {}
        self._waiters: dict[str, list[asyncio.Future]] = {}
        self._last_seen: dict[str, float] = {}

    def _limit_for(self, tenant: str) -> int:
        if self.alone_limit == self.limit:
            return self.limit
        now = time.monotonic()
        self._last_seen[tenant] = now
        others = False
        for other, seen in list(self._last_seen.items()):
            if now - seen > ACTIVE_WINDOW_SECONDS and not self._in_use.get(other):
                del self._last_seen[other]
            elif other != tenant:
                others = True
        return self.limit if others else self.alone_limit

    def try_take(self, tenant: str) -> bool:
        """Takes a slot if one is free now (the gateway answers 429 otherwise)."""
        if self.limit <= 0:
            return True
        if self._in_use.get(tenant, 0) >= self._limit_for(tenant):
            return False
        self._in_use[tenant] = self._in_use.get(tenant, 0) + 1
        return True

    async def take(self, tenant: str) -> None:
        """Takes a slot, waiting in turn for one to free (a service queues its tenant's calls)."""
        if self.try_take(tenant):
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(tenant, []).append(waiter)
        try:
            await waiter  # resolved by `give_back`, which hands the slot over
        except BaseException:
            waiters = self._waiters.get(tenant, [])
            if waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[tenant]
            elif waiter.done() and not waiter.cancelled():
                self.give_back(tenant)  # the slot was handed over as we were cancelled: pass it on
            raise

    def give_back(self, tenant: str) -> None:
        if self.limit <= 0:
            return
        waiters = self._waiters.get(tenant)
        # A waiter takes the slot over unless the tenant is above its bound now
        # (another tenant showed up meanwhile): then the slot is released instead.
        while waiters and self._in_use.get(tenant, 0) <= self._limit_for(tenant):
            waiter = waiters.pop(0)
            if not waiters:
                del self._waiters[tenant]
            if not waiter.done():
                waiter.set_result(None)  # the slot goes to the next in line, still counted
                return
            waiters = self._waiters.get(tenant)
        count = self._in_use.get(tenant, 0) - 1
        if count > 0:
            self._in_use[tenant] = count
        else:
            self._in_use.pop(tenant, None)
        self._wake_below_bound(tenant)

    def _wake_below_bound(self, tenant: str) -> None:
        """After a release, a waiter of `tenant` may now fit under its bound."""
        waiters = self._waiters.get(tenant)
        while waiters and self._in_use.get(tenant, 0) < self._limit_for(tenant):
            waiter = waiters.pop(0)
            if not waiters:
                del self._waiters[tenant]
            if not waiter.done():
                self._in_use[tenant] = self._in_use.get(tenant, 0) + 1
                waiter.set_result(None)
            waiters = self._waiters.get(tenant)

    @contextlib.asynccontextmanager
    async def slot(self, tenant: str) -> AsyncIterator[None]:
        await self.take(tenant)
        try:
            yield
        finally:
            self.give_back(tenant)

    def in_use(self, tenant: str) -> int:
        return self._in_use.get(tenant, 0)
