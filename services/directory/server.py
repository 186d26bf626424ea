"""Wiring of the directory service."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path

from scimd.directory.v1 import directory_service_pb2, directory_service_pb2_grpc

from runtime.db import FOR_ANY_ORGANIZATION, POOL_SIZE, open_database
from runtime.events import EventStream
from runtime.fairness import TenantSlots
from runtime.grpc_server import Registration
from runtime.outbox import start_relay
from runtime.periodic import run_periodically
from runtime.settings import Settings
from services.directory import repository, request_log_repository
from services.directory.connection_cleanup import ConnectionCleanup
from services.directory.deprovision_guard import GuardPolicy
from services.directory.extension_indexes import ensure_extension_indexes
from services.directory.organization_purge import OrganizationPurge
from services.directory.service import SCHEMA, DirectoryServicer

MIGRATIONS = Path(__file__).parent / "migrations"
FORGET_INTERVAL_SECONDS = 600.0
# How often held deprovisions past their guard's auto-apply time are applied.
AUTO_APPLY_INTERVAL_SECONDS = 30.0
# How often attribute mapping applies that no process runs (one died) are resumed.
MAPPING_APPLY_INTERVAL_SECONDS = 10.0
# How soon an attribute newly declared unique gets its index (extension_indexes.py).
EXTENSION_INDEX_INTERVAL_SECONDS = 15.0
log = logging.getLogger(__name__)


async def setup(settings: Settings, stack: AsyncExitStack) -> list[Registration]:
    pool = await open_database(stack, settings.database_url, SCHEMA, MIGRATIONS, migrate_mode=settings.migrate,
                               plan_cache_mode=FOR_ANY_ORGANIZATION)
    stream = EventStream(settings.nats_prefix, settings.nats_replicas)
    await start_relay(stack, pool.shared, SCHEMA, stream, settings.nats_url)
    consumer = OrganizationPurge(pool, stream, SCHEMA, settings.project_id).consumer(settings.nats_url)
    await consumer.start()
    stack.push_async_callback(consumer.stop)
    cleanup = ConnectionCleanup(pool, stream).consumer(settings.nats_url)
    await cleanup.start()
    stack.push_async_callback(cleanup.stop)
    retention = timedelta(days=settings.deleted_member_retention_days)

    async def forget_deleted_members() -> None:
        forgotten = await repository.forget_deleted_members(pool.shared, retention)
        if forgotten:
            log.info("forgot the personal data of deleted members", extra={"members": forgotten})

    await run_periodically(stack, "deleted-member-retention", FORGET_INTERVAL_SECONDS, forget_deleted_members)
    request_retention = timedelta(days=settings.request_log_retention_days)

    async def forget_old_requests() -> None:
        forgotten = await request_log_repository.forget_old(pool.shared, request_retention)
        if forgotten:
            log.info("forgot request log entries past their retention", extra={"entries": forgotten})

    await run_periodically(stack, "request-log-retention", FORGET_INTERVAL_SECONDS, forget_old_requests)
    servicer = DirectoryServicer(pool, stream, settings.project_id, GuardPolicy.project_default(settings))

    async def apply_overdue_deprovisions() -> None:
        applied = await servicer.apply_overdue(datetime.now(timezone.utc))
        if applied:
            log.info("applied held deprovisions past their auto-apply time", extra={"deprovisions": applied})

    await run_periodically(stack, "deprovision-auto-apply", AUTO_APPLY_INTERVAL_SECONDS, apply_overdue_deprovisions)
    async def build_extension_indexes() -> None:
        extensions = [stored.extension for stored in await servicer.extensions.stored()]
        await ensure_extension_indexes(settings.database_url, SCHEMA, extensions)

    await run_periodically(stack, "extension-indexes", EXTENSION_INDEX_INTERVAL_SECONDS, build_extension_indexes)
    stack.push_async_callback(servicer.stop_background_work)
    await run_periodically(stack, "attribute-mapping-apply", MAPPING_APPLY_INTERVAL_SECONDS,
                           servicer.resume_mapping_applies)
    return [
        Registration(
            servicer,
            directory_service_pb2_grpc.add_DirectoryServiceServicer_to_server,
            directory_service_pb2.DESCRIPTOR.services_by_name["DirectoryService"].full_name,
            # Half the pool for an organization alone; one call at a time as soon as another
            # one is active, so that one organization's burst keeps at most one query running
            # and the database's cores stay mostly free for everyone else (bench/fairness.py).
            tenant_slots=TenantSlots(1, alone_limit=POOL_SIZE // 2),
        )
    ]
