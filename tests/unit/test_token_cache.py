"""The gateway's token cache: evictions win over lookups that were in flight."""

from datetime import datetime, timedelta, timezone

from scimd.connections.v1 import connection_pb2

from gateway.token_cache import TokenCache

LATER = datetime.now(timezone.utc) + timedelta(days=1)


def _authenticated(connection_id: str = "connection-1", organization_id: str = "organization-1"):
    return connection_pb2.Connection(connection_id=connection_id, organization_id=organization_id), "token-id"


def test_an_answer_is_cached_and_evicted_with_its_connection():
    cache = TokenCache(ttl=60)
    cache.put("tok", _authenticated(), LATER, cache.begin())
    assert cache.get("tok") is not None
    cache.evict_connection("connection-1")
    assert cache.get("tok") is None


def test_a_lookup_in_flight_during_an_eviction_is_not_cached():
    """The race of issue 15: an authentication that began before a rotation
    ended must not put the rotated-away token back into the cache."""
    cache = TokenCache(ttl=60)
    begun = cache.begin()
    cache.evict_connection("connection-1")
    cache.put("tok", _authenticated(), LATER, begun)
    assert cache.get("tok") is None
    cache.put("tok", _authenticated(), LATER, cache.begin())  # a lookup begun afterwards is fresh
    assert cache.get("tok") is not None


def test_an_organization_eviction_covers_its_connections_and_lookups_in_flight():
    cache = TokenCache(ttl=60)
    cache.put("a", _authenticated("connection-a"), LATER, cache.begin())
    cache.put("other", _authenticated("connection-b", "organization-2"), LATER, cache.begin())
    begun = cache.begin()
    cache.evict_organization("organization-1")
    cache.put("late", _authenticated("connection-c"), LATER, begun)
    assert cache.get("a") is None and cache.get("late") is None
    assert cache.get("other") is not None


def test_an_eviction_of_another_connection_does_not_block_caching():
    cache = TokenCache(ttl=60)
    begun = cache.begin()
    cache.evict_connection("connection-2")
    cache.put("tok", _authenticated(), LATER, begun)
    assert cache.get("tok") is not None


def test_forgotten_evictions_still_block_what_was_in_flight_before_them():
    """The eviction record is bounded; what falls off raises a floor instead."""
    cache = TokenCache(ttl=60, max_entries=3)
    begun = cache.begin()
    cache.evict_connection("connection-1")
    for n in range(10):
        cache.evict_connection(f"connection-x{n}")
    cache.put("tok", _authenticated(), LATER, begun)
    assert cache.get("tok") is None


def test_changing_evicts_even_when_the_change_fails():
    cache = TokenCache(ttl=60)
    cache.put("tok", _authenticated(), LATER, cache.begin())
    try:
        with cache.changing(connection_id="connection-1"):
            raise TimeoutError("the call may have committed all the same")
    except TimeoutError:
        pass
    assert cache.get("tok") is None


def test_nothing_is_cached_past_the_token_expiry_or_with_caching_off():
    cache = TokenCache(ttl=60)
    cache.put("tok", _authenticated(), datetime.now(timezone.utc) - timedelta(seconds=1), cache.begin())
    assert cache.get("tok") is None
    off = TokenCache(ttl=0)
    off.put("tok", _authenticated(), LATER, off.begin())
    assert off.get("tok") is None
