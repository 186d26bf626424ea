"""The request log's RPCs (a mixin of DirectoryServicer): gateways record a
connection's SCIM requests in batches; the vendor and the Admin Portal read them."""

from __future__ import annotations

from datetime import datetime, timezone

import asyncpg
import grpc
import orjson
from scimd.directory.v1 import directory_service_pb2 as pb
from scimd.directory.v1 import request_record_pb2

from runtime.errors import ServiceError
from runtime.event_catalog import REQUEST_FAILED
from runtime.grpc_server import tenant_of
from runtime.outbox import QueuedEvent, enqueue_all, new_event
from runtime.paging import decode_page_token, encode_page_token, page_size
from runtime.timestamps import to_timestamp
from services.directory import request_log_repository as log_repository

MAX_RECORDS = 1000
# What one entry may keep of its body and its texts (the log is for reading, not an archive).
MAX_BODY_CHARS = 16 * 1024
MAX_TEXT_CHARS = 1000


def record_from_row(row: asyncpg.Record) -> request_record_pb2.RequestRecord:
    body = row["body"]
    return request_record_pb2.RequestRecord(
        record_id=row["record_id"], request_id=row["request_id"], token_id=row["token_id"], method=row["method"],
        path=row["path"], query=row["query"], status=row["status"], scim_type=row["scim_type"],
        detail=row["detail"], hint=row["hint"], latency_ms=row["latency_ms"], resource_id=row["resource_id"],
        user_name=row["user_name"], body_json=orjson.dumps(body).decode() if body is not None else "",
        time=to_timestamp(row["created_at"]),
    )


def _row(record: request_record_pb2.RequestRecord, connection_id: str) -> tuple:
    # The body goes to PostgreSQL as text, which parses it into jsonb: a batch
    # with a body that is not JSON fails whole (only a caller of ours sends them).
    body = None
    if record.body_json:
        body = orjson.dumps({"truncated": True, "chars": len(record.body_json)}).decode() \
            if len(record.body_json) > MAX_BODY_CHARS else record.body_json
    when = record.time.ToDatetime(tzinfo=timezone.utc) if record.HasField("time") else datetime.now(timezone.utc)
    return (connection_id, _clip(record.token_id), _clip(record.request_id), _clip(record.method),
            _clip(record.path), _clip(record.query), record.status, _clip(record.scim_type), _clip(record.detail),
            _clip(record.hint), record.latency_ms, _clip(record.resource_id), _clip(record.user_name), body, when)


def _clip(text: str) -> str:
    return text[:MAX_TEXT_CHARS]


class RequestLogRpcs:
    """Needs `_db`, `_stream`, `_schema` and `_project_id`."""

    async def RecordRequests(self, request: pb.RecordRequestsRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        if not tenant.connection_id:
            raise ServiceError("PERMISSION_DENIED", "requests are recorded for a SCIM connection")
        if len(request.records) > MAX_RECORDS:
            raise ServiceError("INVALID_VALUE", f"at most {MAX_RECORDS} records per call")
        rows = [_row(record, tenant.connection_id) for record in request.records]
        events = [self._failed_event(tenant.organization_id, tenant.connection_id, record)
                  for record in request.records if record.notify]
        async with self._db(tenant).acquire() as conn, conn.transaction():
            await log_repository.insert(conn, tenant.organization_id, rows)
            await enqueue_all(conn, events)
        return pb.RecordRequestsResponse()

    def _failed_event(self, organization_id: str, connection_id: str,
                      record: request_record_pb2.RequestRecord) -> QueuedEvent:
        event = new_event(REQUEST_FAILED, "CREATE", project_id=self._project_id, organization_id=organization_id)
        event.request_id = record.request_id
        event.request_failed.connection_id = connection_id
        event.request_failed.request.CopyFrom(record)
        event.request_failed.request.notify = False
        if len(record.body_json) > MAX_BODY_CHARS:
            event.request_failed.request.body_json = ""
        return QueuedEvent(self._stream, self._schema, event)

    async def ListRequests(self, request: pb.ListRequestsRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        if not tenant.connection_id:
            raise ServiceError("PERMISSION_DENIED", "the request log belongs to a SCIM connection")
        limit = page_size(request.page_size)
        key = decode_page_token(request.page_token, 1)
        if key is not None and not (isinstance(key[0], int) and 0 < key[0] < 2**63):
            raise ServiceError("INVALID_PAGE_TOKEN", "page_token is not valid")
        query = log_repository.RequestQuery(
            organization_id=tenant.organization_id, connection_id=tenant.connection_id, resource=request.resource,
            statuses=tuple(request.statuses),
            since=request.since.ToDatetime(tzinfo=timezone.utc) if request.HasField("since") else None,
            until=request.until.ToDatetime(tzinfo=timezone.utc) if request.HasField("until") else None,
            before_id=key[0] if key else None, limit=limit + 1,
        )
        async with self._db(tenant).acquire() as conn:
            rows = await log_repository.page(conn, query)
        shown, more = rows[:limit], len(rows) > limit
        return pb.ListRequestsResponse(
            records=[record_from_row(r) for r in shown],
            next_page_token=encode_page_token([shown[-1]["record_id"]]) if more else "",
        )

    async def GetRequestStats(self, request: pb.GetRequestStatsRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        if not tenant.connection_id:
            raise ServiceError("PERMISSION_DENIED", "the request log belongs to a SCIM connection")
        async with self._db(tenant).acquire() as conn:
            row = await log_repository.stats(conn, tenant.organization_id, tenant.connection_id,
                                             datetime.now(timezone.utc))
        response = pb.GetRequestStatsResponse(
            requests_last_hour=row["requests"], errors_last_hour=row["errors"],
            groups_received=row["groups_received"], users_received=row["users_received"],
        )
        if row["last"] is not None:
            response.last_request_time.CopyFrom(to_timestamp(row["last"]))
        return response
