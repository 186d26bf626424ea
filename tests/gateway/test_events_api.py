"""The pull Events API: every event of the last 30 days, subscribed to or
not, paged with a cursor that is always given, filtered by type and organization."""

from __future__ import annotations

import asyncio

import pytest

from tests.gateway.management_client import ManagementClient
from tests.support import create_connection, create_organization, post_json, scim_user


@pytest.fixture
async def vendor(http, gateway) -> ManagementClient:
    return ManagementClient(http, gateway)


async def all_events(vendor: ManagementClient, **params: str) -> tuple[list[dict], str]:
    """Every event the API has now, following next_cursor to the end (bounded)."""
    found, cursor = [], ""
    for _ in range(1000):
        query = {"limit": "200", **params, **({"after": cursor} if cursor else {})}
        status, body = await vendor.request("GET", "/v1/events", params=query)
        assert status == 200, body
        found += body["events"]
        cursor = body["next_cursor"]
        if len(body["events"]) < 200:
            return found, cursor
    raise AssertionError("no end to the events")


async def test_events_nobody_subscribes_to_can_be_pulled(http, gateway, vendor):
    organization = await create_organization(http, gateway, "pull")
    connection = await create_connection(http, gateway, organization["organization_id"])
    _, cursor = await all_events(vendor, organization_id=organization["organization_id"])
    status, created = await post_json(http, connection["base_url"] + "/Users", scim_user("pull@example.com"),
                                      headers={"Authorization": f"Bearer {connection['bearer_token']}"})
    assert status == 201

    for _ in range(100):  # the event arrives through the outbox and JetStream
        status, body = await vendor.request("GET", "/v1/events", params={
            "after": cursor, "types": "scim.member.create,scim.member.update",
            "organization_id": organization["organization_id"]})
        if body["events"]:
            break
        await asyncio.sleep(0.1)
    [event] = body["events"]
    assert event["type"] == "scim.member.create" and event["data"]["id"] == created["id"]
    assert event["data"]["organization_id"] == organization["organization_id"]
    assert body["next_cursor"] != cursor

    everything, _ = await all_events(vendor, organization_id=organization["organization_id"])
    types = [e["type"] for e in everything]
    assert "organization.create" in types and "scim.connection.create" in types and "scim.member.create" in types
    other = await create_organization(http, gateway, "other")
    theirs, _ = await all_events(vendor, organization_id=other["organization_id"], types="scim.member.create")
    assert theirs == []


@pytest.mark.parametrize("after", ["not-a-cursor", "WzEwMDAwMDAwMDAwMDAwMDAwMDAwMDBd", "WyJ4Il0"])
async def test_a_cursor_that_is_not_ours_is_400(vendor, after):
    status, body = await vendor.request("GET", "/v1/events", params={"after": after})
    assert status == 400, body


@pytest.mark.parametrize("misspelt", ["scim.member.created", "scim.user.create", "SCIM.MEMBER.CREATE", "scim.member"])
async def test_a_misspelt_event_type_is_a_400_where_it_would_silently_match_nothing(vendor, misspelt):
    status, body = await vendor.request("POST", "/v1/webhooks/endpoints",
                                        {"url": "https://hooks.scimd.test/typo", "event_types": [misspelt]})
    assert status == 400 and misspelt in body["error_message"], body
    status, body = await vendor.request("GET", "/v1/events", params={"types": f"scim.member.create,{misspelt}"})
    assert status == 400 and misspelt in body["error_message"], body
