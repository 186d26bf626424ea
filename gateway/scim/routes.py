"""SCIM HTTP handlers at /scim/v2/{connection_id}: authenticate, translate to
gRPC, render. The rules themselves live in the pure modules beside this one."""

from __future__ import annotations

from aiohttp import web
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.directory.v1 import member_pb2

from gateway.auth import authenticate_connection, tenant_of
from gateway.backends import call_metadata
from gateway.calls import call
from gateway.errors import SCIM_CONTENT_TYPE
from gateway.json import json_response, read_json_object
from gateway.keys import BACKENDS, SETTINGS
from gateway.scim.users import etag_of, user_resource, user_write
from services.common.settings import Settings

routes = web.RouteTableDef()
PREFIX = "/scim/v2/{connection_id}"


def base_url(settings: Settings, connection_id: str) -> str:
    return f"{settings.public_url}/scim/v2/{connection_id}"


def scim_response(resource: dict, *, status: int = 200, etag: str = "", location: str = "") -> web.Response:
    response = json_response(resource, status=status, content_type=SCIM_CONTENT_TYPE)
    if etag:
        response.headers["ETag"] = etag
    if location:
        response.headers["Location"] = location
    return response


@routes.post(PREFIX + "/Users")
async def create_user(request: web.Request) -> web.Response:
    connection_id = request.match_info["connection_id"]
    backends = request.app[BACKENDS]
    connection = await authenticate_connection(request, backends, connection_id)
    write = user_write(await read_json_object(request))
    registration = member_pb2.ScimRegistration(user_name=write.user_name, external_id=write.external_id)
    registration.scim_attributes.update(write.attributes)
    response = await call(
        backends.directory.CreateMember(
            directory_pb.CreateMemberRequest(scim_registration=registration),
            metadata=call_metadata(tenant_of(connection)),
        )
    )
    resource = user_resource(response.member, base_url(request.app[SETTINGS], connection_id))
    return scim_response(resource, status=201, etag=etag_of(response.member), location=resource["meta"]["location"])


@routes.get(PREFIX + "/Users/{user_id}")
async def get_user(request: web.Request) -> web.Response:
    connection_id = request.match_info["connection_id"]
    backends = request.app[BACKENDS]
    connection = await authenticate_connection(request, backends, connection_id)
    response = await call(
        backends.directory.GetMember(
            directory_pb.GetMemberRequest(member_id=request.match_info["user_id"]),
            metadata=call_metadata(tenant_of(connection)),
        )
    )
    resource = user_resource(response.member, base_url(request.app[SETTINGS], connection_id))
    return scim_response(resource, etag=etag_of(response.member))
