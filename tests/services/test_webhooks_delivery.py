"""Delivery semantics of the webhooks worker, against a real PostgreSQL and
real HTTP receivers on 127.0.0.1, with an injected clock: retries, Retry-After,
410, the five-day disable, per-resource order, slow endpoints, secret rotation
and replays happen in moved time, never in waited time.

Standard Webhooks (https://www.standardwebhooks.com/) is the reference for
the headers and signatures; Svix's retry schedule for the timing."""

from __future__ import annotations

import asyncio
import base64
import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Awaitable, Callable

import orjson
import pytest
from aiohttp import web
from scimd.webhooks.v1 import webhooks_service_pb2 as pb
from standardwebhooks import Webhook

from cli.processes import free_port
from runtime.db import create_pool, migrate
from runtime.sealing import SecretBox
from runtime.ssrf import AllowList
from services.webhooks import delivery as delivery_module
from services.webhooks import repository
from services.webhooks.config import RETRY_SCHEDULE, WebhookConfig
from services.webhooks.delivery import ENDPOINT_REST_SECONDS, DeliveryWorker, retry_after_seconds
from services.webhooks.service import WebhooksServicer

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "webhooks" / "migrations"
LOCAL = AllowList.parse("127.0.0.1/32")
DEADLINE_S = 10


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def to(self, when: datetime) -> None:
        self.now = max(self.now, when)


@dataclass
class Request:
    headers: dict[str, str]
    body: str

    @property
    def event_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def object_id(self) -> str:
        return orjson.loads(self.body)["data"]["id"]


Handler = Callable[[web.Request, "Receiver"], Awaitable[web.StreamResponse]]


async def ok(request: web.Request, receiver: "Receiver") -> web.StreamResponse:
    return web.Response(text="ok")


@dataclass
class Receiver:
    """A local HTTP endpoint whose answer each test scripts; it records every request."""

    handler: Handler = ok
    port: int = field(default_factory=free_port)
    requests: list[Request] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(Request(dict(request.headers), await request.text()))
        self.arrived.set()
        return await self.handler(request, self)

    async def wait_for(self, count: int, deadline_s: float = DEADLINE_S) -> None:
        async def enough() -> None:
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), deadline_s)


@pytest.fixture
async def start_receiver():
    runners = []

    async def start(handler: Handler = ok) -> Receiver:
        receiver = Receiver(handler)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", receiver._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
        runners.append(runner)
        return receiver

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture(scope="module")
async def database_url(fresh_database):
    url = await fresh_database()
    await migrate(url, "webhooks", MIGRATIONS)
    return url


@pytest.fixture
async def pool(database_url):
    pools = await create_pool(database_url, "webhooks", max_size=8)
    yield pools.shared
    await pools.close()


@dataclass
class Harness:
    pool: object
    box: SecretBox
    clock: FakeClock
    config: WebhookConfig
    workers: list[DeliveryWorker] = field(default_factory=list)
    # Answers the save-time SSRF check's DNS questions (names in these tests do not resolve).
    resolver: object = None

    async def worker(self, timeout: float = 5.0, **kwargs) -> DeliveryWorker:
        worker = DeliveryWorker(self.pool, self.box, timeout, self.config, clock=self.clock, rng=random.Random(7),
                                project_id="project-test", **kwargs)
        await worker.open()
        self.workers.append(worker)
        return worker

    @property
    def service(self) -> WebhooksServicer:
        return WebhooksServicer(self.pool, self.box, self.config, clock=self.clock, resolver=self.resolver)

    async def endpoint(self, url: str, event_types: tuple[str, ...] = ("scim.member.update",)) -> tuple[str, str]:
        created = await self.service.CreateEndpoint(pb.CreateEndpointRequest(url=url, event_types=event_types), None)
        return created.endpoint.endpoint_id, created.secret

    def received(self, object_id: str, event_type: str = "scim.member.update", **data) -> repository.ReceivedEvent:
        event_id = f"event-{uuid.uuid4()}"
        body = {"type": event_type, "timestamp": self.clock().isoformat(),
                "data": {"event_id": event_id, "id": object_id, **data}}
        return repository.ReceivedEvent(
            event_id=event_id, type=event_type, organization_id="organization-test", request_id="",
            body=orjson.dumps(body).decode(), occurred_at=self.clock(), object_id=object_id,
        )

    async def store(self, events: list[repository.ReceivedEvent],
                    offer: repository.LeaseOffer = repository.NO_LEASES) -> repository.StoredEvents:
        async with self.pool.acquire() as conn:
            return await repository.store_events(conn, events, self.clock(), offer)

    async def event(self, object_id: str, event_type: str = "scim.member.update", **data) -> str:
        event = self.received(object_id, event_type, **data)
        await self.store([event])
        return event.event_id

    async def delivery(self, event_id: str, endpoint_id: str):
        return await self.pool.fetchrow(
            "SELECT * FROM deliveries WHERE event_id = $1 AND endpoint_id = $2", event_id, endpoint_id
        )

    async def attempts(self, endpoint_id: str) -> list:
        return await self.pool.fetch("SELECT * FROM attempts WHERE endpoint_id = $1 ORDER BY attempt_id", endpoint_id)

    async def endpoint_row(self, endpoint_id: str):
        return await repository.get_endpoint(self.pool, endpoint_id)


