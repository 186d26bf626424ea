"""Wiring of the webhooks service: endpoints API, JetStream consumer, delivery worker."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

from scimd.webhooks.v1 import webhooks_service_pb2, webhooks_service_pb2_grpc

from runtime.db import open_database
from runtime.events import EventStream
from runtime.grpc_server import Registration, Setup
from runtime.outbox import QueuedEvent, start_relay
from runtime.periodic import run_periodically
from runtime.sealing import SecretBox
from runtime.settings import Settings
from services.webhooks import repository
from services.webhooks.config import WebhookConfig
from services.webhooks.consumer import EventIntake
from services.webhooks.delivery import DeliveryWorker
from services.webhooks.service import WebhooksServicer

SCHEMA = "webhooks"
MIGRATIONS = Path(__file__).parent / "migrations"
# Stored events (and their delivery log) are kept this long for replays, like the JetStream stream.
RETENTION = timedelta(days=30)
RETENTION_INTERVAL_SECONDS = 3600.0
# How often the delivery queue's statistics are checked (see repository.refresh_queue_statistics).
QUEUE_STATISTICS_INTERVAL_SECONDS = 2.0


def setup_with(config: WebhookConfig) -> Setup:
    """The service's setup with `config` rather than the one from the environment."""

    async def setup_configured(settings: Settings, stack: AsyncExitStack) -> list[Registration]:
        box = SecretBox(settings.encryption_key)
        # Endpoints, events and deliveries belong to the project, not to one organization.
        pool = (await open_database(stack, settings.database_url, SCHEMA, MIGRATIONS,
                                    migrate_mode=settings.migrate)).shared
        stream = EventStream(settings.nats_prefix, settings.nats_replicas)
        # The events the service raises itself (webhook_endpoint.disabled) go to NATS too.
        await start_relay(stack, pool, SCHEMA, stream, settings.nats_url)
        worker = DeliveryWorker(pool, box, settings.webhook_timeout, config, project_id=settings.project_id,
                                queue_event=partial(QueuedEvent, stream, SCHEMA))
        await worker.start()
        stack.push_async_callback(worker.stop)
        intake = EventIntake(pool, SCHEMA, stream, settings.nats_url, settings.public_url, worker)
        await intake.start()
        stack.push_async_callback(intake.stop)

        async def forget_old_events() -> None:
            await repository.forget_events_before(pool, datetime.now(timezone.utc) - RETENTION)

        await run_periodically(stack, "webhooks-retention", RETENTION_INTERVAL_SECONDS, forget_old_events)

        async def refresh_queue_statistics() -> None:
            await repository.refresh_queue_statistics(pool)

        await run_periodically(stack, "webhooks-queue-statistics", QUEUE_STATISTICS_INTERVAL_SECONDS,
                               refresh_queue_statistics)
        return [
            Registration(
                WebhooksServicer(pool, box, config, worker.wake),
                webhooks_service_pb2_grpc.add_WebhooksServiceServicer_to_server,
                webhooks_service_pb2.DESCRIPTOR.services_by_name["WebhooksService"].full_name,
            )
        ]

    return setup_configured


async def setup(settings: Settings, stack: AsyncExitStack) -> list[Registration]:
    return await setup_with(WebhookConfig.from_env())(settings, stack)
