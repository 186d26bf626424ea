"""The pull Events API: every event of the last 30 days, so the vendor's
systems can reconcile with what they received by webhook (or not)."""

from __future__ import annotations

import orjson
from aiohttp import web
from scimd.webhooks.v1 import webhooks_service_pb2 as webhooks_pb

from gateway.calls import call
from gateway.keys import BACKENDS
from gateway.management.common import envelope, limit_param

routes = web.RouteTableDef()


@routes.get("/v1/events")
async def list_events(request: web.Request) -> web.Response:
    """Events after `after` (a previous `next_cursor`; none: the oldest kept),
    oldest first, each as the webhook body {type, timestamp, data}; filtered by
    `types` (comma-separated) and `organization_id`. `next_cursor` is always
    given: poll with it to read what comes next."""
    types = [t for t in request.query.get("types", "").split(",") if t.strip()]
    response = await call(request.app[BACKENDS].webhooks.ListEvents(
        webhooks_pb.ListEventsRequest(
            page_size=limit_param(request), page_token=request.query.get("after", ""),
            event_types=[t.strip() for t in types], organization_id=request.query.get("organization_id", ""),
        ),
    ))
    return envelope(200, events=[orjson.loads(e.body_json) for e in response.events],
                    next_cursor=response.next_page_token)
