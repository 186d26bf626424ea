"""A connection's diagnostics: its request log (what the IdP sent and how it
was answered, bodies redacted) and its health."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web
from scimd.directory.v1 import directory_service_pb2 as directory_pb

from gateway.calls import call
from gateway.keys import BACKENDS, SETTINGS
from gateway.management.common import envelope, limit_param, rfc3339_value
from gateway.management.connections import _get_connection, connection_json
from runtime.errors import ServiceError
from runtime.shapes import request_record_json
from runtime.timestamps import to_rfc3339

routes = web.RouteTableDef()
PATH = "/v1/b2b/scim/{organization_id}/connection/{connection_id}"
# A token this close to its expiry makes the health say so.
EXPIRY_WARNING = timedelta(days=14)


def parse_statuses(text: str) -> list[int]:
    """`status=409,4xx`: exact statuses and whole classes (4xx → 4)."""
    statuses = []
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        if len(part) == 3 and part.endswith("xx") and part[0] in "12345":
            statuses.append(int(part[0]))
        elif part.isdigit() and len(part) == 3 and 100 <= int(part) <= 599:
            statuses.append(int(part))
        else:
            raise ServiceError("INVALID_VALUE", "status is a comma-separated list of statuses (409) or classes (4xx)")
    return statuses


@routes.get(PATH + "/requests")
async def list_requests(request: web.Request) -> web.Response:
    """Newest first; ?member= (an id or a userName), ?status=400,5xx, ?since=/?until= (RFC 3339)."""
    await _get_connection(request, request.match_info["organization_id"], request.match_info["connection_id"])
    query = request.query
    listing = directory_pb.ListRequestsRequest(
        page_size=limit_param(request), page_token=query.get("cursor", ""), resource=query.get("member", ""),
        statuses=parse_statuses(query.get("status", "")),
    )
    for field in ("since", "until"):
        if query.get(field):
            getattr(listing, field).CopyFrom(rfc3339_value(query[field], field))
    response = await call(request.app[BACKENDS].directory.ListRequests(listing))
    return envelope(200, requests=[request_record_json(r) for r in response.records],
                    next_cursor=response.next_page_token or None)


@routes.get(PATH + "/health")
async def connection_health(request: web.Request) -> web.Response:
    """What the request log and the tokens say: is the IdP sending, and what to fix."""
    connection = await _get_connection(request, request.match_info["organization_id"],
                                       request.match_info["connection_id"])
    stats = await call(request.app[BACKENDS].directory.GetRequestStats(directory_pb.GetRequestStatsRequest()))
    shown = connection_json(request.app[SETTINGS], connection)
    return envelope(200, health={
        "last_request_at": to_rfc3339(stats.last_request_time) if stats.HasField("last_request_time") else None,
        "requests_last_hour": stats.requests_last_hour,
        "errors_last_hour": stats.errors_last_hour,
        "error_rate_last_hour": round(stats.errors_last_hour / stats.requests_last_hour, 4)
        if stats.requests_last_hour else 0.0,
        "users_received": stats.users_received,
        "groups_received": stats.groups_received,
        "bearer_token_last_used_at": shown["bearer_token_last_used_at"],
        "next_bearer_token_last_used_at": shown["next_bearer_token_last_used_at"],
        "warnings": health_warnings(shown, stats),
    })


def health_warnings(connection: dict[str, Any], stats: directory_pb.GetRequestStatsResponse) -> list[str]:
    """What to fix, in words for an IT admin (the management API's health and the Admin Portal show them)."""
    warnings = []
    if not stats.HasField("last_request_time"):
        warnings.append("The identity provider has not sent a request yet: check that provisioning is enabled "
                        "and that its base URL and token are this connection's.")
    elif not stats.groups_received:
        warnings.append("The identity provider never sent groups: push groups from it (Okta: Push Groups; "
                        "Entra: provision groups in the app's attribute mappings) if roles follow groups.")
    if stats.requests_last_hour and stats.errors_last_hour / stats.requests_last_hour > 0.1:
        warnings.append("More than a tenth of the last hour's requests failed: see the request log "
                        "(?status=4xx,5xx) and each entry's hint.")
    expires = connection["bearer_token_expires_at"]
    if expires and datetime.fromisoformat(expires.replace("Z", "+00:00")) - datetime.now(timezone.utc) < EXPIRY_WARNING:
        warnings.append(f"The bearer token expires at {expires}: rotate it (rotate/start) and give the IdP the new one.")
    if connection["next_bearer_token_last_four"] and not connection["next_bearer_token_last_used_at"]:
        warnings.append("A rotation is in progress and the identity provider has not used the new token yet.")
    return warnings
