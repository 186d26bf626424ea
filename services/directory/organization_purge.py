"""When an organization is deleted, its groups and members go too, each with
its scim.idp_group.delete / scim.member.delete event.

Driven by the connections service's organization.delete event on the
directory's own durable consumer, in batches of one transaction each, so an
organization of any size is purged without one huge transaction, and a crash
part-way resumes where it stopped (the event is acked only at the end).
"""

from __future__ import annotations

from scimd.events.v1 import event_pb2

from runtime.consumer import DurableConsumer
from runtime.context import request_id_var
from runtime.event_catalog import GROUP_DELETE, MEMBER_DELETE, ORGANIZATION_DELETE
from runtime.events import EventStream
from runtime.outbox import QueuedEvent, enqueue_all, new_event
from runtime.tenant_scope import TenantPool
from services.directory.attribute_mapping_repository import forget_organization as forget_mappings
from services.directory.group_repository import GROUP_COLUMNS
from services.directory.group_service import group_from_row
from services.directory.mapping import member_from_row
from services.directory.repository import MEMBER_COLUMNS
from services.directory.seen_attributes import forget_organization as forget_seen

BATCH = 500


class OrganizationPurge:
    def __init__(self, pool: TenantPool, stream: EventStream, schema: str, project_id: str):
        self._pool = pool
        self._stream = stream
        self._schema = schema
        self._project_id = project_id

    def consumer(self, nats_url: str) -> DurableConsumer:
        return DurableConsumer(self._stream, nats_url, "directory", self.handle, event_type=ORGANIZATION_DELETE)

    async def handle(self, events: list[event_pb2.Event]) -> None:
        for event in events:
            if event.type == ORGANIZATION_DELETE:
                request_id_var.set(event.request_id)
                await self.purge(event.organization_id)

    def _queued(self, event_type: str, organization_id: str) -> event_pb2.Event:
        return new_event(event_type, "DELETE", project_id=self._project_id, organization_id=organization_id)

    async def purge(self, organization_id: str) -> None:
        while await self._delete_groups(organization_id):
            pass
        while await self._delete_members(organization_id):
            pass
        async with self._pool.of(organization_id).acquire() as conn, conn.transaction():
            # Nothing is held for an organization that is gone; its guards go with it.
            await conn.execute("DELETE FROM deprovisions WHERE organization_id = $1", organization_id)
            await conn.execute("DELETE FROM deprovision_guards WHERE organization_id = $1", organization_id)
            await conn.execute("DELETE FROM request_log WHERE organization_id = $1", organization_id)
            await forget_mappings(conn, organization_id)
            await forget_seen(conn, organization_id)

    async def _delete_groups(self, organization_id: str) -> int:
        async with self._pool.of(organization_id).acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "UPDATE groups SET status = 'deleted', member_count = 0, deleted_at = now(), version = version + 1,"
                " updated_at = now() WHERE organization_id = $1 AND group_id IN (SELECT group_id FROM groups WHERE organization_id = $1"
                f"  AND status <> 'deleted' LIMIT $2 FOR UPDATE) RETURNING {GROUP_COLUMNS}",
                organization_id, BATCH,
            )
            if not rows:
                return 0
            await conn.execute("DELETE FROM group_members WHERE organization_id = $1 AND group_id = ANY($2::text[])",
                               organization_id, [r["group_id"] for r in rows])
            events = []
            for row in rows:
                event = self._queued(GROUP_DELETE, organization_id)
                event.group_changed.group.CopyFrom(group_from_row(row))
                events.append(QueuedEvent(self._stream, self._schema, event))
            await enqueue_all(conn, events)
            return len(rows)

    async def _delete_members(self, organization_id: str) -> int:
        async with self._pool.of(organization_id).acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "UPDATE members SET status = 'deleted', scim_status = NULL, deleted_at = now(), version = version + 1,"
                " updated_at = now()"
                " WHERE organization_id = $1 AND member_id IN (SELECT member_id FROM members WHERE organization_id = $1"
                f"  AND status <> 'deleted' LIMIT $2 FOR UPDATE) RETURNING {MEMBER_COLUMNS}",
                organization_id, BATCH,
            )
            if not rows:
                return 0
            await conn.execute("DELETE FROM group_members WHERE organization_id = $1 AND member_id = ANY($2::text[])",
                               organization_id, [r["member_id"] for r in rows])
            events = []
            for row in rows:
                event = self._queued(MEMBER_DELETE, organization_id)
                event.member_changed.member.CopyFrom(member_from_row(row))
                events.append(QueuedEvent(self._stream, self._schema, event))
            await enqueue_all(conn, events)
            return len(rows)
