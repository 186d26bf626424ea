"""Member events through the outbox to signed webhooks: create, update with
previous_attributes, delete — each after its transaction commits."""

import orjson
from standardwebhooks import Webhook

from tests.gateway.scim_client import new_client
from tests.support import post_json, scim_user


async def _events_for(receiver, secret: str, member_id: str, wanted: int) -> list[dict]:
    found = []
    for _ in range(500):
        delivered = await receiver.next(timeout=20)
        payload = Webhook(secret).verify(delivered.body, delivered.headers)
        if payload["data"].get("id") == member_id:
            found.append(payload)
            if len(found) == wanted:
                return found
    raise AssertionError("events missing")


async def test_update_and_delete_events(http, gateway, webhook_receiver):
    scim = await new_client(http, gateway)
    status, body = await post_json(http, f"{gateway.url}/v1/webhooks/endpoints", {"url": webhook_receiver.url}, headers=gateway.auth)
    assert status == 201
    secret = body["endpoint"]["secret"]
    user = await scim.create_user(scim_user("events@example.com", displayName="Before"))
    await scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "displayName", "value": "After"})
    await scim.patch(f"/Users/{user['id']}", {"op": "replace", "value": {"active": False}})
    assert (await scim.request("DELETE", f"/Users/{user['id']}")).status == 204
    # Per-resource delivery order is the webhooks issue's; here the commit order is checked by timestamp.
    events = sorted(await _events_for(webhook_receiver, secret, user["id"], 4), key=lambda e: e["timestamp"])
    assert [e["type"] for e in events] == ["scim.member.create", "scim.member.update", "scim.member.update", "scim.member.delete"]
    rename, deactivate, delete = events[1]["data"], events[2]["data"], events[3]["data"]
    assert rename["previous_attributes"] == {"scim_attributes": {"displayName": "Before"}}
    assert rename["member"]["scim_registration"]["scim_attributes"]["displayName"] == "After"
    assert deactivate["previous_attributes"]["status"] == "active"
    assert deactivate["member"]["status"] == "deactivated"
    assert delete["member"]["status"] == "deleted" and delete["action"] == "DELETE"
    assert orjson.dumps(events)  # plain JSON all the way


async def test_group_events(http, gateway, webhook_receiver):
    """scim.idp_group.create / update / member_add / member_delete / delete, signed, one per change."""
    scim = await new_client(http, gateway)
    status, body = await post_json(
        http, f"{gateway.url}/v1/webhooks/endpoints",
        {"url": webhook_receiver.url, "event_types": [
            "scim.idp_group.create", "scim.idp_group.update", "scim.idp_group.member_add",
            "scim.idp_group.member_delete", "scim.idp_group.delete"]},
        headers=gateway.auth,
    )
    secret = body["endpoint"]["secret"]
    user = await scim.create_user(scim_user("group-events@example.com"))
    reply = await scim.request("POST", "/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                                    "displayName": "Events", "members": [{"value": user["id"]}]})
    group_id = reply.body["id"]
    await scim.patch(f"/Groups/{group_id}", {"op": "replace", "path": "displayName", "value": "Renamed"})
    await scim.patch(f"/Groups/{group_id}", {"op": "remove", "path": f'members[value eq "{user["id"]}"]'})
    assert (await scim.request("DELETE", f"/Groups/{group_id}")).status == 204
    events = sorted(await _events_for(webhook_receiver, secret, group_id, 5), key=lambda e: e["timestamp"])
    assert sorted(e["type"] for e in events) == sorted([
        "scim.idp_group.create", "scim.idp_group.member_add", "scim.idp_group.update",
        "scim.idp_group.member_delete", "scim.idp_group.delete"])
    by_type = {e["type"]: e["data"] for e in events}
    assert by_type["scim.idp_group.member_add"]["member_ids"] == [user["id"]]
    assert by_type["scim.idp_group.update"]["previous_attributes"] == {"display_name": "Events"}
    assert by_type["scim.idp_group.update"]["idp_group"]["group_name"] == "Renamed"
    assert by_type["scim.idp_group.delete"]["object_type"] == "idp_group"
