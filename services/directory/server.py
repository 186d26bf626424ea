"""Wiring of the directory service."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from scimd.directory.v1 import directory_service_pb2, directory_service_pb2_grpc

from services.common.db import POOL_SIZE, open_database
from services.common.events import EventStream
from services.common.grpc_server import Registration
from services.common.outbox import start_relay
from services.common.settings import Settings
from services.directory.organization_purge import OrganizationPurge
from services.directory.service import SCHEMA, DirectoryServicer

MIGRATIONS = Path(__file__).parent / "migrations"


async def setup(settings: Settings, stack: AsyncExitStack) -> list[Registration]:
    pool = await open_database(stack, settings.database_url, SCHEMA, MIGRATIONS, migrate_mode=settings.migrate)
    stream = EventStream(settings.nats_prefix, settings.nats_replicas)
    await start_relay(stack, pool.shared, SCHEMA, stream, settings.nats_url)
    consumer = OrganizationPurge(pool, stream, SCHEMA, settings.project_id).consumer(settings.nats_url)
    await consumer.start()
    stack.push_async_callback(consumer.stop)
    return [
        Registration(
            DirectoryServicer(pool, stream, settings.project_id),
            directory_service_pb2_grpc.add_DirectoryServiceServicer_to_server,
            directory_service_pb2.DESCRIPTOR.services_by_name["DirectoryService"].full_name,
            # Half the pool: one organization's burst leaves the other half to everyone else.
            tenant_concurrency=POOL_SIZE // 2,
        )
    ]
