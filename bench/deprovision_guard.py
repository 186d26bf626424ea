"""The mass-deprovision guard on a running scimd: how soon approving held
deprovisions reaches the app. 100 members, a 20 % guard, 30 Okta-style
deactivations (20 take effect, 10 are held), each of the 30 with a session;
then approve. Prints the time from the approve request to the last of the 10
scim.member.update webhooks, and to the last held member's session refused.

    SCIMD_WEBHOOK_ALLOWED_HOSTS=127.0.0.1 make run         # in one terminal
    .venv/bin/python -m bench.deprovision_guard           # in another

Every loop is bounded by a count or a deadline; only 127.0.0.1 / localhost is targeted.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import aiohttp
import orjson

from bench.target import add_target_arguments, management_caller, management_headers, require_local, serve_receiver
from bench.webhook_load import Receiver

SCIM = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
DEACTIVATE = orjson.dumps({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]})
DEADLINE_S = 30.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_arguments(parser)
    args = parser.parse_args()
    require_local(args.url)
    management = management_headers(args)
    run = uuid.uuid4().hex[:8]

    receiver = Receiver()
    runner, port = await serve_receiver(receiver.handle)

    async with aiohttp.ClientSession() as http:
        call = management_caller(http, args.url, management)

        organization_id = (await call("POST", "/v1/b2b/organizations", {
            "organization_name": f"Guard bench {run}"}))["organization"]["organization_id"]
        connection = (await call("POST", f"/v1/b2b/scim/{organization_id}/connection",
                                 {"identity_provider": "okta"}))["connection"]
        path = f"/v1/b2b/scim/{organization_id}/connection/{connection['connection_id']}"
        await call("PUT", path, {"rate_limit_per_second": 1_000_000})
        await call("PUT", path + "/deprovision_guard", {"enabled": True, "percent": 20, "window_seconds": 3600})
        scim = {"Authorization": f"Bearer {connection['bearer_token']}", "Content-Type": SCIM}
        base = connection["base_url"].split("?")[0]
        members = []
        for n in range(100):
            async with http.post(f"{base}/Users", headers=scim, data=orjson.dumps({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": f"guard-{run}-{n}@example.com"})) as response:
                members.append((await response.json(content_type=None))["id"])
        tokens = {m: (await call("POST", "/v1/b2b/sessions", {"organization_id": organization_id, "member_id": m}))
                  ["session_token"] for m in members[:30]}
        endpoint = (await call("POST", "/v1/webhooks/endpoints", {
            "url": f"http://127.0.0.1:{port}/hook", "event_types": ["scim.member.update"],
            "organization_ids": [organization_id]}))["endpoint"]
        try:
            for member_id in members[:30]:
                async with http.patch(f"{base}/Users/{member_id}", headers=scim, data=DEACTIVATE) as response:
                    await response.read()
            await receiver.wait_for(20, DEADLINE_S)
            held = (await call("GET", path + "/held_deprovisions"))["held_deprovisions"]
            started = time.time()
            await call("POST", path + "/held_deprovisions/approve")
            await receiver.wait_for(30, DEADLINE_S)
            webhooks_done = max(receiver.first_seen.values()) - started
            refused = 0.0
            for item in held:
                deadline = time.monotonic() + DEADLINE_S
                while time.monotonic() < deadline:
                    async with http.post(f"{args.url}/v1/b2b/sessions/authenticate", headers=management,
                                         json={"session_token": tokens[item["member_id"]]}) as response:
                        if response.status != 200:
                            break
                    await asyncio.sleep(0.01)
                refused = time.time() - started
        finally:
            await call("DELETE", f"/v1/webhooks/endpoints/{endpoint['endpoint_id']}")
            await call("DELETE", f"/v1/b2b/organizations/{organization_id}")
    await runner.cleanup()
    print(f"held after 30 deactivations          {len(held)} (of 30; 20 took effect)")
    print(f"webhooks received                    {len(receiver.first_seen)} (20 before approving, 10 after)")
    print(f"approve → last of the 10 webhooks    {webhooks_done * 1000:.0f} ms")
    print(f"approve → last held session refused  {refused * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
