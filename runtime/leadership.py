"""One holder at a time, across every replica of a service, of a piece of
work that must not run twice at once (the webhooks service's intake of the
event stream, which has to store events in stream order).

The holder is elected by a PostgreSQL session advisory lock taken on a
connection kept for the purpose, and it does the guarded writes on that same
connection. When the connection is lost the lock goes with it, and so do the
writes a former holder may still attempt: two holders can never both write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Awaitable, Callable, TypeVar

import asyncpg

from runtime.db import DATABASE_UNAVAILABLE, connection_closed
from runtime.metrics import LEADERSHIP_HELD

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL_SECONDS = 0.5
CONFIRM_TIMEOUT_SECONDS = 5.0
# What a lost or unreachable database raises.
_DATABASE_ERRORS = (*DATABASE_UNAVAILABLE, asyncio.TimeoutError, asyncpg.PostgresError)


class LeadershipLost(Exception):
    """The lock's connection is gone: another replica may hold it by now."""


class Leadership:
    def __init__(self, pool: asyncpg.Pool, name: str, poll_seconds: float = POLL_SECONDS):
        """`name` identifies the work; it is hashed into the lock's key, so
        it should include the schema when several systems share a database."""
        self._pool = pool
        self._name = name
        self._poll_seconds = poll_seconds
        self._conn: asyncpg.Connection | None = None
        # Counted up and down, not set: replicas sharing a process (the tests)
        # must not overwrite each other's holding.
        self._held_gauge = LEADERSHIP_HELD.labels(name)

    @property
    def held(self) -> bool:
        """Whether this replica believes it holds the lock (until it learns otherwise)."""
        return self._conn is not None

    @property
    def connection(self) -> asyncpg.Connection:
        """The connection the holder writes on."""
        if self._conn is None or connection_closed(self._conn):
            raise LeadershipLost(self._name)
        return self._conn

    async def acquire(self, stopping: asyncio.Event) -> bool:
        """Waits until this replica holds the lock (True), or `stopping` is set (False)."""
        while not stopping.is_set():
            try:
                if await self._try_acquire():
                    log.info("leadership acquired", extra={"work": self._name})
                    return True
            except _DATABASE_ERRORS as error:
                log.warning("leadership: database unavailable; retrying", extra={"error": repr(error)})
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._poll_seconds)
        return False

    async def _try_acquire(self) -> bool:
        conn = await self._pool.acquire()
        try:
            held = await conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", self._name, timeout=CONFIRM_TIMEOUT_SECONDS
            )
        except BaseException:
            await self._pool.release(conn)
            raise
        if not held:
            await self._pool.release(conn)
            return False
        self._conn = conn
        self._held_gauge.inc()
        return True

    async def run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Does a guarded write on the connection that holds the lock."""
        return await work(self.connection)

    async def confirm(self) -> None:
        """Raises LeadershipLost unless the lock's connection still answers."""
        try:
            await self.connection.fetchval("SELECT 1", timeout=CONFIRM_TIMEOUT_SECONDS)
        except _DATABASE_ERRORS as error:
            raise LeadershipLost(self._name) from error

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        self._held_gauge.dec()
        with contextlib.suppress(Exception):
            if not connection_closed(conn):
                await conn.fetchval("SELECT pg_advisory_unlock(hashtextextended($1, 0))", self._name, timeout=2)
        with contextlib.suppress(Exception):
            await self._pool.release(conn, timeout=2)