@pytest.fixture
async def harness(pool):
    # Each test has its own endpoints; older tests' endpoints must not take part.
    await pool.execute("UPDATE endpoints SET enabled = false")
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    made = Harness(pool, SecretBox(key), FakeClock(), WebhookConfig(allowed=LOCAL))
    yield made
    for worker in made.workers:
        await worker.stop()


def status(code: int, headers: dict[str, str] | None = None, text: str = "") -> Handler:
    async def answer(request: web.Request, receiver: Receiver) -> web.StreamResponse:
        return web.Response(status=code, headers=headers or {}, text=text)

    return answer


# --- what counts as success


async def test_2xx_is_success_and_the_attempt_is_logged(harness, start_receiver):
    receiver = await start_receiver(status(204))
    endpoint_id, secret = await harness.endpoint(receiver.url)
    event_id = await harness.event("thing-1")
    assert await (await harness.worker()).deliver_due() == 1
    delivery = await harness.delivery(event_id, endpoint_id)
    assert delivery["status"] == "succeeded" and delivery["last_status_code"] == 204
    [attempt] = await harness.attempts(endpoint_id)
    assert attempt["outcome"] == "succeeded" and attempt["status_code"] == 204 and attempt["latency_ms"] > 0
    assert attempt["next_attempt_at"] is None
    [request] = receiver.requests
    assert request.event_id == event_id  # webhook-id is the event id
    assert Webhook(secret).verify(request.body, request.headers)["data"]["id"] == "thing-1"


async def test_3xx_is_a_failure_and_the_redirect_is_not_followed(harness, start_receiver):
    async def redirect(request: web.Request, receiver: Receiver) -> web.StreamResponse:
        if request.path == "/elsewhere":
            return web.Response(text="followed")
        raise web.HTTPFound(f"http://127.0.0.1:{receiver.port}/elsewhere")

    receiver = await start_receiver(redirect)
    endpoint_id, _ = await harness.endpoint(receiver.url)
    event_id = await harness.event("thing-1")
    await (await harness.worker()).deliver_due()
    assert len(receiver.requests) == 1  # /elsewhere never asked
    delivery = await harness.delivery(event_id, endpoint_id)
    assert delivery["status"] == "pending" and delivery["last_status_code"] == 302
    [attempt] = await harness.attempts(endpoint_id)
    assert attempt["outcome"] == "retrying" and attempt["error"] == "HTTP 302"


async def test_a_timeout_is_a_failure(harness, start_receiver):
    released = asyncio.Event()

    async def hang(request: web.Request, receiver: Receiver) -> web.StreamResponse:
        await asyncio.wait_for(released.wait(), DEADLINE_S)
        return web.Response(text="late")

    receiver = await start_receiver(hang)
    endpoint_id, _ = await harness.endpoint(receiver.url)
    await harness.event("thing-1")
    try:
        await (await harness.worker(timeout=0.3)).deliver_due()
    finally:
        released.set()
    [attempt] = await harness.attempts(endpoint_id)
    assert attempt["outcome"] == "retrying" and attempt["status_code"] is None
    assert "Timeout" in attempt["error"]


