"""Webhook endpoints through the management API, over the whole running
system: update with If-Match, secret rotation, the delivery log, replays,
per-resource order, and the SSRF guard's refusals."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import nats
import orjson
import pytest
from scimd.events.v1 import event_pb2
from standardwebhooks import Webhook

from tests.gateway.management_client import ManagementClient
from tests.gateway.scim_client import new_client
from tests.support import WebhookReceiver, bearer, create_connection, create_organization, post_json, scim_user

DEADLINE_S = 20


@pytest.fixture
async def vendor(http, gateway) -> ManagementClient:
    return ManagementClient(http, gateway)


@pytest.fixture
async def endpoint(vendor, webhook_receiver):
    status, body = await vendor.request(
        "POST", "/v1/webhooks/endpoints", {"url": webhook_receiver.url, "event_types": ["scim.member.create", "scim.member.update"]}
    )
    assert status == 201, body
    yield body["endpoint"]
    await vendor.request("DELETE", f"/v1/webhooks/endpoints/{body['endpoint']['endpoint_id']}")


async def _received_for(receiver, member_id: str, wanted: int) -> list:
    found = []
    while len(found) < wanted:
        delivered = await receiver.next(timeout=DEADLINE_S)
        if orjson.loads(delivered.body)["data"]["id"] == member_id:
            found.append(delivered)
    return found


async def _attempts(vendor, path: str, wanted: int) -> list[dict]:
    """The log's attempts once there are `wanted` (a delivery is logged just after its response)."""
    for _ in range(DEADLINE_S * 20):
        status, body = await vendor.request("GET", path)
        assert status == 200, body
        if len(body["attempts"]) >= wanted:
            return body["attempts"]
        await asyncio.sleep(0.05)  # polling the log for the effect, with a deadline
    raise AssertionError(f"fewer than {wanted} attempts at {path}")


async def test_delivery_log_and_replays(http, gateway, vendor, endpoint, webhook_receiver):
    scim = await new_client(http, gateway)
    # The range replay below covers this test's events only: the system is shared, and replaying
    # every other test's events too would queue thousands of deliveries ahead of ours.
    began = datetime.now(timezone.utc) - timedelta(seconds=1)
    user = await scim.create_user(scim_user("log@example.com"))
    [delivered] = await _received_for(webhook_receiver, user["id"], 1)
    event_id = delivered.headers["webhook-id"]
    endpoint_id = endpoint["endpoint_id"]

    ours = f"/v1/webhooks/endpoints/{endpoint_id}/attempts?event_id={event_id}"
    [attempt] = await _attempts(vendor, ours, 1)
    assert attempt["endpoint_id"] == endpoint_id and attempt["status_code"] == 200
    assert attempt["outcome"] == "succeeded" and attempt["response_snippet"] == "ok"
    assert attempt["latency_ms"] > 0 and attempt["next_attempt_at"] is None and attempt["error"] is None
    # The event's log lists its attempts to every endpoint (other tests' endpoints may subscribe too).
    of_event = await _attempts(vendor, f"/v1/webhooks/events/{event_id}/attempts", 1)
    assert attempt in of_event and {a["event_id"] for a in of_event} == {event_id}

    status, body = await vendor.request("POST", f"/v1/webhooks/events/{event_id}/replay", {"endpoint_id": endpoint_id})
    assert status == 202 and body["deliveries_scheduled"] == 1
    [again] = await _received_for(webhook_receiver, user["id"], 1)
    assert again.headers["webhook-id"] == event_id and again.body == delivered.body

    now = datetime.now(timezone.utc)
    status, body = await vendor.request("POST", f"/v1/webhooks/endpoints/{endpoint_id}/replay", {
        "start_time": began.isoformat(), "end_time": (now + timedelta(seconds=1)).isoformat(),
    })
    assert status == 202 and body["deliveries_scheduled"] >= 1
    [third] = await _received_for(webhook_receiver, user["id"], 1)
    assert third.headers["webhook-id"] == event_id
    assert len(await _attempts(vendor, ours, 3)) == 3

    status, body = await vendor.request("POST", "/v1/webhooks/events/event-nope/replay", {})
    assert status == 404
    status, body = await vendor.request("POST", f"/v1/webhooks/endpoints/{endpoint_id}/replay", {"start_time": "x", "end_time": "y"})
    assert status == 400


