"""A SCIM connection's role assignments, of three kinds: IdP groups, values
of the SCIM `roles`/`entitlements` attributes, and rules over SCIM attributes.

Reading them, and replacing some kinds, each as a whole, with the roles of
every member the change may affect recomputed in the same transaction (or,
in a dry run, the changes it would make)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from scimd.rbac.v1 import member_roles_pb2

from runtime.errors import ServiceError
from runtime.tenant_scope import TenantPool
from scim.filter import FilterError
from services.rbac import attribute_grant_repository, repository
from services.rbac.attribute_grants import (
    MAX_RULES,
    AttributeAssignment,
    RuleAssignment,
    attribute_assignment,
    check_rule,
    distinct_attribute_assignments,
)
from services.rbac.directory_reader import DirectoryReader
from services.rbac.propagation import MappingOverride, RolePropagator
from services.rbac.resolution import SCIM_ATTRIBUTE, SCIM_ATTRIBUTE_RULE
from services.rbac.role_checks import require_existing_roles

GROUPS, ATTRIBUTES, RULES = "group_assignments", "attribute_assignments", "rule_assignments"
KINDS = (GROUPS, ATTRIBUTES, RULES)
MAX_GROUP_ASSIGNMENTS = 1000
MAX_ATTRIBUTE_ASSIGNMENTS = 1000


@dataclass(frozen=True)
class Assignments:
    """A connection's assignments of each kind, ordered; None: a kind left as stored."""

    groups: list[tuple[str, str]] | None = None
    attributes: list[AttributeAssignment] | None = None
    rules: list[RuleAssignment] | None = None

    def role_ids(self) -> list[str]:
        return sorted({r for _, r in self.groups or ()} | {a.role_id for a in self.attributes or ()}
                      | {rule.role_id for rule in self.rules or ()})


def proposed(assignments: member_roles_pb2.ConnectionRoleAssignments, kinds: Iterable[str]) -> Assignments:
    """The kinds named, from the request, checked for what needs no lookup."""
    kinds = set(kinds)
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        raise ServiceError("INVALID_VALUE", f"{unknown[0]} cannot be updated; the kinds are {', '.join(KINDS)}")
    return Assignments(
        groups=_groups(assignments.group_assignments) if GROUPS in kinds else None,
        attributes=_attributes(assignments.attribute_assignments) if ATTRIBUTES in kinds else None,
        rules=_rules(assignments.rule_assignments) if RULES in kinds else None,
    )


def _groups(given) -> list[tuple[str, str]]:
    if len(given) > MAX_GROUP_ASSIGNMENTS:
        raise ServiceError("INVALID_VALUE", f"at most {MAX_GROUP_ASSIGNMENTS} group assignments per connection")
    pairs = sorted({(a.group_id, a.role_id) for a in given})
    if any(not g or not r for g, r in pairs):
        raise ServiceError("INVALID_VALUE", "each group assignment needs a group_id and a role_id")
    return pairs


def _attributes(given) -> list[AttributeAssignment]:
    if len(given) > MAX_ATTRIBUTE_ASSIGNMENTS:
        raise ServiceError("INVALID_VALUE",
                           f"at most {MAX_ATTRIBUTE_ASSIGNMENTS} attribute assignments per connection")
    try:
        return distinct_attribute_assignments(attribute_assignment(a.attribute, a.value, a.role_id) for a in given)
    except ValueError as error:
        raise ServiceError("INVALID_VALUE", str(error)) from None


def _rules(given) -> list[RuleAssignment]:
    if len(given) > MAX_RULES:
        raise ServiceError("INVALID_VALUE", f"at most {MAX_RULES} rules per connection")
    rules = sorted({RuleAssignment(r.filter, r.role_id) for r in given})
    if any(not rule.filter.strip() or not rule.role_id for rule in rules):
        raise ServiceError("INVALID_VALUE", "each rule needs a filter and a role_id")
    return rules


