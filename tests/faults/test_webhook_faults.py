"""Fault tests of the event path: change + outbox row → relay → JetStream →
durable consumer → delivery row → signed POST. Each ends with a
reconciliation (tests/faults/reconcile.py): every committed change has exactly
one event, every event reached the subscribed endpoint, duplicates are
reported, and none is missing.

SCIMD_FAULT_NATS_OUTAGE_SECONDS sets how long NATS stays down in the outage
test (default 6 s, which keeps the suite within five minutes; 30 s is the
issue's scenario)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from contextlib import AsyncExitStack
from dataclasses import replace

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from scimd.webhooks.v1 import webhooks_service_pb2 as pb
from scimd.webhooks.v1.webhooks_service_pb2_grpc import WebhooksServiceStub

from cli.embedded import EmbeddedNats
from cli.processes import free_port
from runtime.grpc_server import running_service
from runtime.ssrf import AllowList
from services.directory.server import setup as directory_setup
from services.webhooks.config import WebhookConfig
from services.webhooks.server import setup_with as webhooks_setup_with
from tests.conftest import REPO_ROOT, delete_stream, make_settings, unique_prefix
from tests.faults.reconcile import (
    CountingReceiver,
    LifecycleWriter,
    Writer,
    member_events_in_commit_order,
    out_of_order,
    reconcile,
)

OUTAGE_SECONDS = float(os.environ.get("SCIMD_FAULT_NATS_OUTAGE_SECONDS", "6"))
LOCAL = AllowList.parse("127.0.0.1/32")
READY_DEADLINE_S = 30


async def _until(predicate, deadline_s: float, what: str) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.05)  # polling for the effect, with a deadline

    try:
        await asyncio.wait_for(poll(), deadline_s)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def _create_endpoint(address: str, url: str, event_types: tuple[str, ...] = ("scim.member.create",)) -> str:
    async with grpc.aio.insecure_channel(address) as channel:
        created = await WebhooksServiceStub(channel).CreateEndpoint(
            pb.CreateEndpointRequest(url=url, event_types=event_types), timeout=10
        )
    return created.endpoint.endpoint_id


async def _start_in_process(stack: AsyncExitStack, settings, config: WebhookConfig) -> tuple[str, str]:
    _server, directory_port = await stack.enter_async_context(running_service(directory_setup, settings, "127.0.0.1:0"))
    _server, webhooks_port = await stack.enter_async_context(
        running_service(webhooks_setup_with(config), settings, "127.0.0.1:0")
    )
    return f"127.0.0.1:{directory_port}", f"127.0.0.1:{webhooks_port}"


async def test_nats_down_while_scim_writes_continue(tmp_path, fresh_database, record_property):
    """Writes succeed while NATS is stopped (their events wait in the outbox);
    after it returns, the backlog drains to the endpoint."""
    nats = EmbeddedNats(tmp_path)
    await nats.start()
    settings = make_settings(await fresh_database(), nats.url, unique_prefix())
    try:
        async with AsyncExitStack() as stack, CountingReceiver() as receiver:
            directory, webhooks = await _start_in_process(stack, settings, WebhookConfig(allowed=LOCAL))
            await _create_endpoint(webhooks, receiver.url)
            writer = Writer(directory)
            rate = 20.0
            writing = asyncio.create_task(writer.write(int(rate * (OUTAGE_SECONDS + 4)), rate))
            try:
                await _until(lambda: len(receiver.received) >= 3, READY_DEADLINE_S, "the first deliveries")
                await nats.stop()
                before = len(writer.committed)
                await asyncio.sleep(OUTAGE_SECONDS)  # the outage itself: NATS stays down this long
                during = len(writer.committed) - before
                await nats.start(port=nats.port)  # same port and store: the stream survives
                await writing
            finally:
                writing.cancel()
            assert during >= rate * OUTAGE_SECONDS * 0.5, f"only {during} writes while NATS was down"
            assert not writer.failed, writer.failed
            result = await reconcile(settings, writer, receiver, deadline_s=60)
    finally:
        await nats.stop()
    record_property("reconciliation", result.report())
    print("nats outage:", result.report())
    assert not result.changes_without_one_event
    assert result.events == result.committed
    assert not result.missing, f"{len(result.missing)} events never delivered"


async def test_receiver_failing_then_recovering(fresh_database, nats_url, record_property):
    """The endpoint answers 500 for a while; retries (a short schedule here)
    deliver everything once it recovers."""
    prefix = unique_prefix()
    settings = make_settings(await fresh_database(), nats_url, prefix)
    config = WebhookConfig(allowed=LOCAL, retry_schedule=(0.2, 0.5, 1, 1, 1, 1, 1, 1, 1, 1))
    try:
        async with AsyncExitStack() as stack, CountingReceiver(failing=True) as receiver:
            directory, webhooks = await _start_in_process(stack, settings, config)
            await _create_endpoint(webhooks, receiver.url)
            writer = Writer(directory)
            await writer.write(30, 50.0)
            receiver.failing = False
            result = await reconcile(settings, writer, receiver, deadline_s=30)
    finally:
        await delete_stream(nats_url, prefix)
    record_property("reconciliation", result.report())
    print("receiver failing:", result.report())
    assert not result.changes_without_one_event and result.events == result.committed == 30
    assert not result.missing


class WebhooksProcess:
    """`python -m services.webhooks` as a child process."""

    def __init__(self, settings, log_path):
        self.port = free_port()
        self.log_path = log_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMD_")}
        self.env.update(
            DATABASE_URL=settings.database_url, NATS_URL=settings.nats_url, SCIMD_NATS_PREFIX=settings.nats_prefix,
            SCIMD_ENCRYPTION_KEY=settings.encryption_key, SCIMD_PROJECT_ID=settings.project_id,
            SCIMD_GRPC_LISTEN=f"127.0.0.1:{self.port}", SCIMD_LOG_LEVEL="WARNING",
            SCIMD_WEBHOOK_ALLOWED_HOSTS="127.0.0.1/32", SCIMD_WEBHOOK_TIMEOUT="3",
            SCIMD_WEBHOOK_LEASE_MARGIN_SECONDS="1",
        )
        self.process: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "services.webhooks", cwd=REPO_ROOT, env=self.env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )
        async with grpc.aio.insecure_channel(self.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for _ in range(READY_DEADLINE_S * 10):
                if self.process.returncode is not None:
                    raise AssertionError("webhooks exited:\n" + self.log_path.read_text()[-3000:])
                try:
                    reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.aio.AioRpcError:
                    pass
                await asyncio.sleep(0.1)  # polling readiness with a deadline
        raise AssertionError("webhooks did not become ready")

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


async def test_webhooks_service_killed_mid_delivery_and_restarted(tmp_path, fresh_database, nats_url, record_property):
    """SIGKILL while requests are in flight to a slow endpoint: after the
    restart the leased deliveries are sent again, and nothing is lost."""
    prefix = unique_prefix()
    settings = make_settings(await fresh_database(), nats_url, prefix)
    service = WebhooksProcess(settings, tmp_path / "webhooks.log")
    count = 80
    try:
        async with AsyncExitStack() as stack, CountingReceiver(delay=0.25) as receiver:
            _server, directory_port = await stack.enter_async_context(
                running_service(directory_setup, replace(settings), "127.0.0.1:0")
            )
            await service.start()
            await _create_endpoint(service.address, receiver.url)
            writer = Writer(f"127.0.0.1:{directory_port}")
            await writer.write(count, 200.0)
            await _until(lambda: len(receiver.received) >= 10 and receiver.in_flight > 0, 30, "deliveries in flight")
            in_flight = receiver.in_flight
            await service.kill()
            delivered_before = len(receiver.received)
            await service.start()
            result = await reconcile(settings, writer, receiver, deadline_s=60)
    finally:
        await service.kill()
        await delete_stream(nats_url, prefix)
    report = f"{result.report()} in_flight_at_kill={in_flight} delivered_before_kill={delivered_before}"
    record_property("reconciliation", report)
    print("webhooks SIGKILL:", report)
    assert delivered_before < count, "the kill came after every delivery; nothing was tested"
    assert not result.changes_without_one_event and result.events == result.committed == count
    assert not result.missing, f"{len(result.missing)} events never delivered"


async def test_two_webhooks_replicas_keep_each_resources_order_while_each_is_killed(
        tmp_path, fresh_database, nats_url, record_property):
    """Two replicas of the webhooks service, as production runs, while members
    are created, changed and deleted: each replica is SIGKILLed once and
    restarted (so the one storing events dies at least once). Every member's
    events still first arrive in the order they were committed, and none is
    missing."""
    prefix = unique_prefix()
    settings = make_settings(await fresh_database(), nats_url, prefix)
    replicas = [WebhooksProcess(settings, tmp_path / f"webhooks-{name}.log") for name in "ab"]
    members, updates = 120, 4
    try:
        async with AsyncExitStack() as stack, CountingReceiver(delay=0.005) as receiver:
            _server, directory_port = await stack.enter_async_context(
                running_service(directory_setup, replace(settings), "127.0.0.1:0")
            )
            for replica in replicas:
                await replica.start()
            await _create_endpoint(replicas[0].address, receiver.url,
                                   ("scim.member.create", "scim.member.update", "scim.member.delete"))
            writer = LifecycleWriter(f"127.0.0.1:{directory_port}")
            writing = asyncio.create_task(writer.write(members, updates, concurrency=8, pause=0.1))
            kills = []
            try:
                for victim in replicas:
                    target = len(receiver.arrivals) + 60
                    await _until(lambda: len(receiver.arrivals) >= target, 30, "deliveries before a kill")
                    await victim.kill()
                    kills.append(len(receiver.arrivals))
                    await victim.start()
                await writing
            finally:
                writing.cancel()
            per_member = await member_events_in_commit_order(settings, writer.committed)
            expected = {e for events in per_member.values() for e in events}
            await _until(lambda: expected <= set(receiver.received), 60, "every event delivered")
    finally:
        for replica in replicas:
            await replica.kill()
        await delete_stream(nats_url, prefix)
    disordered = out_of_order(per_member, receiver.arrivals)
    duplicates = sum(n - 1 for e, n in receiver.received.items() if e in expected)
    report = (f"members={len(writer.committed)} events={len(expected)} arrivals_at_kills={kills}"
              f" duplicates={duplicates} out_of_order={len(disordered)}")
    record_property("ordering", report)
    print("two replicas, each killed:", report)
    assert not writer.failed, writer.failed
    assert len(writer.committed) == members
    assert all(len(events) == updates + 2 for events in per_member.values())
    assert kills[-1] < len(expected), "the kills came after every delivery; nothing was tested"
    assert not disordered, f"{len(disordered)} members' events arrived out of order"


@pytest.fixture(autouse=True)
def _quiet_nats_reconnect_logs(caplog):
    caplog.set_level("ERROR", logger="nats")
