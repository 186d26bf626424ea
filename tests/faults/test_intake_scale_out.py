"""The webhooks intake scales out: three `python -m services.webhooks`
processes share the stream's partitions; one is SIGKILLed under load, its
partitions move to the other two, and the events they stored reconcile with
what was published: none missing, and every resource's in publish order.

The figures (time for the partitions to move) are printed, not asserted.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
import sys
import time
from pathlib import Path

import asyncpg
import nats
from scimd.events.v1 import event_pb2

from bench.intake import member_update
from cli.processes import free_port
from runtime.events import PARTITIONS, EventStream
from tests.conftest import REPO_ROOT, delete_stream, unique_prefix
from tests.support import until

REPLICAS = 3
ORGANIZATIONS = 64
MEMBERS_PER_ORGANIZATION = 3
EVENTS_PER_SECOND = 300
LOAD_SECONDS = 5.0
KILL_AFTER_SECONDS = 2.0


def _environment(database_url: str, nats_url: str, prefix: str, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMD_") and k not in ("DATABASE_URL", "NATS_URL")}
    env.update(DATABASE_URL=database_url, NATS_URL=nats_url, SCIMD_NATS_PREFIX=prefix, SCIMD_ENCRYPTION_KEY=key,
               SCIMD_PROJECT_ID="project-scale-out", SCIMD_LOG_FORMAT="json", SCIMD_SHUTDOWN_GRACE="1")
    return env


async def _start_replica(env: dict[str, str], log_path: Path) -> asyncio.subprocess.Process:
    with open(log_path, "ab") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.webhooks", cwd=REPO_ROOT, stdout=log, stderr=log,
            env={**env, "SCIMD_GRPC_LISTEN": f"127.0.0.1:{free_port()}"},
        )


async def _partition_holders(conn: asyncpg.Connection, prefix: str) -> dict[int, int]:
    """PostgreSQL backend pid → how many partition locks it holds."""
    rows = await conn.fetch(
        "SELECT pid, count(*) AS held FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
        " AND classid = hashtext($1)::oid GROUP BY pid", f"webhooks.intake:{prefix}_webhooks:partitions",
    )
    return {r["pid"]: r["held"] for r in rows}


def _spread_over(holders: dict[int, int], replicas: int) -> bool:
    return len(holders) == replicas and sum(holders.values()) == PARTITIONS \
        and max(holders.values()) - min(holders.values()) <= 1


async def _publish(nats_url: str, stream: EventStream, published: list[event_pb2.Event], stop: asyncio.Event) -> None:
    """EVENTS_PER_SECOND member updates, round robin over every member of every organization, until `stop`."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        started = time.monotonic()
        for n in range(int(LOAD_SECONDS * EVENTS_PER_SECOND) * 2):  # bounded; ends at `stop`
            if stop.is_set():
                break
            event = member_update(n, ORGANIZATIONS, MEMBERS_PER_ORGANIZATION)
            await js.publish(stream.publish_subject(event.type, event.organization_id), event.SerializeToString(),
                             headers={"Nats-Msg-Id": event.event_id})
            published.append(event)
            await asyncio.sleep(max(0.0, started + (n + 1) / EVENTS_PER_SECOND - time.monotonic()))
    finally:
        await nc.close()


async def test_three_replicas_share_the_intake_and_a_sigkilled_ones_partitions_move(tmp_path, fresh_database,
                                                                                      nats_url):
    database_url = await fresh_database()
    prefix = unique_prefix()
    stream = EventStream(prefix)
    env = _environment(database_url, nats_url, prefix, base64.b64encode(secrets.token_bytes(32)).decode())
    nc = await nats.connect(nats_url)
    await stream.ensure(nc)
    await nc.close()
    replicas = [await _start_replica(env, tmp_path / f"webhooks-{n}.log") for n in range(REPLICAS)]
    watcher = await asyncpg.connect(database_url)
    try:
        async def spread_over_all() -> bool:
            return _spread_over(await _partition_holders(watcher, prefix), REPLICAS)

        await until(spread_over_all, "the partitions spread over the three replicas")

        published: list[event_pb2.Event] = []
        stop = asyncio.Event()
        publishing = asyncio.create_task(_publish(nats_url, stream, published, stop))
        await asyncio.sleep(KILL_AFTER_SECONDS)  # load before the kill, not a wait for a result
        victim = replicas.pop()
        victim.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(victim.wait(), 10) == -signal.SIGKILL

        async def spread_over_the_rest() -> bool:
            return _spread_over(await _partition_holders(watcher, prefix), REPLICAS - 1)

        moved = await until(spread_over_the_rest, "the killed replica's partitions taken by the others")
        await asyncio.sleep(max(0.0, LOAD_SECONDS - KILL_AFTER_SECONDS - moved))  # load after the kill
        stop.set()
        await publishing

        async def all_stored() -> bool:
            return await watcher.fetchval("SELECT count(*) FROM webhooks.events") >= len(published)

        await until(all_stored, f"all {len(published)} events stored")
        rows = await watcher.fetch("SELECT event_id, object_id FROM webhooks.events ORDER BY seq")
    finally:
        await watcher.close()
        for replica in replicas:
            replica.send_signal(signal.SIGTERM)
        for replica in replicas:
            try:
                await asyncio.wait_for(replica.wait(), 15)
            except asyncio.TimeoutError:
                replica.kill()
        await delete_stream(nats_url, prefix)

    stored_order: dict[str, list[str]] = {}
    for row in rows:
        stored_order.setdefault(row["object_id"], []).append(row["event_id"])
    published_order: dict[str, list[str]] = {}
    for event in published:
        published_order.setdefault(event.member_changed.member.member_id, []).append(event.event_id)
    missing = {e.event_id for e in published} - {r["event_id"] for r in rows}
    out_of_order = [member for member, ids in published_order.items() if stored_order.get(member) != ids]
    print(f"\n{len(published)} events from {len(published_order)} members; partitions moved {moved:.3f} s"
          f" after the SIGKILL; missing {len(missing)}, out of order {len(out_of_order)}")
    assert len(published) >= LOAD_SECONDS * EVENTS_PER_SECOND / 2, "too few events published to prove anything"
    assert not missing
    assert not out_of_order
