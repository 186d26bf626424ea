"""The whole system as supervised child processes: infrastructure first (the
embedded PostgreSQL and NATS, where DATABASE_URL / NATS_URL are not given),
then the four services and the gateway; stopped in reverse order."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

import aiohttp
import grpc
import orjson
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cli.credentials import Credentials, load_or_create
from cli.embedded import EmbeddedNats, EmbeddedPostgres
from cli.processes import Child, LineSink, StartFailed, describe_exit, free_port, port_is_free
from cli.supervision import Supervisor
from runtime.settings import Settings

SERVICES = ("connections", "directory", "rbac", "webhooks")
APPLICATIONS = (*SERVICES, "gateway")
READY_TIMEOUT_SECONDS = 90.0
ADDRESSES_FILE = "addresses.json"
APP_STOP_SECONDS = 6.0
INFRA_STOP_SECONDS = 3.0
REPO_ROOT = Path(__file__).resolve().parents[1]

ReadyCheck = Callable[[], Awaitable[bool]]


class ApplicationProcess:
    """A service or the gateway: `python -m <module>` with the system's environment."""

    def __init__(self, name: str, module: str, env: dict[str, str], ready: ReadyCheck, output: LineSink):
        self.name = name
        self._argv = [sys.executable, "-m", module]
        self._env = env
        self._ready = ready
        self._output = output

    def spawn(self) -> Child:
        return Child.spawn(self.name, self._argv, env=self._env, cwd=REPO_ROOT, output=self._output)

    async def wait_ready(self, child: Child) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            if not child.running:
                raise StartFailed(f"{self.name} exited ({describe_exit(await child.wait_exit())}) while starting")
            if await self._ready():
                return
            if time.monotonic() > deadline:
                raise StartFailed(f"{self.name} did not become ready within {READY_TIMEOUT_SECONDS:.0f} s")
            await asyncio.sleep(0.1)  # polling readiness with a deadline

    def last_output(self, child: Child | None) -> list[str]:
        return child.tail.lines() if child is not None else []


def grpc_serving(address: str) -> ReadyCheck:
    async def check() -> bool:
        async with grpc.aio.insecure_channel(address) as channel:
            try:
                response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
            except grpc.aio.AioRpcError:
                return False
        return response.status == health_pb2.HealthCheckResponse.SERVING

    return check


def http_ok(url: str) -> ReadyCheck:
    async def check() -> bool:
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
                async with session.get(url) as response:
                    return response.status == 200
        return False

    return check


@dataclass
class System:
    settings: Settings
    credentials: Credentials
    database_url: str
    nats_url: str
    gateway_url: str
    supervisor: Supervisor
    postgres: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None

    async def stop(self) -> None:
        await self.supervisor.stop(APP_STOP_SECONDS, INFRA_STOP_SECONDS)


def _child_env(settings: Settings, credentials: Credentials, database_url: str, nats_url: str,
               addresses: dict[str, str], supervisor_url: str) -> dict[str, str]:
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
        SCIMD_SUPERVISOR_URL=supervisor_url,
        # The supervisor reads its children's JSON lines and presents them (terminal.py).
        SCIMD_LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    # A local system: webhooks may reach receivers on this machine (the README's walkthrough).
    env.setdefault("SCIMD_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1/32,::1/128")
    for name, address in addresses.items():
        env[f"SCIMD_{name.upper()}_ADDR"] = address
    env.pop("SCIMD_GRPC_LISTEN", None)
    return env


async def start_system(settings: Settings, supervisor: Supervisor, output: LineSink, supervisor_url: str) -> System:
    """Starts everything under `supervisor` (whose /status and /metrics are
    served at `supervisor_url`) and returns once the gateway reports every
    service ready. Any failure on the way stops what had started."""
    if not port_is_free(settings.http_host, settings.http_port):
        raise RuntimeError(f"port {settings.http_port} is in use; set SCIMD_HTTP_PORT to a free port")
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    credentials = load_or_create(data_dir, os.environ)
    system = System(settings, credentials, settings.database_url, settings.nats_url,
                    gateway_url=f"http://127.0.0.1:{settings.http_port}", supervisor=supervisor)
    try:
        if not system.database_url:
            system.postgres = EmbeddedPostgres(data_dir)
            supervisor.add(system.postgres, infrastructure=True)
            await supervisor.start("postgres")
            system.database_url = system.postgres.url
        if not system.nats_url:
            system.nats = EmbeddedNats(data_dir)
            supervisor.add(system.nats, infrastructure=True)
            await supervisor.start("nats")
            system.nats_url = system.nats.url
        addresses = {name: f"127.0.0.1:{free_port()}" for name in SERVICES}
        metrics_ports = {name: free_port() for name in APPLICATIONS}
        # Where each gRPC service listens and each process serves its metrics,
        # for operators' tools and the bench.
        # The embedded PostgreSQL's URL holds no secret (trust on 127.0.0.1); a given DATABASE_URL may.
        embedded = {"database_url": system.database_url} if system.postgres is not None else {}
        (data_dir / ADDRESSES_FILE).write_bytes(orjson.dumps(
            {**addresses, "supervisor": supervisor_url, **embedded,
             "metrics": {**{n: f"http://127.0.0.1:{p}/metrics" for n, p in metrics_ports.items()},
                         "supervisor": f"{supervisor_url}/metrics"}},
            option=orjson.OPT_INDENT_2,
        ))
        env = _child_env(settings, credentials, system.database_url, system.nats_url, addresses, supervisor_url)
        for name in APPLICATIONS:
            child_env = {**env, "SCIMD_METRICS_PORT": str(metrics_ports[name])}
            ready = grpc_serving(addresses[name]) if name in SERVICES else http_ok(f"{system.gateway_url}/healthz")
            module = "gateway" if name == "gateway" else f"services.{name}"
            supervisor.add(ApplicationProcess(name, module, child_env, ready, output))
        await supervisor.start(*APPLICATIONS)
        await _wait_ready(system)
    except BaseException:
        await system.stop()
        raise
    return system


async def _wait_ready(system: System) -> None:
    """The gateway's /readyz: every service answers, end to end."""
    ready = http_ok(f"{system.gateway_url}/readyz")
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not await ready():
        if time.monotonic() > deadline:
            raise RuntimeError("the system did not become ready in time")
        await asyncio.sleep(0.2)  # polling readiness with a deadline
