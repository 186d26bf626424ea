"""SCIM /Groups against the running gateway and services (RFC 7644 sections
in the docstrings), with the membership dialects of Okta and Entra checked
against a model of the expected membership."""

import asyncio
import uuid

import pytest

from tests.gateway.scim_client import new_client
from tests.support import scim_user

CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
async def scim(http, gateway):
    return await new_client(http, gateway)


async def _users(scim, count: int) -> list[str]:
    created = await asyncio.gather(*(
        scim.create_user(scim_user(f"g{i}-{uuid.uuid4().hex[:8]}@example.com")) for i in range(count)
    ))
    return [user["id"] for user in created]


async def _group(scim, members: list[str] = (), name: str | None = None) -> dict:
    reply = await scim.request("POST", "/Groups", {
        "schemas": [CORE_GROUP], "displayName": name or f"Group {uuid.uuid4().hex[:8]}",
        "members": [{"value": m} for m in members],
    })
    assert reply.status == 201, reply.body
    return reply.body


async def _members(scim, group_id: str) -> set[str]:
    reply = await scim.request("GET", f"/Groups/{group_id}")
    assert reply.status == 200, reply.body
    return {m["value"] for m in reply.body.get("members", [])}


async def test_create_get_and_render(scim):
    """RFC 7644 §3.3, RFC 7643 §4.2: 201 with members as {value, display, $ref, type}."""
    users = await _users(scim, 2)
    group = await _group(scim, users)
    assert group["schemas"] == [CORE_GROUP]
    assert {m["value"] for m in group["members"]} == set(users)
    assert all(m["$ref"].endswith(f"/Users/{m['value']}") and m["display"] for m in group["members"])
    assert group["meta"]["resourceType"] == "Group"
    assert (await scim.request("GET", f"/Groups/{group['id']}")).body == group


async def test_display_name_is_unique_per_connection(scim):
    name = f"Admins {uuid.uuid4().hex[:6]}"
    await _group(scim, name=name)
    reply = await scim.request("POST", "/Groups", {"schemas": [CORE_GROUP], "displayName": name.upper()})
    assert reply.status == 409 and reply.body["scimType"] == "uniqueness"


async def test_unknown_member_is_invalid_value_and_nothing_applied(scim):
    users = await _users(scim, 1)
    group = await _group(scim, users)
    reply = await scim.patch(f"/Groups/{group['id']}",
                             {"op": "add", "path": "members", "value": [{"value": users[0]}, {"value": "member-ghost"}]},
                             {"op": "replace", "path": "displayName", "value": "Renamed"})
    assert reply.status == 400 and reply.body["scimType"] == "invalidValue"
    current = await scim.request("GET", f"/Groups/{group['id']}")
    assert current.body["displayName"] == group["displayName"] and current.body["meta"]["version"] == group["meta"]["version"]


