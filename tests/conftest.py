"""Real infrastructure for the tests: PostgreSQL and NATS JetStream.

The servers from DATABASE_URL / NATS_URL (or the local defaults) are used
when they answer; otherwise embedded ones are started in a temporary folder.
Each test run gets its own database and its own NATS prefix, so runs never
collide; services under test are real gRPC servers on free ports.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import uuid
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import nats
import pytest

from cli.embedded import EmbeddedNats, EmbeddedPostgres
from runtime.settings import ServiceAddresses, Settings

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_NATS = "nats://127.0.0.1:4222"


async def _postgres_answers(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except Exception:
        return False
    await conn.close()
    return True


async def _nats_answers(url: str) -> bool:
    """A NATS server greets every connection with an INFO line."""
    parts = urlsplit(url)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname or "127.0.0.1", parts.port or 4222), 2
        )
    except (OSError, asyncio.TimeoutError):
        return False
    try:
        return (await asyncio.wait_for(reader.readline(), 2)).startswith(b"INFO")
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        writer.close()


# The tests' webhook receivers listen on 127.0.0.1, which the SSRF guard
# refuses unless allowed; the in-process webhooks service reads this as it starts.
# hooks.scimd.test never resolves (.test is reserved): endpoints that must
# never receive anything, saved because allow-listed.
LOCAL_WEBHOOK_RECEIVERS = "127.0.0.1/32,::1/128,hooks.scimd.test"


@pytest.fixture(scope="session", autouse=True)
def local_webhook_receivers():
    previous = os.environ.get("SCIMD_WEBHOOK_ALLOWED_HOSTS")
    os.environ["SCIMD_WEBHOOK_ALLOWED_HOSTS"] = LOCAL_WEBHOOK_RECEIVERS
    yield
    if previous is None:
        os.environ.pop("SCIMD_WEBHOOK_ALLOWED_HOSTS", None)
    else:
        os.environ["SCIMD_WEBHOOK_ALLOWED_HOSTS"] = previous


@pytest.fixture(scope="session")
async def postgres_admin_url(tmp_path_factory) -> str:
    """A PostgreSQL URL with the right to create databases."""
    url = os.environ.get("SCIMD_TEST_POSTGRES_URL") or os.environ.get("DATABASE_URL") or DEFAULT_POSTGRES
    if await _postgres_answers(url):
        yield url
        return
    embedded = EmbeddedPostgres(tmp_path_factory.mktemp("postgres"), database="postgres")
    await embedded.start()
    yield embedded.url
    await embedded.stop()


@pytest.fixture(scope="session")
async def nats_url(tmp_path_factory) -> str:
    url = os.environ.get("NATS_URL") or DEFAULT_NATS
    if await _nats_answers(url):
        yield url
        return
    embedded = EmbeddedNats(tmp_path_factory.mktemp("nats"))
    await embedded.start()
    yield embedded.url
    await embedded.stop()


def _with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


async def create_database(admin_url: str) -> str:
    name = f"scimd_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def fresh_database(postgres_admin_url):
    """A factory of throwaway databases, all dropped at the end of the run."""
    created: list[str] = []

    async def make() -> str:
        name = await create_database(postgres_admin_url)
        created.append(name)
        return _with_database(postgres_admin_url, name)

    yield make
    for name in created:
        await drop_database(postgres_admin_url, name)


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


async def delete_stream(url: str, prefix: str) -> None:
    from runtime.events import EventStream

    if not await _nats_answers(url):
        return
    nc = await nats.connect(url, connect_timeout=2)
    try:
        await nc.jetstream().delete_stream(EventStream(prefix).name)
    except Exception:
        pass  # never created, or already gone
    await nc.close()


def make_settings(database_url: str, nats_url: str, prefix: str, **overrides) -> Settings:
    return replace(
        Settings(),
        project_id=f"project-test-{uuid.uuid4()}",
        project_secret="secret-test-" + secrets.token_urlsafe(16),
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=prefix,
        encryption_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        shutdown_grace=1.0,
        # Tests drive one connection far above any IdP's pace; the limits (and the
        # back-pressure from webhook delivery, which a loaded machine would trip) have their own tests.
        rate_limit_per_second=0,
        connection_concurrency=0,
        write_backpressure_lag_seconds=0,
        **overrides,
    )


@pytest.fixture(scope="session")
async def system_settings(fresh_database, nats_url) -> Settings:
    """Settings of the in-process system shared by the service and gateway tests."""
    prefix = unique_prefix()
    yield make_settings(await fresh_database(), nats_url, prefix)
    await delete_stream(nats_url, prefix)


@pytest.fixture(scope="session")
async def running_services(system_settings):
    """The four services as real gRPC servers on free ports; yields the
    settings with their addresses filled in."""
    from runtime.grpc_server import running_service
    from services.connections.server import setup as connections_setup
    from services.directory.server import setup as directory_setup
    from services.rbac.server import setup as rbac_setup
    from services.webhooks.server import setup as webhooks_setup

    setups = {
        "connections": connections_setup,
        "directory": directory_setup,
        "rbac": rbac_setup,
        "webhooks": webhooks_setup,
    }
    async with AsyncExitStack() as stack:
        addresses = {}
        for name, setup in setups.items():
            # Each service starts knowing the addresses of those before it (rbac reads the directory).
            settings = replace(system_settings, services=replace(system_settings.services, **addresses))
            _server, port = await stack.enter_async_context(running_service(setup, settings, "127.0.0.1:0"))
            addresses[name] = f"127.0.0.1:{port}"
        yield replace(system_settings, services=ServiceAddresses(**addresses))


REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
async def gateway(running_services):
    """The gateway on a free port, talking to the running services."""
    from cli.processes import free_port
    from gateway.serving import start_gateway

    port = free_port()
    settings = replace(running_services, http_port=port, public_url=f"http://127.0.0.1:{port}")
    runner = await start_gateway(settings, host="127.0.0.1")
    yield Gateway(settings)
    await runner.cleanup()


from tests.support import basic_auth  # noqa: E402


class Gateway:
    """A running gateway and the project credentials that open it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.url = settings.public_url

    @property
    def auth(self):
        return basic_auth(self.settings.project_id, self.settings.project_secret)


@pytest.fixture
async def http():
    import aiohttp

    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def webhook_receiver(system_settings):
    from tests.support import WebhookReceiver

    async with WebhookReceiver() as receiver:
        yield receiver
    await _disable_endpoints_of(system_settings.database_url, receiver.url)


async def _disable_endpoints_of(database_url: str, url: str) -> None:
    """Endpoints a test pointed at its receiver would otherwise collect the
    deliveries of every later test's events, to a port nobody listens on."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE webhooks.endpoints SET enabled = false WHERE url = $1", url)
    except asyncpg.UndefinedTableError:
        pass  # the shared services never started
    finally:
        await conn.close()
