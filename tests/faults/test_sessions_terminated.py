"""The database ends the directory's sessions mid-call (a failover, a
restart, an administrator's pg_terminate_backend): every call in flight is
answered UNAVAILABLE, which the gateway turns into 503 with Retry-After, and
none INTERNAL (a 500). asyncpg reports some of these ends not as a closed
connection but as InternalClientError ("cannot switch to state …"); the
self-healing test met one as a 500 on a SIGKILLed PostgreSQL."""

from __future__ import annotations

import asyncio
import collections
import uuid
from contextlib import AsyncExitStack

import asyncpg
import grpc
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.directory.v1.directory_service_pb2_grpc import DirectoryServiceStub

from runtime.context import Tenant
from runtime.grpc_server import running_service
from services.directory.server import setup as directory_setup
from tests.conftest import make_settings, unique_prefix
from tests.support import registration

WRITERS = 8
CALLS_PER_WRITER = 60
TERMINATIONS = 40
TERMINATION_PAUSE_S = 0.05


async def _terminate_sessions(database_url: str, application: str) -> int:
    """Ends every session of the service (its application_name), `TERMINATIONS` times; how many it ended."""
    ended = 0
    admin = await asyncpg.connect(database_url)
    try:
        for _ in range(TERMINATIONS):
            ended += await admin.fetchval(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = $1 AND datname = current_database()", application)
            await asyncio.sleep(TERMINATION_PAUSE_S)  # the pace of the terminations
    finally:
        await admin.close()
    return ended


async def test_calls_whose_session_is_terminated_are_unavailable_not_internal(fresh_database, nats_url):
    settings = make_settings(await fresh_database(), nats_url, unique_prefix())
    outcomes: collections.Counter = collections.Counter()
    internal: list[str] = []
    async with AsyncExitStack() as stack:
        _server, port = await stack.enter_async_context(running_service(directory_setup, settings, "127.0.0.1:0"))
        channel = await stack.enter_async_context(grpc.aio.insecure_channel(f"127.0.0.1:{port}"))
        directory = DirectoryServiceStub(channel)
        owner = Tenant(f"organization-{uuid.uuid4()}", f"scim-connection-{uuid.uuid4()}")

        async def write() -> None:
            for _ in range(CALLS_PER_WRITER):
                try:
                    await directory.CreateMember(directory_pb.CreateMemberRequest(
                        scim_registration=registration(f"ended-{uuid.uuid4().hex[:10]}@example.com")),
                        metadata=owner.metadata(), timeout=10)
                    outcomes["OK"] += 1
                except grpc.aio.AioRpcError as error:
                    outcomes[error.code().name] += 1
                    if error.code() != grpc.StatusCode.UNAVAILABLE:
                        internal.append(f"{error.code().name}: {error.details()}")

        writers = [asyncio.create_task(write()) for _ in range(WRITERS)]
        ended = await _terminate_sessions(settings.database_url, "scimd-directory")
        await asyncio.gather(*writers)
    print(f"\nsessions ended: {ended}; calls: {dict(outcomes)}")
    assert ended >= TERMINATIONS // 2, "too few sessions were ended to prove anything"
    assert outcomes["UNAVAILABLE"] > 0, "no call was in flight when its session ended"
    assert not internal, internal
    assert outcomes["OK"] > 0
