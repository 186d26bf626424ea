"""Wiring of the connections service."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from scimd.connections.v1 import connections_service_pb2, connections_service_pb2_grpc

from services.common.db import open_database
from services.common.events import EventStream
from services.common.grpc_server import Registration
from services.common.outbox import start_relay
from services.common.settings import Settings
from services.connections.service import SCHEMA, ConnectionsServicer

MIGRATIONS = Path(__file__).parent / "migrations"


async def setup(settings: Settings, stack: AsyncExitStack) -> list[Registration]:
    # No tenant rows here (organizations and connections are the tenants themselves).
    pool = (await open_database(stack, settings.database_url, SCHEMA, MIGRATIONS, migrate_mode=settings.migrate)).shared
    stream = EventStream(settings.nats_prefix, settings.nats_replicas)
    await start_relay(stack, pool, SCHEMA, stream, settings.nats_url)
    return [
        Registration(
            ConnectionsServicer(pool, settings, stream),
            connections_service_pb2_grpc.add_ConnectionsServiceServicer_to_server,
            connections_service_pb2.DESCRIPTOR.services_by_name["ConnectionsService"].full_name,
        )
    ]
