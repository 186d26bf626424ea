"""Liveness and readiness."""

from __future__ import annotations

from aiohttp import web

from gateway.json import json_response
from gateway.keys import BACKENDS, REVOCATIONS

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """The gateway process is alive."""
    return json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """Every backend service answers its health check with SERVING. Whether
    token revocations arrive is reported too, without deciding readiness:
    without them the token cache's TTL still bounds a revoked token's life."""
    services = await request.app[BACKENDS].health()
    ready = all(status == "SERVING" for status in services.values())
    body = {
        "status": "ready" if ready else "unavailable",
        "services": services,
        "token_revocations": "subscribed" if request.app[REVOCATIONS].subscribed.is_set() else "waiting",
    }
    return json_response(body, status=200 if ready else 503)
