"""An install from before the stream was partitioned, upgraded: its consumers
were made with the old subjects (`<prefix>.events.<type>`) and may still hold
events. Nothing they hold is lost, and what is published afterwards, on the
partitioned subjects, is handled too, each resource's events in order."""

from __future__ import annotations

import asyncio

import asyncpg
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from scimd.directory.v1 import member_pb2
from scimd.events.v1 import event_pb2

from runtime.consumer import DurableConsumer
from runtime.db import create_pool, migrate
from runtime.events import EventStream
from services.webhooks.consumer import EventIntake
from services.webhooks.server import MIGRATIONS
from tests.conftest import delete_stream, unique_prefix
from tests.support import until


def _member_update(n: int, organization: str) -> event_pb2.Event:
    member_id = f"{organization}-member"
    event = event_pb2.Event(
        event_id=f"ev-{organization}-{n:04d}", type="scim.member.update", organization_id=organization,
        member_changed=event_pb2.MemberChanged(member=member_pb2.Member(member_id=member_id,
                                                                        organization_id=organization)),
    )
    event.time.GetCurrentTime()
    return event


@pytest.fixture
async def old_install(nats_url):
    """A stream with a consumer made by the previous version, and a client to publish on it."""
    prefix = unique_prefix()
    stream = EventStream(prefix)
    nc = await nats.connect(nats_url)
    await stream.ensure(nc)
    yield stream, nc.jetstream()
    await nc.close()
    await delete_stream(nats_url, prefix)


async def _make_old_consumer(js, stream: EventStream, durable: str, subject: str) -> None:
    await js.add_consumer(stream.name, ConsumerConfig(
        durable_name=durable, name=durable, filter_subject=subject, ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL))


async def _publish(js, subject: str, event: event_pb2.Event) -> None:
    await js.publish(subject, event.SerializeToString(), headers={"Nats-Msg-Id": event.event_id})




async def test_the_intake_drains_the_unpartitioned_consumer_then_deletes_it(old_install, fresh_database, nats_url):
    stream, js = old_install
    legacy_durable = stream.consumer("webhooks")
    await _make_old_consumer(js, stream, legacy_durable, stream.subjects)
    organizations = [f"org_{n}" for n in range(8)]
    before = [_member_update(n, org) for n in range(5) for org in organizations]
    for event in before:  # published by the previous version's relay
        await _publish(js, f"{stream.prefix}.events.{event.type}", event)

    database_url = await fresh_database()
    await migrate(database_url, "webhooks", MIGRATIONS)
    pools = await create_pool(database_url, "webhooks", max_size=8)
    intake = EventIntake(pools.shared, "webhooks", stream, nats_url, "http://scimd.test", None)
    # Then upgraded writers published the same resources' next events, before the intake came up.
    after = [_member_update(n, org) for n in range(5, 10) for org in organizations]
    for event in after:
        await _publish(js, stream.publish_subject(event.type, event.organization_id), event)
    # A replica of the previous version still holds the intake's leadership for a while (a rolling upgrade).
    old_replica = await asyncpg.connect(database_url)
    await old_replica.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", f"webhooks.intake:{legacy_durable}")
    try:
        await intake.start()
        await asyncio.sleep(1.5)  # the old replica's time, not a wait for a result
        await old_replica.close()

        async def all_stored() -> bool:
            return await pools.shared.fetchval("SELECT count(*) FROM events") >= len(before) + len(after)

        await until(all_stored, "every event stored")

        async def legacy_deleted() -> bool:
            try:
                await js.consumer_info(stream.name, legacy_durable)
            except NotFoundError:
                return True
            return False

        await until(legacy_deleted, "the unpartitioned consumer deleted once drained")
        rows = await pools.shared.fetch("SELECT event_id, organization_id FROM events ORDER BY seq")
    finally:
        await old_replica.close()
        await intake.stop()
        await pools.close()
    for org in organizations:
        stored = [r["event_id"] for r in rows if r["organization_id"] == org]
        assert stored == [e.event_id for e in before + after if e.organization_id == org]


async def test_a_consumer_of_one_type_drains_its_old_filter_and_follows_the_new_subjects(old_install, nats_url):
    stream, js = old_install
    event_type = "scim.connection.delete"
    durable = stream.consumer("cleanup")
    await _make_old_consumer(js, stream, durable, f"{stream.prefix}.events.{event_type}")
    old = event_pb2.Event(event_id="old-1", type=event_type, organization_id="org_a")
    await _publish(js, f"{stream.prefix}.events.{event_type}", old)

    handled: list[str] = []

    async def handle(events: list[event_pb2.Event]) -> None:
        handled.extend(e.event_id for e in events)

    consumer = DurableConsumer(stream, nats_url, "cleanup", handle, event_type=event_type)
    try:
        await consumer.start()

        async def old_handled() -> bool:
            return "old-1" in handled

        await until(old_handled, "the event under the old subject handled")
        new = event_pb2.Event(event_id="new-1", type=event_type, organization_id="org_b")
        await _publish(js, stream.publish_subject(event_type, "org_b"), new)
        other = event_pb2.Event(event_id="other-1", type="scim.member.create", organization_id="org_b")
        await _publish(js, stream.publish_subject(other.type, "org_b"), other)

        async def new_handled() -> bool:
            return "new-1" in handled

        await until(new_handled, "the event under the partitioned subject handled")
        info = await js.consumer_info(stream.name, durable)
    finally:
        await consumer.stop()
    assert info.config.filter_subject == stream.subject(event_type)
    assert "other-1" not in handled
    assert handled.count("old-1") == 1
