"""Leases on the partitions of a piece of work, spread over the live replicas
(the webhooks intake: one exclusive consumer per partition of the stream).

Each replica keeps one connection on which it holds session advisory locks:
one for its membership, in the first free slot, and one per partition it
serves. The guarded writes of its partitions go on that connection, so when
the connection is lost (the process died, or the network) its locks are free
at once, and anything it still attempts fails: two replicas never write for
one partition.

Every POLL_SECONDS each replica reads the live members from pg_locks and
computes the same assignment: partition p to the (p mod n)-th member by
slot. It hands back the partitions assigned elsewhere, once their consumer
has stopped, and takes those assigned to it as soon as their locks are free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Awaitable, Callable, TypeVar

import asyncpg

from runtime.db import connection_closed
from runtime.leadership import LeadershipLost
from runtime.metrics import PARTITIONS_HELD

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
STATEMENT_TIMEOUT_SECONDS = 5.0
MAX_MEMBERS = 256

T = TypeVar("T")

# The live members: their membership locks, two-key form (classid, objid = slot).
_LIVE_MEMBERS = (
    "SELECT coalesce(array_agg(objid::int ORDER BY objid), '{}') FROM pg_locks"
    " WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = hashtext($1)::oid"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def assignment(live_slots: list[int], partitions: int) -> dict[int, int]:
    """Partition → the member slot that serves it: round robin over the live slots in order."""
    if not live_slots:
        return {}
    return {p: live_slots[p % len(live_slots)] for p in range(partitions)}


class PartitionLease:
    """One partition, as its consumer sees it: `acquire` waits until this
    replica holds it, `confirm` raises once it must stop, `run` does a
    guarded write, `release` hands it back after the consumer stopped."""

    def __init__(self, leases: PartitionLeases, partition: int):
        self._leases = leases
        self.partition = partition
        self._granted = asyncio.Event()
        self.locked = False  # this replica's connection holds the partition's lock
        self.revoked = False  # assigned elsewhere: the consumer must stop

    @property
    def held(self) -> bool:
        return self.locked and not self.revoked

    async def acquire(self, stopping: asyncio.Event) -> bool:
        """Waits until this replica holds the partition (True), or `stopping` is set (False)."""
        while not stopping.is_set():
            if self.held:
                return True
            waiters = [asyncio.ensure_future(self._granted.wait()), asyncio.ensure_future(stopping.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        return False

    async def confirm(self) -> None:
        if not self.held:
            raise LeadershipLost(f"partition {self.partition}")

    async def run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        # Allowed while revoked: the lock is still held, so the batch in hand is finished and acked.
        return await self._leases.on_connection(self, work)

    async def release(self) -> None:
        await self._leases.unlock(self)

    def grant(self) -> None:
        self.locked, self.revoked = True, False
        self._granted.set()

    def lose(self) -> None:
        """The lock went with the connection."""
        self.locked = False
        self._granted.clear()

    def revoke(self) -> None:
        self.revoked = True
        self._granted.clear()


class PartitionLeases:
    def __init__(self, pool: asyncpg.Pool, name: str, partitions: int, poll_seconds: float = POLL_SECONDS):
        """`name` identifies the work (include the schema when systems share a database)."""
        self._pool = pool
        self._members_key = f"{name}:members"
        self._partitions_key = f"{name}:partitions"
        self._leases = [PartitionLease(self, p) for p in range(partitions)]
        self._poll_seconds = poll_seconds
        self._conn: asyncpg.Connection | None = None
        self._conn_lock = asyncio.Lock()
        self.slot: int | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._held_gauge = PARTITIONS_HELD.labels(name)

    def lease(self, partition: int) -> PartitionLease:
        return self._leases[partition]

    @property
    def held(self) -> list[int]:
        return [lease.partition for lease in self._leases if lease.held]

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self._partitions_key}-leases")

    async def stop(self) -> None:
        """Call after the consumers stopped: the locks go with the connection."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._leave()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._join()
                while not self._stopping.is_set():
                    await self._rebalance()
                    await self._pause(self._poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database, mostly; whatever it was, the locks are given up
                log.warning("partition leases: lost; joining again", extra={"error": repr(error)})
                await self._leave()
                await self._pause(self._poll_seconds)

    async def _join(self) -> None:
        conn = await self._pool.acquire()
        try:
            for slot in range(MAX_MEMBERS):
                if await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1), $2)", self._members_key, slot,
                                       timeout=STATEMENT_TIMEOUT_SECONDS):
                    self._conn, self.slot = conn, slot
                    log.info("partition leases: joined", extra={"work": self._partitions_key, "slot": slot})
                    return
        except BaseException:
            await self._pool.release(conn)
            raise
        await self._pool.release(conn)
        raise LeadershipLost(f"{self._members_key}: every member slot is taken")

    async def _leave(self) -> None:
        for lease in self._leases:
            lease.lose()
        self._held_gauge.set(0)
        conn, self._conn, self.slot = self._conn, None, None
        if conn is None:
            return
        async with self._conn_lock:
            with contextlib.suppress(Exception):
                if not connection_closed(conn):
                    # Session locks outlive a connection returned to the pool: drop them all.
                    await conn.execute("SELECT pg_advisory_unlock_all()", timeout=2)
            with contextlib.suppress(Exception):
                await self._pool.release(conn, timeout=2)

    async def _rebalance(self) -> None:
        live = await self._on_own_connection(lambda conn: conn.fetchval(_LIVE_MEMBERS, self._members_key,
                                                                        timeout=STATEMENT_TIMEOUT_SECONDS))
        owners = assignment(list(live), len(self._leases))
        wanted = []
        for lease in self._leases:
            mine = owners.get(lease.partition) == self.slot
            if lease.locked and not mine and not lease.revoked:
                lease.revoke()  # its consumer stops, then release() unlocks
            elif mine and not lease.locked:
                wanted.append(lease.partition)
        if wanted:
            taken = await self._on_own_connection(lambda conn: conn.fetchval(
                "SELECT coalesce(array_agg(p), '{}') FROM unnest($2::int[]) AS p"
                " WHERE pg_try_advisory_lock(hashtext($1), p)", self._partitions_key, wanted,
                timeout=STATEMENT_TIMEOUT_SECONDS))
            for partition in taken:
                self._leases[partition].grant()
        self._held_gauge.set(len(self.held))

    async def _on_own_connection(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        async with self._conn_lock:
            if self._conn is None or connection_closed(self._conn):
                raise LeadershipLost(self._members_key)
            return await work(self._conn)

    async def on_connection(self, lease: PartitionLease, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Runs `work` on the connection that holds the lease's lock, one piece of work at a time."""
        async with self._conn_lock:
            if not lease.locked or self._conn is None or connection_closed(self._conn):
                raise LeadershipLost(f"partition {lease.partition}")
            return await work(self._conn)

    async def unlock(self, lease: PartitionLease) -> None:
        if not lease.locked:
            lease.revoked = False
            return
        async with self._conn_lock:
            conn = self._conn
            lease.lose()
            lease.revoked = False
            if conn is not None and not connection_closed(conn):
                try:
                    await conn.fetchval("SELECT pg_advisory_unlock(hashtext($1), $2)", self._partitions_key,
                                        lease.partition, timeout=STATEMENT_TIMEOUT_SECONDS)
                except Exception as error:
                    # The lock may still be held: drop the connection, and every lock with it.
                    log.warning("partition leases: cannot unlock; leaving", extra={"error": repr(error)})
                    conn.terminate()
        self._held_gauge.set(len(self.held))

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
