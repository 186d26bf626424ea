"""What every writer of role assignments checks."""

from __future__ import annotations

import asyncpg

from runtime.errors import ServiceError
from services.rbac import repository


async def require_existing_roles(conn: asyncpg.Connection, role_ids: list[str]) -> None:
    """INVALID_VALUE naming the missing roles, if any. Call holding the
    organization lock, so that no role can go before the transaction ends."""
    missing = sorted(set(role_ids) - await repository.existing_role_ids(conn, sorted(set(role_ids))))
    if missing:
        raise ServiceError("INVALID_VALUE", f"no such role: {', '.join(missing[:5])}")
