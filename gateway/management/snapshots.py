"""An organization's snapshot: its members (with roles), groups and
memberships exactly as its events up to a point add up to, and the Events API
cursor that continues from that point. Streamed as JSON lines, so an
organization of any size is read in one consistent transaction."""

from __future__ import annotations

from collections import Counter

import orjson
from aiohttp import web
from scimd.connections.v1 import connections_service_pb2 as connections_pb
from scimd.webhooks.v1 import webhooks_service_pb2 as webhooks_pb

from gateway.calls import call, stream
from gateway.keys import BACKENDS
from runtime.context import REQUEST_ID_HEADER, current_request_id
from runtime.errors import ServiceError

routes = web.RouteTableDef()
NDJSON = "application/x-ndjson"
_RECORD_FIELDS = (("member", "members_json"), ("idp_group", "idp_groups_json"), ("membership", "memberships_json"))


def _line(value: dict) -> bytes:
    return orjson.dumps(value) + b"\n"


@routes.get("/v1/b2b/organizations/{organization_id}/snapshot")
async def snapshot(request: web.Request) -> web.StreamResponse:
    """One JSON object per line: {"object": "snapshot", organization_id,
    events_cursor}, then every member, idp_group and membership, then
    {"object": "end", counts} (or {"object": "error", …} if the read broke
    off). Errors before the first line are ordinary management errors."""
    organization_id = request.match_info["organization_id"]
    backends = request.app[BACKENDS]
    organization = (await call(backends.connections.GetOrganization(
        connections_pb.GetOrganizationRequest(organization_id=organization_id)))).organization
    parts = stream(backends.webhooks.ReadOrganizationSnapshot(webhooks_pb.ReadOrganizationSnapshotRequest(
        organization_id=organization_id, organization_create_time=organization.create_time)))
    first = await anext(parts, None)  # the header; an error here is the response's status
    if first is None or not first.HasField("header"):
        raise ServiceError("UNAVAILABLE", "the snapshot could not be read; retry later", retry_after_seconds=1)
    response = web.StreamResponse(headers={"Content-Type": NDJSON, REQUEST_ID_HEADER: current_request_id()})
    await response.prepare(request)
    await response.write(_line({"object": "snapshot", "organization_id": first.header.organization_id,
                                "events_cursor": first.header.events_page_token}))
    counts: Counter = Counter()
    try:
        async for part in parts:
            lines = []
            for kind, field in _RECORD_FIELDS:
                for record in getattr(part.records, field):
                    lines.append(_line({"object": kind, **orjson.loads(record)}))
                    counts[kind] += 1
            await response.write(b"".join(lines))
    except ServiceError as error:  # the status is sent: the last line says the snapshot is incomplete
        await response.write(_line({"object": "error", "error_type": error.reason.lower(),
                                    "error_message": error.message}))
    else:
        await response.write(_line({"object": "end", "members": counts["member"],
                                    "idp_groups": counts["idp_group"], "memberships": counts["membership"]}))
    await response.write_eof()
    return response
