"""Organizations and connections over their whole life: update, delete,
zero-downtime token rotation, expiry, and revocation reaching every gateway."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid

import aiohttp
import asyncpg
import pytest

from cli.processes import free_port
from tests.conftest import REPO_ROOT
from tests.gateway.management_client import ManagementClient
from tests.gateway.scim_client import ScimClient
from tests.support import create_connection, create_organization, scim_user

POLLS = 300
POLL_PAUSE = 0.02


@pytest.fixture
async def vendor(http, gateway) -> ManagementClient:
    return ManagementClient(http, gateway)


async def _status(http, url: str, token: str) -> int:
    async with http.get(url.split("?")[0] + "/Users?count=1", headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status


async def _until_status(http, url: str, token: str, wanted: int) -> float:
    """Seconds until the token gets `wanted`; fails after POLLS tries."""
    started = time.monotonic()
    for _ in range(POLLS):
        if await _status(http, url, token) == wanted:
            return time.monotonic() - started
        await asyncio.sleep(POLL_PAUSE)
    raise AssertionError(f"never answered {wanted}")


async def test_organizations_list_update_delete(http, gateway, vendor):
    first = await create_organization(http, gateway, "life")
    second = await create_organization(http, gateway, "life")
    seen, cursor = set(), None
    for _ in range(100):
        status, body = await vendor.request(
            "GET", "/v1/b2b/organizations", params={"limit": "1", **({"cursor": cursor} if cursor else {})}
        )
        assert status == 200 and len(body["organizations"]) <= 1
        seen.update(o["organization_id"] for o in body["organizations"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert {first["organization_id"], second["organization_id"]} <= seen

    path = f"/v1/b2b/organizations/{first['organization_id']}"
    new_slug = f"renamed-{uuid.uuid4().hex[:6]}"
    status, body = await vendor.request("PUT", path, {"organization_name": "Renamed", "organization_slug": new_slug})
    assert status == 200 and body["organization"]["organization_slug"] == new_slug
    assert body["organization"]["organization_name"] == "Renamed"
    status, body = await vendor.request("PUT", path, {"organization_slug": second["organization_slug"]})
    assert status == 409, body
    assert (await vendor.request("PUT", path, {"organization_slug": "Not A Slug"}))[0] == 400
    assert (await vendor.request("PUT", "/v1/b2b/organizations/organization-missing", {"organization_name": "x"}))[0] == 404

    assert (await vendor.request("DELETE", path))[0] == 200
    assert (await vendor.request("GET", path))[0] == 404
    assert (await vendor.request("DELETE", path))[0] == 404


async def test_rotation_keeps_both_tokens_until_it_ends(http, gateway, vendor):
    """The gateway that served a rotation step refuses the token it ended from
    its answer on (other gateways: see test_revocation_reaches_another_gateway_process)."""
    organization = await create_organization(http, gateway, "rotate")
    connection = await create_connection(http, gateway, organization["organization_id"])
    old, url = connection["bearer_token"], connection["base_url"]
    rotate = f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}/rotate"

    assert (await vendor.request("POST", f"{rotate}/complete"))[0] == 409  # nothing to complete
    status, body = await vendor.request("POST", f"{rotate}/start")
    assert status == 200, body
    new = body["connection"]["next_bearer_token"]
    assert new != old and body["connection"]["next_bearer_token_last_four"] == new[-4:]
    assert body["connection"]["next_bearer_token_expires_at"]
    assert await _status(http, url, old) == 200 and await _status(http, url, new) == 200
    assert (await vendor.request("POST", f"{rotate}/start"))[0] == 409  # already rotating
    _, shown = await vendor.request("GET", f"/v1/b2b/scim/{organization['organization_id']}/connection")
    assert "bearer_token" not in shown["connection"] and "next_bearer_token" not in shown["connection"]
    assert shown["connection"]["next_bearer_token_last_four"] == new[-4:]

    status, body = await vendor.request("POST", f"{rotate}/complete")
    assert status == 200 and body["connection"]["bearer_token_last_four"] == new[-4:]
    assert body["connection"]["next_bearer_token_last_four"] == ""
    assert await _status(http, url, old) == 401
    assert await _status(http, url, new) == 200

    # A cancelled rotation leaves the current token as the only one.
    status, body = await vendor.request("POST", f"{rotate}/start")
    abandoned = body["connection"]["next_bearer_token"]
    assert await _status(http, url, abandoned) == 200
    assert (await vendor.request("POST", f"{rotate}/cancel"))[0] == 200
    assert await _status(http, url, abandoned) == 401
    assert await _status(http, url, new) == 200
    assert (await vendor.request("POST", f"{rotate}/cancel"))[0] == 409
    assert (await vendor.request("POST", f"{rotate}/sideways"))[0] == 404


async def test_wrong_pairings_are_not_found(http, gateway, vendor):
    ours = await create_organization(http, gateway, "pair")
    theirs = await create_organization(http, gateway, "pair")
    connection = await create_connection(http, gateway, theirs["organization_id"])
    base = f"/v1/b2b/scim/{ours['organization_id']}/connection/{connection['connection_id']}"
    for method, path in (("PUT", base), ("DELETE", base), ("POST", f"{base}/rotate/start"),
                         ("GET", f"{base}/groups")):
        status, body = await vendor.request(method, path, {} if method != "GET" else None)
        assert status == 404, (method, path, body)
    assert await _status(http, connection["base_url"], connection["bearer_token"]) == 200


async def test_expired_token_is_refused(http, gateway, vendor, running_services):
    organization = await create_organization(http, gateway, "expiry")
    connection = await create_connection(http, gateway, organization["organization_id"])
    rotate = f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}/rotate"
    _, body = await vendor.request("POST", f"{rotate}/start")
    fresh = body["connection"]["next_bearer_token"]
    db = await asyncpg.connect(running_services.database_url)
    try:
        await db.execute(
            "UPDATE connections.bearer_tokens SET expires_at = now() - interval '1 second'"
            " WHERE connection_id = $1 AND slot = 'next'", connection["connection_id"],
        )
    finally:
        await db.close()
    assert await _status(http, connection["base_url"], fresh) == 401
    assert await _status(http, connection["base_url"], connection["bearer_token"]) == 200


async def test_deleting_a_connection_revokes_its_token(http, gateway, vendor):
    organization = await create_organization(http, gateway, "delete")
    connection = await create_connection(http, gateway, organization["organization_id"])
    assert await _status(http, connection["base_url"], connection["bearer_token"]) == 200  # now cached
    path = f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}"
    assert (await vendor.request("DELETE", path))[0] == 200
    # The gateway that deleted it refuses the token from its answer on.
    assert await _status(http, connection["base_url"], connection["bearer_token"]) == 401
    assert (await vendor.request("GET", f"/v1/b2b/scim/{organization['organization_id']}/connection"))[0] == 404
    # A new connection can be made afterwards.
    again = await create_connection(http, gateway, organization["organization_id"])
    assert await _status(http, again["base_url"], again["bearer_token"]) == 200


async def test_deleting_an_organization_deletes_its_members_and_groups(http, gateway, vendor, webhook_receiver):
    from standardwebhooks import Webhook

    organization = await create_organization(http, gateway, "purge")
    organization_id = organization["organization_id"]
    connection = await create_connection(http, gateway, organization_id)
    scim = ScimClient(http, connection["base_url"], connection["bearer_token"])
    status, body = await vendor.request("POST", "/v1/webhooks/endpoints", {
        "url": webhook_receiver.url,
        "event_types": ["scim.member.delete", "scim.idp_group.delete", "organization.delete", "scim.connection.delete"],
    })
    secret = body["endpoint"]["secret"]
    users = [(await scim.create_user(scim_user(f"purge{i}-{uuid.uuid4().hex[:6]}@example.com")))["id"] for i in range(3)]
    reply = await scim.request("POST", "/Groups", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone",
        "members": [{"value": u} for u in users],
    })
    group_id = reply.body["id"]

    assert await _status(http, connection["base_url"], connection["bearer_token"]) == 200  # now cached
    assert (await vendor.request("DELETE", f"/v1/b2b/organizations/{organization_id}"))[0] == 200
    assert await _status(http, connection["base_url"], connection["bearer_token"]) == 401

    wanted = {("organization.delete", organization_id), ("scim.connection.delete", connection["connection_id"]),
              ("scim.idp_group.delete", group_id), *(("scim.member.delete", u) for u in users)}
    seen = set()
    for _ in range(200):
        delivered = await webhook_receiver.next(timeout=20)
        payload = Webhook(secret).verify(delivered.body, delivered.headers)
        if payload["data"]["organization_id"] == organization_id:
            seen.add((payload["type"], payload["data"]["id"]))
        if wanted <= seen:
            break
    assert wanted <= seen
    for user in users:
        assert (await vendor.request("GET", f"/v1/b2b/organizations/{organization_id}/members/{user}"))[0] == 404


async def test_revocation_reaches_another_gateway_process(http, gateway, vendor, running_services):
    """A second gateway (its own process, a token cache of five minutes)
    rejects a token within about a second of the rotation completing on the
    first: only the revocation event can explain it."""
    port = free_port()
    settings = running_services
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMD_")}
    env.update(
        SCIMD_HTTP_PORT=str(port), SCIMD_HTTP_HOST="127.0.0.1", SCIMD_PUBLIC_URL=f"http://127.0.0.1:{port}",
        SCIMD_PROJECT_ID=settings.project_id, SCIMD_PROJECT_SECRET=settings.project_secret,
        NATS_URL=settings.nats_url, SCIMD_NATS_PREFIX=settings.nats_prefix, SCIMD_TOKEN_CACHE_SECONDS="300",
        SCIMD_CONNECTIONS_ADDR=settings.services.connections, SCIMD_DIRECTORY_ADDR=settings.services.directory,
        SCIMD_RBAC_ADDR=settings.services.rbac, SCIMD_WEBHOOKS_ADDR=settings.services.webhooks,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", cwd=REPO_ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        other = f"http://127.0.0.1:{port}"
        for _ in range(POLLS):
            try:
                async with http.get(f"{other}/readyz") as response:
                    body = await response.json(content_type=None)
                    if response.status == 200 and body["token_revocations"] == "subscribed":
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
        organization = await create_organization(http, gateway, "revoke")
        connection = await create_connection(http, gateway, organization["organization_id"])
        old = connection["bearer_token"]
        url_there = connection["base_url"].replace(gateway.url, other)
        rotate = f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}/rotate"
        _, body = await vendor.request("POST", f"{rotate}/start")
        new = body["connection"]["next_bearer_token"]
        assert await _status(http, url_there, old) == 200  # cached there for five minutes
        started = time.monotonic()
        assert (await vendor.request("POST", f"{rotate}/complete"))[0] == 200
        await _until_status(http, url_there, old, 401)
        latency = time.monotonic() - started
        print(f"revocation latency across gateway processes: {latency * 1000:.0f} ms")
        assert await _status(http, url_there, new) == 200

        # An OAuth access token dies with its client the same way.
        client = f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}/oauth_client"
        _, body = await vendor.request("POST", client)
        async with http.post(f"{connection['base_url'].split('?')[0]}/oauth2/token",
                             data={"grant_type": "client_credentials", "client_id": body["client_id"],
                                   "client_secret": body["client_secret"]}) as response:
            access_token = (await response.json())["access_token"]
        assert await _status(http, url_there, access_token) == 200  # cached there too
        assert (await vendor.request("DELETE", client))[0] == 200
        await _until_status(http, url_there, access_token, 401)
    finally:
        process.terminate()
        await process.wait()


async def test_rate_limit_per_connection(http, gateway, vendor):
    organization = await create_organization(http, gateway, "limit")
    connection = await create_connection(http, gateway, organization["organization_id"])
    other = await create_connection(http, gateway, (await create_organization(http, gateway, "limit"))["organization_id"])
    path = f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}"
    for bad in (-1, "ten", 1.5, True, 10_000_000):
        assert (await vendor.request("PUT", path, {"rate_limit_per_second": bad}))[0] == 400, bad
    status, body = await vendor.request("PUT", path, {"rate_limit_per_second": 1})
    assert status == 200 and body["connection"]["rate_limit_per_second"] == 1
    # The gateway learns the new limit when it next authenticates the token (cache evicted by the event).
    url, token = connection["base_url"].split("?")[0], connection["bearer_token"]
    statuses = []
    for _ in range(20):
        async with http.get(f"{url}/Users?count=1", headers={"Authorization": f"Bearer {token}"}) as response:
            statuses.append(response.status)
            if response.status == 429:
                assert int(response.headers["Retry-After"]) >= 1
                body = await response.json(content_type=None)
                assert body["status"] == "429" and body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
                break
        await asyncio.sleep(0.05)
    assert statuses[-1] == 429, statuses
    assert await _status(http, other["base_url"], other["bearer_token"]) == 200  # others unaffected
    status, body = await vendor.request("PUT", path, {"rate_limit_per_second": 0})
    assert status == 200 and body["connection"]["rate_limit_per_second"] == 0
