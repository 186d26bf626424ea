"""WebhooksService over real gRPC, and delivery from JetStream to a local receiver."""

import asyncio
import time
import uuid

import asyncpg
import grpc
import orjson
import pytest
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.directory.v1.directory_service_pb2_grpc import DirectoryServiceStub
from scimd.webhooks.v1 import webhooks_service_pb2 as pb
from scimd.webhooks.v1.webhooks_service_pb2_grpc import WebhooksServiceStub
from standardwebhooks import Webhook

from runtime.context import Tenant
from runtime.errors import ServiceError
from services.webhooks.delivery import RETRY_SCHEDULE, retry_delay
from tests.support import registration


@pytest.fixture
async def webhooks(running_services):
    async with grpc.aio.insecure_channel(running_services.services.webhooks) as channel:
        yield WebhooksServiceStub(channel)


async def _create_member(settings, user_name: str) -> str:
    owner = Tenant(f"organization-{uuid.uuid4()}", f"scim-connection-{uuid.uuid4()}")
    async with grpc.aio.insecure_channel(settings.services.directory) as channel:
        response = await DirectoryServiceStub(channel).CreateMember(
            directory_pb.CreateMemberRequest(scim_registration=registration(user_name)),
            metadata=owner.metadata(),
        )
    return response.member.member_id


