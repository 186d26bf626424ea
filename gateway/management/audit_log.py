"""An organization's audit log: one entry per mutating SCIM request."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scimd.directory.v1 import directory_service_pb2 as directory_pb

from gateway.calls import call
from gateway.keys import BACKENDS
from gateway.management.common import envelope, limit_param
from runtime.timestamps import to_rfc3339

routes = web.RouteTableDef()


def entry_json(entry: directory_pb.AuditEntry) -> dict[str, Any]:
    return {
        "audit_id": str(entry.audit_id),
        "connection_id": entry.connection_id,
        "token_id": entry.token_id,
        "request_id": entry.request_id,
        "operation": entry.operation,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "changed_attributes": list(entry.changed_attributes),
        "result": entry.result,
        "detail": entry.detail,
        "created_at": to_rfc3339(entry.create_time),
    }


@routes.get("/v1/b2b/organizations/{organization_id}/audit_log")
async def list_audit_log(request: web.Request) -> web.Response:
    """Newest first; `cursor` continues from a previous page's `next_cursor`."""
    response = await call(
        request.app[BACKENDS].directory.ListAuditEntries(
            directory_pb.ListAuditEntriesRequest(page_size=limit_param(request), page_token=request.query.get("cursor", "")),
        )
    )
    return envelope(200, entries=[entry_json(e) for e in response.entries], next_cursor=response.next_page_token or None)