async def test_only_the_first_bytes_of_a_response_are_read(harness, start_receiver):
    sent = 0

    async def endless(request: web.Request, receiver: Receiver) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(status=500)
        await response.prepare(request)
        chunk = b"x" * 65536
        try:
            for _ in range(1024):  # at most 64 MiB, far beyond the cap
                await response.write(chunk)
                sent += len(chunk)
        except (ConnectionResetError, RuntimeError):
            pass  # the worker hung up, as it should
        return response

    receiver = await start_receiver(endless)
    endpoint_id, _ = await harness.endpoint(receiver.url)
    await harness.event("thing-1")
    await (await harness.worker()).deliver_due()
    [attempt] = await harness.attempts(endpoint_id)
    assert attempt["status_code"] == 500
    assert attempt["response_snippet"] == "x" * harness.config.response_snippet_limit
    assert sent < 64 * 1024 * 1024


async def test_successes_finished_together_are_recorded_in_one_batch_each_exactly_once(harness, start_receiver):
    receiver = await start_receiver(status(200))
    endpoint_id, _ = await harness.endpoint(receiver.url)
    event_ids = [await harness.event(f"batch-{n}") for n in range(40)]
    worker = await harness.worker()
    statements = []
    original = repository.record_successes

    async def counting(pool, attempts):
        statements.append(len(attempts))
        return await original(pool, attempts)

    repository.record_successes = counting
    try:
        assert await worker.deliver_due() == 40
    finally:
        repository.record_successes = original
    assert sum(statements) == 40 and len(statements) < 40, statements  # batched, none twice
    for event_id in event_ids:
        assert (await harness.delivery(event_id, endpoint_id))["status"] == "succeeded"
    attempts = await harness.attempts(endpoint_id)
    assert sorted(a["event_id"] for a in attempts) == sorted(event_ids)
    assert {a["outcome"] for a in attempts} == {"succeeded"}


async def test_a_success_recorded_after_the_delivery_was_claimed_again_does_not_overwrite_it(harness):
    endpoint_id, _ = await harness.endpoint("http://127.0.0.1:9/unused")
    event_id = await harness.event("reclaimed")
    [first] = await repository.claim_due_deliveries(harness.pool, harness.clock(), 10, 1.0)
    harness.clock.advance(2)  # the lease ends; another worker claims it
    [second] = await repository.claim_due_deliveries(harness.pool, harness.clock(), 10, 30.0)
    late = repository.AttemptRecord(
        event_id=event_id, endpoint_id=endpoint_id, claimed_attempts=first["attempts"],
        lease_until=first["lease_until"], attempted_at=harness.clock(), status_code=200, latency_ms=1.0,
        response_snippet="", error="", outcome="succeeded", next_attempt_at=None)
    await repository.record_successes(harness.pool, [late])
    delivery = await harness.delivery(event_id, endpoint_id)
    assert delivery["status"] == "pending" and delivery["attempts"] == second["attempts"] == 2
    assert [a["outcome"] for a in await harness.attempts(endpoint_id)] == ["succeeded"]  # the attempt is logged


def _offer(slots: int = 64, per_endpoint: int = 16, in_flight: dict[str, int] | None = None,
           busy: tuple[str, ...] = ()) -> repository.LeaseOffer:
    return repository.LeaseOffer(slots, 30.0, per_endpoint, in_flight or {}, busy)


