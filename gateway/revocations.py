"""Every gateway replica drops a connection's cached tokens as soon as the
connections service reports a change to it (token rotation completed or
cancelled, connection or organization deleted), so a revoked token stops
working everywhere within about a second rather than after the cache TTL.

The reports are the connections service's scim.connection.* events, read from
the moment the gateway starts (its cache starts empty, so nothing earlier
matters). If NATS is unreachable the cache TTL still bounds how long a revoked
token can be accepted.
"""

from __future__ import annotations

from scimd.events.v1 import event_pb2

from gateway.token_cache import TokenCache
from runtime.events import EventStream
from runtime.live_events import LiveEvents


def token_revocations(cache: TokenCache, stream: EventStream, nats_url: str) -> LiveEvents:
    def evict(event: event_pb2.Event) -> None:
        if event.WhichOneof("payload") == "connection_changed":
            cache.evict_connection(event.connection_changed.connection.connection_id)

    return LiveEvents(stream, nats_url, "scim.connection.*", evict, name="token-revocations")
