"""Follows the directory's events and recomputes the roles they may change.

A member's roles can change when it is deactivated, reactivated or deleted,
when it joins or leaves a mapped group, when a group that grants it a role is
renamed or deleted, when the connection mapping that group is deleted, and,
when its connection grants roles on SCIM attributes, when it is created or its
SCIM attributes change, and, when a rule may match it, when the vendor changes
a schema extension (rule_recheck.py). Deactivation and deletion, of a member or
of its organization, also end its sessions. Everything else is skipped without
a query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from scimd.events.v1 import event_pb2

from runtime.consumer import DurableConsumer
from runtime.context import request_id_var
from runtime.event_catalog import (
    CONNECTION_DELETE,
    GROUP_DELETE,
    GROUP_MEMBER_ADD,
    GROUP_MEMBER_DELETE,
    GROUP_UPDATE,
    MEMBER_CREATE,
    MEMBER_DELETE,
    MEMBER_UPDATE,
    ORGANIZATION_DELETE,
    SCHEMA_EXTENSION_DELETE,
    SCHEMA_EXTENSION_UPDATE,
)
from runtime.events import EventStream
from runtime.tenant_scope import TenantPool
from services.rbac import attribute_grant_repository, repository
from services.rbac.propagation import RolePropagator
from services.rbac.resolution import SCIM_ATTRIBUTE, SCIM_ATTRIBUTE_RULE
from services.rbac.rule_recheck import recheck_rules
from services.rbac.session_revocation import MEMBER_INACTIVE, SessionRevoker


@dataclass
class _Work:
    """What one batch of events asks of one organization."""

    request_id: str = ""
    members: set[str] = field(default_factory=set)
    # member_id → connection_id: members created, or whose SCIM attributes changed.
    attributes_changed: dict[str, str] = field(default_factory=dict)
    joined_or_left: dict[str, set[str]] = field(default_factory=dict)
    renamed_groups: set[str] = field(default_factory=set)
    deleted_groups: set[str] = field(default_factory=set)
    deleted_connections: set[str] = field(default_factory=set)
    organization_deleted: bool = False

    def _asks_beyond_attributes(self) -> bool:
        return bool(self.members or self.joined_or_left or self.renamed_groups or self.deleted_groups
                    or self.deleted_connections or self.organization_deleted)

    def asks_only_about_attributes(self) -> bool:
        return bool(self.attributes_changed) and not self._asks_beyond_attributes()

    def is_empty(self) -> bool:
        return not self.attributes_changed and not self._asks_beyond_attributes()


def _previous(json_text: str) -> dict:
    return orjson.loads(json_text) if json_text else {}


def plan(events: list[event_pb2.Event]) -> dict[str, _Work]:
    """organization_id → the work the events ask for."""
    work: dict[str, _Work] = {}
    for event in events:
        kind = event.WhichOneof("payload")
        item = work.setdefault(event.organization_id, _Work())
        item.request_id = item.request_id or event.request_id
        if kind == "member_changed":
            changed = event.member_changed
            if changed.HasField("roles"):
                continue  # our own report of a role change
            previous = _previous(changed.previous_attributes_json) if event.type == MEMBER_UPDATE else {}
            if event.type == MEMBER_DELETE or "status" in previous:
                item.members.add(changed.member.member_id)
            if event.type == MEMBER_CREATE or "scim_attributes" in previous:
                item.attributes_changed[changed.member.member_id] = changed.member.scim_registration.connection_id
        elif kind == "group_changed":
            changed = event.group_changed
            group_id = changed.group.group_id
            if event.type in (GROUP_MEMBER_ADD, GROUP_MEMBER_DELETE):
                item.joined_or_left.setdefault(group_id, set()).update(changed.member_ids)
            elif event.type == GROUP_DELETE:
                item.deleted_groups.add(group_id)
            elif event.type == GROUP_UPDATE and "display_name" in _previous(changed.previous_attributes_json):
                item.renamed_groups.add(group_id)
        elif kind == "connection_changed" and event.type == CONNECTION_DELETE:
            item.deleted_connections.add(event.connection_changed.connection.connection_id)
        elif event.type == ORGANIZATION_DELETE:
            item.organization_deleted = True
    return {organization_id: item for organization_id, item in work.items() if not item.is_empty()}


class DirectoryFollower:
    def __init__(self, pool: TenantPool, propagator: RolePropagator, revoker: SessionRevoker):
        self._pool = pool
        self._propagator = propagator
        self._revoker = revoker

    def consumer(self, stream: EventStream, nats_url: str) -> DurableConsumer:
        return DurableConsumer(stream, nats_url, "rbac", self.handle)

    async def handle(self, events: list[event_pb2.Event]) -> None:
        for organization_id, work in plan(events).items():
            request_id_var.set(work.request_id)
            await self._apply(organization_id, work)
        if any(event.type in (SCHEMA_EXTENSION_UPDATE, SCHEMA_EXTENSION_DELETE) for event in events):
            await recheck_rules(self._pool, self._propagator.directory, self._propagator)

    async def _apply(self, organization_id: str, work: _Work) -> None:
        scope = self._pool.of(organization_id)
        if work.asks_only_about_attributes() and not await attribute_grant_repository.connections_granting_under_lock(
                scope, organization_id, sorted(set(work.attributes_changed.values()))):
            return  # their connections grant no role on attributes: one statement, no transaction
        async with scope.acquire() as conn, conn.transaction():
            # Under the lock, so a mapping committed concurrently is either
            # seen here or recomputes these members itself.
            await repository.lock_organization(conn, organization_id)
            affected = set(work.members)
            if work.attributes_changed:
                # Asked each time, not cached: a rule saved a moment ago must apply to the next change.
                granting = await attribute_grant_repository.connections_granting(
                    conn, organization_id, sorted(set(work.attributes_changed.values())))
                affected.update(m for m, c in work.attributes_changed.items() if c in granting)
            if work.joined_or_left:
                mapped = await repository.group_role_ids(conn, organization_id, list(work.joined_or_left))
                for group_id in mapped:
                    affected |= work.joined_or_left[group_id]
            ended_groups = set(work.deleted_groups)
            for connection_id in work.deleted_connections:
                ended_groups.update(await repository.connection_group_ids(conn, organization_id, connection_id))
                for source_type in (SCIM_ATTRIBUTE, SCIM_ATTRIBUTE_RULE):
                    affected.update(await repository.holders_through_connection(
                        conn, organization_id, connection_id, source_type))
                await repository.forget_connection(conn, organization_id, connection_id)
                await attribute_grant_repository.forget_connection(conn, organization_id, connection_id)
            for group_id in work.renamed_groups | ended_groups:
                affected.update(await repository.holders_through_group(conn, organization_id, group_id))
            if work.deleted_groups:
                await repository.forget_groups(conn, organization_id, sorted(work.deleted_groups))
            await self._propagator.recompute(conn, organization_id, sorted(affected), source="SCIM")
            if work.organization_deleted:
                # Its members' deletions follow as the directory purges them; sessions end now.
                await self._revoker.revoke(conn, organization_id, MEMBER_INACTIVE, whole_organization=True)
