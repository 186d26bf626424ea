"""Diagnostics an admin can read (issue 17 §3): the request log with redacted
bodies and hints, scim.request.failed, tokens' last use, health, retention."""

from __future__ import annotations

import asyncio
import uuid

import orjson

from tests.gateway.management_client import ManagementClient
from tests.support import bearer, create_connection, create_organization, scim_user

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
POLLS = 400


async def _log(vendor: ManagementClient, path: str, want: int, **params: str) -> list[dict]:
    """The request log once it holds `want` entries (gateways report every quarter second)."""
    entries: list[dict] = []
    for _ in range(POLLS):
        status, body = await vendor.request("GET", path + "/requests", params=params)
        assert status == 200, body
        entries = body["requests"]
        if len(entries) >= want:
            return entries
        await asyncio.sleep(0.05)
    raise AssertionError(f"the log holds {entries}")


async def test_an_invalid_entra_patch_is_logged_redacted_with_a_hint_and_raises_an_event(http, gateway,
                                                                                          webhook_receiver):
    vendor = ManagementClient(http, gateway)
    organization_id = (await create_organization(http, gateway, "diag"))["organization_id"]
    connection = await create_connection(http, gateway, organization_id, identity_provider="microsoft-entra")
    path = f"/v1/b2b/scim/{organization_id}/connection/{connection['connection_id']}"
    status, body = await vendor.request("POST", "/v1/webhooks/endpoints", {
        "url": webhook_receiver.url, "event_types": ["scim.request.failed"], "organization_ids": [organization_id]})
    assert status == 201, body
    base = f"{gateway.url}/scim/v2/{connection['connection_id']}"
    user_name = f"diag-{uuid.uuid4().hex[:8]}@example.com"
    async with http.post(f"{base}/Users", headers=bearer(connection),
                         data=orjson.dumps(scim_user(user_name, password="Hunter2!"))) as response:
        assert response.status == 201
        user_id = (await response.json(content_type=None))["id"]
    # What Entra sends when its Tenant URL lacks ?aadOptscim062020: a string where a boolean is due.
    invalid = {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "Nope"}]}
    async with http.patch(f"{base}/Users/{user_id}", headers=bearer(connection), data=orjson.dumps(invalid)) as response:
        assert response.status == 400

    entries = await _log(vendor, path, 2)
    failed, created = entries[0], entries[1]  # newest first
    assert (created["method"], created["path"], created["status"]) == ("POST", "/Users", 201)
    assert created["resource_id"] == user_id and created["user_name"] == user_name
    assert created["body"]["password"] == "[redacted]" and "Hunter2!" not in orjson.dumps(entries).decode()
    assert (failed["method"], failed["path"], failed["status"]) == ("PATCH", f"/Users/{user_id}", 400)
    assert failed["scim_type"] == "invalidValue" and "boolean" in failed["detail"]
    assert "aadOptscim062020" in failed["hint"]
    assert failed["body"]["Operations"][0]["value"] == "Nope" and failed["resource_id"] == user_id

    webhook = orjson.loads((await webhook_receiver.next(20)).body)
    assert webhook["type"] == "scim.request.failed"
    assert webhook["data"]["connection_id"] == connection["connection_id"]
    assert webhook["data"]["request"]["status"] == 400 and "aadOptscim062020" in webhook["data"]["request"]["hint"]

    assert [e["status"] for e in await _log(vendor, path, 1, status="4xx")] == [400]
    assert {e["status"] for e in await _log(vendor, path, 2, member=user_name)} == {201, 400}
    status, body = await vendor.request("GET", path + "/requests", params={"status": "teapot"})
    assert status == 400

    status, body = await vendor.request("GET", path + "/health")
    assert status == 200, body
    health = body["health"]
    assert health["requests_last_hour"] >= 2 and health["errors_last_hour"] >= 1
    assert health["users_received"] == 1 and health["groups_received"] is False
    assert any("never sent groups" in warning for warning in health["warnings"])


