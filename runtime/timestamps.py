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


# The text of recent whole seconds: a page of resources written together
# shares a few, and formatting one costs three times the lookup. Bounded.
_SECONDS_TEXT: dict[int, str] = {}
_SECONDS_TEXT_SIZE = 4096


def to_rfc3339(stamp: Timestamp) -> str:
    """RFC 3339 in UTC with millisecond precision, e.g. 2026-11-28T13:00:00.123Z."""
    seconds = stamp.seconds
    text = _SECONDS_TEXT.get(seconds)
    if text is None:
        if len(_SECONDS_TEXT) >= _SECONDS_TEXT_SIZE:
            _SECONDS_TEXT.clear()
        text = _SECONDS_TEXT[seconds] = "%04d-%02d-%02dT%02d:%02d:%02d" % time.gmtime(seconds)[:6]
    return "%s.%03dZ" % (text, stamp.nanos // 1_000_000)
