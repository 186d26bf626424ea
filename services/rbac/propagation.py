"""Recomputing members' roles from the directory's current state.

Every trigger (a directory event, a mapping change, a direct assignment, a
deleted role) ends here with the members it may affect. The members, their
groups and SCIM attributes are read from the directory inside the organization's lock, so
recomputations of one organization are serialised and the last one always
sees the latest state: processing a trigger twice, or late, is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import asyncpg
import orjson
from scimd.directory.v1 import member_pb2
from scimd.rbac.v1 import member_roles_pb2

from runtime.event_catalog import MEMBER_UPDATE
from runtime.events import EventStream
from runtime.outbox import QueuedEvent, enqueue_all, new_event
from scim.schema import USER
from services.rbac import attribute_grant_repository, repository
from services.rbac.attribute_grants import AttributeAssignment, CompiledRule, RuleAssignment, compile_rules
from services.rbac.directory_reader import DirectoryReader
from services.rbac.resolution import Roles, gained_and_lost, resolve_roles, roles_to_proto
from services.rbac.session_revocation import MEMBER_INACTIVE, ROLES_LOST, SessionRevoker

SCHEMA = "rbac"


@dataclass(frozen=True)
class MappingOverride:
    """A connection's proposed assignments, for a dry run: each kind given
    stands in for the stored one (None: the stored one applies)."""

    connection_id: str
    group_roles: Mapping[str, frozenset[str]] | None = None
    attribute_assignments: tuple[AttributeAssignment, ...] | None = None
    rules: tuple[RuleAssignment, ...] | None = None


@dataclass(frozen=True)
class _AttributeGrants:
    """What one connection grants on SCIM attributes."""

    attribute_assignments: tuple[AttributeAssignment, ...]
    rules: tuple[CompiledRule, ...]


class RolePropagator:
    def __init__(self, directory: DirectoryReader, stream: EventStream, project_id: str, revoker: SessionRevoker):
        self._directory = directory
        self._stream = stream
        self._project_id = project_id
        self._revoker = revoker

    @property
    def directory(self) -> DirectoryReader:
        return self._directory

    async def recompute(
        self,
        conn: asyncpg.Connection,
        organization_id: str,
        member_ids: list[str],
        *,
        source: str,
        override: MappingOverride | None = None,
        apply: bool = True,
    ) -> list[member_roles_pb2.MemberRoleChange]:
        """Recomputes the members' roles; when `apply`, stores the changed ones
        and queues scim.member.update for each, and in the same transaction
        ends the sessions of members no longer active and of members who lost
        their last role. Callers hold the organization lock
        (repository.lock_organization) in `conn`'s transaction."""
        member_ids = sorted(set(member_ids))
        if not member_ids:
            return []
        members = await self._directory.members(organization_id, member_ids)
        group_ids = sorted({g.group_id for m in members.values() for g in m.groups})
        current_mapping = await repository.group_role_ids(conn, organization_id, group_ids)
        grants = await self._attribute_grants(conn, organization_id, members, override)
        direct = await repository.direct_role_ids(conn, organization_id, list(members))
        before = await repository.stored_roles(conn, organization_id, member_ids)

        changed: dict[str, Roles] = {}
        changes = []
        events = []
        for member_id in member_ids:
            member = members.get(member_id)
            after = (self._roles_of(member, current_mapping, direct.get(member_id, ()), override, grants)
                     if member else [])
            previous = before.get(member_id, [])
            if after == previous:
                continue
            gained, lost = gained_and_lost(previous, after)
            if gained or lost:
                changes.append(member_roles_pb2.MemberRoleChange(
                    member_id=member_id, gained_role_ids=gained, lost_role_ids=lost,
                ))
            changed[member_id] = after
            if member is not None:
                events.append(self._event(organization_id, member, previous, after, source))
        if apply:
            gone = [m for m in member_ids if m not in members]
            if gone:
                await repository.forget_members(conn, organization_id, gone)
            await repository.store_roles(conn, organization_id, {m: r for m, r in changed.items() if m in members}, events)
            inactive = [m for m in member_ids if m not in members or members[m].status != member_pb2.MEMBER_STATUS_ACTIVE]
            lost_all = [m for m, after in changed.items() if not after and before.get(m) and m not in inactive]
            await self._revoker.revoke(conn, organization_id, MEMBER_INACTIVE, member_ids=inactive)
            await self._revoker.revoke(conn, organization_id, ROLES_LOST, member_ids=lost_all)
        return changes

    async def reemit(self, conn: asyncpg.Connection, organization_id: str, member_ids: list[str],
                     source: str) -> int:
        """Queues each existing member's current roles again (unchanged: the
        previous roles are the same); under the organization lock, like recompute."""
        members = await self._directory.members(organization_id, sorted(set(member_ids)))
        stored = await repository.stored_roles(conn, organization_id, list(members))
        events = [self._event(organization_id, member, stored.get(member_id, []), stored.get(member_id, []), source)
                  for member_id, member in sorted(members.items())]
        await enqueue_all(conn, events)
        return len(events)

    async def _attribute_grants(self, conn: asyncpg.Connection, organization_id: str,
                                members: Mapping[str, member_pb2.Member],
                                override: MappingOverride | None) -> dict[str, _AttributeGrants]:
        """connection_id → what it grants on SCIM attributes, for the members' connections that grant any."""
        connection_ids = sorted({m.scim_registration.connection_id for m in members.values()})
        values = await attribute_grant_repository.attribute_assignments(conn, organization_id, connection_ids)
        rules = await attribute_grant_repository.rule_assignments(conn, organization_id, connection_ids)
        if override is not None and override.attribute_assignments is not None:
            values[override.connection_id] = list(override.attribute_assignments)
        if override is not None and override.rules is not None:
            rules[override.connection_id] = list(override.rules)
        # Rules are evaluated as they were checked: against the User type with the project's extensions.
        user_type = await self._directory.user_type() if any(rules.values()) else USER
        return {
            connection_id: _AttributeGrants(tuple(values.get(connection_id, ())),
                                            compile_rules(rules.get(connection_id, ()), user_type))
            for connection_id in connection_ids if values.get(connection_id) or rules.get(connection_id)
        }

    @staticmethod
    def _roles_of(member: member_pb2.Member, mapping: Mapping[str, list[str]], direct,
                  override: MappingOverride | None, grants: Mapping[str, _AttributeGrants]) -> Roles:
        connection_id = member.scim_registration.connection_id
        if override is not None and override.connection_id == connection_id and override.group_roles is not None:
            mapping = override.group_roles
        granted = grants.get(connection_id)
        scim_attributes: dict[str, Any] = (
            orjson.loads(member.scim_registration.scim_attributes_json or "{}") if granted else {})
        return resolve_roles(
            active=member.status == member_pb2.MEMBER_STATUS_ACTIVE,
            connection_id=connection_id,
            groups=[(g.group_id, g.display_name) for g in member.groups],
            group_roles=mapping,
            direct_role_ids=direct,
            scim_attributes=scim_attributes,
            attribute_assignments=granted.attribute_assignments if granted else (),
            rules=granted.rules if granted else (),
        )

    def _event(self, organization_id: str, member: member_pb2.Member, before: Roles, after: Roles,
               source: str) -> QueuedEvent:
        event = new_event(
            MEMBER_UPDATE, "UPDATE", project_id=self._project_id, organization_id=organization_id
        )
        event.source = source
        event.member_changed.member.CopyFrom(member)
        event.member_changed.previous_attributes_json = orjson.dumps({"roles": before}).decode()
        event.member_changed.roles.CopyFrom(roles_to_proto(organization_id, member.member_id, after))
        return QueuedEvent(self._stream, SCHEMA, event)
