"""Rules recomputed after the vendor changes a schema extension.

A rule is a filter over the User type with the vendor's extensions, so a
change to an extension may change whom it matches: a deleted extension's
attributes match nobody (its rules no longer compile), a new one may make a
rule match at last, a caseExact change matches other spellings. On each
scim.schema_extension.* event every connection with rules, in every
organization, has its rule holders and the members its rules match now
recomputed, under the organization's lock like any other role change."""

from __future__ import annotations

import logging

from runtime.tenant_scope import TenantPool
from services.rbac import attribute_grant_repository, repository
from services.rbac.connection_assignments import holders_and_matches
from services.rbac.directory_reader import DirectoryReader
from services.rbac.propagation import RolePropagator
from services.rbac.resolution import SCIM_ATTRIBUTE_RULE

log = logging.getLogger(__name__)


async def recheck_rules(pool: TenantPool, directory: DirectoryReader, propagator: RolePropagator) -> int:
    """Recomputes the roles of every member a rule may grant or have granted; returns how many."""
    connections: dict[str, list[str]] = {}
    for row in await pool.shared.fetch("SELECT organization_id, connection_id FROM connections_with_rules()"):
        connections.setdefault(row["organization_id"], []).append(row["connection_id"])
    recomputed = 0
    for organization_id, connection_ids in connections.items():
        async with pool.of(organization_id).acquire() as conn, conn.transaction():
            await repository.lock_organization(conn, organization_id)
            rules = await attribute_grant_repository.rule_assignments(conn, organization_id, connection_ids)
            affected: set[str] = set()
            for connection_id in connection_ids:
                affected |= await holders_and_matches(
                    conn, directory, organization_id, connection_id, SCIM_ATTRIBUTE_RULE,
                    [rule.filter for rule in rules.get(connection_id, ())], refused_match_nobody=True)
            await propagator.recompute(conn, organization_id, sorted(affected), source="API")
            recomputed += len(affected)
    if recomputed:
        log.info("recomputed the roles rules grant after a schema extension changed",
                 extra={"members": recomputed, "organizations": len(connections)})
    return recomputed
