"""Cursor paging (RFC 9865) on a running scimd: a connection with --users
users (created by /Bulk), then
- the latency of page 1 and of page --deep-page (count=100), by cursor and
  by index (startIndex), each the median of --repeats;
- one full cursor walk while --churn users are created and as many deleted
  concurrently: every user that existed throughout must come exactly once.

    make run                                   # in one terminal
    .venv/bin/python -m bench.cursor_paging    # in another

Every loop is bounded by a count; only 127.0.0.1 / localhost is targeted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from urllib.parse import urlsplit

import aiohttp
import orjson
import uvloop

from bench.target import add_target_arguments, management_caller, management_headers, require_local

SCIM = "application/scim+json"
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
PAGE = 100


def user(user_name: str) -> dict:
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name,
            "name": {"givenName": "Bench", "familyName": user_name[:8]}, "active": True}


class Scim:
    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self.http, self.base = http, base
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": SCIM, "Accept": SCIM}

    async def call(self, method: str, path: str, body=None, params=None) -> tuple[int, dict]:
        async with self.http.request(method, self.base + path, params=params, headers=self.headers,
                                     data=orjson.dumps(body) if body is not None else None) as response:
            raw = await response.read()
            return response.status, (orjson.loads(raw) if raw else {})


async def create_users(scim: Scim, prefix: str, count: int) -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 1000):
        operations = [{"method": "POST", "path": "/Users", "bulkId": str(n),
                       "data": user(f"{prefix}-{n:06d}@example.com")} for n in range(start, min(count, start + 1000))]
        status, body = await scim.call("POST", "/Bulk", {"schemas": [BULK_REQUEST], "Operations": operations})
        assert status == 200, body
        ids += [op["location"].rsplit("/", 1)[1] for op in body["Operations"] if op["status"] == "201"]
    return ids


async def timed(scim: Scim, params: dict, repeats: int) -> float:
    """The median milliseconds of one list request."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        status, body = await scim.call("GET", "/Users", params=params)
        samples.append((time.perf_counter() - started) * 1000)
        assert status == 200, body
    return statistics.median(samples)


async def cursor_of_page(scim: Scim, page: int) -> str:
    cursor = ""
    for _ in range(page - 1):
        _, body = await scim.call("GET", "/Users", params={"cursor": cursor, "count": str(PAGE)})
        cursor = body["nextCursor"]
    return cursor


async def walk_under_churn(scim: Scim, prefix: str, stable: list[str], doomed: list[str], churn: int) -> str:
    pages = -(-len(stable) // PAGE)
    per_page = -(-churn // max(1, pages - 2))
    seen: list[str] = []
    created = deleted = 0
    cursor = ""
    for _ in range(pages * 2 + 10):  # bounded
        status, body = await scim.call("GET", "/Users", params={"cursor": cursor, "count": str(PAGE)})
        assert status == 200, body
        seen += [r["id"] for r in body["Resources"]]
        if "nextCursor" not in body:
            break
        cursor = body["nextCursor"]
        new = [scim.call("POST", "/Users", user(f"{prefix}-new-{uuid.uuid4().hex[:10]}@example.com"))
               for _ in range(min(per_page, churn - created))]
        gone = [scim.call("DELETE", f"/Users/{doomed.pop()}") for _ in range(min(per_page, len(doomed)))]
        await asyncio.gather(*new, *gone)
        created, deleted = created + len(new), deleted + len(gone)
    counts = {i: 0 for i in stable}
    for i in seen:
        if i in counts:
            counts[i] += 1
    wrong = sum(1 for c in counts.values() if c != 1)
    return (f"{len(stable)} users present throughout, {created} created and {deleted} deleted during the walk:"
            f" {len(stable) - wrong} listed exactly once, {wrong} skipped or repeated")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_arguments(parser)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--churn", type=int, default=500)
    parser.add_argument("--deep-page", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    require_local(args.url)
    run = uuid.uuid4().hex[:8]
    async with aiohttp.ClientSession() as http:
        call = management_caller(http, args.url, management_headers(args))
        organization = (await call("POST", "/v1/b2b/organizations", {
            "organization_name": f"Cursor bench {run}", "organization_slug": f"cursor-bench-{run}"}))["organization"]
        connection = (await call("POST", f"/v1/b2b/scim/{organization['organization_id']}/connection", {
            "display_name": "bench", "identity_provider": "okta"}))["connection"]
        await call("PUT", f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}",
                   {"rate_limit_per_second": 1_000_000})
        scim = Scim(http, args.url + urlsplit(connection["base_url"]).path, connection["bearer_token"])
        try:
            ids = await create_users(scim, f"cb{run}", args.users)
            print(f"{len(ids)} users")
            deep_cursor = await cursor_of_page(scim, args.deep_page)
            deep_index = str((args.deep_page - 1) * PAGE + 1)
            print(f"page 1                 by cursor {await timed(scim, {'cursor': '', 'count': str(PAGE)}, args.repeats):6.1f} ms"
                  f"   by index {await timed(scim, {'count': str(PAGE)}, args.repeats):6.1f} ms")
            print(f"page {args.deep_page:<4}              by cursor "
                  f"{await timed(scim, {'cursor': deep_cursor, 'count': str(PAGE)}, args.repeats):6.1f} ms"
                  f"   by index {await timed(scim, {'startIndex': deep_index, 'count': str(PAGE)}, args.repeats):6.1f} ms")
            doomed = ids[-args.churn:]
            print(await walk_under_churn(scim, f"cb{run}", ids[:-args.churn], doomed, args.churn))
        finally:
            await call("DELETE", f"/v1/b2b/organizations/{organization['organization_id']}")


if __name__ == "__main__":
    uvloop.run(main())
