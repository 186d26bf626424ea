"""Fairness between tenants on a running scimd: organization B's latency while
organization A sends the worst requests the limits allow, at its full rate
limit and concurrency (issue 16).

    make run                                           # in one terminal
    .venv/bin/python -m bench.fairness [--seconds 60]  # in another

B measures GET /Users/{id} and POST /Users, first alone (its idle p99), then
while A runs: PATCHes whose value filters do the most work allowed, list
filters with the most comparisons allowed, and Bulk requests of creates. The
script prints both p99s and their ratio, and how A was answered: each of A's
requests must be answered (2xx, or 4xx/429/503 with Retry-After), none may
hang past its timeout. Every loop is bounded by time; only 127.0.0.1 /
localhost is targeted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

import aiohttp
import orjson

from bench.target import add_target_arguments, management_headers, require_local
from scim.filter import MAX_TERMS
from scim.patch import MAX_FILTER_WORK
from scim.schema import MAX_MULTI_VALUES

SCIM = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
REQUEST_TIMEOUT_S = 30


@dataclass
class Latencies:
    values: list[float] = field(default_factory=list)
    failures: int = 0

    def p(self, quantile: float) -> float:
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * quantile))] * 1000 if ordered else 0.0

    def line(self, name: str) -> str:
        median = statistics.median(self.values) * 1000 if self.values else 0.0
        return f"{name:<34} p50 {median:>7.1f} ms   p99 {self.p(0.99):>7.1f} ms   n={len(self.values)} failed={self.failures}"


@dataclass
class Tenant:
    base: str
    headers: dict[str, str]
    user_ids: list[str] = field(default_factory=list)


def _user(name: str, emails: int = 1) -> dict:
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"{name}@fair.test",
            "emails": [{"value": f"{name}.{i}@fair.test", "type": "work"} for i in range(emails)]}


async def _tenant(http: aiohttp.ClientSession, url: str, management: dict, name: str) -> Tenant:
    async with http.post(f"{url}/v1/b2b/organizations", headers=management,
                         json={"organization_name": f"Fairness {name}", "organization_slug": f"fair-{uuid.uuid4().hex[:8]}"}) as r:
        organization = (await r.json())["organization"]["organization_id"]
    async with http.post(f"{url}/v1/b2b/scim/{organization}/connection", headers=management,
                         json={"display_name": name, "identity_provider": "okta"}) as r:
        connection = (await r.json())["connection"]
    return Tenant(connection["base_url"].split("?")[0],
                  {"Authorization": f"Bearer {connection['bearer_token']}", "Content-Type": SCIM})


async def _seed(http: aiohttp.ClientSession, tenant: Tenant, count: int, emails: int) -> None:
    for n in range(count):
        for _ in range(50):  # bounded: a 429 says when to come back
            async with http.post(f"{tenant.base}/Users", headers=tenant.headers,
                                 data=orjson.dumps(_user(f"seed-{uuid.uuid4().hex[:10]}", emails))) as r:
                if r.status == 201:
                    tenant.user_ids.append((await r.json(content_type=None))["id"])
                    break
                await asyncio.sleep(float(r.headers.get("Retry-After", "1")))


def _worst_patch() -> dict:
    """Value filters of MAX_TERMS comparisons over 100 emails, as many as MAX_FILTER_WORK allows."""
    clause = " or ".join(f'value co "nothing-{j}"' for j in range(MAX_TERMS - 1))  # the path counts as one
    operations = MAX_FILTER_WORK // ((MAX_TERMS - 1) * MAX_MULTI_VALUES)
    return {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": f"emails[{clause}]"}] * operations}


def _worst_filter() -> str:
    """As many substring tests inside a multi-valued attribute as a filter may hold."""
    return " or ".join(f'emails[value co "nothing-{j}"]' for j in range(MAX_TERMS // 2))


async def _victim(http: aiohttp.ClientSession, b: Tenant, seconds: float, gets: Latencies, posts: Latencies) -> None:
    """B's steady traffic: a GET and a POST in turn, two at a time, for `seconds`."""
    deadline = time.monotonic() + seconds

    async def worker(number: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            started = time.perf_counter()
            async with http.get(f"{b.base}/Users/{b.user_ids[(number + n) % len(b.user_ids)]}", headers=b.headers) as r:
                await r.read()
                (gets.values.append(time.perf_counter() - started) if r.status == 200 else None)
                gets.failures += r.status != 200
            started = time.perf_counter()
            async with http.post(f"{b.base}/Users", headers=b.headers,
                                 data=orjson.dumps(_user(f"b-{uuid.uuid4().hex[:10]}"))) as r:
                await r.read()
                (posts.values.append(time.perf_counter() - started) if r.status == 201 else None)
                posts.failures += r.status != 201
            await asyncio.sleep(0.02)  # B's own pace: a steady IdP, not a flood

    await asyncio.gather(*(worker(n) for n in range(2)))


KINDS = ("patch", "filter", "bulk")


async def _attacker(http: aiohttp.ClientSession, a: Tenant, seconds: float, concurrency: int,
                    outcomes: collections.Counter, slowest: list[float], kinds: tuple[str, ...] = KINDS) -> None:
    """A's worst requests, `concurrency` at a time, for `seconds`."""
    deadline = time.monotonic() + seconds
    patch, search = orjson.dumps(_worst_patch()), f"{a.base}/Users?count=100&filter={quote(_worst_filter())}"
    bulk = orjson.dumps({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": f"b{i}", "data": _user(f"a-{uuid.uuid4().hex[:10]}")}
        for i in range(20)]})

    async def worker(number: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            kind = kinds[(number + n) % len(kinds)]
            started = time.perf_counter()
            try:
                if kind == "patch":
                    request = http.patch(f"{a.base}/Users/{a.user_ids[(number * 7 + n) % len(a.user_ids)]}",
                                         headers=a.headers, data=patch)
                elif kind == "filter":
                    request = http.get(search, headers=a.headers)
                else:
                    request = http.post(f"{a.base}/Bulk", headers=a.headers, data=bulk)
                async with request as r:
                    await r.read()
                    answered_well = r.status < 300 or (400 <= r.status < 500 and r.status != 429) \
                        or (r.status in (429, 503) and "Retry-After" in r.headers)
                    outcomes[f"{kind} {r.status}" if answered_well else f"{kind} {r.status} (unclear)"] += 1
                    if r.status in (429, 503):
                        await asyncio.sleep(min(float(r.headers.get("Retry-After", "1")), 1.0))
            except asyncio.TimeoutError:
                outcomes[f"{kind} timeout"] += 1
            slowest.append(time.perf_counter() - started)

    await asyncio.gather(*(worker(n) for n in range(concurrency)))


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
                                 connector=aiohttp.TCPConnector(limit=0))


