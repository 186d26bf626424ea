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

from runtime.errors import ServiceError
from runtime.sealing import SecretBox
from runtime.ssrf import (
    AllowList,
    ForbiddenAddress,
    GuardedResolver,
    check_host,
    check_url,
    connect_host,
    guarded_socket_factory,
    ip_literal,
    is_forbidden,
)
from services.webhooks.config import WebhookConfig
from services.webhooks.delivery import DeliveryWorker
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
        if not self.answers:
            raise OSError(f"{host} does not resolve")
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
    harness = Harness(shared_pool, SecretBox(key), FakeClock(), WebhookConfig(allowed=allowed), resolver=resolver)
    worker = DeliveryWorker(shared_pool, harness.box, 2.0, harness.config, clock=harness.clock, rng=random.Random(1),
                            resolver=resolver)
    return harness, worker


async def _deliver_to_stored_url(db, harness, worker, url: str):
    """Stores an endpoint straight into the table (no save-time check), raises
    one event, runs one delivery and returns its attempt."""
    row = await db.fetchrow(
        "INSERT INTO endpoints (endpoint_id, url, event_types, secret_sealed) VALUES ($1, $2, '{}', $3)"
        " RETURNING endpoint_id",
        f"webhook-endpoint-stored-{secrets.token_hex(4)}", url,
        harness.box.seal("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()),
    )
    await harness.event("thing-1")
    assert await worker.deliver_due() == 1
    [attempt] = await harness.attempts(row["endpoint_id"])
    return attempt


async def test_a_name_that_rebinds_to_loopback_is_refused_at_connect_time(pool, start_receiver):  # noqa: F811
    await pool.execute("UPDATE endpoints SET enabled = false")
    receiver = await start_receiver()
    # Public when the endpoint is saved, loopback when the worker connects.
    resolver = ScriptedResolver("127.0.0.1")
    harness, worker = _worker_harness(pool, AllowList(), resolver)
    await worker.open()
    try:
        attempt = await _deliver_to_stored_url(pool, harness, worker, f"http://rebind.example:{receiver.port}/hook")
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


# Issue 16: hosts the HTTP client encodes (IDNA with UTS-46 mapping) into an
# internal IP literal. Each internal target in every Unicode digit form found
# by NFKC/UTS-46, with ASCII and Unicode full stops, and with a trailing dot.
_UNICODE_DIGITS = {
    "segmented": 0x1FBF0, "fullwidth": 0xFF10, "mathematical bold": 0x1D7CE, "mathematical monospace": 0x1D7F6,
    "superscript-free double-struck": 0x1D7D8,
}
_DOTS = {"ascii": ".", "ideographic": "\u3002", "fullwidth": "\uff0e", "halfwidth ideographic": "\uff61"}
_INTERNAL_TARGETS = ("127.0.0.1", "169.254.169.254", "10.0.0.1", "192.168.1.10", "100.64.0.1", "0.0.0.0")


def _respelt(address: str, zero: int, dot: str, first_only: bool) -> str:
    digits = [chr(zero + int(c)) if c.isdigit() else c for c in address]
    if first_only:  # only the first digit changed, as in the report
        digits = [digits[0], *address[1:]]
    return "".join(digits).replace(".", dot)


UNICODE_SPELLINGS = [
    pytest.param(_respelt(target, zero, dot, first_only) + trailing, id=f"{target}-{digits}-{dot_name}-{first_only}-{bool(trailing)}")
    for target in _INTERNAL_TARGETS
    for digits, zero in _UNICODE_DIGITS.items()
    for dot_name, dot in _DOTS.items()
    for first_only in (True, False)
    for trailing in ("", ".")
    if not (first_only and dot_name != "ascii")
]


@pytest.mark.parametrize("host", UNICODE_SPELLINGS)
async def test_unicode_spellings_of_internal_addresses_are_refused_as_the_client_reads_them(host):
    with pytest.raises(ForbiddenAddress):
        await check_url(f"http://{host}/hook", AllowList(), ScriptedResolver("93.184.216.34"))


def test_the_checked_host_is_the_one_the_client_connects_to():
    assert connect_host("http://HOOKS.Example.test./x") == "hooks.example.test."
    assert connect_host("http://b\u00fccher.example/") == "xn--bcher-kva.example"
    with pytest.raises(ForbiddenAddress):
        connect_host("http://\U0001FBF127.0.0.1/")  # the exact host


@pytest.mark.parametrize("url", [
    "http://\U0001FBF127.0.0.1/",                     # the report
    "http://8.8.8.8@127.0.0.1/hook",                  # userinfo that looks like the host
    "http://127.0.0.1#@8.8.8.8/",                      # a fragment that looks like userinfo
    "http://127.0.0.1\\@8.8.8.8/",
    "http://0/", "http://0177.1/", "http://[::]/", "http://[0:0:0:0:0:ffff:7f00:1]/", "http://[::ffff:a00:1]/",
    "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:a9fe:a9fe::]/", "http://[fe80::1%25eth0]/",
    "http://169.254.169.254./", "http://LOCALHOST./", "http://x.localhost/",
    "http://metadata.scimd.test/",                    # a name that does not resolve (not allow-listed)
    "http://inside.example/",                         # a name that resolves inside
    "http://[::1x]/", "http://[::1/", "http://" + "\u00e9" * 64 + ".example/", "http://" + "a" * 64 + ".example/",
    "ftp://8.8.8.8/", "http:///nohost", "http://user:pass@8.8.8.8/",
])
async def test_urls_that_reach_inside_or_cannot_be_used_are_refused_with_400(url):
    """Through the service: each is INVALID_VALUE (HTTP 400), never a 500 nor a 201."""
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    resolver = ScriptedResolver("10.1.2.3")  # what inside.example resolves to
    harness_config = WebhookConfig(allowed=AllowList())
    from services.webhooks.service import WebhooksServicer

    class NoNames(ScriptedResolver):
        async def resolve(self, host, port=0, family=socket.AF_INET):
            if host != "inside.example":
                raise OSError(f"{host} does not resolve")
            return await resolver.resolve(host, port, family)

    servicer = WebhooksServicer(None, SecretBox(key), harness_config, resolver=NoNames())
    with pytest.raises(ServiceError) as caught:
        await servicer.CreateEndpoint(pb.CreateEndpointRequest(url=url), None)
    assert caught.value.reason == "INVALID_VALUE", caught.value


async def test_an_unresolvable_name_is_saved_only_when_allow_listed():
    never = ScriptedResolver()  # no answers at all
    with pytest.raises(ForbiddenAddress, match="does not resolve"):
        await check_url("https://hooks.internal/scim", AllowList(), never)
    await check_url("https://hooks.internal/scim", AllowList.parse("hooks.internal"), never)


async def test_the_socket_factory_refuses_an_internal_peer_whatever_resolved_it(start_receiver):  # noqa: F811
    """The last line of defence alone: a resolver that lies (no guard in it)
    still cannot get a byte to 127.0.0.1."""
    import aiohttp

    receiver = await start_receiver()
    connector = aiohttp.TCPConnector(resolver=ScriptedResolver("127.0.0.1"),
                                     socket_factory=guarded_socket_factory(AllowList()))
    async with aiohttp.ClientSession(connector=connector) as session:
        for url in (f"http://lies.example:{receiver.port}/hook", f"http://127.0.0.1:{receiver.port}/hook",
                    f"http://[::ffff:127.0.0.1]:{receiver.port}/hook"):
            with pytest.raises(aiohttp.ClientConnectorError) as caught:
                await session.post(url, data=b"{}")
            assert isinstance(caught.value.os_error, ForbiddenAddress), url
    assert receiver.requests == []
    allowed = aiohttp.TCPConnector(resolver=ScriptedResolver("127.0.0.1"),
                                   socket_factory=guarded_socket_factory(AllowList.parse("127.0.0.1/32")))
    async with aiohttp.ClientSession(connector=allowed) as session:
        async with session.post(f"http://lies.example:{receiver.port}/hook", data=b"{}") as response:
            assert response.status == 200  # the factory creates working sockets


async def test_a_stored_unicode_url_is_refused_at_send_time(pool, start_receiver):  # noqa: F811
    """An endpoint saved before this guard existed (written straight into the
    table here) is refused when a delivery is sent, and nothing arrives."""
    await pool.execute("UPDATE endpoints SET enabled = false")
    receiver = await start_receiver()
    harness, worker = _worker_harness(pool, AllowList(), ScriptedResolver("93.184.216.34"))
    await worker.open()
    try:
        attempt = await _deliver_to_stored_url(pool, harness, worker, f"http://\U0001FBF127.0.0.1:{receiver.port}/hook")
        assert attempt["outcome"] == "retrying" and "SSRF guard" in attempt["error"]
        assert receiver.requests == []
    finally:
        await worker.stop()
