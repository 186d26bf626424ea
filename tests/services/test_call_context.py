"""Every outgoing gRPC call carries the request id, the tenant it acts for and
a deadline, and a deadline propagates: a call made while serving another
never outlives it."""

from __future__ import annotations

import time

import grpc
import pytest

from runtime.context import (
    CONNECTION_METADATA,
    ORGANIZATION_METADATA,
    REQUEST_ID_HEADER,
    TOKEN_METADATA,
    Tenant,
    acting_for,
    deadline_var,
    request_id_var,
    tenant_var,
)
from runtime.grpc_client import DEFAULT_CALL_SECONDS, open_channel


async def _echo_server():
    seen = []

    async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        seen.append((context.time_remaining(), dict(context.invocation_metadata() or ())))
        return request

    handler = grpc.method_handlers_generic_handler(
        "test.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)})
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port, seen


async def test_calls_carry_the_request_id_and_a_deadline_that_propagates():
    server, port, seen = await _echo_server()
    try:
        async with open_channel(f"127.0.0.1:{port}") as channel:
            echo = channel.unary_unary("/test.Echo/Echo")
            request_id_var.set("request-test-1")
            deadline_var.set(None)
            assert await echo(b"a") == b"a"
            deadline_var.set(time.monotonic() + 0.5)  # what is left of the call being served
            assert await echo(b"b") == b"b"
            assert await echo(b"c", timeout=0.2) == b"c"  # a call's own, shorter deadline stays
    finally:
        deadline_var.set(None)
        await server.stop(None)
    (free, metadata), (bounded, _), (own, _) = seen
    assert metadata[REQUEST_ID_HEADER] == "request-test-1"
    # gRPC transmits deadlines rounded (up, by as much as 1 %), so each is checked against
    # what it must be distinguished from, not to the millisecond.
    assert free is not None and DEFAULT_CALL_SECONDS / 2 < free < DEFAULT_CALL_SECONDS * 1.5  # the default
    assert bounded is not None and bounded < 1.0  # the propagated 0.5 s, not the 10 s default
    assert own is not None and own < 0.4  # the call's own 0.2 s, not the propagated 0.5 s


async def test_calls_carry_the_tenant_they_act_for_and_only_inside_the_block():
    server, port, seen = await _echo_server()
    try:
        async with open_channel(f"127.0.0.1:{port}") as channel:
            echo = channel.unary_unary("/test.Echo/Echo")
            tenant_var.set(None)
            await echo(b"none")
            with acting_for(Tenant("organization-a", "connection-a", "token-a")):
                await echo(b"a")
                with acting_for(Tenant("organization-b")):
                    await echo(b"b")
                await echo(b"a again")
                await echo(b"explicit", metadata=((ORGANIZATION_METADATA, "organization-x"),))  # stays as given
            await echo(b"none again")
    finally:
        await server.stop(None)
    tenants = [(m.get(ORGANIZATION_METADATA), m.get(CONNECTION_METADATA), m.get(TOKEN_METADATA)) for _, m in seen]
    assert tenants == [
        (None, None, None),
        ("organization-a", "connection-a", "token-a"),
        ("organization-b", None, None),
        ("organization-a", "connection-a", "token-a"),
        ("organization-x", None, None),
        (None, None, None),
    ]


@pytest.mark.parametrize("organization_id", ["org\x00", "org\n", "organización"])
def test_a_tenant_is_printable_ascii(organization_id):
    with pytest.raises(ValueError):
        Tenant(organization_id)
