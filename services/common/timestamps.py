"""Conversions between database datetimes and protobuf Timestamps."""

from __future__ import annotations

from datetime import datetime, timezone

from google.protobuf.timestamp_pb2 import Timestamp


def to_timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(timezone.utc))
    return stamp


def to_rfc3339(stamp: Timestamp) -> str:
    """RFC 3339 in UTC with millisecond precision, e.g. 2026-11-28T13:00:00.123Z."""
    value = stamp.ToDatetime(tzinfo=timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
