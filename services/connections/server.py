"""Wiring of the connections service."""

from __future__ import annotations

import logging
import os
from contextlib import AsyncExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path

from scimd.connections.v1 import connections_service_pb2, connections_service_pb2_grpc

from runtime.db import open_database
from runtime.events import EventStream
from runtime.grpc_server import Registration
from runtime.outbox import start_relay
from runtime.periodic import run_periodically
from runtime.settings import Settings
from runtime.ssrf import AllowList
from services.connections import oauth_repository, repository
from services.connections.service import SCHEMA, ConnectionsServicer

MIGRATIONS = Path(__file__).parent / "migrations"
# JWKS URLs of assertion trusts are fetched under the webhooks' allow-list.
OUTBOUND_ALLOW_ENV = "SCIMD_WEBHOOK_ALLOWED_HOSTS"
# A portal link's row is its portal session's record (whether the admin left):
# kept a day past the link's use or expiry, far beyond any session's lifetime.
PORTAL_LINK_RETENTION = timedelta(days=1)
PORTAL_LINK_CLEANUP_SECONDS = 10 * 60

log = logging.getLogger(__name__)


async def setup(settings: Settings, stack: AsyncExitStack) -> list[Registration]:
    # No tenant rows here (organizations and connections are the tenants themselves).
    pool = (await open_database(stack, settings.database_url, SCHEMA, MIGRATIONS, migrate_mode=settings.migrate)).shared
    stream = EventStream(settings.nats_prefix, settings.nats_replicas)
    await start_relay(stack, pool, SCHEMA, stream, settings.nats_url)

    async def forget_spent_portal_links() -> None:
        forgotten = await repository.forget_spent_portal_links(pool, PORTAL_LINK_RETENTION)
        if forgotten:
            log.info("deleted spent portal links", extra={"links": forgotten})

    await run_periodically(stack, "portal-link-retention", PORTAL_LINK_CLEANUP_SECONDS, forget_spent_portal_links)

    async def forget_expired_oauth() -> None:
        forgotten = await oauth_repository.forget_expired(pool, datetime.now(timezone.utc))
        if forgotten:
            log.info("deleted expired access tokens and assertion ids", extra={"rows": forgotten})

    await run_periodically(stack, "oauth-expiry", PORTAL_LINK_CLEANUP_SECONDS, forget_expired_oauth)
    return [
        Registration(
            ConnectionsServicer(pool, settings, stream, AllowList.parse(os.environ.get(OUTBOUND_ALLOW_ENV, ""))),
            connections_service_pb2_grpc.add_ConnectionsServiceServicer_to_server,
            connections_service_pb2.DESCRIPTOR.services_by_name["ConnectionsService"].full_name,
        )
    ]
