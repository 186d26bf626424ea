"""A connection's attribute mapping: which attribute paths its IdP sends fill
which of the vendor's custom fields. A change is previewed with
?dry_run=true, then applied to the connection's members in the background."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from scimd.directory.v1 import directory_service_pb2 as directory_pb

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS
from gateway.management.common import envelope, flag_param, limit_param
from gateway.management.connections import _get_connection
from runtime.context import Tenant, acting_for
from runtime.errors import ServiceError
from runtime.timestamps import to_rfc3339

routes = web.RouteTableDef()
PATH = "/v1/b2b/scim/{organization_id}/connection/{connection_id}/attribute_mapping"


def mapping_json(mapping: directory_pb.AttributeMapping) -> dict[str, Any]:
    return {
        "fields": orjson.loads(mapping.fields_json or "[]"),
        "version": mapping.version,
        "updated_at": to_rfc3339(mapping.update_time) if mapping.HasField("update_time") else None,
        "apply": {"state": mapping.apply.state, "done": mapping.apply.done, "total": mapping.apply.total,
                  "changed": mapping.apply.changed},
    }


def change_json(change: directory_pb.CustomAttributeChange) -> dict[str, Any]:
    return {"member_id": change.member_id, "user_name": change.user_name,
            "from": orjson.loads(change.previous_json), "to": orjson.loads(change.current_json)}


async def _connection_tenant(request: web.Request) -> Tenant:
    """The path's connection, once the connections service says it is the organization's."""
    organization_id, connection_id = request.match_info["organization_id"], request.match_info["connection_id"]
    await _get_connection(request, organization_id, connection_id)
    return Tenant(organization_id, connection_id)


async def get_mapping(request: web.Request, tenant: Tenant) -> directory_pb.AttributeMapping:
    with acting_for(tenant):
        response = await call(request.app[BACKENDS].directory.GetAttributeMapping(
            directory_pb.GetAttributeMappingRequest()))
    return response.mapping


async def put_mapping(request: web.Request, tenant: Tenant, fields: Any, *, dry_run: bool,
                      limit: int = 0) -> directory_pb.PutAttributeMappingResponse:
    with acting_for(tenant):
        return await call(request.app[BACKENDS].directory.PutAttributeMapping(directory_pb.PutAttributeMappingRequest(
            fields_json=orjson.dumps(fields).decode(), validate_only=dry_run, page_size=limit)))


@routes.get(PATH)
async def get_attribute_mapping(request: web.Request) -> web.Response:
    mapping = await get_mapping(request, await _connection_tenant(request))
    return envelope(200, attribute_mapping=mapping_json(mapping))


@routes.put(PATH)
async def put_attribute_mapping(request: web.Request) -> web.Response:
    """Replaces the mapping: {fields: [{field, sources, transforms, default}]}.
    With ?dry_run=true nothing changes; the answer lists whose values would
    change, from what to what (the first `limit`), and how many."""
    body = await read_json_object(request)
    fields = body.get("fields")
    if not isinstance(fields, list):
        raise ServiceError("INVALID_VALUE", "fields must be a list of {field, sources, transforms, default}")
    dry_run = flag_param(request, "dry_run")
    limit = limit_param(request) if dry_run else 0
    tenant = await _connection_tenant(request)
    response = await put_mapping(request, tenant, fields, dry_run=dry_run, limit=limit)
    if not dry_run:
        return envelope(200, attribute_mapping=mapping_json(response.mapping))
    return envelope(200, dry_run=True, attribute_mapping=mapping_json(response.mapping),
                    changes=[change_json(c) for c in response.changes], changed_count=response.changed_count,
                    member_count=response.member_count)
