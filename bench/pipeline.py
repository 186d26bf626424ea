"""The event pipeline under SCIM writes (issue 20): at each offered rate, user
creations run for a while with one or several webhook endpoints subscribed on
a local receiver, and the script prints, per rate and endpoint, the writes per
second, the deliveries per second in the same window, how long the backlog
took to drain after the writes, commit → receipt p50/p99, missing and
duplicates; and the CPU per create summed over every process of the system
and split per process (from /proc), beside a calibration of the machine.

    make run                                                     # in one terminal
    .venv/bin/python -m bench.pipeline --rates 250,600 --endpoints 3   # in another

CPU and calibration need `make run`'s data directory (--data-dir): its
addresses.json names the supervisor (whose /status gives every pid) and the
embedded PostgreSQL. Every loop is bounded; only 127.0.0.1 / localhost is targeted.

Each rate deletes its endpoints afterwards, and their deliveries with them. Many
runs back to back on one data directory leave the deliveries table with far more
dead rows than live ones until autovacuum catches up, and the delivery claim then
costs several times what it does on a fresh `make run` (issue 20's notes): take
figures from a fresh one.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import uvloop
from aiohttp import web

from bench.calibration import calibration_line
from bench.process_cpu import SystemCpu, spent
from bench.target import add_target_arguments, management_caller, management_headers, require_local, system_addresses
from bench.webhook_load import Receiver, percentile, write_users


class Receivers:
    """One webhook_load.Receiver per subscribed endpoint, at /hook/{n}."""

    def __init__(self, endpoints: int) -> None:
        self.endpoints = [Receiver() for _ in range(endpoints)]

    async def handle(self, request: web.Request) -> web.Response:
        return await self.endpoints[int(request.match_info["n"])].handle(request)

    async def wait_for(self, count: int, deadline_s: float) -> None:
        deadline = time.monotonic() + deadline_s
        for endpoint in self.endpoints:
            await endpoint.wait_for(count, max(0.0, deadline - time.monotonic()))


async def _serve(receiver: Receivers) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_post("/hook/{n}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


def _endpoint_line(n: int, endpoint: Receiver, created: int, window: tuple[float, float]) -> str:
    start, end = window
    in_window = sum(1 for t in endpoint.first_seen.values() if start <= t <= end)
    arrivals = sorted(endpoint.first_seen.values())
    drained = max(0.0, arrivals[-1] - end) if arrivals else float("nan")
    latencies = sorted((endpoint.first_seen[e] - endpoint.event_time[e]) * 1000 for e in endpoint.first_seen)
    return (f"  endpoint {n + 1}: delivered {in_window / max(end - start, 1e-9):>6.0f}/s in the write window, "
            f"backlog drained {drained:5.2f} s after the writes, commit→receipt p50 "
            f"{statistics.median(latencies) if latencies else 0:6.1f} ms p99 {percentile(latencies, 0.99):7.1f} ms, "
            f"missing {created - len(endpoint.first_seen)}, duplicates {endpoint.duplicates}")


async def _intake_line(database_url: str | None, organization_id: str) -> list[str]:
    """How long the run's events took from their commit to the webhooks
    service's store (outbox relay, JetStream, intake): the part of
    commit → receipt before any delivery is claimed."""
    if not database_url:
        return []
    conn = await asyncpg.connect(database_url)
    try:
        lags = sorted(float(r["lag"]) for r in await conn.fetch(
            "SELECT EXTRACT(EPOCH FROM received_at - occurred_at) * 1000 AS lag FROM webhooks.events"
            " WHERE organization_id = $1 AND type = 'scim.member.create'", organization_id))
    except asyncpg.PostgresError as error:
        return [f"  intake lag not measured ({error})"]
    finally:
        await conn.close()
    if not lags:
        return []
    return [f"  commit→stored by the webhooks intake: p50 {statistics.median(lags):6.1f} ms "
            f"p99 {percentile(lags, 0.99):7.1f} ms (the rest of commit→receipt is the delivery's)"]


def _cpu_lines(seconds: dict[str, float], creates: int, deliveries_each: int) -> list[str]:
    if not creates:
        return []
    total = sum(seconds.values())
    split = ", ".join(f"{name} {s / creates * 1000:.2f}" for name, s in sorted(seconds.items(), key=lambda i: -i[1]))
    return [f"  CPU per create with {deliveries_each} deliveries: {total / creates * 1000:.2f} ms ({split})"]


# Before each rate, the system is let settle (the last rate's deliveries and
# their aftermath), which would otherwise be counted in this one. The rates'
# organizations are deleted only after the last rate: an organization's purge
# runs in the background, and ran into the next rate's figures.
QUIET_CORES = 0.15  # CPU of all processes together, in cores, counted as quiet
QUIET_WAIT_SECONDS = 120


QUIET_SECONDS = 3  # in a row: PostgreSQL's autovacuum and checkpoints come in bursts


async def settle(cpu: SystemCpu) -> float:
    """Waits (bounded) until every process together uses under QUIET_CORES
    for QUIET_SECONDS seconds in a row; returns how long it waited."""
    started, quiet = time.monotonic(), 0
    while quiet < QUIET_SECONDS and time.monotonic() - started < QUIET_WAIT_SECONDS:
        before = cpu.snapshot()
        await asyncio.sleep(1.0)
        quiet = quiet + 1 if sum(spent(before, cpu.snapshot()).values()) < QUIET_CORES else 0
    return time.monotonic() - started


async def run_rate(http: aiohttp.ClientSession, args: argparse.Namespace, rate: float, port: int,
                   receiver: Receivers, cpu: SystemCpu | None, made: list[str]) -> list[str]:
    """Runs one rate; appends the organization it made to `made` (deleted by the caller)."""
    settled = await settle(cpu) if cpu is not None else 0.0
    call = management_caller(http, args.url, management_headers(args))
    run = uuid.uuid4().hex[:8]
    organization = (await call("POST", "/v1/b2b/organizations", {
        "organization_name": f"Pipeline bench {run}", "organization_slug": f"pipeline-bench-{run}"}))["organization"]
    organization_id = organization["organization_id"]
    made.append(organization_id)
    connection = (await call("POST", f"/v1/b2b/scim/{organization_id}/connection", {
        "display_name": "bench", "identity_provider": "okta"}))["connection"]
    # The bench measures capacity, so it lifts its own connection's rate limit.
    await call("PUT", f"/v1/b2b/scim/{organization_id}/connection/{connection['connection_id']}",
               {"rate_limit_per_second": 1_000_000})
    endpoints = [(await call("POST", "/v1/webhooks/endpoints", {
        "url": f"http://127.0.0.1:{port}/hook/{n}", "event_types": ["scim.member.create"],
        "organization_ids": [organization_id]}))["endpoint"]["endpoint_id"] for n in range(args.endpoints)]
    peak = PeakMemory(cpu)
    try:
        before = cpu.snapshot() if cpu else {}
        started = time.time()
        created, errors, elapsed = await write_users(args.url, connection["bearer_token"],
                                                     urlsplit(connection["base_url"]).path, rate, args.seconds,
                                                     args.concurrency)
        window = (started, started + elapsed)
        await receiver.wait_for(created, args.drain_seconds)
        used = spent(before, cpu.snapshot()) if cpu else {}
        intake = await _intake_line(args.database_url, organization_id)
    finally:
        await peak.stop()
        for endpoint_id in endpoints:
            await call("DELETE", f"/v1/webhooks/endpoints/{endpoint_id}")
    lines = [f"offered {rate:.0f} creates/s, {args.endpoints} endpoint(s): writes {created / elapsed:.0f}/s "
             f"(n={created}, errors={errors})"
             + (f"; started after {settled:.0f} s waiting for a quiet system"
                + (" (never quiet: figures include other work)" if settled >= QUIET_WAIT_SECONDS else "")
                if cpu is not None else "")]
    lines += [_endpoint_line(n, e, created, window) for n, e in enumerate(receiver.endpoints)] + intake
    memory = [f"  peak memory of every process together (PSS): {peak.bytes / 2**20:.0f} MiB"] if cpu else []
    return lines + _cpu_lines(used, created, args.endpoints) + memory


class PeakMemory:
    """Samples the system's memory every SAMPLE_SECONDS until stopped, keeping the highest."""

    SAMPLE_SECONDS = 0.5

    def __init__(self, cpu: SystemCpu | None):
        self.bytes = 0
        self._cpu = cpu
        self._task = asyncio.create_task(self._sample()) if cpu else None

    async def _sample(self) -> None:
        while True:
            self.bytes = max(self.bytes, await asyncio.to_thread(self._cpu.memory_bytes))
            await asyncio.sleep(self.SAMPLE_SECONDS)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_target_arguments(parser)
    parser.add_argument("--rates", default="250,600", help="offered creates per second, comma-separated")
    parser.add_argument("--endpoints", type=int, default=3, help="webhook endpoints subscribed")
    parser.add_argument("--seconds", type=float, default=10, help="how long the writes run at each rate")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (at most 16 per connection)")
    parser.add_argument("--drain-seconds", type=float, default=60, help="how long to wait for the last deliveries")
    parser.add_argument("--calibration-seconds", type=float, default=3, help="0: no calibration")
    args = parser.parse_args()
    require_local(args.url)
    addresses = system_addresses(args.data_dir)
    args.database_url = addresses.get("database_url")
    if args.calibration_seconds > 0:
        print(await calibration_line(args.database_url, args.calibration_seconds), flush=True)
    cpu = await SystemCpu.of_supervisor(addresses["supervisor"]) if "supervisor" in addresses else None
    if cpu is None:
        print("CPU not measured (no supervisor in the data directory's addresses.json)")
    made: list[str] = []
    async with aiohttp.ClientSession() as http:
        try:
            for rate in (float(r) for r in args.rates.split(",") if r.strip()):
                receiver = Receivers(args.endpoints)
                runner, port = await _serve(receiver)
                try:
                    for line in await run_rate(http, args, rate, port, receiver, cpu, made):
                        print(line, flush=True)
                finally:
                    await runner.cleanup()
        finally:
            call = management_caller(http, args.url, management_headers(args))
            for organization_id in made:
                await call("DELETE", f"/v1/b2b/organizations/{organization_id}")


if __name__ == "__main__":
    uvloop.run(main())
