"""The outbox keeps events while NATS is down and publishes them when it returns."""

import uuid

import asyncpg
import grpc
import nats
import pytest
from scimd.directory.v1 import directory_service_pb2 as pb
from scimd.directory.v1.directory_service_pb2_grpc import DirectoryServiceStub
from scimd.events.v1 import event_pb2

from cli.embedded import EmbeddedNats
from runtime.context import Tenant
from runtime.events import EventStream
from runtime.grpc_server import running_service
from services.directory.server import setup as directory_setup
from tests.conftest import make_settings, unique_prefix
from tests.support import registration


async def _collect_member_ids(url: str, stream: EventStream, wanted: set[str], timeout: float = 30) -> set[str]:
    """Reads the stream from the start until every wanted member's create event is seen."""
    nc = await nats.connect(url)
    try:
        await stream.ensure(nc)  # the relay may not have created it yet
        subscription = await nc.jetstream().subscribe(stream.subjects, stream=stream.name, ordered_consumer=True)
        seen: set[str] = set()
        while not wanted <= seen:
            message = await subscription.next_msg(timeout=timeout)
            seen.add(event_pb2.Event.FromString(message.data).member_changed.member.member_id)
        return seen
    finally:
        await nc.close()


async def _unpublished(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval("SELECT count(*) FROM directory.outbox WHERE published_at IS NULL")
    finally:
        await conn.close()


@pytest.fixture
async def private_nats(tmp_path):
    server = EmbeddedNats(tmp_path)
    await server.start()
    yield server
    await server.stop()


async def test_writes_succeed_while_nats_is_down_and_events_arrive_after(fresh_database, private_nats):
    settings = make_settings(await fresh_database(), private_nats.url, unique_prefix())
    stream = EventStream(settings.nats_prefix)
    owner = Tenant(f"organization-{uuid.uuid4()}", f"scim-connection-{uuid.uuid4()}")
    async with running_service(directory_setup, settings, "127.0.0.1:0") as (_server, port):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            directory = DirectoryServiceStub(channel)

            async def create(name: str) -> str:
                response = await directory.CreateMember(
                    pb.CreateMemberRequest(scim_registration=registration(name)), metadata=owner.metadata()
                )
                return response.member.member_id

            before = await create("before@example.com")
            assert await _collect_member_ids(private_nats.url, stream, {before}) >= {before}

            port_of_nats = private_nats.port
            await private_nats.stop()
            during = {await create(f"during-{i}@example.com") for i in range(5)}
            assert await _unpublished(settings.database_url) >= 5

            await private_nats.start(port=port_of_nats)
            seen = await _collect_member_ids(private_nats.url, stream, during | {before})
            assert during | {before} <= seen


async def test_service_starts_and_accepts_writes_before_nats_exists(fresh_database, tmp_path):
    nats_server = EmbeddedNats(tmp_path)
    from cli.processes import free_port

    port = free_port()
    settings = make_settings(await fresh_database(), f"nats://127.0.0.1:{port}", unique_prefix())
    owner = Tenant(f"organization-{uuid.uuid4()}", f"scim-connection-{uuid.uuid4()}")
    async with running_service(directory_setup, settings, "127.0.0.1:0") as (_server, grpc_port):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            response = await DirectoryServiceStub(channel).CreateMember(
                pb.CreateMemberRequest(scim_registration=registration("early@example.com")), metadata=owner.metadata()
            )
        await nats_server.start(port=port)
        try:
            member_id = response.member.member_id
            assert member_id in await _collect_member_ids(settings.nats_url, EventStream(settings.nats_prefix), {member_id})
        finally:
            await nats_server.stop()
