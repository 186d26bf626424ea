"""Slow and numerous clients (issue 16 §6): a silent socket or one sending its
headers or body slowly is closed or answered 408 within the timeouts, and
past the connection cap new connections get 503 at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from cli.processes import free_port
from gateway.serving import start_gateway

DEADLINE_S = 20


@pytest.fixture
async def strict_gateway(running_services):
    port = free_port()
    settings = replace(running_services, http_port=port, public_url=f"http://127.0.0.1:{port}",
                       http_idle_timeout=1.0, http_body_timeout=1.0, http_max_connections=4)
    runner = await start_gateway(settings, host="127.0.0.1")
    yield port
    await runner.cleanup()


async def _read_until_closed(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(), DEADLINE_S)  # b"" or a response, then EOF


async def _read_answer(reader: asyncio.StreamReader) -> bytes:
    """The response's head and body (the connection may stay open a moment after)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE_S)
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    return head + await asyncio.wait_for(reader.readexactly(length), DEADLINE_S)


async def test_a_silent_connection_is_closed(strict_gateway):
    reader, writer = await asyncio.open_connection("127.0.0.1", strict_gateway)
    assert await _read_until_closed(reader) == b""
    writer.close()


async def test_headers_sent_slowly_are_cut_off(strict_gateway):
    reader, writer = await asyncio.open_connection("127.0.0.1", strict_gateway)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    closed = asyncio.create_task(_read_until_closed(reader))
    for _ in range(DEADLINE_S * 2):  # one header line every half second, never finishing
        if closed.done():
            break
        try:
            writer.write(b"X-Slow: 1\r\n")
            await writer.drain()
        except ConnectionError:
            break
        await asyncio.sleep(0.5)  # the slow client's pace, not a wait for a result
    assert await closed == b""
    writer.close()


async def test_a_management_body_sent_slowly_gets_408(strict_gateway, gateway):
    reader, writer = await asyncio.open_connection("127.0.0.1", strict_gateway)
    writer.write(b"POST /v1/b2b/organizations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + f"Authorization: {gateway.auth['Authorization']}\r\n".encode()
                 + b"Content-Length: 100\r\n\r\n{\"organization_name\"")
    await writer.drain()
    answer = await _read_answer(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]


async def test_a_scim_body_sent_slowly_gets_408(strict_gateway, http, gateway):
    from tests.support import create_connection, create_organization

    organization = await create_organization(http, gateway, "slow")
    connection = await create_connection(http, gateway, organization["organization_id"])
    path = connection["base_url"].split("?")[0].removeprefix(gateway.url) + "/Users"
    reader, writer = await asyncio.open_connection("127.0.0.1", strict_gateway)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/scim+json\r\n"
                 f"Authorization: Bearer {connection['bearer_token']}\r\nContent-Length: 100\r\n\r\n{{".encode())
    await writer.drain()
    answer = await _read_answer(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b'"status":"408"' in answer


async def test_connections_past_the_cap_get_503_at_once(strict_gateway):
    held = [await asyncio.open_connection("127.0.0.1", strict_gateway) for _ in range(4)]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", strict_gateway)
        answer = await _read_until_closed(reader)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 1" in answer
    finally:
        for _, held_writer in held:
            held_writer.close()
