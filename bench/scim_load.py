"""Load on a running scimd over HTTP: create, get, filter, PATCH and list over
a connection of N users, group membership PATCHes, and role reads over gRPC,
with C concurrent clients. Prints requests/s and p50/p99 latency per
scenario, and the resident memory of the whole system.

    make run                       # in one terminal
    make bench                     # in another (or: .venv/bin/python -m bench.scim_load --help)

Every loop is bounded by a request count; only 127.0.0.1 / localhost is targeted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import aiohttp
import orjson
import uvloop

from bench.calibration import calibration_line
from bench.process_cpu import SystemCpu, spent
from bench.raw_http import RawConnection
from bench.rbac_load import rbac_scenarios
from bench.target import add_target_arguments, management_headers, require_local, system_addresses

SCIM = "application/scim+json"
# What may run after the creates: --scenarios picks some (to profile one path, say).
SCENARIOS = ("get", "filter", "patch", "list", "group", "rbac")


@dataclass
class Figures:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    # Why requests failed (an HTTP status, or what was wrong with the answer) → how many.
    failures: collections.Counter = field(default_factory=collections.Counter)
    elapsed: float = 0.0
    # CPU seconds each process of the system spent in the scenario (when measured).
    cpu: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000 if ordered else 0
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else 0
        rate = len(ordered) / self.elapsed if self.elapsed else 0
        why = f" ({', '.join(f'{reason}: {n}' for reason, n in self.failures.most_common())})" if self.failures else ""
        return (f"{self.name:<22} {rate:>9.0f}/s   p50 {p50:>6.1f} ms   p99 {p99:>6.1f} ms   n={len(ordered)}"
                f" errors={self.errors}{why}{self._cpu_line(len(ordered))}")

    def _cpu_line(self, requests: int) -> str:
        if not self.cpu or not requests:
            return ""
        per = {name: seconds * 1000 / requests for name, seconds in self.cpu.items()}
        split = ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(per.items(), key=lambda item: -item[1])
                          if ms >= 0.005)
        return f"\n{'':<22} CPU per request {sum(per.values()):.2f} ms ({split})"


async def run_scenario(name: str, requests: int, concurrency: int, url: str, make_request,
                       *, partitioned: bool = False, cpu: SystemCpu | None = None) -> Figures:
    """`requests` calls of make_request(connection, index) by `concurrency` workers, each on
    its own connection. Workers share one run of indexes, or with `partitioned`, worker w
    makes exactly the calls w * per_worker ... (w + 1) * per_worker - 1."""
    figures = Figures(name)
    shared = iter(range(requests))
    per_worker = requests // concurrency

    async def worker(number: int) -> None:
        connection = await RawConnection.open(url)
        indexes = range(number * per_worker, (number + 1) * per_worker) if partitioned else shared
        try:
            for index in indexes:
                started = time.perf_counter()
                outcome = await make_request(connection, index)
                figures.latencies.append(time.perf_counter() - started)
                if outcome is not True:  # False, or why it failed
                    figures.errors += 1
                    figures.failures[outcome or "failed"] += 1
        finally:
            await connection.close()

    before = cpu.snapshot() if cpu else {}
    started = time.perf_counter()
    await asyncio.gather(*(worker(number) for number in range(concurrency)))
    figures.elapsed = time.perf_counter() - started
    figures.cpu = spent(before, cpu.snapshot()) if cpu else {}
    return figures


def system_memory_mib() -> float | None:
    """Memory of every process of a running `scimd up` (supervisor, services,
    PostgreSQL, NATS), as the sum of their proportional set sizes: resident
    memory with pages shared between processes (PostgreSQL's shared buffers)
    counted once, not once per backend."""
    processes: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        processes[int(entry.name)] = (int(stat[1]), cmdline)
    roots = {pid for pid, (_, cmd) in processes.items() if "scimd up" in cmd or "cli up" in cmd}
    if not roots:
        return None
    tree, frontier = set(roots), set(roots)
    while frontier:
        frontier = {pid for pid, (parent, _) in processes.items() if parent in frontier} - tree
        tree |= frontier
    total_kib = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


GROUPS = 8


async def group_scenarios(args, base_path: str, headers: dict, user_ids: list[str], run: str) -> list[Figures]:
    """Fill groups to all users in PATCHes of 100 (latency per PATCH as they grow), then
    PATCHes that take 50 members out of a group of that size and put them back.

    As IdPs do, each group has one writer at a time (Okta and Entra send a
    group's changes one after another); the groups are written side by side.
    """
    patch_op = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    group_core = "urn:ietf:params:scim:schemas:core:2.0:Group"
    conn = await RawConnection.open(args.url)
    group_ids = []
    for number in range(GROUPS):
        status, body = await conn.request("POST", f"{base_path}/Groups", headers, orjson.dumps(
            {"schemas": [group_core], "displayName": f"Bench {run} {number}"}))
        group_ids.append(orjson.loads(body)["id"])
    await conn.close()

    def membership(op: str, ids: list[str]) -> bytes:
        return orjson.dumps({"schemas": [patch_op], "Operations": [
            {"op": op, "path": "members", "value": [{"value": i} for i in ids]}]})

    batches = [user_ids[i:i + 100] for i in range(0, len(user_ids), 100)]

    # Worker w writes group w: indexes w * n ... (w + 1) * n - 1.
    async def fill(conn: RawConnection, index: int) -> bool:
        group, batch = group_ids[index // len(batches)], batches[index % len(batches)]
        status, _ = await conn.request("PATCH", f"{base_path}/Groups/{group}", headers, membership("add", batch))
        return status in (200, 204)

    filling = await run_scenario("group fill, PATCH +100", len(batches) * len(group_ids), len(group_ids), args.url,
                                 fill, partitioned=True)
    per_group = max(args.requests // 5 // len(group_ids), 2) // 2 * 2
    taken_out: dict[str, list[str]] = {}

    async def churn(conn: RawConnection, index: int) -> bool:
        group = group_ids[index // per_group]
        if group in taken_out:
            status, _ = await conn.request(
                "PATCH", f"{base_path}/Groups/{group}", headers, membership("add", taken_out.pop(group)))
        else:
            taken_out[group] = ids = random.sample(user_ids, 50)
            status, _ = await conn.request("PATCH", f"{base_path}/Groups/{group}", headers, membership("remove", ids))
        return status in (200, 204)

    churning = await run_scenario(f"group PATCH ±50 at {len(user_ids)}", per_group * len(group_ids), len(group_ids),
                                  args.url, churn, partitioned=True)
    return [filling, churning]


def _user(index: int, run: str) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": f"user{index}-{run}@bench.example",
        "externalId": f"00u{index}{run}",
        "name": {"givenName": f"Given{index}", "familyName": f"Family{index}"},
        "emails": [{"value": f"user{index}-{run}@bench.example", "type": "work", "primary": True}],
        "displayName": f"User {index}",
        "active": True,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_arguments(parser)
    parser.add_argument("--rbac-addr", help="the rbac service's gRPC address (default: from the data directory)")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=5_000, help="requests per read/patch scenario")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"which to run after the creates, comma-separated (of {', '.join(SCENARIOS)})")
    parser.add_argument("--calibration-seconds", type=float, default=3, help="0: no calibration")
    args = parser.parse_args()
    require_local(args.url, args.rbac_addr or "")
    chosen = {name.strip() for name in args.scenarios.split(",") if name.strip()}
    if chosen - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(chosen - set(SCENARIOS)))}")
    addresses = system_addresses(args.data_dir)
    if args.calibration_seconds > 0:
        print(await calibration_line(addresses.get("database_url"), args.calibration_seconds), flush=True)
    # CPU per request of each process, when the data directory names `make run`'s supervisor.
    cpu = await SystemCpu.of_supervisor(addresses["supervisor"]) if "supervisor" in addresses else None
    management = management_headers(args)
    run = uuid.uuid4().hex[:8]

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{args.url}/v1/b2b/organizations", headers=management,
                             json={"organization_name": f"Bench {run}", "organization_slug": f"bench-{run}"}) as r:
            organization = (await r.json())["organization"]
        async with http.post(f"{args.url}/v1/b2b/scim/{organization['organization_id']}/connection",
                             headers=management, json={"display_name": "bench", "identity_provider": "okta"}) as r:
            connection = (await r.json())["connection"]
        # The bench measures capacity, so it lifts its own connection's rate limit.
        async with http.put(f"{args.url}/v1/b2b/scim/{organization['organization_id']}/connection/"
                            f"{connection['connection_id']}", headers=management,
                            json={"rate_limit_per_second": 1_000_000}) as r:
            assert r.status == 200, await r.text()
        base_path = urlsplit(connection["base_url"]).path
        headers = {"Authorization": f"Bearer {connection['bearer_token']}", "Content-Type": SCIM}
        ids: list[str | None] = [None] * args.users

        async def create(conn: RawConnection, index: int) -> bool:
            status, body = await conn.request("POST", f"{base_path}/Users", headers, orjson.dumps(_user(index, run)))
            if status == 201:
                ids[index] = orjson.loads(body)["id"]
            return status == 201 or f"HTTP {status}"

        async def get(conn: RawConnection, index: int) -> bool:
            status, _ = await conn.request("GET", f"{base_path}/Users/{random.choice(known)}", headers)
            return status == 200 or f"HTTP {status}"

        async def filter_user_name(conn: RawConnection, index: int) -> bool:
            expression = quote(f'userName eq "user{random.randrange(args.users)}-{run}@bench.example"')
            status, body = await conn.request("GET", f"{base_path}/Users?filter={expression}", headers)
            if status != 200:
                return f"HTTP {status}"
            found = orjson.loads(body)["totalResults"]
            return found == 1 or f"totalResults {found}"

        async def patch(conn: RawConnection, index: int) -> bool:
            body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "displayName", "value": f"Renamed {index}"}]}
            status, _ = await conn.request("PATCH", f"{base_path}/Users/{random.choice(known)}", headers, orjson.dumps(body))
            return status == 200 or f"HTTP {status}"

        async def list_page(conn: RawConnection, index: int) -> bool:
            start = random.randrange(0, max(1, args.users - 100)) + 1
            status, body = await conn.request("GET", f"{base_path}/Users?startIndex={start}&count=100", headers)
            if status != 200:
                return f"HTTP {status}"
            items = orjson.loads(body)["itemsPerPage"]
            return items == 100 or f"itemsPerPage {items}"

        print(f"scimd bench: {args.users} users, concurrency {args.concurrency}, {args.url}", flush=True)
        results = [await run_scenario("create", args.users, args.concurrency, args.url, create, cpu=cpu)]
        print(results[-1].line(), flush=True)
        known = [i for i in ids if i]
        peak_memory = system_memory_mib()
        for name, request, count in (
            ("get by id", get, args.requests),
            ("filter userName eq", filter_user_name, args.requests),
            ("patch", patch, args.requests),
            ("list count=100", list_page, max(args.requests // 5, 200)),
        ):
            if name.split()[0] not in chosen:
                continue
            results.append(await run_scenario(name, count, args.concurrency, args.url, request, cpu=cpu))
            print(results[-1].line(), flush=True)
            memory = system_memory_mib()
            if memory is not None:
                peak_memory = max(peak_memory or 0, memory)
        if "group" in chosen:
            results += await group_scenarios(args, base_path, headers, known, run)
            for figures in results[-2:]:
                print(figures.line(), flush=True)
        if "rbac" in chosen:
            for figures in await rbac_scenarios(args, Figures, management, organization, connection, headers, known, run):
                print(figures.line(), flush=True)
        memory = system_memory_mib()
        if memory is not None:
            peak_memory = max(peak_memory or 0, memory)
        if peak_memory is not None:
            print(f"memory of the whole system (sum of PSS, peak sampled): {peak_memory:.0f} MiB")


if __name__ == "__main__":
    uvloop.run(main())