async def test_a_store_leases_only_what_a_claim_would_take_first(harness):
    """The intake leases a delivery as it stores it only where a claim would
    take it first: a healthy endpoint that is not busy and has nothing due
    waiting, and the first pending delivery of its resource."""
    open_endpoint, _ = await harness.endpoint("http://127.0.0.1:9/open")
    failing, _ = await harness.endpoint("http://127.0.0.1:9/failing")
    busy, _ = await harness.endpoint("http://127.0.0.1:9/busy")
    backlogged, _ = await harness.endpoint("http://127.0.0.1:9/backlogged")
    await harness.pool.execute("UPDATE endpoints SET failing_since = $2 WHERE endpoint_id = $1", failing,
                               harness.clock())
    await harness.pool.execute("UPDATE endpoints SET enabled = false WHERE endpoint_id <> $1", backlogged)
    await harness.event("waiting")  # due for `backlogged` alone, not yet claimed
    await harness.pool.execute("UPDATE endpoints SET enabled = true WHERE endpoint_id = ANY($1::text[])",
                               [open_endpoint, failing, busy])
    in_flight = harness.received("in-flight")
    [earlier] = (await harness.store([in_flight], _offer(busy=(failing, busy, backlogged)))).leased
    assert earlier["endpoint_id"] == open_endpoint

    batch = [harness.received("x", step=1), harness.received("x", step=2), harness.received("y"),
             harness.received("in-flight")]
    stored = await harness.store(batch, _offer(busy=(busy,)))
    leased = {(row["event_id"], row["endpoint_id"]) for row in stored.leased}
    # x's first and y, to the open endpoint; x's second waits for its first, in-flight's for the one in flight.
    assert leased == {(batch[0].event_id, open_endpoint), (batch[2].event_id, open_endpoint)}
    assert stored.waiting == 4 * 4 - 2
    for row in stored.leased:
        delivery = await harness.delivery(row["event_id"], row["endpoint_id"])
        assert delivery["attempts"] == 1 and delivery["next_attempt_at"] == row["lease_until"]
        assert row["lease_until"] == harness.clock() + timedelta(seconds=30)
        assert row["body"] == next(e.body for e in batch if e.event_id == row["event_id"])
        assert row["url"] == "http://127.0.0.1:9/open" and row["secret_sealed"]
    # What a claim finds now is what the store left: the backlog and the failing endpoint's first.
    claimed = await repository.claim_due_deliveries(harness.pool, harness.clock(), 64, 30.0, [busy], 16)
    assert {(row["event_id"], row["endpoint_id"]) for row in claimed}.isdisjoint(leased)
    assert {row["endpoint_id"] for row in claimed} == {failing, backlogged}


async def test_a_store_leases_within_the_free_slots_and_each_endpoint_s_share(harness):
    first, _ = await harness.endpoint("http://127.0.0.1:9/first")
    second, _ = await harness.endpoint("http://127.0.0.1:9/second")
    events = [harness.received(f"thing-{n}") for n in range(6)]
    stored = await harness.store(events, _offer(slots=5, per_endpoint=3, in_flight={first: 1}))
    per_endpoint = {endpoint: [row["event_id"] for row in stored.leased if row["endpoint_id"] == endpoint]
                    for endpoint in (first, second)}
    assert per_endpoint[first] == [e.event_id for e in events[:2]]  # its share, less the one in flight
    assert per_endpoint[second] == [e.event_id for e in events[:3]]  # the slots left, oldest first
    assert stored.waiting == 12 - 5
    assert (await harness.store([harness.received("late")], _offer(slots=0))).leased == []


async def test_the_running_worker_sends_what_the_intake_leased_without_claims(harness, start_receiver, monkeypatch):
    """With no idle poll, every delivery still goes out, in each resource's
    order: the intake leases what it can, hands the rest to a claim, and a
    success wakes the claim for its resource's next delivery."""
    monkeypatch.setattr(delivery_module, "IDLE_POLL_SECONDS", 3600)
    first_step_sent = asyncio.Event()
    release_first_step = asyncio.Event()

    async def hold_the_first_step(request: web.Request, receiver: Receiver) -> web.StreamResponse:
        if orjson.loads(receiver.requests[-1].body)["data"].get("step") == 0:
            first_step_sent.set()
            await asyncio.wait_for(release_first_step.wait(), DEADLINE_S)
        return web.Response(text="ok")

    receiver = await start_receiver(hold_the_first_step)
    await harness.endpoint(receiver.url)
    worker = await harness.worker()
    await worker.start()
    claims = []
    original = repository.claim_due_deliveries

    async def counting(*args, **kwargs):
        rows = await original(*args, **kwargs)
        claims.append(len(rows))
        return rows

    monkeypatch.setattr(repository, "claim_due_deliveries", counting)
    for n in range(20):
        offer = worker.offer_leases()
        worker.take_leased(offer, await harness.store([harness.received(f"alone-{n}")], offer))
    await receiver.wait_for(20)
    assert sum(claims) == 0  # each was leased as it was stored
    for step in range(5):  # one resource, each stored while its first is in flight
        offer = worker.offer_leases()
        worker.take_leased(offer, await harness.store([harness.received("one", step=step)], offer))
    await asyncio.wait_for(first_step_sent.wait(), DEADLINE_S)
    claimed_before = len(claims)

    async def a_claim_ran() -> None:  # the stores woke a claim; it finds nothing due yet
        while len(claims) == claimed_before:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(a_claim_ran(), DEADLINE_S)
    release_first_step.set()
    await receiver.wait_for(25)  # each success makes the next step due, and wakes the claim
    assert [orjson.loads(r.body)["data"]["step"] for r in receiver.requests[20:]] == list(range(5))
    assert len(receiver.requests) == 25  # none twice


