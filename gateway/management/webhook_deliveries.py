"""The webhook delivery log and replays."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from google.protobuf.timestamp_pb2 import Timestamp
from scimd.webhooks.v1 import delivery_attempt_pb2
from scimd.webhooks.v1 import webhooks_service_pb2 as webhooks_pb

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS
from gateway.management.common import envelope, limit_param, rfc3339_value, string_field
from runtime.timestamps import to_rfc3339

routes = web.RouteTableDef()

OUTCOMES = {
    delivery_attempt_pb2.DELIVERY_OUTCOME_SUCCEEDED: "succeeded",
    delivery_attempt_pb2.DELIVERY_OUTCOME_RETRYING: "retrying",
    delivery_attempt_pb2.DELIVERY_OUTCOME_FAILED: "failed",
}


def attempt_json(attempt: delivery_attempt_pb2.DeliveryAttempt) -> dict[str, Any]:
    return {
        "attempt_id": attempt.attempt_id,
        "event_id": attempt.event_id,
        "endpoint_id": attempt.endpoint_id,
        "attempted_at": to_rfc3339(attempt.attempt_time),
        "status_code": attempt.status_code or None,
        "latency_ms": attempt.latency_ms,
        "response_snippet": attempt.response_snippet,
        "error": attempt.error or None,
        "outcome": OUTCOMES.get(attempt.outcome, "unknown"),
        "next_attempt_at": to_rfc3339(attempt.next_attempt_time) if attempt.HasField("next_attempt_time") else None,
    }


def _timestamp(body: dict[str, Any], field: str) -> Timestamp:
    return rfc3339_value(string_field(body, field, required=True), field)


async def _attempts(request: web.Request, endpoint_id: str = "", event_id: str = "") -> web.Response:
    response = await call(
        request.app[BACKENDS].webhooks.ListDeliveryAttempts(
            webhooks_pb.ListDeliveryAttemptsRequest(
                endpoint_id=endpoint_id, event_id=event_id or request.query.get("event_id", ""),
                page_size=limit_param(request), page_token=request.query.get("cursor", ""),
            ),
        )
    )
    return envelope(
        200, attempts=[attempt_json(a) for a in response.attempts], next_cursor=response.next_page_token or None
    )


@routes.get("/v1/webhooks/endpoints/{endpoint_id}/attempts")
async def endpoint_attempts(request: web.Request) -> web.Response:
    """Every attempt to the endpoint, newest first; ?event_id= narrows to one event."""
    return await _attempts(request, endpoint_id=request.match_info["endpoint_id"])


@routes.get("/v1/webhooks/events/{event_id}/attempts")
async def event_attempts(request: web.Request) -> web.Response:
    """Every attempt of the event to every endpoint, newest first."""
    return await _attempts(request, event_id=request.match_info["event_id"])


@routes.post("/v1/webhooks/events/{event_id}/replay")
async def replay_event(request: web.Request) -> web.Response:
    """Delivers the event again (same webhook-id), to `endpoint_id` or every subscriber."""
    body = await read_json_object(request) if request.can_read_body else {}
    response = await call(
        request.app[BACKENDS].webhooks.ReplayEvent(
            webhooks_pb.ReplayEventRequest(
                event_id=request.match_info["event_id"], endpoint_id=string_field(body, "endpoint_id")
            ),
        )
    )
    return envelope(202, deliveries_scheduled=response.deliveries_scheduled)


@routes.post("/v1/webhooks/endpoints/{endpoint_id}/replay")
async def replay_endpoint(request: web.Request) -> web.Response:
    """Delivers again every event that occurred in [start_time, end_time) to the endpoint."""
    body = await read_json_object(request)
    response = await call(
        request.app[BACKENDS].webhooks.ReplayEndpointEvents(
            webhooks_pb.ReplayEndpointEventsRequest(
                endpoint_id=request.match_info["endpoint_id"],
                start_time=_timestamp(body, "start_time"), end_time=_timestamp(body, "end_time"),
            ),
        )
    )
    return envelope(202, deliveries_scheduled=response.deliveries_scheduled)
