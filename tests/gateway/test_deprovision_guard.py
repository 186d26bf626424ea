"""The mass-deprovision guard end to end (issue 17 §1): past a connection's
allowance, an IdP's deactivations and deletions are answered as usual over
SCIM, but their effects (status, sessions, webhooks) wait for approval."""

from __future__ import annotations

import asyncio
import uuid

import orjson

from tests.gateway.management_client import ManagementClient
from tests.support import bearer, create_connection, create_organization, post_json, scim_user

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
OKTA_DEACTIVATE = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]}
WEBHOOK_WAIT_SECONDS = 20
SESSION_POLLS = 200


async def _guarded_connection(http, gateway, vendor: ManagementClient, guard: dict) -> tuple[str, dict, str]:
    organization_id = (await create_organization(http, gateway, "guard"))["organization_id"]
    connection = await create_connection(http, gateway, organization_id)
    path = f"/v1/b2b/scim/{organization_id}/connection/{connection['connection_id']}"
    status, body = await vendor.request("PUT", path, {"rate_limit_per_second": 100_000})
    assert status == 200, body
    status, body = await vendor.request("PUT", path + "/deprovision_guard", guard)
    assert status == 200, body
    assert body["deprovision_guard"]["source"] == "connection"
    return organization_id, connection, path


async def _users(http, gateway, connection: dict, count: int) -> list[str]:
    base = f"{gateway.url}/scim/v2/{connection['connection_id']}"

    async def one(n: int) -> str:
        status, user = await post_json(http, f"{base}/Users", scim_user(f"guarded-{n}-{uuid.uuid4().hex[:6]}@example.com"),
                                       headers=bearer(connection))
        assert status == 201, user
        return user["id"]

    ids = []
    for start in range(0, count, 10):  # ten at a time: the connection's requests in flight are bounded
        ids += await asyncio.gather(*(one(n) for n in range(start, min(count, start + 10))))
    return ids


async def _scim(http, gateway, connection: dict, method: str, path: str, body=None) -> tuple[int, dict | None]:
    url = f"{gateway.url}/scim/v2/{connection['connection_id']}{path}"
    async with http.request(method, url, data=orjson.dumps(body) if body is not None else None,
                            headers=bearer(connection)) as response:
        return response.status, (await response.json(content_type=None) if response.status != 204 else None)


async def _status(vendor: ManagementClient, organization_id: str, member_id: str) -> str:
    return (await vendor.member(organization_id, member_id))["status"]


async def _authenticates(vendor: ManagementClient, session_token: str) -> bool:
    status, _ = await vendor.request("POST", "/v1/b2b/sessions/authenticate", {"session_token": session_token})
    return status == 200


async def _until_refused(vendor: ManagementClient, session_token: str) -> None:
    for _ in range(SESSION_POLLS):  # revocation follows the member's event
        if not await _authenticates(vendor, session_token):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the session still authenticates")


async def _webhooks(receiver, count: int) -> list[dict]:
    received = []
    for _ in range(count):
        received.append(orjson.loads((await receiver.next(WEBHOOK_WAIT_SECONDS)).body))
    return received


async def test_past_the_allowance_deprovisions_are_held_until_approved(http, gateway, webhook_receiver):
    """100 active members, 20 %: of 30 Okta deactivations exactly the first 20 take
    effect; the other 10 still authenticate, and take effect in order on approval."""
    vendor = ManagementClient(http, gateway)
    organization_id, connection, path = await _guarded_connection(
        http, gateway, vendor, {"enabled": True, "percent": 20, "window_seconds": 3600})
    members = await _users(http, gateway, connection, 100)
    status, body = await vendor.request("POST", "/v1/webhooks/endpoints", {
        "url": webhook_receiver.url, "organization_ids": [organization_id],
        "event_types": ["scim.member.update", "scim.member.delete", "scim.connection.deprovision_held"]})
    assert status == 201, body
    sessions = {}
    for member_id in members[:30]:
        status, body = await vendor.request("POST", "/v1/b2b/sessions",
                                            {"organization_id": organization_id, "member_id": member_id})
        assert status == 200, body
        sessions[member_id] = body["session_token"]

    for member_id in members[:30]:
        status, user = await _scim(http, gateway, connection, "PATCH", f"/Users/{member_id}", OKTA_DEACTIVATE)
        assert status == 200 and user["active"] is False, user  # the IdP sees what it wrote
    for member_id in members[:30]:
        status, user = await _scim(http, gateway, connection, "GET", f"/Users/{member_id}")
        assert status == 200 and user["active"] is False

    applied, held = members[:20], members[20:30]
    assert [await _status(vendor, organization_id, m) for m in applied] == ["deactivated"] * 20
    assert [await _status(vendor, organization_id, m) for m in held] == ["active"] * 10
    status, body = await vendor.request("GET", path + "/held_deprovisions")
    assert status == 200 and [h["member_id"] for h in body["held_deprovisions"]] == held
    assert {h["change"] for h in body["held_deprovisions"]} == {"deactivate"}
    status, body = await vendor.request("GET", f"/v1/b2b/scim/{organization_id}/connection")
    assert body["connection"]["held_deprovisions"] == 10  # the management API's banner
    for member_id in applied:
        await _until_refused(vendor, sessions[member_id])
    for member_id in held:
        assert await _authenticates(vendor, sessions[member_id]), "a held deactivation ended a session"

    first = await _webhooks(webhook_receiver, 21)
    updates = [w["data"]["id"] for w in first if w["type"] == "scim.member.update"]
    assert sorted(updates) == sorted(applied)
    [held_event] = [w for w in first if w["type"] == "scim.connection.deprovision_held"]
    assert held_event["data"]["connection_id"] == connection["connection_id"]
    assert held_event["data"]["first_held"] == {"member_id": held[0], "change": "deactivate"}
    assert held_event["data"]["allowance"] == 20

    status, body = await vendor.request("POST", path + "/held_deprovisions/approve")
    assert status == 200 and [h["member_id"] for h in body["approved"]] == held
    after = await _webhooks(webhook_receiver, 10)
    assert [w["type"] for w in after] == ["scim.member.update"] * 10
    # Committed in the order they were held (different members' deliveries may overtake each other).
    assert [w["data"]["id"] for w in sorted(after, key=lambda w: w["timestamp"])] == held
    assert all(w["data"]["previous_attributes"] == {"status": "active"} for w in after)
    for member_id in held:
        assert await _status(vendor, organization_id, member_id) == "deactivated"
        await _until_refused(vendor, sessions[member_id])
    status, body = await vendor.request("GET", path + "/held_deprovisions")
    assert body["held_deprovisions"] == []


