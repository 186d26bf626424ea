"""Webhook endpoints: where scimd sends signed events."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scimd.webhooks.v1 import endpoint_pb2
from scimd.webhooks.v1 import webhooks_service_pb2 as webhooks_pb

from gateway.backends import call_metadata
from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS
from gateway.management.common import authorized, envelope, limit_param, string_field, string_list_field
from services.common.timestamps import to_rfc3339

routes = web.RouteTableDef()


def endpoint_json(endpoint: endpoint_pb2.Endpoint) -> dict[str, Any]:
    return {
        "endpoint_id": endpoint.endpoint_id,
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "enabled": endpoint.enabled,
        "created_at": to_rfc3339(endpoint.create_time),
    }


@routes.post("/v1/webhooks/endpoints")
async def create_endpoint(request: web.Request) -> web.Response:
    authorized(request)
    body = await read_json_object(request)
    response = await call(
        request.app[BACKENDS].webhooks.CreateEndpoint(
            webhooks_pb.CreateEndpointRequest(
                url=string_field(body, "url", required=True), event_types=string_list_field(body, "event_types") or []
            ),
            metadata=call_metadata(),
        )
    )
    endpoint = endpoint_json(response.endpoint)
    endpoint["secret"] = response.secret
    return envelope(201, endpoint=endpoint)


@routes.get("/v1/webhooks/endpoints")
async def list_endpoints(request: web.Request) -> web.Response:
    authorized(request)
    response = await call(
        request.app[BACKENDS].webhooks.ListEndpoints(
            webhooks_pb.ListEndpointsRequest(page_size=limit_param(request), page_token=request.query.get("cursor", "")),
            metadata=call_metadata(),
        )
    )
    return envelope(
        200,
        endpoints=[endpoint_json(e) for e in response.endpoints],
        next_cursor=response.next_page_token or None,
    )


@routes.get("/v1/webhooks/endpoints/{endpoint_id}")
async def get_endpoint(request: web.Request) -> web.Response:
    authorized(request)
    response = await call(
        request.app[BACKENDS].webhooks.GetEndpoint(
            webhooks_pb.GetEndpointRequest(endpoint_id=request.match_info["endpoint_id"]), metadata=call_metadata()
        )
    )
    return envelope(200, endpoint=endpoint_json(response.endpoint))


@routes.delete("/v1/webhooks/endpoints/{endpoint_id}")
async def delete_endpoint(request: web.Request) -> web.Response:
    authorized(request)
    await call(
        request.app[BACKENDS].webhooks.DeleteEndpoint(
            webhooks_pb.DeleteEndpointRequest(endpoint_id=request.match_info["endpoint_id"]), metadata=call_metadata()
        )
    )
    return envelope(200)
