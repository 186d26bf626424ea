"""Webhook endpoints: where scimd sends signed events."""

from __future__ import annotations

from aiohttp import web
from google.protobuf.field_mask_pb2 import FieldMask
from scimd.webhooks.v1 import endpoint_pb2
from scimd.webhooks.v1 import webhooks_service_pb2 as webhooks_pb

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS
from gateway.management.common import (
    bounded_int_field,
    envelope,
    if_match_etag,
    limit_param,
    string_field,
    string_list_field,
)
from runtime.errors import ServiceError
from runtime.shapes import endpoint_json

routes = web.RouteTableDef()


@routes.post("/v1/webhooks/endpoints")
async def create_endpoint(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    response = await call(
        request.app[BACKENDS].webhooks.CreateEndpoint(
            webhooks_pb.CreateEndpointRequest(
                url=string_field(body, "url", required=True),
                event_types=string_list_field(body, "event_types") or [],
                organization_ids=string_list_field(body, "organization_ids") or [],
            ),
        )
    )
    endpoint = endpoint_json(response.endpoint)
    endpoint["secret"] = response.secret
    return envelope(201, endpoint=endpoint)


@routes.get("/v1/webhooks/endpoints")
async def list_endpoints(request: web.Request) -> web.Response:
    response = await call(
        request.app[BACKENDS].webhooks.ListEndpoints(
            webhooks_pb.ListEndpointsRequest(page_size=limit_param(request), page_token=request.query.get("cursor", "")),
        )
    )
    return envelope(
        200,
        endpoints=[endpoint_json(e) for e in response.endpoints],
        next_cursor=response.next_page_token or None,
    )


@routes.get("/v1/webhooks/endpoints/{endpoint_id}")
async def get_endpoint(request: web.Request) -> web.Response:
    response = await call(
        request.app[BACKENDS].webhooks.GetEndpoint(
            webhooks_pb.GetEndpointRequest(endpoint_id=request.match_info["endpoint_id"])
        )
    )
    return envelope(200, endpoint=endpoint_json(response.endpoint))


@routes.put("/v1/webhooks/endpoints/{endpoint_id}")
async def update_endpoint(request: web.Request) -> web.Response:
    """Changes the fields present (url, event_types, organization_ids, enabled);
    If-Match: <etag> guards against lost updates. Enabling a disabled endpoint
    resumes its pending deliveries."""
    body = await read_json_object(request)
    endpoint = endpoint_pb2.Endpoint(endpoint_id=request.match_info["endpoint_id"], etag=if_match_etag(request))
    paths = []
    if "url" in body:
        endpoint.url = string_field(body, "url", required=True)
        paths.append("url")
    for field in ("event_types", "organization_ids"):
        values = string_list_field(body, field)
        if values is not None:
            getattr(endpoint, field).extend(values)
            paths.append(field)
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise ServiceError("INVALID_VALUE", "enabled must be true or false")
        endpoint.enabled = body["enabled"]
        paths.append("enabled")
    response = await call(
        request.app[BACKENDS].webhooks.UpdateEndpoint(
            webhooks_pb.UpdateEndpointRequest(endpoint=endpoint, update_mask=FieldMask(paths=paths)),
        )
    )
    return envelope(200, endpoint=endpoint_json(response.endpoint))


@routes.post("/v1/webhooks/endpoints/{endpoint_id}/rotate_secret")
async def rotate_secret(request: web.Request) -> web.Response:
    """A new secret, shown once; for `grace_period_seconds` (default a day)
    each delivery is signed with both the new and the previous secret."""
    body = await read_json_object(request) if request.can_read_body else {}
    grace = bounded_int_field(body, "grace_period_seconds", 0, 7 * 24 * 3600) or 0
    response = await call(
        request.app[BACKENDS].webhooks.RotateEndpointSecret(
            webhooks_pb.RotateEndpointSecretRequest(
                endpoint_id=request.match_info["endpoint_id"], grace_period_seconds=grace
            ),
        )
    )
    endpoint = endpoint_json(response.endpoint)
    endpoint["secret"] = response.secret
    return envelope(200, endpoint=endpoint)


@routes.delete("/v1/webhooks/endpoints/{endpoint_id}")
async def delete_endpoint(request: web.Request) -> web.Response:
    await call(
        request.app[BACKENDS].webhooks.DeleteEndpoint(
            webhooks_pb.DeleteEndpointRequest(endpoint_id=request.match_info["endpoint_id"])
        )
    )
    return envelope(200)
