"""Organizations: the vendor's customers."""

from __future__ import annotations

from aiohttp import web
from scimd.connections.v1 import connections_service_pb2 as connections_pb

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS, TOKEN_CACHE
from gateway.management.common import envelope, limit_param, string_field
from runtime.shapes import organization_json

routes = web.RouteTableDef()


@routes.post("/v1/b2b/organizations")
async def create_organization(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    response = await call(
        request.app[BACKENDS].connections.CreateOrganization(
            connections_pb.CreateOrganizationRequest(
                organization_name=string_field(body, "organization_name", required=True),
                organization_slug=string_field(body, "organization_slug"),
            ),
        )
    )
    return envelope(201, organization=organization_json(response.organization))


@routes.get("/v1/b2b/organizations/{organization_id}")
async def get_organization(request: web.Request) -> web.Response:
    response = await call(
        request.app[BACKENDS].connections.GetOrganization(
            connections_pb.GetOrganizationRequest(organization_id=request.match_info["organization_id"]),
        )
    )
    return envelope(200, organization=organization_json(response.organization))


@routes.get("/v1/b2b/organizations")
async def list_organizations(request: web.Request) -> web.Response:
    response = await call(
        request.app[BACKENDS].connections.ListOrganizations(
            connections_pb.ListOrganizationsRequest(
                page_size=limit_param(request), page_token=request.query.get("cursor", "")
            ),
        )
    )
    return envelope(
        200,
        organizations=[organization_json(o) for o in response.organizations],
        next_cursor=response.next_page_token or None,
    )


@routes.put("/v1/b2b/organizations/{organization_id}")
async def update_organization(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    response = await call(
        request.app[BACKENDS].connections.UpdateOrganization(
            connections_pb.UpdateOrganizationRequest(
                organization_id=request.match_info["organization_id"],
                organization_name=string_field(body, "organization_name"),
                organization_slug=string_field(body, "organization_slug"),
            ),
        )
    )
    return envelope(200, organization=organization_json(response.organization))


@routes.delete("/v1/b2b/organizations/{organization_id}")
async def delete_organization(request: web.Request) -> web.Response:
    """Deletes the organization and its connection at once; its members and
    groups are deleted right after, each with its scim.member.delete /
    scim.idp_group.delete event."""
    with request.app[TOKEN_CACHE].changing(organization_id=request.match_info["organization_id"]):
        await call(
            request.app[BACKENDS].connections.DeleteOrganization(
                connections_pb.DeleteOrganizationRequest(organization_id=request.match_info["organization_id"]),
            )
        )
    return envelope(200, organization_id=request.match_info["organization_id"])