async def test_a_claim_takes_at_most_its_share_per_endpoint_and_one_of_a_failing_endpoint(harness):
    healthy, _ = await harness.endpoint("http://127.0.0.1:9/healthy")
    failing, _ = await harness.endpoint("http://127.0.0.1:9/failing")
    await harness.pool.execute("UPDATE endpoints SET failing_since = $2 WHERE endpoint_id = $1", failing,
                               harness.clock())
    for n in range(30):
        await harness.event(f"share-{n}")
    rows = await repository.claim_due_deliveries(harness.pool, harness.clock(), 100, 30.0, per_endpoint=8)
    claimed = [r["endpoint_id"] for r in rows]
    assert claimed.count(healthy) == 8 and claimed.count(failing) == 1
    rows = await repository.claim_due_deliveries(harness.pool, harness.clock(), 100, 30.0, [healthy], per_endpoint=8)
    assert [r["endpoint_id"] for r in rows] == [failing]
    rows = await repository.claim_due_deliveries(harness.pool, harness.clock(), 3, 30.0, per_endpoint=8)
    assert [r["endpoint_id"] for r in rows] == [healthy] * 3  # healthy endpoints first


# --- retries, in moved time


async def test_retry_schedule_with_jitter_then_give_up(harness, start_receiver):
    receiver = await start_receiver(status(500, text="down"))
    endpoint_id, _ = await harness.endpoint(receiver.url)
    event_id = await harness.event("thing-1")
    worker = await harness.worker()
    assert await worker.deliver_due() == 1  # immediately
    for delay in RETRY_SCHEDULE:
        delivery = await harness.delivery(event_id, endpoint_id)
        wait = (delivery["next_attempt_at"] - harness.clock()).total_seconds()
        assert delay * 0.9 <= wait <= delay * 1.1
        harness.clock.advance(wait - 0.5)
        assert await worker.deliver_due() == 0  # not yet
        harness.clock.advance(0.5)
        assert await worker.deliver_due() == 1
    delivery = await harness.delivery(event_id, endpoint_id)
    assert delivery["status"] == "failed" and delivery["attempts"] == len(RETRY_SCHEDULE) + 1
    harness.clock.advance(30 * 24 * 3600)
    assert await worker.deliver_due() == 0
    outcomes = [a["outcome"] for a in await harness.attempts(endpoint_id)]
    assert outcomes == ["retrying"] * len(RETRY_SCHEDULE) + ["failed"]
    assert len(receiver.requests) == len(RETRY_SCHEDULE) + 1
    assert {r.event_id for r in receiver.requests} == {event_id}  # the same webhook-id every time


def test_the_schedule_is_configurable():
    config = WebhookConfig.from_env({"SCIMD_WEBHOOK_RETRY_SCHEDULE": "1, 2,3"})
    assert config.retry_schedule == (1.0, 2.0, 3.0)
    assert WebhookConfig.from_env({}).retry_schedule == RETRY_SCHEDULE


