"""The supervisor's own HTTP endpoint on 127.0.0.1: /status (each process's
state, for the gateway's /readyz and for people) and /metrics."""

from __future__ import annotations

import os

from aiohttp import web

from cli.processes import free_port
from cli.supervision import Supervisor
from runtime.metrics import exposition


async def serve_status(supervisor: Supervisor) -> tuple[web.AppRunner, str]:
    """Starts the endpoint; returns its runner (to clean up) and its URL."""

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"processes": supervisor.status(), "pid": os.getpid()})

    async def metrics(request: web.Request) -> web.Response:
        body, content_type = exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/status", status)
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"