async def test_okta_membership_dialect(scim):
    """Okta: remove with members[value eq], add with path members, replace members [...] and []."""
    a, b, c = await _users(scim, 3)
    group = await _group(scim, [a, b])
    model = {a, b}
    reply = await scim.patch(f"/Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{a}"]'})
    model -= {a}
    assert reply.status in (200, 204) and await _members(scim, group["id"]) == model
    await scim.patch(f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": c, "display": "c"}]})
    model |= {c}
    assert await _members(scim, group["id"]) == model
    await scim.patch(f"/Groups/{group['id']}", {"op": "replace", "path": "members", "value": [{"value": a}]})
    assert await _members(scim, group["id"]) == {a}
    emptied = await scim.patch(f"/Groups/{group['id']}", {"op": "replace", "path": "members", "value": []})
    assert emptied.status in (200, 204) and await _members(scim, group["id"]) == set()


async def test_okta_rename_repeating_id(scim):
    group = await _group(scim)
    reply = await scim.patch(f"/Groups/{group['id']}", {"op": "replace", "value": {"id": group["id"], "displayName": "Renamed"}})
    assert reply.status == 200 and reply.body["displayName"] == "Renamed"


async def test_entra_membership_dialect(scim):
    """Entra: "Add"/"Remove" with path members and a value list; remove only the listed members."""
    a, b, c, d = await _users(scim, 4)
    group = await _group(scim, [a, b, c])
    await scim.patch(f"/Groups/{group['id']}", {"op": "Add", "path": "members", "value": [{"value": d}]})
    await scim.patch(f"/Groups/{group['id']}", {"op": "Remove", "path": "members", "value": [{"value": a}, {"value": b}]})
    assert await _members(scim, group["id"]) == {c, d}


async def test_no_path_add_with_members(scim):
    a, b = await _users(scim, 2)
    group = await _group(scim, [a])
    await scim.patch(f"/Groups/{group['id']}", {"op": "add", "value": {"members": [{"value": b}]}})
    assert await _members(scim, group["id"]) == {a, b}


async def test_entra_reads_groups_without_members(scim):
    """Entra lists groups with excludedAttributes=members (RFC 7644 §3.4.2.5)."""
    users = await _users(scim, 2)
    group = await _group(scim, users)
    reply = await scim.request("GET", "/Groups", params={
        "filter": f'displayName eq "{group["displayName"]}"', "excludedAttributes": "members"})
    assert reply.body["totalResults"] == 1 and "members" not in reply.body["Resources"][0]


async def test_group_filters(scim):
    """RFC 7644 §3.4.2.2 on Groups: displayName, externalId, id and members value paths."""
    a, b = await _users(scim, 2)
    group = await _group(scim, [a])
    cases = {
        f'displayName eq "{group["displayName"]}"': 1,
        f'id eq "{group["id"]}" and members[value eq "{a}"]': 1,
        f'id eq "{group["id"]}" and members[value eq "{b}"]': 0,
        f'members.value eq "{a}"': 1,
    }
    for expression, expected in cases.items():
        reply = await scim.request("GET", "/Groups", params={"filter": expression})
        assert reply.status == 200 and reply.body["totalResults"] == expected, expression


async def test_put_replaces_members(scim):
    a, b, c = await _users(scim, 3)
    group = await _group(scim, [a, b])
    reply = await scim.request("PUT", f"/Groups/{group['id']}", {
        "schemas": [CORE_GROUP], "displayName": "Replaced", "members": [{"value": c}]})
    assert reply.status == 200 and reply.body["displayName"] == "Replaced"
    assert await _members(scim, group["id"]) == {c}


async def test_delete_group_and_deleted_user_leaves_groups(scim):
    a, b = await _users(scim, 2)
    group = await _group(scim, [a, b])
    assert (await scim.request("DELETE", f"/Users/{a}")).status == 204
    assert await _members(scim, group["id"]) == {b}
    assert (await scim.request("DELETE", f"/Groups/{group['id']}")).status == 204
    assert (await scim.request("GET", f"/Groups/{group['id']}")).status == 404


async def test_concurrent_membership_patches_lose_nothing(scim):
    """50 concurrent PATCHes on one group, each adding one member: all 50 end up in it."""
    users = await _users(scim, 50)
    group = await _group(scim)
    replies = await asyncio.gather(*(
        scim.patch(f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": u}]}) for u in users
    ))
    assert all(r.status in (200, 204) for r in replies)
    assert await _members(scim, group["id"]) == set(users)


async def test_large_group_patch_answers_204(scim, gateway):
    """RFC 7644 §3.5.2: a PATCH may answer 204; above the configured size it does."""
    limit = gateway.settings.group_response_member_limit
    users = await _users(scim, min(limit + 1, 1001))
    group = await _group(scim, users[:-1])
    reply = await scim.patch(f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": users[-1]}]})
    assert reply.status == 204 and reply.body is None
    small = await scim.patch(f"/Groups/{group['id']}?excludedAttributes=members",
                             {"op": "replace", "path": "displayName", "value": "Big"})
    assert small.status == 200 and "members" not in small.body


async def test_other_connection_cannot_touch_groups(http, gateway, scim):
    users = await _users(scim, 1)
    group = await _group(scim, users)
    stranger = await new_client(http, gateway)
    assert (await stranger.request("GET", f"/Groups/{group['id']}")).status == 404
    stranger_reply = await stranger.patch(f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": users[0]}]})
    assert stranger_reply.status == 404
    own_group = await _group(stranger)
    foreign = await stranger.patch(f"/Groups/{own_group['id']}", {"op": "add", "path": "members", "value": [{"value": users[0]}]})
    assert foreign.status == 400 and foreign.body["scimType"] == "invalidValue"


async def test_root_search_spans_users_and_groups(scim):
    """RFC 7644 §3.4.3: POST /.search over every resource type."""
    users = await _users(scim, 2)
    await _group(scim, users)
    reply = await scim.request("POST", "/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})
    assert reply.status == 200 and reply.body["totalResults"] == 3
    types = [r["meta"]["resourceType"] for r in reply.body["Resources"]]
    assert types == ["User", "User", "Group"]
    second_page = await scim.request("POST", "/.search", {"startIndex": 3, "count": 5})
    assert [r["meta"]["resourceType"] for r in second_page.body["Resources"]] == ["Group"]


async def test_groups_in_bulk(scim):
    users = await _users(scim, 1)
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "u", "data": scim_user(f"bulk-{uuid.uuid4().hex[:6]}@example.com")},
        {"method": "POST", "path": "/Groups", "bulkId": "g",
         "data": {"schemas": [CORE_GROUP], "displayName": f"Bulk {uuid.uuid4().hex[:6]}",
                  "members": [{"value": "bulkId:u"}, {"value": users[0]}]}},
    ]}
    reply = await scim.request("POST", "/Bulk", body)
    assert [op["status"] for op in reply.body["Operations"]] == ["201", "201"]
    group_id = reply.body["Operations"][1]["location"].rsplit("/", 1)[1]
    assert len(await _members(scim, group_id)) == 2


async def test_users_groups_attribute_reflects_membership(scim):
    """RFC 7643 §4.1.2: a user's read-only groups attribute lists its groups."""
    (a,) = await _users(scim, 1)
    group = await _group(scim, [a])
    user = await scim.request("GET", f"/Users/{a}")
    assert [(g["value"], g["display"]) for g in user.body["groups"]] == [(group["id"], group["displayName"])]
    assert user.body["groups"][0]["$ref"].endswith(f"/Groups/{group['id']}")
    listed = await scim.request("GET", "/Users", params={"filter": f'id eq "{a}"'})
    assert listed.body["Resources"][0]["groups"] == user.body["groups"]
    await scim.patch(f"/Groups/{group['id']}", {"op": "remove", "path": "members", "value": [{"value": a}]})
    assert "groups" not in (await scim.request("GET", f"/Users/{a}")).body


async def test_a_page_of_groups_lists_a_bounded_number_of_members(scim, monkeypatch):
    """Issue 16 §2: GET /Groups?count=1000 read every member of every group.
    A page stops before its members pass the budget (RFC 7644 §3.4.2.4:
    itemsPerPage may be less than count); the client pages on from there."""
    from gateway.scim import groups_api

    monkeypatch.setattr(groups_api, "LIST_MEMBER_BUDGET", 5)
    users = await _users(scim, 3)
    prefix = f"budget-{uuid.uuid4().hex[:6]}"
    for n in range(3):
        await _group(scim, users, name=f"{prefix}-{n}")
    query = {"filter": f'displayName sw "{prefix}"', "sortBy": "displayName", "count": "10"}
    seen = []
    for _ in range(5):
        reply = await scim.request("GET", "/Groups", params={**query, "startIndex": str(len(seen) + 1)})
        assert reply.status == 200 and reply.body["totalResults"] == 3
        assert reply.body["itemsPerPage"] == len(reply.body["Resources"]) == 1  # 3 + 3 members > 5
        seen += [g["displayName"] for g in reply.body["Resources"]]
        if len(seen) == 3:
            break
    assert seen == [f"{prefix}-{n}" for n in range(3)]
    without = await scim.request("GET", "/Groups", params={**query, "excludedAttributes": "members"})
    assert without.body["itemsPerPage"] == 3
