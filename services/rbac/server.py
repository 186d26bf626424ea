"""Wiring of the rbac service: roles API, and the follower of directory events."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import grpc
from scimd.rbac.v1 import rbac_service_pb2, rbac_service_pb2_grpc

from services.common.db import open_database
from services.common.events import EventStream
from services.common.grpc_server import Registration
from services.common.outbox import start_relay
from services.common.settings import Settings
from services.rbac.directory_reader import DirectoryReader
from services.rbac.follower import DirectoryFollower
from services.rbac.propagation import SCHEMA, RolePropagator
from services.rbac.service import RbacServicer

MIGRATIONS = Path(__file__).parent / "migrations"


async def setup(settings: Settings, stack: AsyncExitStack) -> list[Registration]:
    pool = await open_database(stack, settings.database_url, SCHEMA, MIGRATIONS)
    stream = EventStream(settings.nats_prefix)
    await start_relay(stack, pool.shared, SCHEMA, stream, settings.nats_url)
    channel = grpc.aio.insecure_channel(settings.services.of("directory"))
    stack.push_async_callback(channel.close)
    directory = DirectoryReader(channel)
    propagator = RolePropagator(directory, stream, settings.project_id)
    consumer = DirectoryFollower(pool, propagator).consumer(stream, settings.nats_url)
    await consumer.start()
    stack.push_async_callback(consumer.stop)
    return [
        Registration(
            RbacServicer(pool, directory, propagator),
            rbac_service_pb2_grpc.add_RbacServiceServicer_to_server,
            rbac_service_pb2.DESCRIPTOR.services_by_name["RbacService"].full_name,
        )
    ]
