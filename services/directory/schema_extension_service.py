"""The RPCs of the vendor's schema extensions (project-wide) and of the
attribute paths each connection's identity provider has sent."""

from __future__ import annotations

import grpc
import orjson
from scimd.directory.v1 import directory_service_pb2 as pb
from scimd.directory.v1 import schema_extension_pb2

from runtime.errors import ServiceError
from runtime.event_catalog import SCHEMA_EXTENSION_DELETE
from runtime.events import EventStream
from runtime.grpc_server import tenant_of
from runtime.json_input import parse_json_object
from runtime.outbox import QueuedEvent, new_event
from runtime.tenant_scope import TenantPool
from runtime.timestamps import to_timestamp
from scim.schema import PathError, ResourceType, resolve
from services.directory.schema_extensions import ExtensionRegistry, delete_extension, put_extension
from services.directory.seen_attributes import list_seen


def extension_from_row(row) -> schema_extension_pb2.SchemaExtension:
    return schema_extension_pb2.SchemaExtension(
        schema_id=row["schema_id"], resource_type=row["resource_type"],
        definition_json=orjson.dumps(row["definition"]).decode(), version=row["version"],
        create_time=to_timestamp(row["created_at"]), update_time=to_timestamp(row["updated_at"]),
    )


def _declares(resource_type: ResourceType, path: str) -> bool:
    """Whether a schema declares the path now (it may have been declared since it was seen)."""
    try:
        resolve(resource_type, path)
    except PathError:
        return False
    return True


class SchemaExtensionRpcs:
    _pool: TenantPool
    _extensions: ExtensionRegistry
    _stream: EventStream
    _schema: str
    _project_id: str

    def _extension_event(self, event_type: str, row, created: bool) -> QueuedEvent:
        action = "DELETE" if event_type == SCHEMA_EXTENSION_DELETE else "CREATE" if created else "UPDATE"
        event = new_event(event_type, action, project_id=self._project_id, organization_id="")
        event.source = "API"
        event.schema_extension_changed.extension.CopyFrom(extension_from_row(row))
        return QueuedEvent(self._stream, self._schema, event)

    async def ListSchemaExtensions(self, request: pb.ListSchemaExtensionsRequest, context: grpc.aio.ServicerContext):
        return pb.ListSchemaExtensionsResponse(
            extensions=[extension_from_row(stored.row) for stored in await self._extensions.stored()])

    async def PutSchemaExtension(self, request: pb.PutSchemaExtensionRequest, context: grpc.aio.ServicerContext):
        definition = parse_json_object(request.definition_json or "{}", "definition_json")
        row, created = await put_extension(self._pool.shared, self._extensions, request.resource_type, definition,
                                           self._extension_event)
        return pb.PutSchemaExtensionResponse(extension=extension_from_row(row), created=created)

    async def DeleteSchemaExtension(self, request: pb.DeleteSchemaExtensionRequest,
                                    context: grpc.aio.ServicerContext):
        if not request.schema_id:
            raise ServiceError("INVALID_VALUE", "schema_id is required")
        await delete_extension(self._pool.shared, self._extensions, request.schema_id, self._extension_event)
        return pb.DeleteSchemaExtensionResponse()

    async def ListSeenAttributes(self, request: pb.ListSeenAttributesRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        if not tenant.connection_id:
            raise ServiceError("INVALID_VALUE", "the attributes seen are a connection's: name it in the metadata")
        rows = await list_seen(self._pool.of(tenant.organization_id), tenant.organization_id, tenant.connection_id)
        user_type = await self._extensions.user_type()
        return pb.ListSeenAttributesResponse(attributes=[
            pb.SeenAttribute(path=r["path"], json_type=r["json_type"], declared=_declares(user_type, r["path"]),
                             member_count=r["member_count"], last_seen_time=to_timestamp(r["last_seen_at"]))
            for r in rows
        ])