async def test_below_the_allowance_nothing_is_held_and_deletions_count(http, gateway):
    vendor = ManagementClient(http, gateway)
    organization_id, connection, path = await _guarded_connection(
        http, gateway, vendor, {"enabled": True, "max_count": 3, "window_seconds": 3600})
    members = await _users(http, gateway, connection, 10)
    for member_id in members[:2]:
        assert (await _scim(http, gateway, connection, "PATCH", f"/Users/{member_id}", OKTA_DEACTIVATE))[0] == 200
    assert (await _scim(http, gateway, connection, "DELETE", f"/Users/{members[2]}"))[0] == 204
    assert (await vendor.request("GET", path + "/held_deprovisions"))[1]["held_deprovisions"] == []
    # Deleting a member already deactivated takes nothing more away: not counted, not held.
    assert (await _scim(http, gateway, connection, "DELETE", f"/Users/{members[0]}"))[0] == 204
    assert (await vendor.request("GET", f"/v1/b2b/organizations/{organization_id}/members/{members[0]}"))[0] == 404

    # The allowance is used up: a deletion is held. The IdP sees the user gone; the app, still active.
    assert (await _scim(http, gateway, connection, "DELETE", f"/Users/{members[3]}"))[0] == 204
    assert (await _scim(http, gateway, connection, "GET", f"/Users/{members[3]}"))[0] == 404
    status, listed = await _scim(http, gateway, connection, "GET", "/Users?count=100")
    assert members[3] not in [u["id"] for u in listed["Resources"]]
    assert await _status(vendor, organization_id, members[3]) == "active"
    assert (await _scim(http, gateway, connection, "PATCH", f"/Users/{members[4]}", OKTA_DEACTIVATE))[0] == 200
    held = (await vendor.request("GET", path + "/held_deprovisions"))[1]["held_deprovisions"]
    assert [(h["member_id"], h["change"]) for h in held] == [(members[3], "delete"), (members[4], "deactivate")]

    status, body = await vendor.request("POST", path + "/held_deprovisions/reject")
    assert status == 200 and [h["member_id"] for h in body["rejected"]] == [members[3], members[4]]
    assert await _status(vendor, organization_id, members[3]) == "active"
    assert await _status(vendor, organization_id, members[4]) == "active"
    status, user = await _scim(http, gateway, connection, "GET", f"/Users/{members[4]}")
    assert user["active"] is False  # the IdP keeps seeing what it wrote, so it does not write it again
    status, audit = await vendor.request("GET", f"/v1/b2b/organizations/{organization_id}/audit_log",
                                         params={"limit": "50"})
    rejected = [e for e in audit["entries"] if e["operation"] == "reject_deprovision"]
    assert sorted(e["resource_id"] for e in rejected) == sorted(members[3:5])

    # The IdP takes the deactivation back: nothing changes for the app, and nothing is held.
    reactivate = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": True}}]}
    status, user = await _scim(http, gateway, connection, "PATCH", f"/Users/{members[4]}", reactivate)
    assert status == 200 and user["active"] is True
    assert await _status(vendor, organization_id, members[4]) == "active"


async def test_held_deprovisions_apply_by_themselves_after_the_auto_apply_time(http, gateway, running_services):
    from datetime import datetime, timedelta, timezone

    from runtime.db import create_pool
    from runtime.events import EventStream
    from services.directory.service import DirectoryServicer

    vendor = ManagementClient(http, gateway)
    organization_id, connection, path = await _guarded_connection(
        http, gateway, vendor, {"enabled": True, "max_count": 1, "window_seconds": 3600, "auto_apply_seconds": 600})
    members = await _users(http, gateway, connection, 3)
    for member_id in members[:2]:
        assert (await _scim(http, gateway, connection, "PATCH", f"/Users/{member_id}", OKTA_DEACTIVATE))[0] == 200
    assert await _status(vendor, organization_id, members[1]) == "active"  # held
    pool = await create_pool(running_services.database_url, "directory")
    try:
        # The service's periodic job, run here with a clock of the test's choosing.
        servicer = DirectoryServicer(pool, EventStream(running_services.nats_prefix), running_services.project_id)
        now = datetime.now(timezone.utc)
        await servicer.apply_overdue(now + timedelta(seconds=540))  # (other tests' connections may be due)
        assert await _status(vendor, organization_id, members[1]) == "active"  # not yet ours
        assert await servicer.apply_overdue(now + timedelta(seconds=660)) >= 1
    finally:
        await pool.close()
    assert await _status(vendor, organization_id, members[1]) == "deactivated"
    assert (await vendor.request("GET", path + "/held_deprovisions"))[1]["held_deprovisions"] == []
