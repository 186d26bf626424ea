"""The vendor's attributes declared unique (`uniqueness: server` — within the
connection, like userName — or `global` — within the organization), enforced
when a member or group is written: inside the write's transaction, each
value is locked (a transaction-level advisory lock on its scope and value),
then looked for among the other live resources of the type. Two writers of
one value are serialised by the lock; the second finds the first's
committed row.

Row-level security keeps every query inside the organization, so `global`
cannot reach further than it."""

from __future__ import annotations

import asyncpg

from runtime.errors import ServiceError
from scim.extensions import UniqueValue

# Where each resource type's values live: (table, id column, what one is called). Fixed text, never input.
_TABLES = {"User": ("members", "member_id", "member"), "Group": ("groups", "group_id", "group")}


async def claim_unique_values(conn: asyncpg.Connection, organization_id: str, connection_id: str, resource_id: str,
                              values: list[UniqueValue], resource_type: str = "User") -> None:
    """Raises UNIQUENESS when another live resource of `resource_type` ("User"
    or "Group") holds one of `values`. Call inside the transaction that writes
    the resource."""
    table, id_column, called = _TABLES[resource_type]
    for value in values:  # sorted by the caller: locks are always taken in one order
        scope = connection_id if value.scope == "server" else ""
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                           "\x1f".join((organization_id, table, scope, value.urn, value.attribute, value.folded)))
        taken = await conn.fetchval(
            f"SELECT {id_column} FROM {table} WHERE organization_id = $1 AND ($2 = '' OR connection_id = $2)"
            f" AND {id_column} <> $3 AND status <> 'deleted'"
            # The form extension_indexes.py indexes (the value, folded unless caseExact).
            f" AND {'scim_text' if value.case_exact else 'scim_folded_text'}(scim_attributes, $4::text, $5::text) = $6"
            " LIMIT 1",
            organization_id, scope, resource_id, value.urn, value.attribute, value.folded,
        )
        if taken is not None:
            raise ServiceError("UNIQUENESS", f"{value.urn}:{value.attribute} {value.folded[:200]!r} is already "
                                             f"in use by another {called}")