async def attack(spec: dict) -> dict:
    """A's side, run in a process of its own (`--attack SPEC`), so that the
    work of generating A's load does not slow the process that times B."""
    a = Tenant(spec["base"], spec["headers"], spec["user_ids"])
    outcomes, slowest = collections.Counter(), []
    async with _session() as http:
        await _attacker(http, a, spec["seconds"], spec["concurrency"], outcomes, slowest, tuple(spec["kinds"]))
    return {"outcomes": dict(outcomes), "slowest": max(slowest, default=0.0)}


async def _attack_in_a_process(a: Tenant, seconds: float, concurrency: int, kinds: tuple[str, ...]) -> dict:
    spec = orjson.dumps({"base": a.base, "headers": a.headers, "user_ids": a.user_ids, "seconds": seconds,
                         "concurrency": concurrency, "kinds": kinds}).decode()
    # The spec (with A's token) goes through stdin, not the command line that `ps` shows.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.fairness", "--attack", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    stdout, _ = await asyncio.wait_for(process.communicate(spec.encode()), seconds + 2 * REQUEST_TIMEOUT_S)
    if process.returncode != 0:
        raise RuntimeError("the attacking process failed")
    return orjson.loads(stdout)


async def run(args: argparse.Namespace) -> int:
    require_local(args.url)
    management = management_headers(args)
    async with _session() as http:
        a, b = await _tenant(http, args.url, management, "A (noisy)"), await _tenant(http, args.url, management, "B")
        await _seed(http, a, args.users, emails=100)
        await _seed(http, b, 20, emails=1)
        idle_gets, idle_posts = Latencies(), Latencies()
        await _victim(http, b, args.idle_seconds, idle_gets, idle_posts)
        gets, posts = Latencies(), Latencies()
        _, attacked = await asyncio.gather(_victim(http, b, args.seconds, gets, posts),
                                           _attack_in_a_process(a, args.seconds, args.concurrency, args.kinds))
    outcomes, slowest = collections.Counter(attacked["outcomes"]), [attacked["slowest"]]
    print(idle_gets.line("B GET /Users/{id}, alone"))
    print(idle_posts.line("B POST /Users, alone"))
    print(gets.line("B GET /Users/{id}, A attacking"))
    print(posts.line("B POST /Users, A attacking"))
    for name, idle, loaded in (("GET", idle_gets, gets), ("POST", idle_posts, posts)):
        print(f"B {name} p99 ratio (attacking / alone): {loaded.p(0.99) / max(idle.p(0.99), 1e-9):.2f}")
    print(f"A's answers: {dict(sorted(outcomes.items()))}")
    print(f"A's slowest answer: {max(slowest, default=0) * 1000:.0f} ms")
    unclear = sum(count for outcome, count in outcomes.items() if "unclear" in outcome or "timeout" in outcome)
    return 1 if unclear or gets.failures or posts.failures or idle_gets.failures or idle_posts.failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_target_arguments(parser)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long A attacks")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="how long B is measured alone first")
    parser.add_argument("--users", type=int, default=50, help="A's users, each with 100 emails")
    parser.add_argument("--concurrency", type=int, default=16, help="A's requests in flight (its connection's bound)")
    parser.add_argument("--kinds", type=lambda text: tuple(text.split(",")), default=KINDS,
                        help=f"A's request kinds, comma-separated (default: {','.join(KINDS)})")
    parser.add_argument("--attack", action="store_true", help=argparse.SUPPRESS)  # the attacking child process
    args = parser.parse_args()
    if args.attack:
        print(orjson.dumps(asyncio.run(attack(orjson.loads(sys.stdin.buffer.read())))).decode())
        return
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
