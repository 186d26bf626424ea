"""The WebhooksService RPCs: endpoints, secret rotation, the delivery log and replays."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta, timezone
from typing import Callable
from urllib.parse import urlsplit

import asyncpg
import grpc
import orjson
from aiohttp.abc import AbstractResolver
from scimd.webhooks.v1 import webhooks_service_pb2 as pb
from scimd.webhooks.v1 import webhooks_service_pb2_grpc as pb_grpc

from runtime.errors import ServiceError
from runtime.event_catalog import unknown_event_types
from runtime.ids import new_id
from runtime.metrics import WEBHOOK_DELIVERY_LAG
from runtime.paging import (
    decode_page_token,
    decode_time_keyset,
    encode_page_token,
    page_size,
    time_keyset_token,
)
from runtime.sealing import SecretBox
from runtime.ssrf import ForbiddenAddress, UnusableURL, check_url
from runtime.ttl_cache import TtlCache
from services.webhooks import repository, snapshot_repository
from services.webhooks.config import WebhookConfig
from services.webhooks.rows import attempt_from_row, endpoint_from_row

MAX_URL = 2048
# Writers ask for the delivery lag often (every gateway, twice a second): one query serves them for this long.
LAG_CACHE_SECONDS = 0.25
MAX_GRACE_SECONDS = 7 * 24 * 3600


def new_signing_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def _checked_url(url: str, config: WebhookConfig, resolver: AbstractResolver | None = None) -> str:
    url = url.strip()
    invalid = ServiceError("INVALID_VALUE", "url must be an absolute http or https URL without credentials")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # e.g. http://[::1x]/
        raise invalid from None
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not hostname or parts.username is not None \
            or parts.password is not None:
        raise invalid
    try:
        await check_url(url, config.allowed, resolver)
    except ForbiddenAddress as error:
        raise ServiceError("INVALID_VALUE", f"url is not allowed: {error}") from None
    except UnusableURL as error:
        raise ServiceError("INVALID_VALUE", f"url is not usable: {error}") from None
    return url


def _event_types(values) -> list[str]:
    """Known event types only: a misspelt one would silently never match."""
    event_types = sorted(set(values))
    unknown = unknown_event_types(event_types)
    if unknown:
        raise ServiceError("INVALID_VALUE", f"unknown event type {unknown[0][:100]!r}; the types are listed in "
                                            "docs/events.md and GET /openapi.json")
    return event_types


def _etag_version(etag: str) -> int | None:
    if not etag:
        return None
    try:
        return int(etag)
    except ValueError:
        raise ServiceError("ETAG_MISMATCH", "the endpoint changed since it was read") from None


def _time(stamp, present: bool) -> datetime | None:
    return stamp.ToDatetime(tzinfo=timezone.utc) if present else None


class WebhooksServicer(pb_grpc.WebhooksServiceServicer):
    def __init__(self, pool: asyncpg.Pool, box: SecretBox, config: WebhookConfig | None = None,
                 wake: Callable[[], None] = lambda: None, clock: Callable[[], datetime] | None = None,
                 resolver: AbstractResolver | None = None):
        """`resolver` answers the SSRF guard's DNS questions about new URLs (tests give a scripted one)."""
        self._pool = pool
        self._resolver = resolver
        self._box = box
        self._config = config or WebhookConfig()
        self._wake = wake  # tells the delivery worker that deliveries were scheduled
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._lag: TtlCache[None, float] = TtlCache(LAG_CACHE_SECONDS)

    async def GetDeliveryLag(self, request: pb.GetDeliveryLagRequest, context: grpc.aio.ServicerContext):
        async def measure() -> float:
            lag = max(0.0, await repository.delivery_lag_seconds(self._pool, self._clock()))
            WEBHOOK_DELIVERY_LAG.set(lag)
            return lag

        return pb.GetDeliveryLagResponse(lag_seconds=await self._lag.get(None, measure))

    async def CreateEndpoint(self, request: pb.CreateEndpointRequest, context: grpc.aio.ServicerContext):
        url = await _checked_url(request.url, self._config, self._resolver)
        secret = new_signing_secret()
        row = await repository.insert_endpoint(
            self._pool, new_id("webhook-endpoint"), url, _event_types(request.event_types), self._box.seal(secret),
            sorted(set(request.organization_ids)),
        )
        return pb.CreateEndpointResponse(endpoint=endpoint_from_row(row), secret=secret)

    async def GetEndpoint(self, request: pb.GetEndpointRequest, context: grpc.aio.ServicerContext):
        row = await repository.get_endpoint(self._pool, request.endpoint_id)
        if row is None:
            raise ServiceError("NOT_FOUND", "webhook endpoint not found")
        return pb.GetEndpointResponse(endpoint=endpoint_from_row(row))

    async def ListEndpoints(self, request: pb.ListEndpointsRequest, context: grpc.aio.ServicerContext):
        limit = page_size(request.page_size)
        after = decode_time_keyset(request.page_token)
        rows = await repository.list_endpoints(self._pool, limit + 1, after, request.organization_id)
        page, more = rows[:limit], len(rows) > limit
        return pb.ListEndpointsResponse(
            endpoints=[endpoint_from_row(r) for r in page],
            next_page_token=time_keyset_token(page[-1]["created_at"], page[-1]["endpoint_id"]) if more else "",
        )

    async def UpdateEndpoint(self, request: pb.UpdateEndpointRequest, context: grpc.aio.ServicerContext):
        wanted, changes = request.endpoint, {}
        for path in request.update_mask.paths:
            if path == "url":
                changes["url"] = await _checked_url(wanted.url, self._config, self._resolver)
            elif path == "event_types":
                changes["event_types"] = _event_types(wanted.event_types)
            elif path == "organization_ids":
                changes["organization_ids"] = sorted(set(wanted.organization_ids))
            elif path == "enabled":
                changes["enabled"] = wanted.enabled
            else:
                raise ServiceError("INVALID_VALUE", f"{path} cannot be updated")
        row = await repository.update_endpoint(self._pool, wanted.endpoint_id, changes, _etag_version(wanted.etag))
        if row is None:
            raise ServiceError("NOT_FOUND", "webhook endpoint not found")
        if row is False:
            raise ServiceError("ETAG_MISMATCH", "the endpoint changed since it was read")
        if changes.get("enabled"):
            self._wake()  # what waited for it is due
        return pb.UpdateEndpointResponse(endpoint=endpoint_from_row(row))

    async def DeleteEndpoint(self, request: pb.DeleteEndpointRequest, context: grpc.aio.ServicerContext):
        if not await repository.delete_endpoint(self._pool, request.endpoint_id):
            raise ServiceError("NOT_FOUND", "webhook endpoint not found")
        return pb.DeleteEndpointResponse()

    async def RotateEndpointSecret(self, request: pb.RotateEndpointSecretRequest, context: grpc.aio.ServicerContext):
        if not 0 <= request.grace_period_seconds <= MAX_GRACE_SECONDS:
            raise ServiceError("INVALID_VALUE", f"grace_period_seconds must be from 0 to {MAX_GRACE_SECONDS}")
        grace = request.grace_period_seconds or self._config.rotation_grace_seconds
        secret = new_signing_secret()
        row = await repository.rotate_secret(
            self._pool, request.endpoint_id, self._box.seal(secret), self._clock() + timedelta(seconds=grace)
        )
        if row is None:
            raise ServiceError("NOT_FOUND", "webhook endpoint not found")
        return pb.RotateEndpointSecretResponse(endpoint=endpoint_from_row(row), secret=secret)

    async def ListDeliveryAttempts(self, request: pb.ListDeliveryAttemptsRequest, context: grpc.aio.ServicerContext):
        if not request.endpoint_id and not request.event_id:
            raise ServiceError("INVALID_VALUE", "endpoint_id or event_id is required")
        limit = page_size(request.page_size)
        token = decode_page_token(request.page_token, 1)
        if token is not None and not isinstance(token[0], int):
            raise ServiceError("INVALID_PAGE_TOKEN", "page_token is not valid")
        rows = await repository.list_attempts(
            self._pool, request.endpoint_id, request.event_id, limit + 1, token[0] if token else None
        )
        page, more = rows[:limit], len(rows) > limit
        return pb.ListDeliveryAttemptsResponse(
            attempts=[attempt_from_row(r) for r in page],
            next_page_token=encode_page_token([page[-1]["attempt_id"]]) if more else "",
        )

    async def ListEvents(self, request: pb.ListEventsRequest, context: grpc.aio.ServicerContext):
        limit = page_size(request.page_size)
        token = decode_page_token(request.page_token, 1) if request.page_token else [0]
        if token is None or not isinstance(token[0], int) or not 0 <= token[0] < 2**63:
            raise ServiceError("INVALID_PAGE_TOKEN", "page_token is not valid")
        rows = await repository.list_events(
            self._pool, token[0], limit, _event_types(request.event_types), request.organization_id
        )
        return pb.ListEventsResponse(
            events=[
                pb.StoredEvent(event_id=r["event_id"], type=r["type"], organization_id=r["organization_id"],
                               body_json=r["body"])
                for r in rows
            ],
            next_page_token=encode_page_token([rows[-1]["seq"] if rows else token[0]]),
        )

    async def ReadOrganizationSnapshot(self, request: pb.ReadOrganizationSnapshotRequest,
                                       context: grpc.aio.ServicerContext):
        if not request.organization_id:
            raise ServiceError("INVALID_VALUE", "organization_id is required")
        records = pb.OrganizationSnapshotRecords()
        try:
            created_at = request.organization_create_time.ToDatetime(tzinfo=timezone.utc)
            async for item in snapshot_repository.read(self._pool, request.organization_id, created_at):
                if isinstance(item, snapshot_repository.SnapshotHeader):
                    yield pb.OrganizationSnapshotPart(header=pb.OrganizationSnapshotHeader(
                        organization_id=item.organization_id,
                        events_page_token=encode_page_token([item.through_seq]),
                    ))
                    continue
                kind, record = item
                _SNAPSHOT_FIELDS[kind](records).append(orjson.dumps(record).decode())
                if _record_count(records) >= SNAPSHOT_PART_RECORDS:
                    yield pb.OrganizationSnapshotPart(records=records)
                    records = pb.OrganizationSnapshotRecords()
        except snapshot_repository.SnapshotUnavailable:
            raise ServiceError("CONFLICT", "this organization was created before snapshots were kept;"
                               " reconcile it instead") from None
        except snapshot_repository.SnapshotNotReady:
            raise ServiceError("UNAVAILABLE", "the organization's first events are still on their way;"
                               " retry in a moment", retry_after_seconds=1) from None
        if _record_count(records):
            yield pb.OrganizationSnapshotPart(records=records)

    async def ReplayEvent(self, request: pb.ReplayEventRequest, context: grpc.aio.ServicerContext):
        if not await repository.event_exists(self._pool, request.event_id):
            raise ServiceError("NOT_FOUND", "event not found (events are kept for 30 days)")
        if request.endpoint_id and await repository.get_endpoint(self._pool, request.endpoint_id) is None:
            raise ServiceError("NOT_FOUND", "webhook endpoint not found")
        count = await repository.replay(
            self._pool, self._clock(), event_id=request.event_id, endpoint_id=request.endpoint_id
        )
        self._wake()
        return pb.ReplayEventResponse(deliveries_scheduled=count)

    async def ReplayEndpointEvents(self, request: pb.ReplayEndpointEventsRequest, context: grpc.aio.ServicerContext):
        if await repository.get_endpoint(self._pool, request.endpoint_id) is None:
            raise ServiceError("NOT_FOUND", "webhook endpoint not found")
        start = _time(request.start_time, request.HasField("start_time"))
        end = _time(request.end_time, request.HasField("end_time"))
        if start is None or end is None or start >= end:
            raise ServiceError("INVALID_VALUE", "start_time and end_time are required, start_time first")
        count = await repository.replay(self._pool, self._clock(), endpoint_id=request.endpoint_id, start=start, end=end)
        self._wake()
        return pb.ReplayEndpointEventsResponse(deliveries_scheduled=count)


# Records per streamed part: well under gRPC's message size limit with members of a few KB.
SNAPSHOT_PART_RECORDS = 200
_SNAPSHOT_FIELDS = {
    "member": lambda records: records.members_json,
    "idp_group": lambda records: records.idp_groups_json,
    "membership": lambda records: records.memberships_json,
}


def _record_count(records: pb.OrganizationSnapshotRecords) -> int:
    return len(records.members_json) + len(records.idp_groups_json) + len(records.memberships_json)
