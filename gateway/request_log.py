"""The gateway's side of the request log: every authenticated SCIM request,
as it was answered, with its body redacted, sent to the directory service in
batches a few times a second (and each token's last use to the connections
service). Diagnostics, not an archive: what is pending when a gateway dies,
or past MAX_PENDING while the directory is down, is lost (and counted)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import orjson
from aiohttp import web
from google.protobuf.timestamp_pb2 import Timestamp
from scimd.connections.v1 import connections_service_pb2 as connections_pb
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.directory.v1 import request_record_pb2

from gateway.backends import Backends
from gateway.calls import call
from gateway.keys import AUTHENTICATED, REQUEST_BODY, REQUEST_RECORDER
from gateway.redaction import Redactor
from gateway.request_hints import hint_for
from runtime.context import Tenant, acting_for, current_request_id
from runtime.errors import ServiceError
from runtime.metrics import REQUEST_LOG_DROPPED

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.25
MAX_PENDING = 20_000
BATCH = 500
# scim.request.failed events per connection and minute; the log keeps every failure.
NOTIFY_PER_MINUTE = 10
# Refusals that are no failure of the request: a wrong token is not logged
# (anyone may send one), and a 429 is back-pressure the IdP honours.
NOT_NOTIFIED = (401, 429)


@dataclass(frozen=True)
class Pending:
    organization_id: str
    connection_id: str
    record: request_record_pb2.RequestRecord


class RequestRecorder:
    def __init__(self, backends: Callable[[], Backends], redactor: Redactor, keep: str = "full"):
        """`keep`: "full" (bodies, redacted), "metadata" (no bodies) or "off" (only tokens' last use)."""
        self._backends = backends
        self._redactor = redactor
        self._keep = keep
        self._token_uses: dict[str, Timestamp] = {}
        self._pending: list[Pending] = []
        self._notified: dict[str, tuple[float, int]] = {}
        self._task: asyncio.Task | None = None
        self._wakeup = asyncio.Event()

    def record(self, *, organization_id: str, connection_id: str, token_id: str, request_id: str, method: str,
               path: str, query: str, status: int, scim_type: str, detail: str, hint: str, latency_ms: float,
               resource_id: str, user_name: str, body: dict[str, Any] | None) -> None:
        if token_id:
            self._token_uses[token_id] = _now()
        if self._keep == "off":
            return
        if len(self._pending) >= MAX_PENDING:
            REQUEST_LOG_DROPPED.inc()
            return
        if self._keep != "full":
            body = None
        record = request_record_pb2.RequestRecord(
            request_id=request_id, token_id=token_id, method=method, path=path, query=query, status=status,
            scim_type=scim_type, detail=detail, hint=hint, latency_ms=latency_ms, resource_id=resource_id,
            user_name=user_name, body_json=orjson.dumps(self._redactor.redact(body)).decode() if body else "",
            notify=status >= 400 and status not in NOT_NOTIFIED and self._may_notify(connection_id),
        )
        record.time.FromDatetime(datetime.now(timezone.utc))
        self._pending.append(Pending(organization_id, connection_id, record))
        if len(self._pending) >= BATCH:
            self._wakeup.set()

    def _may_notify(self, connection_id: str) -> bool:
        now = time.monotonic()
        started, count = self._notified.get(connection_id, (now, 0))
        if now - started >= 60:
            started, count = now, 0
        if count >= NOTIFY_PER_MINUTE:
            return False
        if len(self._notified) > 10_000:  # bounded: forget the windows that ended
            self._notified = {c: w for c, w in self._notified.items() if now - w[0] < 60}
        self._notified[connection_id] = (started, count + 1)
        return True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="request-log")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()  # what is left, once

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), FLUSH_SECONDS)
            self._wakeup.clear()
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        last_use, self._token_uses = self._token_uses, {}
        if not pending and not last_use:
            return
        by_connection: dict[tuple[str, str], list[request_record_pb2.RequestRecord]] = defaultdict(list)
        for item in pending:
            by_connection[(item.organization_id, item.connection_id)].append(item.record)
        backends = self._backends()
        for (organization_id, connection_id), records in by_connection.items():
            for start in range(0, len(records), BATCH):
                try:
                    with acting_for(Tenant(organization_id, connection_id)):
                        await call(backends.directory.RecordRequests(
                            directory_pb.RecordRequestsRequest(records=records[start:start + BATCH])))
                except Exception as error:  # diagnostics must never fail a request; counted instead
                    REQUEST_LOG_DROPPED.inc(len(records[start:start + BATCH]))
                    log.warning("request log: a batch was not stored", extra={"error": repr(error)})
        if not last_use:
            return
        try:
            await call(backends.connections.TouchTokens(connections_pb.TouchTokensRequest(uses=[
                connections_pb.TokenUse(token_id=token_id, used_at=used_at) for token_id, used_at in last_use.items()
            ])))
        except Exception as error:
            log.warning("request log: token uses were not stored", extra={"error": repr(error)})


def record_scim_request(request: web.Request, response: web.StreamResponse, failure: ServiceError | None,
                        elapsed: float) -> None:
    """Hands an authenticated SCIM request, as answered, to the gateway's recorder."""
    connection, token_id = request[AUTHENTICATED]
    prefix = f"/scim/v2/{connection.connection_id}"
    path = request.path[len(prefix):] if request.path.startswith(prefix) else request.path
    route = request.match_info.route.resource
    scim_type = failure.kind.scim_type if failure is not None else ""
    body = request.get(REQUEST_BODY)
    resource_id = request.match_info.get("resource_id", "")
    if not resource_id and response.status == 201:
        resource_id = response.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]
    user_name = next((v for k, v in (body or {}).items() if k.lower() == "username" and isinstance(v, str)), "")
    request.app[REQUEST_RECORDER].record(
        organization_id=connection.organization_id, connection_id=connection.connection_id, token_id=token_id,
        request_id=current_request_id(), method=request.method, path=path, query=request.query_string,
        status=response.status, scim_type=scim_type or "", detail=failure.message if failure is not None else "",
        hint=hint_for(identity_provider=connection.identity_provider, method=request.method, path=path,
                      query=request.query_string, matched_route=route is not None, status=response.status,
                      scim_type=scim_type or "") if response.status >= 400 else "",
        latency_ms=elapsed * 1000, resource_id=resource_id, user_name=user_name, body=body,
    )


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.now(timezone.utc))
    return stamp
