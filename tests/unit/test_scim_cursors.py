"""SCIM cursors (RFC 9865): opaque, signed, bound to a connection and a query, expiring."""

import pytest

from gateway.scim.cursors import CURSOR_TIMEOUT_SECONDS, CursorCodec
from gateway.scim.requests import list_query
from runtime.errors import ServiceError

KEY = "a-test-encryption-key"
QUERY = ("User", 'userName sw "a"', "userName", False)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def reason(call) -> str:
    with pytest.raises(ServiceError) as caught:
        call()
    return caught.value.reason


def test_a_cursor_opens_to_its_page_token_and_only_for_its_connection_and_query():
    codec = CursorCodec(KEY, "scim-connection-a")
    cursor = codec.seal("page-token", *QUERY)
    assert all(c.isalnum() or c in "-._~" for c in cursor)  # RFC 3986 unreserved characters only
    assert codec.open(cursor, *QUERY) == "page-token"
    assert reason(lambda: CursorCodec(KEY, "scim-connection-b").open(cursor, *QUERY)) == "INVALID_CURSOR"
    assert reason(lambda: CursorCodec("another key", "scim-connection-a").open(cursor, *QUERY)) == "INVALID_CURSOR"
    for other in (("Group", *QUERY[1:]), ("User", "", "userName", False), ("User", QUERY[1], "", False),
                  ("User", QUERY[1], "userName", True)):
        assert reason(lambda: codec.open(cursor, *other)) == "INVALID_CURSOR"


@pytest.mark.parametrize("tampered", ["", "x", "a.b", "a.b.c", "%%%.%%%", "eyJ9.AAAA"])
def test_a_malformed_or_forged_cursor_is_invalid(tampered):
    assert reason(lambda: CursorCodec(KEY, "c").open(tampered, *QUERY)) == "INVALID_CURSOR"


def test_a_changed_byte_breaks_the_signature():
    codec = CursorCodec(KEY, "c")
    payload, mac = codec.seal("page-token", *QUERY).split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    assert reason(lambda: codec.open(f"{flipped}.{mac}", *QUERY)) == "INVALID_CURSOR"


def test_a_cursor_expires_after_its_timeout():
    clock = Clock()
    codec = CursorCodec(KEY, "c", clock=clock)
    cursor = codec.seal("t", *QUERY)
    clock.now += CURSOR_TIMEOUT_SECONDS
    assert codec.open(cursor, *QUERY) == "t"
    clock.now += 1
    assert reason(lambda: codec.open(cursor, *QUERY)) == "EXPIRED_CURSOR"


def test_cursor_paging_is_asked_for_by_the_cursor_parameter():
    assert list_query({}).cursor is None
    assert list_query({"cursor": ""}).cursor == ""
    assert list_query({"Cursor": "abc", "count": "10"}).cursor == "abc"
    assert reason(lambda: list_query({"cursor": "", "startIndex": "1"})) == "INVALID_VALUE"
    assert reason(lambda: list_query({"cursor": "", "count": "0"})) == "INVALID_COUNT"
    assert reason(lambda: list_query({"cursor": "", "count": "1001"})) == "INVALID_COUNT"
    assert reason(lambda: list_query({"cursor": 5})) == "INVALID_VALUE"
