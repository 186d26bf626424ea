"""Attribute mapping (issue 21 §3) on a running scimd: a connection with
--users users (created by /Bulk, each with an enterprise department), a
custom field mapped from it, then a change of the mapping
- previewed (?dry_run=true): the latency, the median of --repeats;
- applied: from the PUT until every member carries the new values (each
  changed one with its scim.member.update event), as the mapping reports.

    make run                                       # in one terminal
    .venv/bin/python -m bench.attribute_mapping    # in another

Every loop is bounded by a count or a deadline; only 127.0.0.1 / localhost is targeted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from urllib.parse import urlsplit

import aiohttp
import uvloop

from bench.cursor_paging import Scim
from bench.target import add_target_arguments, management_caller, management_headers, require_local

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
DEPARTMENTS = 50
APPLY_DEADLINE_SECONDS = 600.0
POLL_SECONDS = 0.1


def user(user_name: str, n: int) -> dict:
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE], "userName": user_name,
            "title": f"Engineer {n % 7}", ENTERPRISE: {"department": f" Dept-{n % DEPARTMENTS:02d} "}}


async def create_users(scim: Scim, prefix: str, count: int) -> int:
    created = 0
    for start in range(0, count, 1000):
        operations = [{"method": "POST", "path": "/Users", "bulkId": str(n),
                       "data": user(f"{prefix}-{n:06d}@example.com", n)} for n in range(start, min(count, start + 1000))]
        status, body = await scim.call("POST", "/Bulk", {"schemas": [BULK_REQUEST], "Operations": operations})
        assert status == 200, body
        created += sum(1 for op in body["Operations"] if op["status"] == "201")
    return created


async def applied(call, path: str) -> dict:
    """The mapping once its apply is done."""
    deadline = time.monotonic() + APPLY_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        mapping = (await call("GET", path))["attribute_mapping"]
        if mapping["apply"]["state"] == "done":
            return mapping
        await asyncio.sleep(POLL_SECONDS)  # the pace of polling, not a wait for a result
    raise SystemExit(f"the apply did not finish within {APPLY_DEADLINE_SECONDS:.0f} s")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_arguments(parser)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    require_local(args.url)
    run = uuid.uuid4().hex[:8]
    field = f"bench_department_{run}"
    async with aiohttp.ClientSession() as http:
        call = management_caller(http, args.url, management_headers(args))
        organization = (await call("POST", "/v1/b2b/organizations", {
            "organization_name": f"Mapping bench {run}", "organization_slug": f"mapping-bench-{run}"}))["organization"]
        organization_id = organization["organization_id"]
        connection = (await call("POST", f"/v1/b2b/scim/{organization_id}/connection", {
            "display_name": "bench", "identity_provider": "okta"}))["connection"]
        connection_path = f"/v1/b2b/scim/{organization_id}/connection/{connection['connection_id']}"
        mapping_path = connection_path + "/attribute_mapping"
        await call("PUT", connection_path, {"rate_limit_per_second": 1_000_000})
        await call("PUT", f"/v1/scim/custom_fields/{field}", {"type": "string", "description": "bench"})
        scim = Scim(http, args.url + urlsplit(connection["base_url"]).path, connection["bearer_token"])
        source = f"{ENTERPRISE}:department"
        try:
            print(f"{await create_users(scim, f'am{run}', args.users)} users")
            await call("PUT", mapping_path, {"fields": [{"field": field, "sources": [source]}]})
            await applied(call, mapping_path)
            changed = {"fields": [{"field": field, "sources": [source],
                                   "transforms": [{"type": "trim"}, {"type": "lower"}]}]}
            samples, preview = [], {}
            for _ in range(args.repeats):
                started = time.perf_counter()
                preview = await call("PUT", mapping_path + "?dry_run=true&limit=100", changed)
                samples.append(time.perf_counter() - started)
            print(f"dry run: {preview['member_count']} members compared, {preview['changed_count']} would change,"
                  f" in {statistics.median(samples) * 1000:.0f} ms (median of {args.repeats})")
            started = time.perf_counter()
            await call("PUT", mapping_path, changed)
            done = await applied(call, mapping_path)
            print(f"apply: {done['apply']['done']} members, {done['apply']['changed']} changed (each with its"
                  f" scim.member.update event), in {time.perf_counter() - started:.1f} s")
        finally:
            await call("PUT", mapping_path, {"fields": []})
            await call("DELETE", f"/v1/scim/custom_fields/{field}")
            await call("DELETE", f"/v1/b2b/organizations/{organization_id}")


if __name__ == "__main__":
    uvloop.run(main())