@pytest.mark.parametrize("code", [429, 503])
async def test_retry_after_in_seconds_is_honoured(harness, start_receiver, code):
    receiver = await start_receiver(status(code, {"Retry-After": "120"}))
    endpoint_id, _ = await harness.endpoint(receiver.url)
    event_id = await harness.event("thing-1")
    await (await harness.worker()).deliver_due()
    delivery = await harness.delivery(event_id, endpoint_id)
    assert delivery["next_attempt_at"] == harness.clock() + timedelta(seconds=120)


async def test_retry_after_as_an_http_date_is_honoured(harness, start_receiver):
    later = (harness.clock() + timedelta(hours=3)).replace(microsecond=0)
    receiver = await start_receiver(status(503, {"Retry-After": format_datetime(later, usegmt=True)}))
    endpoint_id, _ = await harness.endpoint(receiver.url)
    event_id = await harness.event("thing-1")
    await (await harness.worker()).deliver_due()
    assert (await harness.delivery(event_id, endpoint_id))["next_attempt_at"] == later


def test_retry_after_parsing():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert retry_after_seconds("30", now) == 30
    assert retry_after_seconds("Thu, 01 Jan 2026 00:01:00 GMT", now) == 60
    assert retry_after_seconds("Wed, 31 Dec 2025 00:00:00 GMT", now) == 0  # past: at once
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


async def test_410_disables_the_endpoint_at_once_and_an_event_says_so(harness, start_receiver):
    gone = await start_receiver(status(410))
    watcher = await start_receiver()
    gone_id, _ = await harness.endpoint(gone.url)
    watcher_id, watcher_secret = await harness.endpoint(watcher.url, ("webhook_endpoint.disabled",))
    first = await harness.event("thing-1")
    await harness.event("thing-2")
    worker = await harness.worker()
    await worker.deliver_due()
    endpoint = await harness.endpoint_row(gone_id)
    assert not endpoint["enabled"] and endpoint["disabled_reason"] == "gone"
    assert (await harness.delivery(first, gone_id))["status"] in ("failed", "pending")
    [notice] = watcher.requests
    payload = Webhook(watcher_secret).verify(notice.body, notice.headers)
    assert payload["type"] == "webhook_endpoint.disabled"
    assert payload["data"]["id"] == gone_id and payload["data"]["reason"] == "gone"
    assert payload["data"]["webhook_endpoint"]["enabled"] is False
    await harness.event("thing-3")
    harness.clock.advance(3600)
    await worker.deliver_due()
    assert len(gone.requests) <= 2  # nothing more goes to a disabled endpoint
    assert (await harness.delivery(first, watcher_id)) is None


async def test_an_endpoint_failing_for_five_days_is_disabled(harness, start_receiver):
    failing = await start_receiver(status(500))
    watcher = await start_receiver()
    failing_id, _ = await harness.endpoint(failing.url)
    await harness.endpoint(watcher.url, ("webhook_endpoint.disabled",))
    worker = await harness.worker()
    started = harness.clock()
    for hour in range(0, 5 * 24, 6):  # a new event every six hours, and every retry that falls due
        harness.clock.to(started + timedelta(hours=hour))
        await harness.event(f"thing-{hour}")
        await worker.deliver_due()
        assert (await harness.endpoint_row(failing_id))["enabled"], f"disabled early, after {hour} h"
    harness.clock.to(started + timedelta(days=5, minutes=1))
    await harness.event("thing-last")
    await worker.deliver_due()
    endpoint = await harness.endpoint_row(failing_id)
    assert not endpoint["enabled"] and endpoint["disabled_reason"] == "failing"
    assert endpoint["failing_since"] == started
    assert [orjson.loads(r.body)["data"]["reason"] for r in watcher.requests] == ["failing"]


async def test_a_success_resets_the_failure_clock(harness, start_receiver):
    answers = iter([500, 200])
    receiver = await start_receiver(lambda request, r: status(next(answers))(request, r))
    endpoint_id, _ = await harness.endpoint(receiver.url)
    await harness.event("thing-1")
    worker = await harness.worker()
    await worker.deliver_due()
    assert (await harness.endpoint_row(endpoint_id))["failing_since"] == harness.clock()
    harness.clock.advance(6)
    await worker.deliver_due()
    assert (await harness.endpoint_row(endpoint_id))["failing_since"] is None


