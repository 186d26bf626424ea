"""What every fault test ends with: every committed change has exactly one
event, and every event reached every subscribed endpoint. Duplicates are
allowed (delivery is at least once) but counted and reported; missing events
must be zero."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
import grpc
import nats
from aiohttp import web
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.directory.v1.directory_service_pb2_grpc import DirectoryServiceStub
from scimd.events.v1 import event_pb2

from cli.processes import free_port
from runtime.context import Tenant
from runtime.events import EventStream
from runtime.settings import Settings
from tests.support import LocalHookServer, registration


@dataclass
class CountingReceiver(LocalHookServer):
    """A local endpoint that counts each webhook-id it receives; `failing`
    makes it answer 500, `delay` makes every answer late."""

    failing: bool = False
    delay: float = 0.0
    port: int = field(default_factory=free_port)
    received: Counter = field(default_factory=Counter)
    # Every webhook-id in the order it arrived, repeats included.
    arrivals: list[str] = field(default_factory=list)
    in_flight: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        if self.failing:
            return web.Response(status=500)
        self.in_flight += 1
        try:
            if self.delay:
                await asyncio.sleep(self.delay)  # a slow receiver, not a wait for a result
            self.received[request.headers["webhook-id"]] += 1
            self.arrivals.append(request.headers["webhook-id"])
        finally:
            self.in_flight -= 1
        return web.Response(text="ok")



@dataclass
class Writer:
    """SCIM writes (member creations through the directory service) at a steady rate."""

    directory_address: str
    organization_id: str = field(default_factory=lambda: f"organization-{uuid.uuid4()}")
    committed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    async def write(self, count: int, per_second: float) -> None:
        owner = Tenant(self.organization_id, f"scim-connection-{uuid.uuid4()}")
        async with grpc.aio.insecure_channel(self.directory_address) as channel:
            stub = DirectoryServiceStub(channel)
            for n in range(count):
                try:
                    response = await stub.CreateMember(
                        directory_pb.CreateMemberRequest(scim_registration=registration(f"fault-{uuid.uuid4().hex[:10]}@example.com")),
                        metadata=owner.metadata(), timeout=10,
                    )
                    self.committed.append(response.member.member_id)
                except grpc.aio.AioRpcError as error:
                    self.failed.append(error.code().name)
                await asyncio.sleep(1 / per_second)  # the pace of the writes


@dataclass
class LifecycleWriter:
    """Members that each live a whole life (created, changed `updates` times,
    deleted), `concurrency` of them at a time, so the events of one resource
    come in a strict order while those of different ones interleave."""

    directory_address: str
    organization_id: str = field(default_factory=lambda: f"organization-{uuid.uuid4()}")
    committed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    async def write(self, members: int, updates: int, concurrency: int, pause: float) -> None:
        owner = Tenant(self.organization_id, f"scim-connection-{uuid.uuid4()}")
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(members):
            queue.put_nowait(n)
        async with grpc.aio.insecure_channel(self.directory_address) as channel:
            stub = DirectoryServiceStub(channel)

            async def live() -> None:
                while not queue.empty():
                    await self._one_life(stub, owner, queue.get_nowait(), updates, pause)

            await asyncio.gather(*(live() for _ in range(concurrency)))

    async def _one_life(self, stub, owner: Tenant, n: int, updates: int, pause: float) -> None:
        user_name = f"life-{n}-{uuid.uuid4().hex[:8]}@example.com"
        try:
            created = await stub.CreateMember(
                directory_pb.CreateMemberRequest(scim_registration=registration(user_name)),
                metadata=owner.metadata(), timeout=10)
            member_id = created.member.member_id
            for version in range(updates):
                await asyncio.sleep(pause)  # the pace of one member's changes
                await stub.UpdateMember(directory_pb.UpdateMemberRequest(
                    member_id=member_id, scim_registration=registration(user_name, displayName=f"v{version}")),
                    metadata=owner.metadata(), timeout=10)
            await stub.DeleteMember(directory_pb.DeleteMemberRequest(member_id=member_id),
                                    metadata=owner.metadata(), timeout=10)
            self.committed.append(member_id)
        except grpc.aio.AioRpcError as error:
            self.failed.append(error.code().name)


async def member_events_in_commit_order(settings: Settings, member_ids: list[str], event_type: str = "",
                                        deadline_s: float = 60) -> dict[str, list[str]]:
    """Each member's event ids (of `event_type`, or all) in the order the
    directory committed them: the stream's order (the outbox's), read once the
    directory's relay has published its whole outbox (with a deadline)."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        deadline = time.monotonic() + deadline_s
        while await conn.fetchval("SELECT count(*) FROM directory.outbox WHERE published_at IS NULL") \
                and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # polling for the relay's publishes, with a deadline
    finally:
        await conn.close()
    found: dict[str, list[str]] = {m: [] for m in member_ids}
    connection = await nats.connect(settings.nats_url)
    try:
        js = connection.jetstream()
        stream = EventStream(settings.nats_prefix).name
        for seq in range(1, (await js.stream_info(stream)).state.last_seq + 1):
            event = event_pb2.Event.FromString((await js.get_msg(stream, seq)).data)
            events = found.get(event.member_changed.member.member_id)
            if event.WhichOneof("payload") == "member_changed" and events is not None \
                    and event_type in ("", event.type):
                events.append(event.event_id)
    finally:
        await connection.close()
    return found


def out_of_order(per_resource: dict[str, list[str]], arrivals: list[str]) -> list[str]:
    """The resources whose events first arrived in another order than committed."""
    first_arrival: dict[str, int] = {}
    for position, event_id in enumerate(arrivals):
        first_arrival.setdefault(event_id, position)
    return [resource for resource, events in per_resource.items()
            if sorted(events, key=lambda e: first_arrival.get(e, len(arrivals))) != events]


@dataclass
class Reconciliation:
    committed: int
    events: int
    changes_without_one_event: list[str]
    delivered: int
    missing: set[str]
    duplicates: int

    def report(self) -> str:
        return (f"committed={self.committed} events={self.events} delivered={self.delivered}"
                f" missing={len(self.missing)} duplicates={self.duplicates}"
                f" changes_without_exactly_one_event={len(self.changes_without_one_event)}")


async def reconcile(settings: Settings, writer: Writer, receiver: CountingReceiver,
                    deadline_s: float = 60) -> Reconciliation:
    """Waits (with a deadline) until every committed change's event reached the receiver, then counts."""
    per_member = await member_events_in_commit_order(settings, writer.committed, "scim.member.create", deadline_s)
    expected = {e for events in per_member.values() for e in events}
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and not expected <= set(receiver.received):
        await asyncio.sleep(0.1)  # polling the receiver for the effect, with a deadline
    received_ours = {e: n for e, n in receiver.received.items() if e in expected}
    return Reconciliation(
        committed=len(writer.committed),
        events=len(expected),
        changes_without_one_event=[m for m, events in per_member.items() if len(events) != 1],
        delivered=len(received_ours),
        missing=expected - set(received_ours),
        duplicates=sum(n - 1 for n in received_ours.values()),
    )
