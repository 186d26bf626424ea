"""What every bench script needs first: the running system it may load (this
machine only) and the management API's credentials."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp
import orjson
from aiohttp import web

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def require_local(url: str, *grpc_addresses: str) -> None:
    hosts = [urlsplit(url).hostname, *(a.rsplit(":", 1)[0] for a in grpc_addresses if a)]
    if any(host not in LOCAL_HOSTS for host in hosts):
        raise SystemExit("the benchmark only targets this machine (127.0.0.1 / localhost)")


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """--url of the running scimd, and its project credentials (or where `make run` keeps them)."""
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--data-dir", default=".scimd-data", help="where `make run` keeps credentials.json")
    parser.add_argument("--project-id")
    parser.add_argument("--project-secret")


def system_addresses(data_dir: str) -> dict:
    """What `make run` wrote to its data directory's addresses.json (empty when it is not there)."""
    path = Path(data_dir) / "addresses.json"
    return orjson.loads(path.read_bytes()) if path.exists() else {}


def management_headers(args: argparse.Namespace) -> dict[str, str]:
    """Basic auth from --project-id/--project-secret, else from the data directory of `make run`."""
    project_id, secret = args.project_id, args.project_secret
    if not (project_id and secret):
        stored = orjson.loads((Path(args.data_dir) / "credentials.json").read_bytes())
        project_id, secret = stored["project_id"], stored["project_secret"]
    return {"Authorization": aiohttp.encode_basic_auth(project_id, secret)}


def management_caller(http: aiohttp.ClientSession, url: str,
                      headers: dict[str, str]) -> Callable[..., Awaitable[dict]]:
    """`call(method, path, body)`: one management API call; any answer above 299 ends the bench."""
    async def call(method: str, path: str, body: Any = None) -> dict:
        async with http.request(method, f"{url}{path}", headers=headers, json=body) as response:
            reply = await response.json(content_type=None)
            if response.status >= 300:
                raise SystemExit(f"{method} {path}: {response.status} {reply}")
            return reply

    return call


async def serve_receiver(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> tuple[web.AppRunner, int]:
    """A webhook receiver on 127.0.0.1 (POST /hook) on a free port: its runner and port."""
    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]