# --- order and parallelism


async def test_one_resource_in_commit_order_others_in_parallel(harness, start_receiver):
    """A member's update never arrives before its create, even when the
    create needs a retry; another member's events do not wait for it."""
    failed_once: set[str] = set()

    async def fail_first_create(request: web.Request, receiver: Receiver) -> web.StreamResponse:
        data = orjson.loads(receiver.requests[-1].body)["data"]
        if data["id"] == "member-a" and data["step"] == "create" and "a" not in failed_once:
            failed_once.add("a")
            return web.Response(status=500)
        return web.Response(text="ok")

    receiver = await start_receiver(fail_first_create)
    await harness.endpoint(receiver.url)
    for step in ("create", "update", "delete"):
        await harness.event("member-a", step=step)
        await harness.event("member-b", step=step)
    worker = await harness.worker()
    await worker.deliver_due()
    seen = [(r.object_id, orjson.loads(r.body)["data"]["step"]) for r in receiver.requests]
    assert seen.count(("member-a", "create")) == 1 and ("member-a", "update") not in seen  # a waits
    assert [s for o, s in seen if o == "member-b"] == ["create", "update", "delete"]  # b does not
    harness.clock.advance(6)
    await worker.deliver_due()
    steps_of_a = [orjson.loads(r.body)["data"]["step"] for r in receiver.requests if r.object_id == "member-a"]
    assert steps_of_a == ["create", "create", "update", "delete"]


async def test_a_slow_endpoint_never_delays_the_others(harness, start_receiver):
    released = asyncio.Event()

    async def stuck(request: web.Request, receiver: Receiver) -> web.StreamResponse:
        await asyncio.wait_for(released.wait(), DEADLINE_S * 2)
        return web.Response(text="finally")

    slow = await start_receiver(stuck)
    fast = await start_receiver()
    await harness.endpoint(slow.url)
    await harness.endpoint(fast.url)
    count = 3 * harness.config.endpoint_concurrency
    for n in range(count):
        await harness.event(f"thing-{n}")  # each its own resource, so all may go at once
    worker = await harness.worker(timeout=30)
    await worker.start()
    try:
        await fast.wait_for(count)  # while every request to `slow` hangs
        assert len(slow.requests) <= 2 * harness.config.endpoint_concurrency
    finally:
        released.set()
    await slow.wait_for(count)


# --- secret rotation


async def test_rotation_signs_with_both_secrets_during_the_grace_period(harness, start_receiver):
    receiver = await start_receiver()
    endpoint_id, old_secret = await harness.endpoint(receiver.url)
    rotated = await harness.service.RotateEndpointSecret(
        pb.RotateEndpointSecretRequest(endpoint_id=endpoint_id, grace_period_seconds=3600), None
    )
    new_secret = rotated.secret
    assert new_secret != old_secret and rotated.endpoint.HasField("previous_secret_expire_time")
    worker = await harness.worker()
    await harness.event("thing-1")
    await worker.deliver_due()
    during = receiver.requests[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):  # receivers on either secret accept it
        Webhook(secret).verify(during.body, during.headers)

    harness.clock.advance(3601)
    await harness.event("thing-2")
    await worker.deliver_due()
    after = receiver.requests[-1]
    signature = after.headers["webhook-signature"]
    timestamp = datetime.fromtimestamp(int(after.headers["webhook-timestamp"]), timezone.utc)
    assert signature == Webhook(new_secret).sign(after.event_id, timestamp, after.body)
    assert " " not in signature


# --- replays


