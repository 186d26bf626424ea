"""The SSRF guard: webhook URLs never reach loopback, private, link-local,
CGNAT or metadata addresses, in any spelling, nor through a DNS answer that
changes between the check and the connection; an explicit allow-list lets
chosen ones through."""

from __future__ import annotations

import base64
import ipaddress
import random
import secrets
import socket

import grpc
import pytest
from aiohttp.abc import AbstractResolver
from scimd.webhooks.v1 import webhooks_service_pb2 as pb
from scimd.webhooks.v1.webhooks_service_pb2_grpc import WebhooksServiceStub

from services.common.errors import ServiceError
from services.common.sealing import SecretBox
from services.webhooks.config import WebhookConfig
from services.webhooks.delivery import DeliveryWorker
from services.webhooks.ssrf import AllowList, ForbiddenAddress, GuardedResolver, check_host, ip_literal, is_forbidden
from tests.services.test_webhooks_delivery import FakeClock, Harness, database_url, pool, start_receiver  # noqa: F401

FORBIDDEN_HOSTS = [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "0.0.0.0",
    "169.254.169.254", "169.254.170.2", "224.0.0.1", "255.255.255.255", "192.0.2.1",
    "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "::127.0.0.1", "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::", "2001:0:4136:e378:8000:63bf:f5fe:fefe",  # 6to4 of 127.0.0.1; Teredo of 10.1.1.1
    "2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1", "017700000001", "0xa9fea9fe",
    "0251.0376.0251.0376", "localhost", "LOCALHOST.", "anything.localhost",
]
PUBLIC_HOSTS = ["8.8.8.8", "93.184.216.34", "2001:4860:4860::8888", "hooks.example.com", "deadbeef", "0x.example.com"]


@pytest.mark.parametrize("host", FORBIDDEN_HOSTS)
def test_forbidden_hosts_are_refused(host):
    with pytest.raises(ForbiddenAddress):
        check_host(host, AllowList())


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_public_hosts_pass(host):
    check_host(host, AllowList())


def test_other_spellings_of_ipv4_are_read_as_the_c_library_reads_them():
    assert ip_literal("2130706433") == ip_literal("0x7f.1") == ip_literal("0177.0.0.1") == ipaddress.ip_address("127.0.0.1")
    assert ip_literal("[::ffff:7f00:1]") == ipaddress.ip_address("::ffff:127.0.0.1")
    assert ip_literal("hooks.example.com") is None


def test_the_allow_list_lets_exactly_what_it_names_through():
    allowed = AllowList.parse(" 127.0.0.1/32, ::1 ,hooks.internal ")
    check_host("127.0.0.1", allowed)
    check_host("2130706433", allowed)  # the same address, spelt otherwise
    check_host("::1", allowed)
    check_host("HOOKS.internal.", allowed)
    for host in ("127.0.0.2", "10.0.0.1", "169.254.169.254", "localhost"):
        with pytest.raises(ForbiddenAddress):
            check_host(host, allowed)
    assert is_forbidden(ipaddress.ip_address("127.0.0.1"))  # allowed is not the same as public


class ScriptedResolver(AbstractResolver):
    """DNS answers in turn: what a rebinding attacker's name server does."""

    def __init__(self, *answers: str):
        self.answers = list(answers)
        self.asked = 0

    async def resolve(self, host, port=0, family=socket.AF_INET):
        address = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        return [{"hostname": host, "host": address, "port": port, "family": socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


async def test_the_resolver_drops_forbidden_answers_each_time_it_is_asked():
    scripted = ScriptedResolver("93.184.216.34", "127.0.0.1")
    guarded = GuardedResolver(AllowList(), scripted)
    assert [a["host"] for a in await guarded.resolve("rebind.example", 443)] == ["93.184.216.34"]
    with pytest.raises(ForbiddenAddress):
        await guarded.resolve("rebind.example", 443)  # the second answer, at connect time, is refused


def _worker_harness(shared_pool, allowed: AllowList, resolver) -> tuple[Harness, DeliveryWorker]:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    harness = Harness(shared_pool, SecretBox(key), FakeClock(), WebhookConfig(allowed=allowed))
    worker = DeliveryWorker(shared_pool, harness.box, 2.0, harness.config, clock=harness.clock, rng=random.Random(1),
                            resolver=resolver)
    return harness, worker


async def test_a_name_that_rebinds_to_loopback_is_refused_at_connect_time(pool, start_receiver):  # noqa: F811
    await pool.execute("UPDATE endpoints SET enabled = false")
    receiver = await start_receiver()
    # Public when the endpoint is saved, loopback when the worker connects.
    resolver = ScriptedResolver("127.0.0.1")
    harness, worker = _worker_harness(pool, AllowList(), resolver)
    await worker.open()
    try:
        row = await pool.fetchrow(
            "INSERT INTO endpoints (endpoint_id, url, event_types, secret_sealed) VALUES ($1, $2, '{}', $3)"
            " RETURNING endpoint_id",
            f"webhook-endpoint-rebind-{secrets.token_hex(4)}", f"http://rebind.example:{receiver.port}/hook",
            harness.box.seal("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()),
        )
        await harness.event("thing-1")
        assert await worker.deliver_due() == 1
        [attempt] = await harness.attempts(row["endpoint_id"])
        assert attempt["outcome"] == "retrying" and "SSRF guard" in attempt["error"]
        assert receiver.requests == [] and resolver.asked == 1
    finally:
        await worker.stop()


async def test_the_connection_goes_to_the_checked_address(pool, start_receiver):  # noqa: F811
    """With loopback allowed, a name is delivered to the address the guard checked."""
    await pool.execute("UPDATE endpoints SET enabled = false")
    receiver = await start_receiver()
    harness, worker = _worker_harness(pool, AllowList.parse("127.0.0.1/32"), ScriptedResolver("127.0.0.1"))
    await worker.open()
    try:
        endpoint_id, _ = await harness.endpoint(f"http://pinned.example:{receiver.port}/hook")
        await harness.event("thing-1")
        await worker.deliver_due()
        [attempt] = await harness.attempts(endpoint_id)
        assert attempt["outcome"] == "succeeded" and len(receiver.requests) == 1
    finally:
        await worker.stop()


@pytest.fixture
async def webhooks(running_services):
    async with grpc.aio.insecure_channel(running_services.services.webhooks) as channel:
        yield WebhooksServiceStub(channel)


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://10.0.0.8:8080/hook",
    "http://0xa9fea9fe/", "http://2852039166/", "http://[::ffff:169.254.169.254]/", "http://100.64.1.1/",
    "http://localhost/hook", "https://192.168.0.1/",
])
async def test_endpoints_pointing_inside_are_refused(webhooks, url):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await webhooks.CreateEndpoint(pb.CreateEndpointRequest(url=url))
    assert ServiceError.from_rpc_error(caught.value).reason == "INVALID_VALUE"
