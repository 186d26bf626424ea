"""Admin Portal links: the vendor's app asks for one when a customer's IT
admin clicks "Set up SCIM", and sends the admin to its URL."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web
from scimd.connections.v1 import connections_service_pb2 as connections_pb

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS, SETTINGS
from gateway.management.common import bounded_int_field, envelope, string_field
from runtime.timestamps import to_rfc3339

routes = web.RouteTableDef()

MAX_MINUTES = 60


@routes.post("/v1/b2b/admin_portal/links")
async def create_portal_link(request: web.Request) -> web.Response:
    """A URL that opens the organization's Admin Portal once, within
    `expires_in_minutes` (default 10, at most 60)."""
    body = await read_json_object(request)
    minutes = bounded_int_field(body, "expires_in_minutes", 1, MAX_MINUTES) or 10
    response = await call(request.app[BACKENDS].connections.CreatePortalLink(
        connections_pb.CreatePortalLinkRequest(
            organization_id=string_field(body, "organization_id", required=True), ttl_seconds=minutes * 60,
        ),
    ))
    url = f"{request.app[SETTINGS].public_url}/portal/enter?link={quote(response.link_token)}"
    return envelope(201, url=url, expires_at=to_rfc3339(response.expire_time))