async def test_replay_one_event_and_a_time_range(harness, start_receiver):
    receiver = await start_receiver()
    endpoint_id, _ = await harness.endpoint(receiver.url)
    first = await harness.event("thing-1")
    harness.clock.advance(60)
    middle = await harness.event("thing-2")
    harness.clock.advance(60)
    await harness.event("thing-3")
    worker = await harness.worker()
    await worker.deliver_due()
    assert len(receiver.requests) == 3

    replayed = await harness.service.ReplayEvent(pb.ReplayEventRequest(event_id=first), None)
    assert replayed.deliveries_scheduled == 1
    await worker.deliver_due()
    assert receiver.requests[-1].event_id == first and len(receiver.requests) == 4

    start = (await harness.pool.fetchval("SELECT occurred_at FROM events WHERE event_id = $1", middle))
    request = pb.ReplayEndpointEventsRequest(endpoint_id=endpoint_id)
    request.start_time.FromDatetime(start)
    request.end_time.FromDatetime(start + timedelta(seconds=1))
    assert (await harness.service.ReplayEndpointEvents(request, None)).deliveries_scheduled == 1
    await worker.deliver_due()
    assert receiver.requests[-1].event_id == middle and len(receiver.requests) == 5
    outcomes = [a["outcome"] for a in await harness.attempts(endpoint_id)]
    assert outcomes == ["succeeded"] * 5  # the log keeps every attempt, replays too


async def test_events_are_kept_for_replays_then_forgotten(harness, start_receiver):
    receiver = await start_receiver(status(500))
    endpoint_id, _ = await harness.endpoint(receiver.url)
    old = await harness.event("thing-old")
    await (await harness.worker()).deliver_due()
    cutoff = harness.clock() + timedelta(days=30)
    await repository.forget_events_before(harness.pool, cutoff)
    assert await repository.event_exists(harness.pool, old)  # a delivery still pending: kept
    await harness.pool.execute("UPDATE deliveries SET status = 'failed' WHERE event_id = $1", old)
    assert await repository.forget_events_before(harness.pool, cutoff) == 1
    assert not await repository.event_exists(harness.pool, old)
    assert await harness.attempts(endpoint_id) == []  # the log goes with the event


async def test_failing_endpoints_never_crowd_out_a_working_one(harness):
    """Many endpoints failing with old retries due, one healthy endpoint with
    a new event: the healthy one's delivery is claimed first, and a failing
    endpoint gets one request at a time."""
    failing = [(await harness.endpoint(f"http://127.0.0.1:9/dead-{n}"))[0] for n in range(12)]
    for n in range(8):
        await harness.event(f"old-thing-{n}")
    await harness.pool.execute(
        "UPDATE endpoints SET failing_since = $1 WHERE endpoint_id = ANY($2::text[])", harness.clock(), failing
    )
    healthy, _ = await harness.endpoint("http://127.0.0.1:9/healthy")
    harness.clock.advance(60)  # the failing endpoints' deliveries are older
    await harness.event("new-thing")
    claimed = await repository.claim_due_deliveries(harness.pool, harness.clock(), 8, 30, [], 16)
    assert healthy in [r["endpoint_id"] for r in claimed]
    per_endpoint = {}
    for row in claimed:
        per_endpoint[row["endpoint_id"]] = per_endpoint.get(row["endpoint_id"], 0) + 1
    assert all(count == 1 for endpoint_id, count in per_endpoint.items() if endpoint_id in failing)


async def test_a_dead_endpoint_with_a_backlog_rests_between_attempts(harness, start_receiver):
    """Forty events for an endpoint that refuses every one: after its failure
    it rests until that delivery's retry is due (at most ENDPOINT_REST_SECONDS),
    so the backlog costs a few attempts, not one per delivery per claim; an
    endpoint that answers again gets the whole backlog at once."""
    receiver = await start_receiver(status(503, text="down"))
    endpoint_id, _ = await harness.endpoint(receiver.url)
    events = [await harness.event(f"thing-{n}") for n in range(40)]
    worker = await harness.worker()
    concurrency = harness.config.endpoint_concurrency
    assert 1 <= await worker.deliver_due() <= concurrency  # one round, then it rests
    harness.clock.advance(ENDPOINT_REST_SECONDS - 0.5)
    assert await worker.deliver_due() == 0  # resting, though most deliveries are due
    harness.clock.advance(1)
    assert await worker.deliver_due() == 1  # rested: one probe (it is failing), failed again
    receiver.handler = ok
    answered_from = len(receiver.requests)
    harness.clock.advance(ENDPOINT_REST_SECONDS + 1)
    await worker.deliver_due()
    assert {r.event_id for r in receiver.requests[answered_from:]} == set(events)