async def test_a_members_events_arrive_in_commit_order(http, gateway, endpoint, webhook_receiver):
    scim = await new_client(http, gateway)
    user = await scim.create_user(scim_user("order@example.com", displayName="v0"))
    for version in range(1, 6):
        await scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "displayName", "value": f"v{version}"})
    arrived = await _received_for(webhook_receiver, user["id"], 6)
    names = [orjson.loads(d.body)["data"]["member"]["scim_registration"]["scim_attributes"]["displayName"] for d in arrived]
    assert names == [f"v{n}" for n in range(6)]  # as they arrived, not sorted afterwards
    assert orjson.loads(arrived[0].body)["type"] == "scim.member.create"


async def test_update_with_if_match_and_rotation_with_two_signatures(http, gateway, vendor, endpoint, webhook_receiver):
    path = f"/v1/webhooks/endpoints/{endpoint['endpoint_id']}"
    status, body = await vendor.request("PUT", path, {"enabled": False}, headers={"If-Match": "999"})
    assert status == 412, body
    status, body = await vendor.request("PUT", path, {"event_types": ["scim.member.create"], "organization_ids": []},
                                        headers={"If-Match": endpoint["etag"]})
    assert status == 200 and body["endpoint"]["event_types"] == ["scim.member.create"]
    assert body["endpoint"]["etag"] != endpoint["etag"]

    status, body = await vendor.request("POST", f"{path}/rotate_secret", {"grace_period_seconds": 600})
    assert status == 200 and body["endpoint"]["secret"] != endpoint["secret"]
    new_secret = body["endpoint"]["secret"]
    assert body["endpoint"]["previous_secret_expires_at"] is not None
    scim = await new_client(http, gateway)
    user = await scim.create_user(scim_user("rotated@example.com"))
    [delivered] = await _received_for(webhook_receiver, user["id"], 1)
    assert len(delivered.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], new_secret):
        assert Webhook(secret).verify(delivered.body, delivered.headers)["data"]["id"] == user["id"]


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest", "http://[::ffff:10.0.0.1]/", "http://0x0a000001/"])
async def test_internal_urls_are_refused(vendor, url):
    status, body = await vendor.request("POST", "/v1/webhooks/endpoints", {"url": url})
    assert status == 400 and body["error_type"] == "invalid_value", body


async def test_an_endpoint_answering_410_is_disabled_and_the_event_reaches_nats_too(http, gateway, vendor, nats_url):
    """410 Gone disables the endpoint; webhook_endpoint.disabled is delivered
    to the endpoints that subscribe to it and published on NATS, with the
    same event id, for internal services."""
    organization = await create_organization(http, gateway, "gone")
    connection = await create_connection(http, gateway, organization["organization_id"])
    subject = f"{gateway.settings.nats_prefix}.events.*.webhook_endpoint.disabled"
    nc = await nats.connect(nats_url)
    published: asyncio.Queue = asyncio.Queue()
    await nc.subscribe(subject, cb=published.put)
    async with WebhookReceiver() as gone, WebhookReceiver() as watcher:
        gone.status = 410
        status, body = await vendor.request("POST", "/v1/webhooks/endpoints", {
            "url": gone.url, "event_types": ["scim.member.create"],
            "organization_ids": [organization["organization_id"]]})
        assert status == 201, body
        gone_id = body["endpoint"]["endpoint_id"]
        status, body = await vendor.request("POST", "/v1/webhooks/endpoints", {
            "url": watcher.url, "event_types": ["webhook_endpoint.disabled"]})
        assert status == 201, body
        watcher_id = body["endpoint"]["endpoint_id"]
        try:
            status, _ = await post_json(http, connection["base_url"] + "/Users", scim_user("gone@example.com"),
                                        headers=bearer(connection))
            assert status == 201
            await gone.next(timeout=DEADLINE_S)
            while True:  # other tests' endpoints may be disabled meanwhile
                told = await watcher.next(timeout=DEADLINE_S)
                data = orjson.loads(told.body)["data"]
                if data["id"] == gone_id:
                    break
            assert data["reason"] == "gone" and data["webhook_endpoint"]["enabled"] is False
            status, body = await vendor.request("GET", f"/v1/webhooks/endpoints/{gone_id}")
            assert status == 200 and body["endpoint"]["enabled"] is False
            assert body["endpoint"]["disabled_reason"] == "gone"
            while True:
                message = await asyncio.wait_for(published.get(), DEADLINE_S)
                event = event_pb2.Event.FromString(message.data)
                if event.endpoint_disabled.endpoint.endpoint_id == gone_id:
                    break
            assert event.event_id == told.headers["webhook-id"]
            assert event.type == "webhook_endpoint.disabled" and event.endpoint_disabled.reason == "gone"
            assert not event.endpoint_disabled.endpoint.enabled
        finally:
            await nc.close()
            for endpoint_id in (gone_id, watcher_id):
                await vendor.request("DELETE", f"/v1/webhooks/endpoints/{endpoint_id}")
