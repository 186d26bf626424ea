"""Channels from one service to another: long-lived, one per process and
peer, spreading calls over every replica behind the address.

With a `dns:///name:port` address (a headless Kubernetes Service, say) the
channel resolves every replica and round-robins between them; servers end
each connection after CONNECTION_AGE, so clients re-resolve and find
replicas added since. A plain host:port works as before.
"""

from __future__ import annotations

from typing import Sequence

import grpc

from runtime.context import (
    ORGANIZATION_METADATA,
    REQUEST_ID_HEADER,
    current_request_id,
    remaining_seconds,
    tenant_var,
)

CONNECTION_AGE_MS = 5 * 60 * 1000
CONNECTION_AGE_GRACE_MS = 30 * 1000

# A restarted peer is found within about two seconds: gRPC's default
# reconnect backoff grows to two minutes, far past a supervisor's restart.
RECONNECT_BACKOFF_MAX_MS = 2000
CLIENT_OPTIONS: tuple[tuple[str, object], ...] = (
    ("grpc.lb_policy_name", "round_robin"),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", RECONNECT_BACKOFF_MAX_MS),
)
SERVER_OPTIONS: tuple[tuple[str, object], ...] = (
    ("grpc.max_connection_age_ms", CONNECTION_AGE_MS),
    ("grpc.max_connection_age_grace_ms", CONNECTION_AGE_GRACE_MS),
)


# Every call has a deadline: this one, or less when the work it serves has less left.
DEFAULT_CALL_SECONDS = 10.0


def open_channel(address: str, extra_options: Sequence[tuple[str, object]] = ()) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        address, options=[*CLIENT_OPTIONS, *extra_options], interceptors=[CallContextInterceptor()],
    )


class CallContextInterceptor(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor):
    """What every outgoing call carries, in one place: the current request id,
    the tenant it acts for (`tenant_var`), and a deadline (the call's own,
    else DEFAULT_CALL_SECONDS, and never past the deadline of the call being
    served: deadlines propagate)."""

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        request_id = current_request_id()
        if request_id and REQUEST_ID_HEADER not in metadata:
            metadata.add(REQUEST_ID_HEADER, request_id)
        tenant = tenant_var.get()
        if tenant is not None and ORGANIZATION_METADATA not in metadata:
            for key, value in tenant.metadata():
                metadata.add(key, value)
        timeout = details.timeout if details.timeout is not None else DEFAULT_CALL_SECONDS
        remaining = remaining_seconds()
        if remaining is not None:
            timeout = max(0.0, min(timeout, remaining))
        return grpc.aio.ClientCallDetails(details.method, timeout, metadata, details.credentials, details.wait_for_ready)

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        return await continuation(self._details(client_call_details), request)

    async def intercept_unary_stream(self, continuation, client_call_details, request):
        return await continuation(self._details(client_call_details), request)
