"""The WebhooksService RPCs (endpoints)."""

from __future__ import annotations

import base64
import re
import secrets
from urllib.parse import urlsplit

import asyncpg
import grpc
from scimd.webhooks.v1 import endpoint_pb2
from scimd.webhooks.v1 import webhooks_service_pb2 as pb
from scimd.webhooks.v1 import webhooks_service_pb2_grpc as pb_grpc

from services.common.errors import ServiceError
from services.common.ids import new_id
from services.common.paging import decode_time_keyset, page_size, time_keyset_token
from services.common.sealing import SecretBox
from services.common.timestamps import to_timestamp
from services.webhooks import repository

_EVENT_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
MAX_URL = 2048


def new_signing_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def endpoint_from_row(row: asyncpg.Record) -> endpoint_pb2.Endpoint:
    return endpoint_pb2.Endpoint(
        endpoint_id=row["endpoint_id"],
        url=row["url"],
        event_types=row["event_types"],
        enabled=row["enabled"],
        create_time=to_timestamp(row["created_at"]),
        update_time=to_timestamp(row["updated_at"]),
        etag=str(row["version"]),
    )


def _validate_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError("INVALID_VALUE", "url must be an absolute http or https URL")
    return url


class WebhooksServicer(pb_grpc.WebhooksServiceServicer):
    def __init__(self, pool: asyncpg.Pool, box: SecretBox):
        self._pool = pool
        self._box = box

    async def CreateEndpoint(self, request: pb.CreateEndpointRequest, context: grpc.aio.ServicerContext):
        url = _validate_url(request.url)
        event_types = sorted(set(request.event_types))
        bad = [t for t in event_types if not _EVENT_TYPE.match(t)]
        if bad:
            raise ServiceError("INVALID_VALUE", f"unknown event type format: {bad[0]!r}")
        secret = new_signing_secret()
        row = await repository.insert_endpoint(self._pool, new_id("webhook-endpoint"), url, event_types, self._box.seal(secret))
        return pb.CreateEndpointResponse(endpoint=endpoint_from_row(row), secret=secret)

    async def GetEndpoint(self, request: pb.GetEndpointRequest, context: grpc.aio.ServicerContext):
        row = await repository.get_endpoint(self._pool, request.endpoint_id)
        if row is None:
            raise ServiceError("NOT_FOUND", "webhook endpoint not found")
        return pb.GetEndpointResponse(endpoint=endpoint_from_row(row))

    async def ListEndpoints(self, request: pb.ListEndpointsRequest, context: grpc.aio.ServicerContext):
        limit = page_size(request.page_size)
        after = decode_time_keyset(request.page_token)
        rows = await repository.list_endpoints(self._pool, limit + 1, after)
        page, more = rows[:limit], len(rows) > limit
        return pb.ListEndpointsResponse(
            endpoints=[endpoint_from_row(r) for r in page],
            next_page_token=time_keyset_token(page[-1]["created_at"], page[-1]["endpoint_id"]) if more else "",
        )

    async def DeleteEndpoint(self, request: pb.DeleteEndpointRequest, context: grpc.aio.ServicerContext):
        if not await repository.delete_endpoint(self._pool, request.endpoint_id):
            raise ServiceError("NOT_FOUND", "webhook endpoint not found")
        return pb.DeleteEndpointResponse()
