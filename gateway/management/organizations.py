"""Organizations: the vendor's customers."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scimd.connections.v1 import connections_service_pb2 as connections_pb
from scimd.connections.v1 import organization_pb2

from gateway.backends import call_metadata
from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS
from gateway.management.common import authorized, envelope, string_field
from services.common.timestamps import to_rfc3339

routes = web.RouteTableDef()


def organization_json(organization: organization_pb2.Organization) -> dict[str, Any]:
    return {
        "organization_id": organization.organization_id,
        "organization_name": organization.organization_name,
        "organization_slug": organization.organization_slug,
        "created_at": to_rfc3339(organization.create_time),
        "updated_at": to_rfc3339(organization.update_time),
    }


@routes.post("/v1/b2b/organizations")
async def create_organization(request: web.Request) -> web.Response:
    authorized(request)
    body = await read_json_object(request)
    response = await call(
        request.app[BACKENDS].connections.CreateOrganization(
            connections_pb.CreateOrganizationRequest(
                organization_name=string_field(body, "organization_name", required=True),
                organization_slug=string_field(body, "organization_slug"),
            ),
            metadata=call_metadata(),
        )
    )
    return envelope(201, organization=organization_json(response.organization))


@routes.get("/v1/b2b/organizations/{organization_id}")
async def get_organization(request: web.Request) -> web.Response:
    authorized(request)
    response = await call(
        request.app[BACKENDS].connections.GetOrganization(
            connections_pb.GetOrganizationRequest(organization_id=request.match_info["organization_id"]),
            metadata=call_metadata(),
        )
    )
    return envelope(200, organization=organization_json(response.organization))
