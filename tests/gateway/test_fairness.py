"""Fairness between tenants (issue 16 §2): one connection's requests in flight
are bounded on each gateway (the rest get 429 with Retry-After at once, never
a hang), and another connection is not held back by it."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest

from cli.processes import free_port
from gateway.serving import start_gateway
from tests.conftest import Gateway
from tests.gateway.scim_client import new_client
from tests.support import scim_user

CONCURRENCY = 2


@pytest.fixture
async def bounded_gateway(running_services):
    port = free_port()
    settings = replace(running_services, http_port=port, public_url=f"http://127.0.0.1:{port}",
                       connection_concurrency=CONCURRENCY)
    runner = await start_gateway(settings, host="127.0.0.1")
    yield Gateway(settings)
    await runner.cleanup()


async def test_a_connection_past_its_concurrency_gets_429_and_others_do_not(http, bounded_gateway):
    busy, other = await new_client(http, bounded_gateway), await new_client(http, bounded_gateway)

    async def create(client) -> tuple[int, str | None]:
        reply = await client.request("POST", "/Users", scim_user(f"fair-{uuid.uuid4().hex[:10]}@example.com"))
        return reply.status, reply.headers.get("Retry-After")

    answers = await asyncio.gather(*(create(busy) for _ in range(12)), create(other))
    busy_answers, other_answer = answers[:-1], answers[-1]
    statuses = sorted(status for status, _ in busy_answers)
    assert set(statuses) <= {201, 429} and 201 in statuses, statuses
    assert 429 in statuses, "twelve at once never exceeded a bound of two: nothing was tested"
    assert all(retry == "1" for status, retry in busy_answers if status == 429)
    assert other_answer[0] == 201
    # Every slot came back: the connection serves again.
    assert (await create(busy))[0] == 201
