"""Every mutating SCIM request leaves one audit entry: who (connection and
token), what (operation, resource, changed attribute names), the request id,
and how it ended, including failures and requests that changed nothing."""

from __future__ import annotations

import pytest

from tests.gateway.management_client import ManagementClient
from tests.gateway.scim_client import ScimClient
from tests.support import create_connection, create_organization, scim_user

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
async def vendor(http, gateway) -> ManagementClient:
    return ManagementClient(http, gateway)


async def _entries(vendor: ManagementClient, organization_id: str) -> list[dict]:
    entries, cursor = [], None
    for _ in range(50):
        status, body = await vendor.request(
            "GET", f"/v1/b2b/organizations/{organization_id}/audit_log",
            params={"limit": "3", **({"cursor": cursor} if cursor else {})},
        )
        assert status == 200, body
        entries += body["entries"]
        cursor = body["next_cursor"]
        if not cursor:
            return list(reversed(entries))  # oldest first
    raise AssertionError("paging did not end")


async def test_audit_trail_of_a_provisioning_session(http, gateway, vendor):
    organization = await create_organization(http, gateway, "audit")
    organization_id = organization["organization_id"]
    connection = await create_connection(http, gateway, organization_id)
    scim = ScimClient(http, connection["base_url"], connection["bearer_token"])
    user = await scim.create_user(scim_user("audited@example.com", displayName="Before"))
    request_id = "req-audit-42"
    reply = await scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "displayName", "value": "After"},
                             headers={"X-Request-Id": request_id})
    assert reply.status == 200
    await scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "displayName", "value": "After"})  # no change
    assert (await scim.request("POST", "/Users", scim_user("AUDITED@example.com"))).status == 409
    group = await scim.request("POST", "/Groups", {"schemas": [GROUP], "displayName": "Team", "members": [{"value": user["id"]}]})
    await scim.patch(f"/Groups/{group.body['id']}", {"op": "remove", "path": f'members[value eq "{user["id"]}"]'})
    assert (await scim.request("DELETE", f"/Users/{user['id']}")).status == 204
    assert (await scim.request("GET", "/Users?filter=userName%20eq%20%22x%22")).status == 200  # reads are not audited

    entries = await _entries(vendor, organization_id)
    summary = [(e["operation"], e["resource_type"], e["changed_attributes"], e["result"]) for e in entries]
    assert summary == [
        ("create", "User", ["active", "displayName", "emails", "name", "userName"], "succeeded"),
        ("patch", "User", ["displayName"], "succeeded"),
        ("patch", "User", [], "unchanged"),
        ("create", "User", ["active", "emails", "name", "userName"], "uniqueness"),
        ("create", "Group", ["displayName", "members"], "succeeded"),
        ("patch", "Group", ["members"], "succeeded"),
        ("delete", "User", [], "succeeded"),
    ]
    assert all(e["connection_id"] == connection["connection_id"] for e in entries)
    assert all(e["token_id"] and e["token_id"] in connection["bearer_token"] for e in entries)
    assert entries[1]["request_id"] == request_id and entries[1]["resource_id"] == user["id"]
    assert "already in use" in entries[3]["detail"]


async def test_audit_log_is_per_organization(http, gateway, vendor):
    ours, theirs = await create_organization(http, gateway, "audit"), await create_organization(http, gateway, "audit")
    connection = await create_connection(http, gateway, theirs["organization_id"])
    await ScimClient(http, connection["base_url"], connection["bearer_token"]).create_user(scim_user("theirs@example.com"))
    assert await _entries(vendor, ours["organization_id"]) == []
    assert len(await _entries(vendor, theirs["organization_id"])) == 1
    status, _ = await vendor.request("GET", f"/v1/b2b/organizations/{ours['organization_id']}/audit_log",
                                     params={"cursor": "garbage"})
    assert status == 400