async def test_a_tokens_last_use_moves_within_a_second_or_so(http, gateway):
    vendor = ManagementClient(http, gateway)
    organization_id = (await create_organization(http, gateway, "touch"))["organization_id"]
    connection = await create_connection(http, gateway, organization_id)
    status, body = await vendor.request("GET", f"/v1/b2b/scim/{organization_id}/connection")
    assert body["connection"]["bearer_token_last_used_at"] is None
    async with http.get(f"{gateway.url}/scim/v2/{connection['connection_id']}/Users",
                        headers=bearer(connection)) as response:
        assert response.status == 200
    for _ in range(POLLS):
        status, body = await vendor.request("GET", f"/v1/b2b/scim/{organization_id}/connection")
        if body["connection"]["bearer_token_last_used_at"]:
            break
        await asyncio.sleep(0.05)
    assert body["connection"]["bearer_token_last_used_at"], body


async def test_entries_past_the_retention_are_forgotten(http, gateway, running_services):
    from datetime import timedelta

    import asyncpg

    from runtime.db import create_pool
    from services.directory.request_log_repository import forget_old

    vendor = ManagementClient(http, gateway)
    organization_id = (await create_organization(http, gateway, "retain"))["organization_id"]
    connection = await create_connection(http, gateway, organization_id)
    path = f"/v1/b2b/scim/{organization_id}/connection/{connection['connection_id']}"
    for _ in range(2):
        async with http.get(f"{gateway.url}/scim/v2/{connection['connection_id']}/Groups",
                            headers=bearer(connection)) as response:
            assert response.status == 200
    entries = await _log(vendor, path, 2)
    admin = await asyncpg.connect(running_services.database_url)
    try:
        await admin.execute("UPDATE directory.request_log SET created_at = now() - interval '8 days'"
                            " WHERE organization_id = $1 AND request_id = $2", organization_id, entries[1]["request_id"])
    finally:
        await admin.close()
    pool = await create_pool(running_services.database_url, "directory")
    try:
        assert await forget_old(pool.shared, timedelta(days=7)) >= 1
    finally:
        await pool.close()
    left = (await vendor.request("GET", path + "/requests"))[1]["requests"]
    assert [e["request_id"] for e in left] == [entries[0]["request_id"]]


async def test_a_gateway_may_keep_no_bodies_or_nothing(http, gateway, running_services):
    """SCIMD_REQUEST_LOG=metadata keeps entries without bodies; off keeps none (but still each token's last use)."""
    from dataclasses import replace

    from cli.processes import free_port
    from gateway.serving import start_gateway
    from tests.conftest import Gateway

    vendor = ManagementClient(http, gateway)
    for keep in ("metadata", "off"):
        port = free_port()
        settings = replace(running_services, http_port=port, public_url=f"http://127.0.0.1:{port}", request_log=keep)
        runner = await start_gateway(settings, host="127.0.0.1")
        try:
            other = Gateway(settings)
            organization_id = (await create_organization(http, other, keep))["organization_id"]
            connection = await create_connection(http, other, organization_id)
            path = f"/v1/b2b/scim/{organization_id}/connection/{connection['connection_id']}"
            async with http.post(f"{other.url}/scim/v2/{connection['connection_id']}/Users", headers=bearer(connection),
                                 json=scim_user(f"{keep}-{uuid.uuid4().hex[:6]}@example.com")) as response:
                assert response.status == 201
        finally:
            await runner.cleanup()  # the recorder flushes what it holds as the gateway stops
        status, body = await vendor.request("GET", path + "/requests")
        if keep == "metadata":
            [entry] = body["requests"]
            assert entry["status"] == 201 and entry["body"] is None
        else:
            assert body["requests"] == []
        status, body = await vendor.request("GET", f"/v1/b2b/scim/{organization_id}/connection")
        assert body["connection"]["bearer_token_last_used_at"], keep
