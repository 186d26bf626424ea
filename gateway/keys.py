"""Typed keys of the gateway's application state."""

from aiohttp import web

from gateway.backends import Backends
from gateway.rate_limit import RateLimiter
from gateway.token_cache import TokenCache
from runtime.fairness import TenantSlots
from runtime.live_events import LiveEvents
from runtime.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
BACKENDS = web.AppKey("backends", Backends)
TOKEN_CACHE = web.AppKey("token_cache", TokenCache)
REVOCATIONS = web.AppKey("revocations", LiveEvents)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
# Requests of each connection in flight, bounded (settings.connection_concurrency).
CONNECTION_SLOTS = web.AppKey("connection_slots", TenantSlots)

# The SCIM resource types with the vendor's schema extensions (gateway.scim.schema_registry).
SCHEMA_REGISTRY = web.AppKey("schema_registry")

# Collects the SCIM requests for the request log (gateway.request_log.RequestRecorder).
REQUEST_RECORDER = web.AppKey("request_recorder")

# Holds SCIM writes while webhook delivery is behind (gateway.write_pressure.WritePressure).
WRITE_PRESSURE = web.AppKey("write_pressure")

# The authenticated connection and which of its bearer tokens (request state, SCIM API).
AUTHENTICATED = web.RequestKey("authenticated", tuple)
# The request's JSON body once a handler read it (request state, for the request log).
REQUEST_BODY = web.RequestKey("request_body", dict)
# The connection whose slot the request holds until it is answered (request state).
SLOT_HELD = web.RequestKey("slot_held", str)
