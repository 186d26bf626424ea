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


def open_channel(address: str, extra_options: Sequence[tuple[str, object]] = ()) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(address, options=[*CLIENT_OPTIONS, *extra_options])
