"""SQL of the roles connections grant on SCIM attributes: attribute values and rules."""

from __future__ import annotations

import asyncpg

from services.rbac.attribute_grants import AttributeAssignment, RuleAssignment
from services.rbac.repository import Executor


async def attribute_assignments(executor: Executor, organization_id: str,
                                connection_ids: list[str]) -> dict[str, list[AttributeAssignment]]:
    """connection_id → its attribute assignments, ordered."""
    rows = await executor.fetch(
        "SELECT connection_id, attribute, value, role_id FROM attribute_role_assignments"
        " WHERE organization_id = $1 AND connection_id = ANY($2::text[]) ORDER BY attribute, value, role_id",
        organization_id, connection_ids,
    )
    found: dict[str, list[AttributeAssignment]] = {}
    for row in rows:
        found.setdefault(row["connection_id"], []).append(
            AttributeAssignment(row["attribute"], row["value"], row["role_id"]))
    return found


async def rule_assignments(executor: Executor, organization_id: str,
                           connection_ids: list[str]) -> dict[str, list[RuleAssignment]]:
    """connection_id → its rules, ordered."""
    rows = await executor.fetch(
        "SELECT connection_id, filter, role_id FROM rule_role_assignments"
        " WHERE organization_id = $1 AND connection_id = ANY($2::text[]) ORDER BY connection_id, position",
        organization_id, connection_ids,
    )
    found: dict[str, list[RuleAssignment]] = {}
    for row in rows:
        found.setdefault(row["connection_id"], []).append(RuleAssignment(row["filter"], row["role_id"]))
    return found


async def connections_granting(executor: Executor, organization_id: str, connection_ids: list[str]) -> set[str]:
    """Those of the connections that grant roles on SCIM attributes (an index lookup each)."""
    rows = await executor.fetch("SELECT c FROM connections_granting($1, $2) AS c", organization_id, connection_ids)
    return {row["c"] for row in rows}


async def connections_granting_under_lock(executor: Executor, organization_id: str,
                                          connection_ids: list[str]) -> set[str]:
    """`connections_granting` once this statement holds the organization's
    lock (repository.lock_organization), which it gives back as it ends:
    for a check that leads to no write."""
    rows = await executor.fetch("SELECT c FROM connections_granting_under_lock($1, $2) AS c",
                                organization_id, connection_ids)
    return {row["c"] for row in rows}


async def replace_attribute_assignments(conn: asyncpg.Connection, organization_id: str, connection_id: str,
                                        assignments: list[AttributeAssignment]) -> None:
    await conn.execute(
        "DELETE FROM attribute_role_assignments WHERE organization_id = $1 AND connection_id = $2",
        organization_id, connection_id,
    )
    await conn.execute(
        "INSERT INTO attribute_role_assignments (organization_id, connection_id, attribute, value, role_id)"
        " SELECT $1, $2, a, v, r FROM unnest($3::text[], $4::text[], $5::text[]) AS given (a, v, r)",
        organization_id, connection_id,
        [a.attribute for a in assignments], [a.value for a in assignments], [a.role_id for a in assignments],
    )


async def replace_rule_assignments(conn: asyncpg.Connection, organization_id: str, connection_id: str,
                                   rules: list[RuleAssignment]) -> None:
    await conn.execute(
        "DELETE FROM rule_role_assignments WHERE organization_id = $1 AND connection_id = $2",
        organization_id, connection_id,
    )
    await conn.execute(
        "INSERT INTO rule_role_assignments (organization_id, connection_id, position, filter, role_id)"
        " SELECT $1, $2, p, f, r FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS given (f, r, p)",
        organization_id, connection_id, [rule.filter for rule in rules], [rule.role_id for rule in rules],
    )


async def forget_connection(conn: asyncpg.Connection, organization_id: str, connection_id: str) -> None:
    for table in ("attribute_role_assignments", "rule_role_assignments"):
        await conn.execute(
            f"DELETE FROM {table} WHERE organization_id = $1 AND connection_id = $2", organization_id, connection_id
        )