async def _delivery_of(settings, member_id: str, endpoint_id: str, deadline_s: float = 20):
    """The delivery row of the member's create event to the endpoint, once it has an outcome."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            row = await conn.fetchrow(
                "SELECT d.* FROM webhooks.deliveries d JOIN webhooks.events e USING (event_id)"
                " WHERE d.endpoint_id = $1 AND e.body::jsonb -> 'data' ->> 'id' = $2 AND d.attempts > 0",
                endpoint_id, member_id,
            )
            if row is not None and (row["status"] != "pending" or row["last_error"]):
                return row
            await asyncio.sleep(0.05)  # polling the database for the effect, with a deadline
        return None
    finally:
        await conn.close()


async def test_endpoint_crud_and_secret_shown_once(webhooks):
    created = await webhooks.CreateEndpoint(pb.CreateEndpointRequest(url="https://hooks.scimd.test/scim", event_types=["scim.member.create"]))
    assert created.secret.startswith("whsec_")
    Webhook(created.secret)  # a valid Standard Webhooks secret
    fetched = (await webhooks.GetEndpoint(pb.GetEndpointRequest(endpoint_id=created.endpoint.endpoint_id))).endpoint
    assert fetched == created.endpoint and created.secret not in str(fetched)
    listed = await webhooks.ListEndpoints(pb.ListEndpointsRequest(page_size=1000))
    assert created.endpoint.endpoint_id in [e.endpoint_id for e in listed.endpoints]
    await webhooks.DeleteEndpoint(pb.DeleteEndpointRequest(endpoint_id=created.endpoint.endpoint_id))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await webhooks.GetEndpoint(pb.GetEndpointRequest(endpoint_id=created.endpoint.endpoint_id))
    assert ServiceError.from_rpc_error(caught.value).reason == "NOT_FOUND"


async def test_endpoints_are_listed_by_the_organization_whose_events_they_receive(webhooks):
    mine, other = f"organization-{uuid.uuid4().hex}", f"organization-{uuid.uuid4().hex}"
    made = {}
    for name, organization_ids in (("everyone", []), ("mine", [mine]), ("both", [other, mine]), ("other", [other])):
        made[name] = (await webhooks.CreateEndpoint(pb.CreateEndpointRequest(
            url=f"https://hooks.scimd.test/{name}", organization_ids=organization_ids))).endpoint.endpoint_id
    try:
        seen, token = [], ""
        for _ in range(1000):  # bounded: one endpoint a page
            page = await webhooks.ListEndpoints(pb.ListEndpointsRequest(page_size=1, page_token=token, organization_id=mine))
            seen += [e.endpoint_id for e in page.endpoints]
            token = page.next_page_token
            if not token:
                break
        assert {made["everyone"], made["mine"], made["both"]} <= set(seen) and made["other"] not in seen
        assert len(seen) == len(set(seen))
    finally:
        for endpoint_id in made.values():
            await webhooks.DeleteEndpoint(pb.DeleteEndpointRequest(endpoint_id=endpoint_id))


async def test_secret_is_encrypted_at_rest(webhooks, running_services):
    created = await webhooks.CreateEndpoint(pb.CreateEndpointRequest(url="https://hooks.scimd.test/a"))
    conn = await asyncpg.connect(running_services.database_url)
    try:
        sealed = await conn.fetchval("SELECT secret_sealed FROM webhooks.endpoints WHERE endpoint_id = $1", created.endpoint.endpoint_id)
    finally:
        await conn.close()
    raw = created.secret.removeprefix("whsec_").encode()
    assert raw not in sealed and created.secret.encode() not in sealed
    await webhooks.DeleteEndpoint(pb.DeleteEndpointRequest(endpoint_id=created.endpoint.endpoint_id))


async def test_event_is_signed_and_delivered_to_subscribed_endpoints_only(webhooks, running_services, webhook_receiver):
    wanted = await webhooks.CreateEndpoint(pb.CreateEndpointRequest(url=webhook_receiver.url, event_types=["scim.member.create"]))
    unwanted = await webhooks.CreateEndpoint(pb.CreateEndpointRequest(url=webhook_receiver.url, event_types=["scim.member.delete"]))
    try:
        member_id = await _create_member(running_services, f"hook-{uuid.uuid4().hex[:6]}@example.com")
        row = await _delivery_of(running_services, member_id, wanted.endpoint.endpoint_id)
        assert row is not None and row["status"] == "succeeded" and row["last_status_code"] == 200
        bodies = []
        while not webhook_receiver.received.empty():
            bodies.append(webhook_receiver.received.get_nowait())
        mine = [b for b in bodies if orjson.loads(b.body)["data"]["id"] == member_id]
        assert len(mine) == 1
        assert Webhook(wanted.secret).verify(mine[0].body, mine[0].headers)["type"] == "scim.member.create"
        conn = await asyncpg.connect(running_services.database_url)
        try:
            assert not await conn.fetchval("SELECT count(*) FROM webhooks.deliveries WHERE endpoint_id = $1", unwanted.endpoint.endpoint_id)
        finally:
            await conn.close()
    finally:
        for endpoint in (wanted, unwanted):
            await webhooks.DeleteEndpoint(pb.DeleteEndpointRequest(endpoint_id=endpoint.endpoint.endpoint_id))


async def test_failed_delivery_is_kept_and_scheduled_for_retry(webhooks, running_services, webhook_receiver):
    webhook_receiver.status = 500
    endpoint = await webhooks.CreateEndpoint(pb.CreateEndpointRequest(url=webhook_receiver.url, event_types=["scim.member.create"]))
    try:
        member_id = await _create_member(running_services, f"fail-{uuid.uuid4().hex[:6]}@example.com")
        row = await _delivery_of(running_services, member_id, endpoint.endpoint.endpoint_id)
        assert row is not None
        assert row["status"] == "pending" and row["attempts"] == 1 and row["last_status_code"] == 500
        conn = await asyncpg.connect(running_services.database_url)
        try:
            wait = await conn.fetchval("SELECT extract(epoch FROM next_attempt_at - now()) FROM webhooks.deliveries WHERE event_id = $1 AND endpoint_id = $2", row["event_id"], row["endpoint_id"])
        finally:
            await conn.close()
        assert 0 < wait <= RETRY_SCHEDULE[0] * 1.1
    finally:
        await webhooks.DeleteEndpoint(pb.DeleteEndpointRequest(endpoint_id=endpoint.endpoint.endpoint_id))


def test_retry_schedule_then_give_up():
    assert 4.5 <= retry_delay(1) <= 5.5
    assert 270 <= retry_delay(2) <= 330
    assert retry_delay(len(RETRY_SCHEDULE)) is not None
    assert retry_delay(len(RETRY_SCHEDULE) + 1) is None
