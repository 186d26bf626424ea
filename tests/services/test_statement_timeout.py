"""Every pooled statement has a timeout, and a service answers a statement
that ran out of time with DEADLINE_EXCEEDED (the gateway's 504), not a 500."""

from __future__ import annotations

import asyncpg
import grpc
import pytest
from scimd.directory.v1 import directory_service_pb2 as pb
from scimd.directory.v1 import directory_service_pb2_grpc as pb_grpc

from runtime.db import create_pool
from runtime.errors import ServiceError
from runtime.grpc_server import Registration, start_server, stop_server


@pytest.fixture
async def impatient_pool(running_services):
    pool = await create_pool(running_services.database_url, "directory", statement_timeout_ms=100)
    yield pool
    await pool.close()


async def test_a_statement_past_the_timeout_is_cancelled(impatient_pool):
    with pytest.raises(asyncpg.QueryCanceledError):
        await impatient_pool.shared.fetchval("SELECT pg_sleep(2)")
    assert await impatient_pool.shared.fetchval("SELECT 1") == 1  # the connection serves on


async def test_a_cancelled_statement_is_deadline_exceeded_not_internal(impatient_pool):
    class Slow(pb_grpc.DirectoryServiceServicer):
        async def GetMember(self, request, context):
            await impatient_pool.shared.fetchval("SELECT pg_sleep(2)")

    registration = Registration(Slow(), pb_grpc.add_DirectoryServiceServicer_to_server,
                                pb.DESCRIPTOR.services_by_name["DirectoryService"].full_name)
    server, port = await start_server([registration], "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await pb_grpc.DirectoryServiceStub(channel).GetMember(pb.GetMemberRequest(member_id="m"), timeout=30)
    finally:
        await stop_server(server, 0)
    error = ServiceError.from_rpc_error(caught.value)
    assert error.reason == "DEADLINE_EXCEEDED" and error.kind.http_status == 504
