"""Fairness between tenants: at most `limit` pieces of work of one tenant at a
time, so one tenant saturating its own share leaves the rest to the others.

`TenantSlots` keeps a count per tenant, and forgets a tenant when its count
returns to zero, so memory is bounded by the work in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator


class TenantSlots:
    def __init__(self, limit: int):
        self.limit = limit
        self._in_use: dict[str, int] = {}
        self._waiters: dict[str, list[asyncio.Future]] = {}

    def try_take(self, tenant: str) -> bool:
        """Takes a slot if one is free now (the gateway answers 429 otherwise)."""
        if self.limit <= 0:
            return True
        if self._in_use.get(tenant, 0) >= self.limit:
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
        while waiters:
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

    @contextlib.asynccontextmanager
    async def slot(self, tenant: str) -> AsyncIterator[None]:
        await self.take(tenant)
        try:
            yield
        finally:
            self.give_back(tenant)

    def in_use(self, tenant: str) -> int:
        return self._in_use.get(tenant, 0)
