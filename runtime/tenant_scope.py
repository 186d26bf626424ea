"""Row-level security's half in the services: every connection that touches
tenant rows is bound to one organization first.

The tenant tables' policies compare `organization_id` with the session
setting `scimd.organization_id`, so a query that forgets its own
`organization_id = $1` still sees (and may write) only the bound
organization's rows, and a connection bound to no organization sees none.
Binding costs one round trip only when a pooled connection changes
organization; a connection remembers what it is bound to.
"""

from __future__ import annotations

from typing import Any

import asyncpg

ORGANIZATION_SETTING = "scimd.organization_id"


class TenantBoundConnection(asyncpg.Connection):
    """An asyncpg connection that knows which organization its session is bound to."""

    bound_organization: str | None = None

    async def bind_organization(self, organization_id: str) -> None:
        if self.bound_organization == organization_id:
            return
        # Forgotten first: if the statement is interrupted, the next use rebinds.
        self.bound_organization = None
        # Session-level (is_local false) and never inside a transaction, so a
        # rollback cannot silently undo it.
        await self.execute("SELECT set_config($1, $2, false)", ORGANIZATION_SETTING, organization_id)
        self.bound_organization = organization_id


class _BoundAcquisition:
    __slots__ = ("_pool", "_organization_id", "_conn")

    def __init__(self, pool: asyncpg.Pool, organization_id: str):
        self._pool = pool
        self._organization_id = organization_id
        self._conn = None

    async def __aenter__(self) -> asyncpg.Connection:
        conn = await self._pool.acquire()
        try:
            await conn.bind_organization(self._organization_id)
        except BaseException:
            await self._pool.release(conn)
            raise
        self._conn = conn
        return conn

    async def __aexit__(self, *exc_info: Any) -> None:
        conn, self._conn = self._conn, None
        await self._pool.release(conn)


class OrganizationScope:
    """The pool as one organization sees it; the same query methods as a pool."""

    __slots__ = ("_pool", "organization_id")

    def __init__(self, pool: asyncpg.Pool, organization_id: str):
        self._pool = pool
        self.organization_id = organization_id

    def acquire(self) -> _BoundAcquisition:
        return _BoundAcquisition(self._pool, self.organization_id)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.acquire() as conn:
            return await conn.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.acquire() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        async with self.acquire() as conn:
            return await conn.execute(query, *args)


class TenantPool:
    """A service's pool: `of(organization_id)` for tenant rows, `shared` for
    the tables that belong to no organization (the outbox, the project's roles)."""

    __slots__ = ("shared",)

    def __init__(self, pool: asyncpg.Pool):
        self.shared = pool

    def of(self, organization_id: str) -> OrganizationScope:
        return OrganizationScope(self.shared, organization_id)

    async def close(self) -> None:
        await self.shared.close()


async def bind_for_transaction(conn: asyncpg.Connection, organization_id: str) -> None:
    """Inside an open transaction, binds `conn` to `organization_id` until the
    transaction ends, for project-wide work that visits organizations in
    turn. The session's own binding returns afterwards."""
    await conn.execute("SELECT set_config($1, $2, true)", ORGANIZATION_SETTING, organization_id)
