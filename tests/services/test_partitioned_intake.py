"""Partition leases and per-partition exclusive consumers against a real NATS
and PostgreSQL: the partitions are spread over the live replicas, move when
one joins or is lost, and every organization's events are handled in the
order they were published, none missing."""

from __future__ import annotations

import asyncio

import asyncpg
import nats
import pytest
from scimd.events.v1 import event_pb2

from runtime.consumer import ExclusiveConsumer
from runtime.events import PARTITIONS, EventStream, SharedConnection, partition_of
from runtime.partition_leases import PartitionLeases, assignment
from tests.conftest import delete_stream, unique_prefix
from tests.support import until

ORGANIZATIONS = 96
EVENTS_PER_ORGANIZATION = 12


def test_the_assignment_spreads_partitions_evenly_and_only_over_live_slots():
    owners = assignment([0, 3, 7], 32)
    counts = {slot: list(owners.values()).count(slot) for slot in (0, 3, 7)}
    assert counts == {0: 11, 3: 11, 7: 10}
    assert assignment([], 32) == {}
    assert set(assignment([5], 4).values()) == {5}


async def _publish(nats_url: str, stream: EventStream, rounds: range) -> list[event_pb2.Event]:
    """Event n of every organization, for n in `rounds`, interleaved across organizations."""
    nc = await nats.connect(nats_url)
    try:
        await stream.ensure(nc)
        js = nc.jetstream()
        events = []
        for n in rounds:
            for org in range(ORGANIZATIONS):
                event = event_pb2.Event(event_id=f"org{org:03d}-{n:03d}", type="test.thing.changed",
                                        organization_id=f"org_{org:03d}")
                await js.publish(stream.publish_subject(event.type, event.organization_id),
                                 event.SerializeToString(), headers={"Nats-Msg-Id": event.event_id})
                events.append(event)
        return events
    finally:
        await nc.close()


class Replica:
    def __init__(self, name: str, pool: asyncpg.Pool, stream: EventStream, nats_url: str):
        self.name = name
        self.pool = pool
        self.nats = SharedConnection(nats_url, f"test-{name}")
        self.leases = PartitionLeases(pool, f"test.intake:{stream.prefix}", PARTITIONS, poll_seconds=0.05)
        self.consumers = [
            ExclusiveConsumer(stream, nats_url, "intake", self.store, self.leases.lease(p),
                              subject=stream.partition_subject(p), durable=stream.consumer(f"intake_p{p:02d}"),
                              shared_nats=self.nats)
            for p in range(PARTITIONS)
        ]

    async def store(self, conn: asyncpg.Connection, events: list[event_pb2.Event]) -> None:
        await asyncio.sleep(0.005)  # a store that takes a while, so partitions overlap
        await conn.execute(
            "INSERT INTO handled (event_id, organization_id, replica)"
            " SELECT unnest($1::text[]), unnest($2::text[]), $3 ON CONFLICT DO NOTHING",
            [e.event_id for e in events], [e.organization_id for e in events], self.name,
        )

    async def start(self) -> None:
        await self.leases.start()
        for consumer in self.consumers:
            await consumer.start()

    async def stop(self) -> None:
        for consumer in self.consumers:
            await consumer.stop()
        await self.leases.stop()
        await self.nats.close()


@pytest.fixture
async def setup(fresh_database, nats_url):
    database_url = await fresh_database()
    pools = [await asyncpg.create_pool(database_url, min_size=1, max_size=4) for _ in range(4)]
    await pools[0].execute(
        "CREATE TABLE handled (seq bigserial PRIMARY KEY, event_id text UNIQUE, organization_id text, replica text)"
    )
    prefix = unique_prefix()
    yield pools, EventStream(prefix)
    for pool in pools:
        pool.terminate()
    await delete_stream(nats_url, prefix)




def _spread(replicas: list[Replica]) -> bool:
    held = [set(r.leases.held) for r in replicas]
    every = set().union(*held)
    return every == set(range(PARTITIONS)) and sum(map(len, held)) == PARTITIONS \
        and max(map(len, held)) - min(map(len, held)) <= 1


async def _handled_in_order(pool: asyncpg.Pool, published: list[event_pb2.Event]) -> None:
    async def everything_handled() -> bool:
        return await pool.fetchval("SELECT count(*) FROM handled") >= len(published)

    await until(everything_handled, f"all {len(published)} events handled")
    rows = await pool.fetch("SELECT event_id, organization_id FROM handled ORDER BY seq")
    assert {r["event_id"] for r in rows} == {e.event_id for e in published}, "missing events"
    handled_per_organization: dict[str, list[str]] = {}
    for row in rows:
        handled_per_organization.setdefault(row["organization_id"], []).append(row["event_id"])
    published_per_organization: dict[str, list[str]] = {}
    for event in published:
        published_per_organization.setdefault(event.organization_id, []).append(event.event_id)
    out_of_order = [org for org, ids in handled_per_organization.items() if ids != published_per_organization[org]]
    assert not out_of_order, f"{len(out_of_order)} organizations handled out of order"


async def test_partitions_spread_over_replicas_and_move_when_one_is_lost_or_joins(setup, nats_url):
    pools, stream = setup
    assert len({partition_of(f"org_{org:03d}") for org in range(ORGANIZATIONS)}) > PARTITIONS // 2
    replicas = [Replica(name, pool, stream, nats_url) for name, pool in zip("abc", pools)]
    joiner = Replica("d", pools[3], stream, nats_url)
    try:
        for replica in replicas:
            await replica.start()

        async def spread() -> bool:
            return _spread(replicas)

        await until(spread, "the partitions spread over three replicas")
        published = await _publish(nats_url, stream, range(EVENTS_PER_ORGANIZATION // 2))
        publishing = asyncio.create_task(_publish(nats_url, stream, range(EVENTS_PER_ORGANIZATION // 2,
                                                                            EVENTS_PER_ORGANIZATION)))
        # c is cut off from the database mid-load, as a SIGKILL would do: its locks go at once.
        lost = pools[2]
        lost.terminate()

        async def moved() -> bool:
            return _spread(replicas[:2])

        takeover = await until(moved, "c's partitions taken by a and b")
        print(f"\npartitions moved {takeover:.3f} s after their replica was lost")
        published += await publishing
        await _handled_in_order(pools[0], published)
        handled_by = {r["replica"] for r in await pools[0].fetch("SELECT DISTINCT replica FROM handled")}
        assert {"a", "b"} <= handled_by

        await joiner.start()

        async def rebalanced() -> bool:
            return _spread([*replicas[:2], joiner])

        await until(rebalanced, "the partitions spread again once d joined")
        more = await _publish(nats_url, stream, range(EVENTS_PER_ORGANIZATION, EVENTS_PER_ORGANIZATION + 2))
        await _handled_in_order(pools[0], published + more)
    finally:
        for replica in [*replicas, joiner]:
            await replica.stop()
