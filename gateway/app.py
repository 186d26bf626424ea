"""The gateway's application factory."""

from __future__ import annotations

from typing import AsyncIterator

from aiohttp import web
from scimd.webhooks.v1 import webhooks_service_pb2 as webhooks_pb

from gateway import health, openapi
from gateway.auth import authentication
from gateway.backends import Backends
from gateway.calls import call
from gateway.keys import (
    BACKENDS,
    CONNECTION_SLOTS,
    RATE_LIMITER,
    REQUEST_RECORDER,
    REVOCATIONS,
    SCHEMA_REGISTRY,
    SETTINGS,
    TOKEN_CACHE,
    WRITE_PRESSURE,
)
from gateway.limits import MAX_BODY_BYTES
from gateway.management import ROUTE_TABLES as MANAGEMENT_ROUTES
from gateway.middleware import request_context
from gateway.portal import attribute_pages as portal_attribute_pages
from gateway.portal import routes as portal_routes
from gateway.rate_limit import RateLimiter
from gateway.redaction import Redactor
from gateway.request_log import RequestRecorder
from gateway.revocations import token_revocations
from gateway.scim import bulk, discovery, oauth_token
from gateway.scim import routes as scim_routes
from gateway.scim.schema_registry import SchemaRegistry
from gateway.token_cache import TokenCache
from gateway.write_pressure import WritePressure
from runtime.events import EventStream
from runtime.fairness import TenantSlots
from runtime.settings import Settings


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[request_context, authentication], client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app[TOKEN_CACHE] = TokenCache(settings.token_cache_seconds)
    app[RATE_LIMITER] = RateLimiter(settings.rate_limit_per_second)
    app[CONNECTION_SLOTS] = TenantSlots(settings.connection_concurrency)

    async def backends_ctx(app: web.Application) -> AsyncIterator[None]:
        app[BACKENDS] = Backends.open(settings.services)
        app[SCHEMA_REGISTRY] = SchemaRegistry(app[BACKENDS])
        yield
        await app[BACKENDS].close()

    async def revocations_ctx(app: web.Application) -> AsyncIterator[None]:
        listener = token_revocations(app[TOKEN_CACHE], EventStream(settings.nats_prefix, settings.nats_replicas), settings.nats_url)
        app[REVOCATIONS] = listener
        await listener.start()
        yield
        await listener.stop()

    async def request_log_ctx(app: web.Application) -> AsyncIterator[None]:
        recorder = RequestRecorder(lambda: app[BACKENDS], Redactor(settings.request_log_redact), settings.request_log)
        app[REQUEST_RECORDER] = recorder
        await recorder.start()
        yield
        await recorder.stop()

    async def write_pressure_ctx(app: web.Application) -> AsyncIterator[None]:
        async def delivery_lag() -> float:
            response = await call(app[BACKENDS].webhooks.GetDeliveryLag(webhooks_pb.GetDeliveryLagRequest(),
                                                                        timeout=1.0))
            return response.lag_seconds

        pressure = WritePressure(settings.write_backpressure_lag_seconds, delivery_lag)
        app[WRITE_PRESSURE] = pressure
        await pressure.start()
        yield
        await pressure.stop()

    app.cleanup_ctx.append(backends_ctx)
    app.cleanup_ctx.append(write_pressure_ctx)
    app.cleanup_ctx.append(revocations_ctx)
    app.cleanup_ctx.append(request_log_ctx)
    app.add_routes(health.routes)
    app.add_routes(openapi.routes)
    for table in MANAGEMENT_ROUTES:
        app.add_routes(table)
    app.add_routes(scim_routes.routes)
    app.add_routes(discovery.routes)
    app.add_routes(bulk.routes)
    app.add_routes(oauth_token.routes)
    app.add_routes(portal_routes.routes)
    app.add_routes(portal_attribute_pages.routes)
    return app
