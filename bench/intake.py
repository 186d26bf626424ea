"""The webhooks intake with one and several replicas (issue 19): a backlog of
member-update events across many organizations is published on a fresh
stream, then R `python -m services.webhooks` processes take it in, and the
script prints how fast they stored it and the CPU they spent per event.

    .venv/bin/python -m bench.intake --events 20000 --replicas 1,2,3

It uses DATABASE_URL / NATS_URL (default: the local PostgreSQL and NATS), in
a database and a stream prefix of its own, both removed at the end. No
webhook endpoint is subscribed: this is the intake alone. Every loop is
bounded; only 127.0.0.1 / localhost is targeted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import signal
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import nats
from scimd.directory.v1 import member_pb2
from scimd.events.v1 import event_pb2

from bench.process_cpu import SystemCpu, spent
from bench.target import require_local
from cli.processes import free_port
from runtime.events import EventStream

REPO_ROOT = Path(__file__).resolve().parent.parent
PUBLISH_WINDOW = 500
DEADLINE_S = 300


def member_update(n: int, organizations: int, members_per_organization: int = 3) -> event_pb2.Event:
    """Event n: round robin over the organizations, then over each one's members."""
    organization = f"org_{n % organizations:05d}"
    member = f"{organization}-m{(n // organizations) % members_per_organization}"
    event = event_pb2.Event(
        event_id=f"bench-{n:07d}", type="scim.member.update", organization_id=organization,
        project_id="project-bench", action="update", source="scim",
        member_changed=event_pb2.MemberChanged(member=member_pb2.Member(
            member_id=member, organization_id=organization, email_address=f"{member}@example.com")),
    )
    event.time.GetCurrentTime()
    return event


async def _publish_backlog(nats_url: str, stream: EventStream, events: int, organizations: int) -> None:
    nc = await nats.connect(nats_url)
    try:
        await stream.ensure(nc)
        js = nc.jetstream()
        for start in range(0, events, PUBLISH_WINDOW):
            batch = [member_update(n, organizations) for n in range(start, min(events, start + PUBLISH_WINDOW))]
            await asyncio.gather(*(
                js.publish(stream.publish_subject(e.type, e.organization_id), e.SerializeToString(),
                           headers={"Nats-Msg-Id": e.event_id}) for e in batch))
    finally:
        await nc.close()


async def _run(admin_url: str, nats_url: str, replicas: int, events: int, organizations: int) -> dict:
    database = f"scimd_bench_intake_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{database}"')
    database_url = f"{admin_url.rpartition('/')[0]}/{database}"
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    stream = EventStream(prefix)
    processes: list[asyncio.subprocess.Process] = []
    try:
        await _publish_backlog(nats_url, stream, events, organizations)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMD_")}
        env.update(DATABASE_URL=database_url, NATS_URL=nats_url, SCIMD_NATS_PREFIX=prefix,
                   SCIMD_ENCRYPTION_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
                   SCIMD_PROJECT_ID="project-bench", SCIMD_LOG_LEVEL="WARNING", SCIMD_SHUTDOWN_GRACE="1")
        for _ in range(replicas):
            processes.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "services.webhooks", cwd=REPO_ROOT, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL, env={**env, "SCIMD_GRPC_LISTEN": f"127.0.0.1:{free_port()}"}))
        cpu = SystemCpu({f"webhooks-{n}": p.pid for n, p in enumerate(processes)})
        watcher = await asyncpg.connect(database_url)
        try:
            started = time.monotonic()
            first = before = None
            stored = 0
            while stored < events and time.monotonic() - started < DEADLINE_S:
                await asyncio.sleep(0.05)  # polling for the effect, with a deadline
                try:
                    stored = await watcher.fetchval("SELECT count(*) FROM webhooks.events")
                except asyncpg.UndefinedTableError:
                    continue  # not migrated yet
                if stored and first is None:
                    first, before = time.monotonic(), cpu.snapshot()
            finished = time.monotonic()
            used = spent(before or cpu.snapshot(), cpu.snapshot())
        finally:
            await watcher.close()
        seconds = finished - (first or finished)
        return {"replicas": replicas, "stored": stored, "seconds": seconds,
                "per_second": stored / seconds if seconds else 0.0,
                "cpu_ms_per_event": 1000 * sum(used.values()) / max(stored, 1)}
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 15)
            except asyncio.TimeoutError:
                process.kill()
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().delete_stream(stream.name)
        finally:
            await nc.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--organizations", type=int, default=1_000)
    parser.add_argument("--replicas", default="1,3", help="comma-separated replica counts, one run each")
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
    require_local(admin_url)
    require_local(nats_url.replace("nats://", "http://"))
    print(f"{args.events} events across {args.organizations} organizations, taken in from a backlog")
    for replicas in (int(r) for r in args.replicas.split(",")):
        result = await _run(admin_url, nats_url, replicas, args.events, args.organizations)
        print(f"replicas {result['replicas']}: stored {result['stored']} in {result['seconds']:.2f} s"
              f" = {result['per_second']:,.0f} events/s; webhooks CPU {result['cpu_ms_per_event']:.3f} ms per event",
              flush=True)


if __name__ == "__main__":
    asyncio.run(main())
