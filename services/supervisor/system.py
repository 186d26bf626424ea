"""The whole system as child processes: infrastructure first, then the four
services and the gateway; stopped in reverse order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson

from services.common.settings import Settings
from services.supervisor.credentials import Credentials, load_or_create
from services.supervisor.embedded import EmbeddedNats, EmbeddedPostgres
from services.supervisor.processes import Child, free_port, port_is_free

log = logging.getLogger("supervisor")

SERVICES = ("connections", "directory", "rbac", "webhooks")
READY_TIMEOUT_SECONDS = 90.0
ADDRESSES_FILE = "addresses.json"
APP_STOP_SECONDS = 6.0
INFRA_STOP_SECONDS = 3.0


@dataclass
class System:
    settings: Settings
    credentials: Credentials
    database_url: str
    nats_url: str
    gateway_url: str
    children: list[Child] = field(default_factory=list)
    postgres: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None

    async def stop(self) -> None:
        await asyncio.gather(*(child.stop(APP_STOP_SECONDS) for child in self.children))
        infra = [server.stop(INFRA_STOP_SECONDS) for server in (self.nats, self.postgres) if server is not None]
        await asyncio.gather(*infra)

    def exited_child(self) -> Child | None:
        return next((child for child in self.children if not child.running), None)


def _child_env(settings: Settings, credentials: Credentials, database_url: str, nats_url: str,
               addresses: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        NATS_URL=nats_url,
        SCIMD_PROJECT_ID=credentials.project_id,
        SCIMD_PROJECT_SECRET=credentials.project_secret,
        SCIMD_ENCRYPTION_KEY=credentials.encryption_key,
        SCIMD_HTTP_PORT=str(settings.http_port),
        SCIMD_PUBLIC_URL=settings.public_url,
        SCIMD_NATS_PREFIX=settings.nats_prefix,
        PYTHONUNBUFFERED="1",
    )
    # A local system: webhooks may reach receivers on this machine (the README's walkthrough).
    env.setdefault("SCIMD_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1/32,::1/128")
    for name, address in addresses.items():
        env[f"SCIMD_{name.upper()}_ADDR"] = address
    env.pop("SCIMD_GRPC_LISTEN", None)
    return env


async def start_system(settings: Settings) -> System:
    """Starts everything and returns once the gateway reports every service ready."""
    if not port_is_free(settings.http_host, settings.http_port):
        raise RuntimeError(f"port {settings.http_port} is in use; set SCIMD_HTTP_PORT to a free port")
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    credentials = load_or_create(data_dir, os.environ)
    postgres = nats = None
    database_url, nats_url = settings.database_url, settings.nats_url
    if not database_url:
        postgres = EmbeddedPostgres(data_dir)
        database_url = await postgres.start()
    if not nats_url:
        nats = EmbeddedNats(data_dir)
        nats_url = await nats.start()
    system = System(settings, credentials, database_url, nats_url,
                    gateway_url=f"http://127.0.0.1:{settings.http_port}", postgres=postgres, nats=nats)
    try:
        addresses = {name: f"127.0.0.1:{free_port()}" for name in SERVICES}
        metrics_ports = {name: free_port() for name in (*SERVICES, "gateway")}
        # Where each gRPC service listens and each process serves its metrics,
        # for operators' tools and the bench.
        (data_dir / ADDRESSES_FILE).write_bytes(orjson.dumps(
            {**addresses, "metrics": {n: f"http://127.0.0.1:{p}/metrics" for n, p in metrics_ports.items()}},
            option=orjson.OPT_INDENT_2,
        ))
        env = _child_env(settings, credentials, database_url, nats_url, addresses)
        cwd = Path(__file__).resolve().parents[2]
        commands = {name: [sys.executable, "-m", f"services.{name}"] for name in SERVICES}
        commands["gateway"] = [sys.executable, "-m", "gateway"]
        for name, command in commands.items():
            child_env = {**env, "SCIMD_METRICS_PORT": str(metrics_ports[name])}
            system.children.append(Child.spawn(name, command, env=child_env, cwd=cwd))
        await _wait_ready(system)
    except BaseException:
        await system.stop()
        raise
    return system


async def _wait_ready(system: System) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while True:
            exited = system.exited_child()
            if exited is not None:
                raise RuntimeError(f"{exited.name} exited with status {exited.process.returncode} while starting")
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with session.get(f"{system.gateway_url}/readyz") as response:
                    if response.status == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError("the system did not become ready in time")
            await asyncio.sleep(0.2)  # polling readiness with a deadline
