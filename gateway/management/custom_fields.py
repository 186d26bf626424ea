"""The vendor's custom member fields (project-wide): the app's own fields
that each connection's attribute mapping fills from what its IdP sends."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scimd.directory.v1 import directory_service_pb2 as directory_pb

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS
from gateway.management.common import envelope, string_field
from runtime.errors import ServiceError
from runtime.timestamps import to_rfc3339

routes = web.RouteTableDef()
PATH = "/v1/scim/custom_fields"


def field_json(field: directory_pb.CustomField) -> dict[str, Any]:
    return {"key": field.key, "type": field.type, "description": field.description,
            "created_at": to_rfc3339(field.create_time), "updated_at": to_rfc3339(field.update_time)}


async def list_fields(request: web.Request) -> list[directory_pb.CustomField]:
    response = await call(request.app[BACKENDS].directory.ListCustomFields(directory_pb.ListCustomFieldsRequest()))
    return list(response.fields)


@routes.get(PATH)
async def list_custom_fields(request: web.Request) -> web.Response:
    return envelope(200, custom_fields=[field_json(f) for f in await list_fields(request)])


@routes.get(PATH + "/{key}")
async def get_custom_field(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    found = next((f for f in await list_fields(request) if f.key == key), None)
    if found is None:
        raise ServiceError("NOT_FOUND", f"no custom field {key[:64]!r}")
    return envelope(200, custom_field=field_json(found))


@routes.put(PATH + "/{key}")
async def put_custom_field(request: web.Request) -> web.Response:
    """Creates or replaces the field {type, description}; the key is the path's."""
    body = await read_json_object(request)
    response = await call(request.app[BACKENDS].directory.PutCustomField(directory_pb.PutCustomFieldRequest(
        field=directory_pb.CustomField(key=request.match_info["key"], type=string_field(body, "type", required=True),
                                       description=string_field(body, "description")))))
    return envelope(201 if response.created else 200, custom_field=field_json(response.field))


@routes.delete(PATH + "/{key}")
async def delete_custom_field(request: web.Request) -> web.Response:
    await call(request.app[BACKENDS].directory.DeleteCustomField(
        directory_pb.DeleteCustomFieldRequest(key=request.match_info["key"])))
    return envelope(200)
