"""Rows of the webhooks tables as the protos the API answers with."""

from __future__ import annotations

import asyncpg
from scimd.webhooks.v1 import delivery_attempt_pb2, endpoint_pb2

from runtime.timestamps import to_timestamp

OUTCOMES = {
    "succeeded": delivery_attempt_pb2.DELIVERY_OUTCOME_SUCCEEDED,
    "retrying": delivery_attempt_pb2.DELIVERY_OUTCOME_RETRYING,
    "failed": delivery_attempt_pb2.DELIVERY_OUTCOME_FAILED,
}


def endpoint_from_row(row: asyncpg.Record) -> endpoint_pb2.Endpoint:
    return endpoint_pb2.Endpoint(
        endpoint_id=row["endpoint_id"],
        url=row["url"],
        event_types=row["event_types"],
        organization_ids=row["organization_ids"],
        enabled=row["enabled"],
        disabled_reason=row["disabled_reason"],
        disable_time=to_timestamp(row["disabled_at"]),
        failing_since_time=to_timestamp(row["failing_since"]),
        previous_secret_expire_time=to_timestamp(row["previous_secret_expires_at"]),
        create_time=to_timestamp(row["created_at"]),
        update_time=to_timestamp(row["updated_at"]),
        etag=str(row["version"]),
    )


def attempt_from_row(row: asyncpg.Record) -> delivery_attempt_pb2.DeliveryAttempt:
    return delivery_attempt_pb2.DeliveryAttempt(
        attempt_id=str(row["attempt_id"]),
        event_id=row["event_id"],
        endpoint_id=row["endpoint_id"],
        attempt_time=to_timestamp(row["attempted_at"]),
        status_code=row["status_code"] or 0,
        latency_ms=row["latency_ms"],
        response_snippet=row["response_snippet"],
        error=row["error"],
        outcome=OUTCOMES[row["outcome"]],
        next_attempt_time=to_timestamp(row["next_attempt_at"]),
    )