class ConnectionAssignments:
    def __init__(self, pool: TenantPool, directory: DirectoryReader, propagator: RolePropagator):
        self._pool = pool
        self._directory = directory
        self._propagator = propagator

    async def get(self, organization_id: str, connection_id: str) -> member_roles_pb2.ConnectionRoleAssignments:
        stored = await self._stored(self._pool.of(organization_id), organization_id, connection_id)
        return await self._proto(organization_id, connection_id, stored)

    async def update(
        self, organization_id: str, connection_id: str, wanted: Assignments, *, validate_only: bool
    ) -> tuple[member_roles_pb2.ConnectionRoleAssignments, list[member_roles_pb2.MemberRoleChange]]:
        """Replaces the kinds `wanted` gives and recomputes the members they may
        affect; with validate_only, only answers what would change. Answers
        every kind as it is (or would be) afterwards."""
        names = await self._check_against_the_directory(organization_id, connection_id, wanted)
        async with self._pool.of(organization_id).acquire() as conn, conn.transaction():
            if not validate_only:
                await repository.lock_organization(conn, organization_id)
            await require_existing_roles(conn, wanted.role_ids())
            current = await self._stored(conn, organization_id, connection_id)
            affected = sorted(await self._affected(conn, organization_id, connection_id, current, wanted))
            if validate_only:
                override = MappingOverride(
                    connection_id,
                    group_roles=_group_roles(wanted.groups) if wanted.groups is not None else None,
                    attribute_assignments=tuple(wanted.attributes) if wanted.attributes is not None else None,
                    rules=tuple(wanted.rules) if wanted.rules is not None else None,
                )
                changes = await self._propagator.recompute(
                    conn, organization_id, affected, source="API", override=override, apply=False)
            else:
                await self._store(conn, organization_id, connection_id, wanted)
                changes = await self._propagator.recompute(conn, organization_id, affected, source="API")
        after = Assignments(
            groups=current.groups if wanted.groups is None else wanted.groups,
            attributes=current.attributes if wanted.attributes is None else wanted.attributes,
            rules=current.rules if wanted.rules is None else wanted.rules,
        )
        known_names = names if wanted.groups is not None else None
        return await self._proto(organization_id, connection_id, after, known_names), changes

    async def _check_against_the_directory(self, organization_id: str, connection_id: str,
                                           wanted: Assignments) -> dict[str, str]:
        """Every group must be the connection's, every rule a filter over the
        User type as the project has it. Answers the groups' names."""
        names: dict[str, str] = {}
        if wanted.groups:
            group_ids = sorted({g for g, _ in wanted.groups})
            names = await self._directory.group_names(organization_id, connection_id, group_ids)
            unknown = sorted(set(group_ids) - set(names))
            if unknown:
                raise ServiceError("INVALID_VALUE", f"no such group in this connection: {', '.join(unknown[:5])}")
        if wanted.rules:
            user_type = await self._directory.user_type()
            for rule in wanted.rules:
                try:
                    check_rule(rule.filter, user_type)
                except FilterError as error:
                    raise ServiceError("INVALID_VALUE", f"invalid filter {rule.filter[:200]!r}: {error}") from None
        return names

    async def _affected(self, conn, organization_id: str, connection_id: str, current: Assignments,
                        wanted: Assignments) -> set[str]:
        """The members whose roles the change may alter: those holding a role
        through what goes, and those whom what comes may grant one."""
        affected: set[str] = set()
        if wanted.groups is not None:
            for group_id in sorted({g for g, _ in set(current.groups) ^ set(wanted.groups)}):
                affected.update(await self._directory.group_member_ids(organization_id, connection_id, group_id))
                affected.update(await repository.holders_through_group(conn, organization_id, group_id))
        if wanted.attributes is not None and set(wanted.attributes) != set(current.attributes):
            coming = set(wanted.attributes) - set(current.attributes)
            affected |= await self._holders_and_matches(conn, organization_id, connection_id, SCIM_ATTRIBUTE,
                                                        {f"{a.attribute} pr" for a in coming})
        if wanted.rules is not None and set(wanted.rules) != set(current.rules):
            coming_rules = set(wanted.rules) - set(current.rules)
            affected |= await self._holders_and_matches(conn, organization_id, connection_id, SCIM_ATTRIBUTE_RULE,
                                                        {rule.filter for rule in coming_rules})
        return affected

    async def _holders_and_matches(self, conn, organization_id: str, connection_id: str, source_type: str,
                                   filters: set[str]) -> set[str]:
        return await holders_and_matches(conn, self._directory, organization_id, connection_id, source_type, filters)

    @staticmethod
    async def _stored(executor, organization_id: str, connection_id: str) -> Assignments:
        attributes = await attribute_grant_repository.attribute_assignments(executor, organization_id, [connection_id])
        rules = await attribute_grant_repository.rule_assignments(executor, organization_id, [connection_id])
        return Assignments(
            groups=await repository.connection_assignments(executor, organization_id, connection_id),
            attributes=attributes.get(connection_id, []),
            rules=rules.get(connection_id, []),
        )

    @staticmethod
    async def _store(conn, organization_id: str, connection_id: str, wanted: Assignments) -> None:
        if wanted.groups is not None:
            await repository.replace_connection_assignments(conn, organization_id, connection_id, wanted.groups)
        if wanted.attributes is not None:
            await attribute_grant_repository.replace_attribute_assignments(
                conn, organization_id, connection_id, wanted.attributes)
        if wanted.rules is not None:
            await attribute_grant_repository.replace_rule_assignments(
                conn, organization_id, connection_id, wanted.rules)

    async def _proto(self, organization_id: str, connection_id: str, assignments: Assignments,
                     names: Mapping[str, str] | None = None) -> member_roles_pb2.ConnectionRoleAssignments:
        """The assignments, each group with its name (looked up unless given)."""
        groups = assignments.groups or []
        if names is None:
            names = await self._directory.group_names(organization_id, connection_id, sorted({g for g, _ in groups}))
        return member_roles_pb2.ConnectionRoleAssignments(
            organization_id=organization_id,
            connection_id=connection_id,
            group_assignments=[
                member_roles_pb2.GroupRoleAssignment(group_id=g, role_id=r, group_name=names.get(g, ""))
                for g, r in groups
            ],
            attribute_assignments=[
                member_roles_pb2.AttributeRoleAssignment(attribute=a.attribute, value=a.value, role_id=a.role_id)
                for a in assignments.attributes or []
            ],
            rule_assignments=[
                member_roles_pb2.RuleRoleAssignment(filter=rule.filter, role_id=rule.role_id)
                for rule in assignments.rules or []
            ],
        )


def _group_roles(pairs: list[tuple[str, str]]) -> dict[str, frozenset[str]]:
    roles: dict[str, set[str]] = {}
    for group_id, role_id in pairs:
        roles.setdefault(group_id, set()).add(role_id)
    return {group_id: frozenset(role_ids) for group_id, role_ids in roles.items()}


async def holders_and_matches(conn, directory: DirectoryReader, organization_id: str, connection_id: str,
                              source_type: str, filters: Iterable[str], *, refused_match_nobody: bool = False) -> set[str]:
    """Members holding a role through the connection's sources of `source_type`
    (what goes), and those the filters match (what comes: a filter that goes
    may no longer be one the directory accepts). With `refused_match_nobody`, a
    filter the directory refuses (it names what is no longer declared) matches nobody."""
    found = set(await repository.holders_through_connection(conn, organization_id, connection_id, source_type))
    for scim_filter in sorted(set(filters)):
        try:
            found.update(await directory.member_ids_matching(organization_id, connection_id, scim_filter))
        except ServiceError as error:
            if not (refused_match_nobody and error.reason == "INVALID_FILTER"):
                raise
    return found
