"""Liveness and readiness."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from gateway.json import json_response
from gateway.keys import BACKENDS, REVOCATIONS, SETTINGS

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """The gateway process is alive."""
    return json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """Every backend service answers its health check with SERVING and, under
    `scimd up`, the supervisor has every process running (a restarting or
    crash-looping one is named). Whether token revocations arrive is reported
    too, without deciding readiness: without them the token cache's TTL still
    bounds a revoked token's life."""
    services = await request.app[BACKENDS].health()
    ready = all(status == "SERVING" for status in services.values())
    body = {
        "status": "ready",
        "services": services,
        "token_revocations": "subscribed" if request.app[REVOCATIONS].subscribed.is_set() else "waiting",
    }
    supervisor_url = request.app[SETTINGS].supervisor_url
    if supervisor_url:
        processes = await _supervised_processes(supervisor_url)
        body["processes"] = processes
        failing = sorted(name for name, state in processes.items() if state.get("state") != "running")
        if failing:
            ready = False
            body["failing"] = failing
    body["status"] = "ready" if ready else "unavailable"
    return json_response(body, status=200 if ready else 503)


async def _supervised_processes(supervisor_url: str) -> dict[str, dict]:
    """The supervisor's view of each process; when it cannot be asked, that says so."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
            async with session.get(f"{supervisor_url}/status") as response:
                return (await response.json())["processes"]
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError, TypeError):
        return {"supervisor": {"state": "unreachable"}}
