"""RFC 3339 text of protobuf Timestamps, as every resource's meta shows them."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from google.protobuf.timestamp_pb2 import Timestamp

from runtime import timestamps
from runtime.timestamps import to_rfc3339, to_timestamp


def _expected(seconds: int, nanos: int) -> str:
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1_000_000:03d}Z"


def test_each_second_and_millisecond_is_written_as_rfc_3339_in_utc_whatever_was_written_before():
    rng = random.Random(20)
    # Many times within a few seconds (a page written together), then more seconds than are kept.
    stamps = [(1_796_320_000 + rng.randrange(3), rng.randrange(10**9)) for _ in range(500)]
    stamps += [(rng.randrange(0, 253_402_300_800), rng.randrange(10**9))
               for _ in range(timestamps._SECONDS_TEXT_SIZE + 100)]
    stamps += [(0, 0), (0, 999_999_999), (253_402_300_799, 999_999_999)]
    for seconds, nanos in stamps + stamps[:50]:
        assert to_rfc3339(Timestamp(seconds=seconds, nanos=nanos)) == _expected(seconds, nanos)
    assert len(timestamps._SECONDS_TEXT) <= timestamps._SECONDS_TEXT_SIZE


def test_a_database_time_round_trips_to_the_millisecond():
    moment = datetime(2026, 12, 3, 19, 5, 7, 123_456, tzinfo=timezone.utc)
    assert to_rfc3339(to_timestamp(moment)) == "2026-12-03T19:05:07.123Z"
    assert to_timestamp(None) is None
