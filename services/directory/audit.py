"""The audit log: one row per mutating SCIM request.

A request that changes something writes its row in the transaction of the
change (as a clause of the same statement where the change is one
statement), so a committed change always has its row; a request that fails
or changes nothing writes its row on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable, TypeVar

import asyncpg

from runtime.context import Tenant, current_request_id
from runtime.errors import ServiceError
from scim.errors import ScimError

Executor = asyncpg.Pool | asyncpg.Connection
T = TypeVar("T")

_COLUMNS = (
    "organization_id", "connection_id", "token_id", "request_id", "operation", "resource_type", "resource_id",
    "changed_attributes", "result", "detail",
)
SUCCEEDED = "succeeded"
UNCHANGED = "unchanged"


@dataclass
class AuditEntry:
    tenant: Tenant
    operation: str  # create, replace, patch, delete
    resource_type: str  # User, Group
    resource_id: str = ""
    changed_attributes: list[str] = field(default_factory=list)
    request_id: str = field(default_factory=current_request_id)
    written: bool = False
    # What the row adds about a change it records (e.g. that its effects are held).
    detail: str = ""

    def _values(self, result: str, detail: str) -> list:
        return [
            self.tenant.organization_id, self.tenant.connection_id, self.tenant.token_id, self.request_id,
            self.operation, self.resource_type, self.resource_id, sorted(set(self.changed_attributes)), result, detail,
        ]

    def cte(self, first_parameter: int) -> tuple[str, list]:
        """An INSERT for a data-modifying CTE beside a `change` CTE: the row is
        written only if the change returns a row. Parameters from `first_parameter` on."""
        placeholders = ", ".join(f"${first_parameter + i}" for i in range(len(_COLUMNS)))
        sql = (
            f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) SELECT {placeholders}"
            " WHERE EXISTS (SELECT 1 FROM change)"
        )
        return sql, self._values(SUCCEEDED, self.detail)

    async def record(self, executor: Executor, result: str = SUCCEEDED, detail: str | None = None) -> None:
        placeholders = ", ".join(f"${i + 1}" for i in range(len(_COLUMNS)))
        await executor.execute(
            f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES ({placeholders})",
            *self._values(result, self.detail if detail is None else detail),
        )
        self.written = True


async def audited(pool: asyncpg.Pool, entry: AuditEntry, work: Callable[[AuditEntry], Awaitable[T]]) -> T:
    """Runs `work`, which writes the entry with its change when it makes one;
    otherwise records the failure or the absence of change."""
    try:
        result = await work(entry)
    except (ServiceError, ScimError) as error:
        failure = error if isinstance(error, ServiceError) else ServiceError.from_scim(error)
        await entry.record(pool, failure.reason.lower(), failure.message)
        raise failure from None
    if not entry.written:
        await entry.record(pool, UNCHANGED)
    return result


async def list_entries(pool: asyncpg.Pool, organization_id: str, before_id: int | None, limit: int) -> list[asyncpg.Record]:
    """The organization's entries, newest first."""
    return await pool.fetch(
        f"SELECT audit_id, {', '.join(_COLUMNS)}, created_at FROM audit_log"
        " WHERE organization_id = $1 AND ($2::bigint IS NULL OR audit_id < $2) ORDER BY audit_id DESC LIMIT $3",
        organization_id, before_id, limit,
    )
