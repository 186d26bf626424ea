"""Wiring of the webhooks service: endpoints API, JetStream consumer, delivery worker."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from scimd.webhooks.v1 import webhooks_service_pb2, webhooks_service_pb2_grpc

from services.common.db import open_database
from services.common.events import EventStream
from services.common.grpc_server import Registration
from services.common.sealing import SecretBox
from services.common.settings import Settings
from services.webhooks.consumer import event_consumer
from services.webhooks.delivery import DeliveryWorker
from services.webhooks.service import WebhooksServicer

SCHEMA = "webhooks"
MIGRATIONS = Path(__file__).parent / "migrations"


async def setup(settings: Settings, stack: AsyncExitStack) -> list[Registration]:
    box = SecretBox(settings.encryption_key)
    # Endpoints, events and deliveries belong to the project, not to one organization.
    pool = (await open_database(stack, settings.database_url, SCHEMA, MIGRATIONS, migrate_mode=settings.migrate)).shared
    worker = DeliveryWorker(pool, box, settings.webhook_timeout)
    await worker.start()
    stack.push_async_callback(worker.stop)
    consumer = event_consumer(pool, EventStream(settings.nats_prefix, settings.nats_replicas), settings.nats_url, settings.public_url, worker.wake)
    await consumer.start()
    stack.push_async_callback(consumer.stop)
    return [
        Registration(
            WebhooksServicer(pool, box),
            webhooks_service_pb2_grpc.add_WebhooksServiceServicer_to_server,
            webhooks_service_pb2.DESCRIPTOR.services_by_name["WebhooksService"].full_name,
        )
    ]
