"""The vendor's SCIM schema extensions (advertised at every connection's
/Schemas, validated, stored, filterable and patchable), and the attribute
paths each connection's identity provider has sent."""

from __future__ import annotations

import orjson
from aiohttp import web
from scimd.directory.v1 import directory_service_pb2 as directory_pb

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS, SCHEMA_REGISTRY
from gateway.management.common import envelope
from gateway.management.connections import _get_connection
from runtime.errors import ServiceError
from runtime.shapes import schema_extension_json
from runtime.timestamps import to_rfc3339

routes = web.RouteTableDef()
PATH = "/v1/scim/schema_extensions"


@routes.get(PATH)
async def list_extensions(request: web.Request) -> web.Response:
    response = await call(request.app[BACKENDS].directory.ListSchemaExtensions(
        directory_pb.ListSchemaExtensionsRequest()))
    return envelope(200, schema_extensions=[schema_extension_json(e) for e in response.extensions])


@routes.get(PATH + "/{schema_id}")
async def get_extension(request: web.Request) -> web.Response:
    wanted = request.match_info["schema_id"].lower()
    response = await call(request.app[BACKENDS].directory.ListSchemaExtensions(
        directory_pb.ListSchemaExtensionsRequest()))
    for extension in response.extensions:
        if extension.schema_id.lower() == wanted:
            return envelope(200, schema_extension=schema_extension_json(extension))
    raise ServiceError("NOT_FOUND", f"no schema extension {request.match_info['schema_id'][:200]!r}")


@routes.put(PATH + "/{schema_id}")
async def put_extension(request: web.Request) -> web.Response:
    """Creates or replaces the extension: {resource_type, name, description,
    attributes: [RFC 7643 §7 attribute definitions]}; the URN is the path's."""
    body = await read_json_object(request)
    schema_id = request.match_info["schema_id"]
    given_id = body.get("id", body.get("schema_id"))
    if given_id not in (None, schema_id):
        raise ServiceError("INVALID_VALUE", "the body's id differs from the URN in the path")
    resource_type = body.get("resource_type", "User")
    if not isinstance(resource_type, str):
        raise ServiceError("INVALID_VALUE", "resource_type must be User or Group")
    definition = {key: value for key, value in body.items() if key not in ("resource_type", "schema_id", "id")}
    response = await call(request.app[BACKENDS].directory.PutSchemaExtension(directory_pb.PutSchemaExtensionRequest(
        resource_type=resource_type, definition_json=orjson.dumps({**definition, "id": schema_id}).decode())))
    request.app[SCHEMA_REGISTRY].forget()
    return envelope(201 if response.created else 200, schema_extension=schema_extension_json(response.extension))


@routes.delete(PATH + "/{schema_id}")
async def delete_extension(request: web.Request) -> web.Response:
    await call(request.app[BACKENDS].directory.DeleteSchemaExtension(
        directory_pb.DeleteSchemaExtensionRequest(schema_id=request.match_info["schema_id"])))
    request.app[SCHEMA_REGISTRY].forget()
    return envelope(200)


@routes.get("/v1/b2b/scim/{organization_id}/connection/{connection_id}/attributes")
async def list_seen_attributes(request: web.Request) -> web.Response:
    """The attribute paths the connection's IdP has sent (never their values)."""
    await _get_connection(request, request.match_info["organization_id"], request.match_info["connection_id"])
    response = await call(request.app[BACKENDS].directory.ListSeenAttributes(
        directory_pb.ListSeenAttributesRequest()))
    return envelope(200, attributes=[
        {"path": a.path, "json_type": a.json_type, "declared": a.declared, "member_count": a.member_count,
         "last_seen_at": to_rfc3339(a.last_seen_time)}
        for a in response.attributes
    ])
