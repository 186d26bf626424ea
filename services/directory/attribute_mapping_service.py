"""The RPCs of the vendor's custom fields (project-wide) and of each
connection's attribute mapping (a mixin of DirectoryServicer)."""

from __future__ import annotations

import grpc
import orjson
from scimd.directory.v1 import directory_service_pb2 as pb

from runtime.context import Tenant
from runtime.errors import ServiceError
from runtime.grpc_server import tenant_of
from runtime.paging import page_size
from runtime.tenant_scope import TenantPool
from runtime.timestamps import to_timestamp
from services.directory import attribute_mapping_repository as mappings
from services.directory.attribute_mapping import CustomField, Mapping, MappingError, parse_mapping
from services.directory.attribute_mapping_apply import MappingApplier, preview
from services.directory.custom_attributes import CustomAttributes
from services.directory.custom_fields import CustomFieldRegistry, delete_field, fields_for_mapping, put_field


def _field_message(row) -> pb.CustomField:
    return pb.CustomField(key=row["key"], type=row["type"], description=row["description"],
                          create_time=to_timestamp(row["created_at"]), update_time=to_timestamp(row["updated_at"]))


def _mapping_message(row, definition=None) -> pb.AttributeMapping:
    """The stored mapping (none: version 0), or `definition` shown with the stored one's version and apply."""
    if row is None:
        return pb.AttributeMapping(fields_json=orjson.dumps(definition or []).decode(),
                                   apply=pb.AttributeMappingApply(state="done"))
    return pb.AttributeMapping(
        fields_json=orjson.dumps(row["definition"] if definition is None else definition).decode(),
        version=row["version"], update_time=to_timestamp(row["updated_at"]),
        apply=pb.AttributeMappingApply(state="done" if row["applied_version"] >= row["version"] else "applying",
                                       done=row["apply_done"], total=max(row["apply_total"] or 0, row["apply_done"]),
                                       changed=row["apply_changed"]),
    )


def _parsed(fields_json: str, fields: dict[str, CustomField]) -> Mapping:
    try:
        return parse_mapping(orjson.loads(fields_json or "[]"), fields)
    except orjson.JSONDecodeError:
        raise ServiceError("INVALID_VALUE", "fields_json is not JSON") from None
    except MappingError as error:
        raise ServiceError("INVALID_VALUE", str(error)) from None


def _mapping_tenant(context: grpc.aio.ServicerContext) -> Tenant:
    tenant = tenant_of(context)
    if not tenant.connection_id:
        raise ServiceError("INVALID_VALUE", "an attribute mapping is a connection's: name it in the metadata")
    return tenant


class AttributeMappingRpcs:
    _pool: TenantPool
    _custom_fields: CustomFieldRegistry
    _custom: CustomAttributes
    _applier: MappingApplier

    async def resume_mapping_applies(self) -> None:
        """Resumes the applies no process runs (its process stopped or died)."""
        await self._applier.resume_due()

    async def stop_background_work(self) -> None:
        await self._applier.stop()

    async def ListCustomFields(self, request: pb.ListCustomFieldsRequest, context: grpc.aio.ServicerContext):
        return pb.ListCustomFieldsResponse(fields=[_field_message(r) for r in await self._custom_fields.rows()])

    async def PutCustomField(self, request: pb.PutCustomFieldRequest, context: grpc.aio.ServicerContext):
        wanted = request.field
        row, created = await put_field(self._pool.shared, self._custom_fields, wanted.key, wanted.type,
                                       wanted.description)
        return pb.PutCustomFieldResponse(field=_field_message(row), created=created)

    async def DeleteCustomField(self, request: pb.DeleteCustomFieldRequest, context: grpc.aio.ServicerContext):
        await delete_field(self._pool.shared, self._custom_fields, request.key)
        return pb.DeleteCustomFieldResponse()

    async def GetAttributeMapping(self, request: pb.GetAttributeMappingRequest, context: grpc.aio.ServicerContext):
        tenant = _mapping_tenant(context)
        row = await mappings.get_mapping(self._pool.of(tenant.organization_id), tenant.organization_id,
                                         tenant.connection_id)
        return pb.GetAttributeMappingResponse(mapping=_mapping_message(row))

    async def PutAttributeMapping(self, request: pb.PutAttributeMappingRequest, context: grpc.aio.ServicerContext):
        tenant = _mapping_tenant(context)
        organization_id, connection_id = tenant.organization_id, tenant.connection_id
        db = self._pool.of(organization_id)
        if request.validate_only:
            mapping = _parsed(request.fields_json, await self._custom.fields())
            found = await preview(self._pool, tenant, await self._custom.compiled(mapping),
                                  page_size(request.page_size))
            stored = await mappings.get_mapping(db, organization_id, connection_id)
            return pb.PutAttributeMappingResponse(
                mapping=_mapping_message(stored, mapping.json()), changed_count=found.changed_count,
                member_count=found.member_count,
                changes=[pb.CustomAttributeChange(member_id=c.member_id, user_name=c.user_name,
                                                  previous_json=orjson.dumps(c.previous).decode(),
                                                  current_json=orjson.dumps(c.current).decode())
                         for c in found.changes],
            )
        async with db.acquire() as conn, conn.transaction():
            mapping = _parsed(request.fields_json, await fields_for_mapping(conn))
            row = await mappings.save_mapping(conn, organization_id, connection_id, mapping.json())
        self._custom.forget(organization_id, connection_id)
        if row["applied_version"] < row["version"]:
            self._applier.start(tenant)
        return pb.PutAttributeMappingResponse(mapping=_mapping_message(row))
