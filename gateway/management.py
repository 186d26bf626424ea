"""The vendor's management API (HTTP Basic auth), Stytch-compatible shapes."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scimd.connections.v1 import connection_pb2, organization_pb2
from scimd.connections.v1 import connections_service_pb2 as connections_pb
from scimd.webhooks.v1 import endpoint_pb2
from scimd.webhooks.v1 import webhooks_service_pb2 as webhooks_pb

from gateway.auth import require_project
from gateway.backends import call_metadata
from gateway.calls import call
from gateway.json import json_response, read_json_object
from gateway.keys import BACKENDS, SETTINGS
from services.common.context import current_request_id
from services.common.errors import ServiceError
from services.common.settings import Settings
from services.common.timestamps import to_rfc3339

routes = web.RouteTableDef()

_CONNECTION_STATUS = {
    connection_pb2.CONNECTION_STATUS_ACTIVE: "active",
    connection_pb2.CONNECTION_STATUS_DISABLED: "disabled",
}


def scim_base_url(settings: Settings, connection: connection_pb2.Connection) -> str:
    base = f"{settings.public_url}/scim/v2/{connection.connection_id}"
    # Makes Entra send RFC 7644-compliant PATCH requests.
    return base + "?aadOptscim062020" if connection.identity_provider == "microsoft-entra" else base


def organization_json(organization: organization_pb2.Organization) -> dict[str, Any]:
    return {
        "organization_id": organization.organization_id,
        "organization_name": organization.organization_name,
        "organization_slug": organization.organization_slug,
        "created_at": to_rfc3339(organization.create_time),
        "updated_at": to_rfc3339(organization.update_time),
    }


def connection_json(settings: Settings, connection: connection_pb2.Connection) -> dict[str, Any]:
    def expiry(field: str) -> str | None:
        return to_rfc3339(getattr(connection, field)) if connection.HasField(field) else None

    return {
        "connection_id": connection.connection_id,
        "organization_id": connection.organization_id,
        "status": _CONNECTION_STATUS.get(connection.status, "unknown"),
        "display_name": connection.display_name,
        "identity_provider": connection.identity_provider,
        "base_url": scim_base_url(settings, connection),
        "bearer_token_last_four": connection.bearer_token_last_four,
        "bearer_token_expires_at": expiry("bearer_token_expires_at"),
        "next_bearer_token_last_four": connection.next_bearer_token_last_four,
        "next_bearer_token_expires_at": expiry("next_bearer_token_expires_at"),
    }


def endpoint_json(endpoint: endpoint_pb2.Endpoint) -> dict[str, Any]:
    return {
        "endpoint_id": endpoint.endpoint_id,
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "enabled": endpoint.enabled,
        "created_at": to_rfc3339(endpoint.create_time),
    }


def envelope(status: int, **fields: Any) -> web.Response:
    return json_response({"status_code": status, "request_id": current_request_id(), **fields}, status=status)


def _string(body: dict[str, Any], field: str, *, required: bool = False) -> str:
    value = body.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ServiceError("INVALID_VALUE", f"{field} must be a string")
    if required and not value.strip():
        raise ServiceError("INVALID_VALUE", f"{field} is required")
    return value


def _authorized(request: web.Request) -> None:
    require_project(request, request.app[SETTINGS])


@routes.post("/v1/b2b/organizations")
async def create_organization(request: web.Request) -> web.Response:
    _authorized(request)
    body = await read_json_object(request)
    response = await call(
        request.app[BACKENDS].connections.CreateOrganization(
            connections_pb.CreateOrganizationRequest(
                organization_name=_string(body, "organization_name", required=True),
                organization_slug=_string(body, "organization_slug"),
            ),
            metadata=call_metadata(),
        )
    )
    return envelope(201, organization=organization_json(response.organization))


@routes.get("/v1/b2b/organizations/{organization_id}")
async def get_organization(request: web.Request) -> web.Response:
    _authorized(request)
    response = await call(
        request.app[BACKENDS].connections.GetOrganization(
            connections_pb.GetOrganizationRequest(organization_id=request.match_info["organization_id"]),
            metadata=call_metadata(),
        )
    )
    return envelope(200, organization=organization_json(response.organization))


@routes.post("/v1/b2b/scim/{organization_id}/connection")
async def create_connection(request: web.Request) -> web.Response:
    _authorized(request)
    body = await read_json_object(request)
    response = await call(
        request.app[BACKENDS].connections.CreateConnection(
            connections_pb.CreateConnectionRequest(
                organization_id=request.match_info["organization_id"],
                display_name=_string(body, "display_name"),
                identity_provider=_string(body, "identity_provider"),
            ),
            metadata=call_metadata(),
        )
    )
    connection = connection_json(request.app[SETTINGS], response.connection)
    connection["bearer_token"] = response.bearer_token
    return envelope(201, connection=connection)


@routes.get("/v1/b2b/scim/{organization_id}/connection")
async def get_connection(request: web.Request) -> web.Response:
    _authorized(request)
    response = await call(
        request.app[BACKENDS].connections.GetConnection(
            connections_pb.GetConnectionRequest(organization_id=request.match_info["organization_id"]),
            metadata=call_metadata(),
        )
    )
    return envelope(200, connection=connection_json(request.app[SETTINGS], response.connection))


@routes.post("/v1/webhooks/endpoints")
async def create_endpoint(request: web.Request) -> web.Response:
    _authorized(request)
    body = await read_json_object(request)
    event_types = body.get("event_types") or []
    if not isinstance(event_types, list) or not all(isinstance(t, str) for t in event_types):
        raise ServiceError("INVALID_VALUE", "event_types must be a list of strings")
    response = await call(
        request.app[BACKENDS].webhooks.CreateEndpoint(
            webhooks_pb.CreateEndpointRequest(url=_string(body, "url", required=True), event_types=event_types),
            metadata=call_metadata(),
        )
    )
    endpoint = endpoint_json(response.endpoint)
    endpoint["secret"] = response.secret
    return envelope(201, endpoint=endpoint)


@routes.get("/v1/webhooks/endpoints")
async def list_endpoints(request: web.Request) -> web.Response:
    _authorized(request)
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise ServiceError("INVALID_VALUE", "limit must be an integer") from None
    response = await call(
        request.app[BACKENDS].webhooks.ListEndpoints(
            webhooks_pb.ListEndpointsRequest(page_size=limit, page_token=request.query.get("cursor", "")),
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
    _authorized(request)
    response = await call(
        request.app[BACKENDS].webhooks.GetEndpoint(
            webhooks_pb.GetEndpointRequest(endpoint_id=request.match_info["endpoint_id"]), metadata=call_metadata()
        )
    )
    return envelope(200, endpoint=endpoint_json(response.endpoint))


@routes.delete("/v1/webhooks/endpoints/{endpoint_id}")
async def delete_endpoint(request: web.Request) -> web.Response:
    _authorized(request)
    await call(
        request.app[BACKENDS].webhooks.DeleteEndpoint(
            webhooks_pb.DeleteEndpointRequest(endpoint_id=request.match_info["endpoint_id"]), metadata=call_metadata()
        )
    )
    return envelope(200)
