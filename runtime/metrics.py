"""Prometheus metrics of every process, in one place so names stay consistent.

Every process serves them at /metrics on SCIMD_METRICS_PORT (0: not served),
on SCIMD_METRICS_LISTEN (loopback by default: they need no credentials).
Metric names start with `scimd_`. Label values come only from bounded sets
(see `bounded_label`), so no request can grow the number of series.
"""

from __future__ import annotations

import logging
import threading

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest, start_http_server

log = logging.getLogger(__name__)

# Latency buckets for requests answered in milliseconds, with a tail to seconds.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "scimd_http_requests_total", "HTTP requests answered by the gateway.",
    ["connection_id", "resource", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "scimd_http_request_duration_seconds", "Time to answer an HTTP request.",
    ["resource", "method"], buckets=_LATENCY_BUCKETS,
)
GRPC_HANDLED = Counter(
    "scimd_grpc_server_handled_total", "gRPC calls completed by this service.", ["service", "method", "code"],
)
GRPC_LATENCY = Histogram(
    "scimd_grpc_server_handling_seconds", "Time to complete a gRPC call.", ["service", "method"],
    buckets=_LATENCY_BUCKETS,
)
OUTBOX_UNPUBLISHED = Gauge(
    "scimd_outbox_unpublished", "Events committed but not yet published to JetStream.", ["schema"],
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "scimd_outbox_oldest_unpublished_seconds", "Age of the oldest event not yet published.", ["schema"],
)
OUTBOX_PUBLISHED = Counter("scimd_outbox_published_total", "Events published from the outbox.", ["schema"])
OUTBOX_BATCH = Histogram(
    "scimd_outbox_batch_events", "Events per batch the outbox relay published (each batch: one transaction).",
    ["schema"], buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
REQUEST_LOG_DROPPED = Counter(
    "scimd_request_log_dropped_total", "SCIM requests the request log did not keep (a gateway's buffer full, or the "
    "directory unavailable)."
)
CONSUMER_PENDING = Gauge(
    "scimd_jetstream_consumer_pending", "Messages of the stream the durable consumer has yet to receive.",
    ["consumer"],
)
CONSUMER_PROCESSED = Counter(
    "scimd_jetstream_consumer_processed_total", "Events handled (then acked) by the durable consumer.", ["consumer"],
)
LEADERSHIP_HELD = Gauge(
    "scimd_leadership_held", "1 on the replica that holds the leadership of the work, else 0.", ["work"],
)
PARTITIONS_HELD = Gauge(
    "scimd_partitions_held", "How many partitions of the work this replica holds.", ["work"],
)
WEBHOOK_DELIVERIES = Counter(
    "scimd_webhook_deliveries_total", "Webhook delivery attempts, by outcome (success, retry, failure).", ["outcome"],
)
WEBHOOK_LATENCY = Histogram(
    "scimd_webhook_delivery_duration_seconds", "Time an endpoint took to answer a delivery attempt.",
    buckets=_LATENCY_BUCKETS,
)
WEBHOOK_DELIVERY_LAG = Gauge(
    "scimd_webhook_delivery_lag_seconds",
    "How long the oldest delivery due to a healthy endpoint has waited (what SCIM writers are slowed by).",
)
SCIM_WRITE_LIMIT = Gauge(
    "scimd_scim_write_limit_per_second",
    "The SCIM writes per second this gateway admits under back-pressure from webhook delivery (0: not limited).",
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "scimd_webhook_endpoints_disabled_total", "Endpoints disabled (410 Gone, or failing for days).", ["reason"],
)
ACTIVE_SESSIONS = Gauge("scimd_active_sessions", "Member sessions neither revoked nor expired.")
PROCESS_RESTARTS = Counter(
    "scimd_process_restarts_total", "Times `scimd up` restarted a process that had died.", ["process"],
)
PROCESS_UP = Gauge("scimd_process_up", "1 while `scimd up` has the process running and ready, else 0.", ["process"])


def exposition() -> tuple[bytes, str]:
    """The current metrics in the text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


def serve_metrics(port: int, listen: str = "127.0.0.1") -> None:
    """Serves /metrics on `listen`:`port` from a background thread (port 0: not at all)."""
    if port > 0:
        start_http_server(port, addr=listen)
        log.info("metrics served", extra={"port": port, "listen": listen})


class BoundedLabel:
    """Label values of one kind, at most `limit` distinct ones; past that,
    new values are counted under "other"."""

    def __init__(self, limit: int):
        self._limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) >= self._limit:
                return "other"
            self._seen.add(value)
        return value
