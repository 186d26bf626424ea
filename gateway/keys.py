"""Typed keys of the gateway's application state."""

from aiohttp import web

from gateway.backends import Backends
from gateway.rate_limit import RateLimiter
from gateway.token_cache import TokenCache
from services.common.live_events import LiveEvents
from services.common.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
BACKENDS = web.AppKey("backends", Backends)
TOKEN_CACHE = web.AppKey("token_cache", TokenCache)
REVOCATIONS = web.AppKey("revocations", LiveEvents)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)

# The id of the connection whose bearer token the request carried, once authenticated (request state).
AUTHENTICATED_CONNECTION = web.RequestKey("authenticated_connection", str)
