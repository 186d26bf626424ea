"""Back-pressure end to end: a healthy but slow webhook endpoint falls behind
the writes; a gateway whose threshold it passes holds SCIM writes at a rate
(gateway/write_pressure.py) and lets them go once delivery caught up. Real
services, a real receiver; nothing is timed, every wait is bounded."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

from aiohttp import web
from scimd.webhooks.v1 import webhooks_service_pb2 as webhooks_pb
from scimd.webhooks.v1.webhooks_service_pb2_grpc import WebhooksServiceStub

from cli.processes import free_port
from gateway.keys import WRITE_PRESSURE
from gateway.serving import start_gateway
from runtime.grpc_client import open_channel
from tests.gateway.management_client import ManagementClient
from tests.support import LocalHookServer, bearer, create_connection, create_organization, scim_user


class SlowReceiver(LocalHookServer):
    """Answers 200, each after a pause: healthy, but slower than the writes."""

    def __init__(self, pause: float) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.pause = pause

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(self.pause)
        return web.Response(text="ok")


async def _until(condition, attempts: int = 150, pause: float = 0.1) -> bool:
    for _ in range(attempts):
        if await condition():
            return True
        await asyncio.sleep(pause)
    return False


async def test_writes_are_held_while_a_subscriber_falls_behind_and_let_go_once_it_caught_up(http, gateway,
                                                                                            running_services):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    runner = await start_gateway(replace(gateway.settings, http_port=port, public_url=url,
                                         write_backpressure_lag_seconds=0.3), host="127.0.0.1")
    pressure = runner.app[WRITE_PRESSURE]
    webhooks = WebhooksServiceStub(open_channel(running_services.services.webhooks))
    vendor = ManagementClient(http, gateway)
    organization = await create_organization(http, gateway, "pressure")
    connection = await create_connection(http, gateway, organization["organization_id"])
    async with SlowReceiver(pause=1.0) as receiver:
        status, body = await vendor.request("POST", "/v1/webhooks/endpoints", {
            "url": receiver.url, "event_types": ["scim.member.create"],
            "organization_ids": [organization["organization_id"]]})
        assert status == 201, body
        endpoint_id = body["endpoint"]["endpoint_id"]
        try:
            base = connection["base_url"].replace(gateway.url, url)  # through the gateway with the low threshold

            async def write(n: int) -> int:
                async with http.post(f"{base}/Users", json=scim_user(f"p{n}-{uuid.uuid4().hex[:6]}@acme.test"),
                                     headers=bearer(connection)) as response:
                    return response.status

            # 16 deliveries in flight at a second each; the rest wait, and the lag grows while writes go on.
            statuses: list[int] = []

            async def writer(first: int) -> None:
                for n in range(first, 400, 4):  # bounded
                    if pressure.limit is not None:
                        return
                    statuses.append(await write(n))

            await asyncio.gather(*(writer(first) for first in range(4)))
            assert set(statuses) <= {201, 429}, statuses
            assert pressure.limit is not None, f"writes were never held ({len(statuses)} written)"
            lag = (await webhooks.GetDeliveryLag(webhooks_pb.GetDeliveryLagRequest())).lag_seconds
            assert lag > 0.3, lag
        finally:
            await vendor.request("DELETE", f"/v1/webhooks/endpoints/{endpoint_id}")
    # Its deliveries gone with it, nothing is behind: writes go free again.
    assert await _until(lambda: _is(pressure.limit is None)), f"writes stayed held at {pressure.limit}/s"
    await runner.cleanup()


async def _is(flag: bool) -> bool:
    return flag
