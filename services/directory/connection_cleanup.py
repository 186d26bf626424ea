"""When a SCIM connection is deleted, what the directory keeps only for that
connection goes with it: its attribute mapping and the attribute paths its
identity provider sent. (Members and groups stay until their organization is
deleted, as before; the request log keeps its retention.)

Driven by the connections service's scim.connection.delete event on a durable
consumer of its own; deleting what is already gone changes nothing, so a
redelivered event is harmless."""

from __future__ import annotations

from scimd.events.v1 import event_pb2

from runtime.consumer import DurableConsumer
from runtime.event_catalog import CONNECTION_DELETE
from runtime.events import EventStream
from runtime.tenant_scope import TenantPool
from services.directory.attribute_mapping_repository import forget_connection as forget_mapping
from services.directory.seen_attributes import forget_connection as forget_seen


class ConnectionCleanup:
    def __init__(self, pool: TenantPool, stream: EventStream):
        self._pool = pool
        self._stream = stream

    def consumer(self, nats_url: str) -> DurableConsumer:
        return DurableConsumer(self._stream, nats_url, "directory-connection-cleanup", self.handle,
                               event_type=CONNECTION_DELETE)

    async def handle(self, events: list[event_pb2.Event]) -> None:
        for event in events:
            if event.type != CONNECTION_DELETE:
                continue
            organization_id = event.organization_id or event.connection_changed.connection.organization_id
            connection_id = event.connection_changed.connection.connection_id
            async with self._pool.of(organization_id).acquire() as conn, conn.transaction():
                await forget_mapping(conn, organization_id, connection_id)
                await forget_seen(conn, organization_id, connection_id)
