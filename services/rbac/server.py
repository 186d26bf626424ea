"""Wiring of the rbac service."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from scimd.rbac.v1 import rbac_service_pb2, rbac_service_pb2_grpc

from services.common.db import open_database
from services.common.grpc_server import Registration
from services.common.settings import Settings
from services.rbac.service import RbacServicer

SCHEMA = "rbac"
MIGRATIONS = Path(__file__).parent / "migrations"


async def setup(settings: Settings, stack: AsyncExitStack) -> list[Registration]:
    pool = await open_database(stack, settings.database_url, SCHEMA, MIGRATIONS)
    return [
        Registration(
            RbacServicer(pool),
            rbac_service_pb2_grpc.add_RbacServiceServicer_to_server,
            rbac_service_pb2.DESCRIPTOR.services_by_name["RbacService"].full_name,
        )
    ]
