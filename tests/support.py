"""Helpers shared by the tests: a local webhook receiver and management API shortcuts."""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from cli.processes import free_port


@dataclass(frozen=True)
class ReceivedWebhook:
    headers: dict[str, str]
    body: str


class LocalHookServer:
    """An HTTP server on 127.0.0.1:`port` answering POST /hook with `_handle`."""

    port: int
    _runner: web.AppRunner | None

    async def _handle(self, request: web.Request) -> web.Response:
        raise NotImplementedError

    async def __aenter__(self):
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self._runner.cleanup()


class WebhookReceiver(LocalHookServer):
    """An HTTP server on 127.0.0.1 that records every POST it receives.

    `status` is the HTTP status it answers with; tests change it to simulate
    a failing receiver.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.received: asyncio.Queue[ReceivedWebhook] = asyncio.Queue()
        self.status = 200
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.received.put_nowait(ReceivedWebhook(dict(request.headers), body))
        return web.Response(status=self.status, text="ok")


    async def next(self, timeout: float = 20.0) -> ReceivedWebhook:
        return await asyncio.wait_for(self.received.get(), timeout)


async def post_json(session: aiohttp.ClientSession, url: str, body, **kwargs) -> tuple[int, dict]:
    async with session.post(url, json=body, **kwargs) as response:
        return response.status, await response.json(content_type=None)


async def send_json(session: aiohttp.ClientSession, method: str, url: str, body=None,
                    headers=None) -> tuple[int, dict]:
    """Any request with an optional JSON body: (status, the JSON answer, {} for a 204)."""
    async with session.request(method, url, json=body, headers=headers) as response:
        return response.status, (await response.json(content_type=None)) if response.status != 204 else {}


async def create_organization(session, gateway, slug_hint: str = "org") -> dict:
    import uuid

    status, body = await post_json(
        session,
        f"{gateway.url}/v1/b2b/organizations",
        {"organization_name": f"Org {slug_hint}", "organization_slug": f"{slug_hint}-{uuid.uuid4().hex[:8]}"},
        headers=gateway.auth,
    )
    assert status == 201, body
    return body["organization"]


async def create_connection(session, gateway, organization_id: str, identity_provider: str = "okta") -> dict:
    status, body = await post_json(
        session,
        f"{gateway.url}/v1/b2b/scim/{organization_id}/connection",
        {"display_name": "Test IdP", "identity_provider": identity_provider},
        headers=gateway.auth,
    )
    assert status == 201, body
    return body["connection"]


def bearer(connection: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {connection['bearer_token']}", "Content-Type": "application/scim+json"}


def scim_user(user_name: str, **extra) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "active": True,
        **extra,
    }


def basic_auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": aiohttp.encode_basic_auth(user, password)}


def registration(user_name: str, **attributes):
    """A ScimRegistration for DirectoryService calls made directly over gRPC."""
    import orjson
    from scimd.directory.v1 import member_pb2

    return member_pb2.ScimRegistration(
        user_name=user_name, scim_attributes_json=orjson.dumps({"userName": user_name, **attributes}).decode()
    )


async def until(condition, what: str, deadline_s: float = 60, pause: float = 0.02) -> float:
    """Seconds until `await condition()` holds; fails naming `what` past the deadline."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        if await condition():
            return time.monotonic() - started
        await asyncio.sleep(pause)  # polling for the effect, with a deadline
    raise AssertionError(f"never: {what}")


class StatementRecorder:
    """Stands in for a pool or connection: keeps each statement a repository
    function would run (answering none), for EXPLAIN on a real database."""

    def __init__(self):
        self.statements: list[tuple[str, tuple]] = []

    def acquire(self) -> "StatementRecorder":
        return self

    async def __aenter__(self) -> "StatementRecorder":
        return self

    async def __aexit__(self, *exc_info) -> bool:
        return False

    def transaction(self) -> "StatementRecorder":
        return self

    async def fetch(self, sql: str, *args):
        self.statements.append((sql, args))
        return []

    async def fetchrow(self, sql: str, *args):
        self.statements.append((sql, args))
        return collections.defaultdict(lambda: None)  # every column NULL

    fetchval = execute = fetch


def plan_nodes(plan: dict):
    """Every node of an EXPLAIN (FORMAT JSON) plan, the node itself first."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)
