"""Conversions between database datetimes, protobuf Timestamps and RFC 3339
text. Written against the fields directly: protobuf's own helpers are pure
Python and showed up as a top cost when rendering a page of 100 resources."""

from __future__ import annotations

import time
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp


def to_timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    return Timestamp(seconds=int(value.timestamp() // 1), nanos=value.microsecond * 1000)


def to_rfc3339(stamp: Timestamp) -> str:
    """RFC 3339 in UTC with millisecond precision, e.g. 2026-11-28T13:00:00.123Z."""
    moment = time.gmtime(stamp.seconds)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        moment.tm_year, moment.tm_mon, moment.tm_mday, moment.tm_hour, moment.tm_min, moment.tm_sec,
        stamp.nanos // 1_000_000,
    )
