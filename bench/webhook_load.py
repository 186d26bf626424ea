"""Webhooks under load on a running scimd: SCIM user creations at a steady
rate, each delivered as a signed scim.member.create to a local receiver.
Prints events delivered per second and commit-to-receipt latency p50/p99
(receipt time minus the event's timestamp, which is taken just before its
transaction commits; both clocks are this machine's).

    make run                                            # in one terminal
    .venv/bin/python -m bench.webhook_load --rate 500 --seconds 10

The system must let webhooks reach 127.0.0.1 (SCIMD_WEBHOOK_ALLOWED_HOSTS).
Every loop is bounded by a count or a deadline; only 127.0.0.1 / localhost is targeted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import datetime
from urllib.parse import urlsplit

import aiohttp
import orjson
import uvloop
from aiohttp import web

from bench.raw_http import RawConnection
from bench.target import add_target_arguments, management_caller, management_headers, require_local, serve_receiver

SCIM = "application/scim+json"


class Receiver:
    """Records, per event id, when its first delivery arrived and the event's own timestamp."""

    def __init__(self) -> None:
        self.first_seen: dict[str, float] = {}
        self.event_time: dict[str, float] = {}
        self.duplicates = 0
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = time.time()
        event_id = request.headers.get("webhook-id", "")
        if event_id in self.first_seen:
            self.duplicates += 1
        else:
            self.first_seen[event_id] = now
            stamp = orjson.loads(body)["timestamp"]
            self.event_time[event_id] = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        self.arrived.set()
        return web.Response(text="ok")

    async def wait_for(self, count: int, deadline_s: float) -> None:
        deadline = time.monotonic() + deadline_s
        while len(self.first_seen) < count and time.monotonic() < deadline:
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break


async def write_users(url: str, token: str, base_path: str, rate: float, seconds: float, concurrency: int) -> tuple[int, int, float]:
    """POST /Users at `rate` per second for `seconds`, from `concurrency` connections; returns (ok, errors, elapsed)."""
    total = int(rate * seconds)
    per_worker_interval = concurrency / rate
    ok = errors = 0
    started = time.monotonic()

    async def worker(number: int) -> None:
        nonlocal ok, errors
        connection = await RawConnection.open(url)
        try:
            for n in range(number, total, concurrency):
                due = started + (n // concurrency) * per_worker_interval
                pause = due - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)  # the steady pace of the writes
                user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName": f"hook-{uuid.uuid4().hex[:12]}@bench.test", "active": True}
                status, _ = await connection.request(
                    "POST", f"{base_path}/Users", {"Authorization": f"Bearer {token}", "Content-Type": SCIM},
                    orjson.dumps(user),
                )
                if status == 201:
                    ok += 1
                else:
                    errors += 1
        finally:
            await connection.close()

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return ok, errors, time.monotonic() - started


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_arguments(parser)
    parser.add_argument("--rate", type=float, default=500, help="SCIM writes per second")
    parser.add_argument("--seconds", type=float, default=10, help="how long the writes run")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="requests in flight; at most SCIMD_CONNECTION_CONCURRENCY (16), beyond which 429")
    parser.add_argument("--drain-seconds", type=float, default=60, help="how long to wait for the last deliveries")
    args = parser.parse_args()
    require_local(args.url)
    management = management_headers(args)
    run = uuid.uuid4().hex[:8]

    receiver = Receiver()
    runner, port = await serve_receiver(receiver.handle)

    async with aiohttp.ClientSession() as http:
        call = management_caller(http, args.url, management)

        organization = (await call("POST", "/v1/b2b/organizations", {
            "organization_name": f"Webhook bench {run}", "organization_slug": f"webhook-bench-{run}"}))["organization"]
        connection = (await call("POST", f"/v1/b2b/scim/{organization['organization_id']}/connection", {
            "display_name": "bench", "identity_provider": "okta"}))["connection"]
        # The bench measures capacity, so it lifts its own connection's rate limit.
        await call("PUT", f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}",
                   {"rate_limit_per_second": 1_000_000})
        endpoint = (await call("POST", "/v1/webhooks/endpoints", {
            "url": f"http://127.0.0.1:{port}/hook", "event_types": ["scim.member.create"],
            "organization_ids": [organization["organization_id"]]}))["endpoint"]
        try:
            base_path = urlsplit(connection["base_url"]).path
            ok, errors, elapsed = await write_users(
                args.url, connection["bearer_token"], base_path, args.rate, args.seconds, args.concurrency
            )
            await receiver.wait_for(ok, args.drain_seconds)
        finally:
            await call("DELETE", f"/v1/webhooks/endpoints/{endpoint['endpoint_id']}")
            await call("DELETE", f"/v1/b2b/organizations/{organization['organization_id']}")
    await runner.cleanup()

    arrivals = sorted(receiver.first_seen.values())
    latencies = sorted((receiver.first_seen[e] - receiver.event_time[e]) * 1000 for e in receiver.first_seen)
    span = (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0
    print(f"writes                 {ok / elapsed if elapsed else 0:>9.0f}/s   n={ok} errors={errors}")
    print(f"webhooks delivered     {len(arrivals) / span if span else 0:>9.0f}/s   n={len(arrivals)}"
          f" missing={ok - len(arrivals)} duplicates={receiver.duplicates}")
    print(f"commit-to-receipt      p50 {statistics.median(latencies) if latencies else 0:>6.1f} ms"
          f"   p99 {percentile(latencies, 0.99):>6.1f} ms")


if __name__ == "__main__":
    uvloop.run(main())
