"""Cursor paging (RFC 9865) of /Users and /Groups: every resource that exists
throughout a cursor walk is listed exactly once, however many are created
and deleted between its pages, sorted or not; bad cursors are 400s."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.gateway.scim_client import ScimClient, new_client
from tests.support import scim_user

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
USERS = 300
CHURN = 60  # created and as many deleted while the walk runs
PAGE = 15


@pytest.fixture
async def scim(http, gateway) -> ScimClient:
    return await new_client(http, gateway)


async def _bulk_users(scim: ScimClient, prefix: str, count: int) -> list[str]:
    operations = [{"method": "POST", "path": "/Users", "bulkId": str(n),
                   "data": scim_user(f"{prefix}-{n:04d}-{uuid.uuid4().hex[:6]}@example.com")} for n in range(count)]
    reply = await scim.request("POST", "/Bulk", {"schemas": [BULK_REQUEST], "Operations": operations})
    assert reply.status == 200, reply.body
    assert all(op["status"] == "201" for op in reply.body["Operations"]), reply.body["Operations"][:3]
    return [op["location"].rsplit("/", 1)[1] for op in reply.body["Operations"]]


async def _walk(scim: ScimClient, path: str, params: dict, on_page=None) -> list[dict]:
    """Every page of a cursor walk; `on_page` runs between pages."""
    seen, cursor = [], ""
    for page in range(1000):  # bounded
        reply = await scim.request("GET", path, params={**params, "cursor": cursor, "count": str(PAGE)})
        assert reply.status == 200, reply.body
        assert "startIndex" not in reply.body and reply.body["itemsPerPage"] == len(reply.body["Resources"])
        seen += reply.body["Resources"]
        if "nextCursor" not in reply.body:
            return seen
        cursor = reply.body["nextCursor"]
        if on_page is not None:
            await on_page(page)
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize("sort", [{}, {"sortBy": "userName", "sortOrder": "descending"},
                                  {"sortBy": "name.familyName"}])
async def test_a_walk_lists_every_user_that_exists_throughout_exactly_once(scim, sort):
    prefix = f"cur-{uuid.uuid4().hex[:6]}"
    stable = await _bulk_users(scim, prefix, USERS)
    doomed = stable[-CHURN:]  # deleted during the walk
    stable = stable[:-CHURN]
    churn_per_page = -(-CHURN // (USERS // PAGE - 2))
    created: list[str] = []

    async def churn(page: int) -> None:
        victims, doomed[:] = doomed[:churn_per_page], doomed[churn_per_page:]
        new = [scim.create_user(scim_user(f"{prefix}-new-{uuid.uuid4().hex[:8]}@example.com"))
               for _ in range(min(churn_per_page, CHURN - len(created)))]
        results = await asyncio.gather(*new, *(scim.request("DELETE", f"/Users/{v}") for v in victims))
        created.extend(r["id"] for r in results[:len(new)])
        assert all(r.status == 204 for r in results[len(new):])

    listed = await _walk(scim, "/Users", {"filter": f'userName sw "{prefix}"', **sort}, churn)
    ids = [u["id"] for u in listed]
    assert len(created) == CHURN and not doomed, "the churn did not all happen during the walk"
    assert not [i for i in stable if ids.count(i) != 1], "a user that existed throughout was skipped or repeated"
    assert len(ids) == len(set(ids))
    if sort.get("sortBy") == "userName":
        names = [u["userName"] for u in listed if u["id"] in set(stable)]
        assert names == sorted(names, reverse=True)


async def test_groups_page_by_cursor_and_a_page_cut_short_by_the_member_budget_continues_after_it(
        scim, monkeypatch):
    from gateway.scim import groups_api

    monkeypatch.setattr(groups_api, "LIST_MEMBER_BUDGET", 5)
    users = await _bulk_users(scim, f"gm-{uuid.uuid4().hex[:6]}", 3)
    prefix = f"curg-{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}-{n:02d}" for n in range(7)]
    for name in names:
        members = [{"value": u} for u in users] if name.endswith(("-02", "-03")) else []
        reply = await scim.request("POST", "/Groups", {"schemas": [GROUP], "displayName": name, "members": members})
        assert reply.status == 201, reply.body
    listed = await _walk(scim, "/Groups", {"filter": f'displayName sw "{prefix}"', "sortBy": "displayName"})
    assert [g["displayName"] for g in listed] == names


async def test_cursor_errors_and_the_service_provider_config(scim, http, gateway):
    await _bulk_users(scim, f"err-{uuid.uuid4().hex[:6]}", 2)
    bad = await scim.request("GET", "/Users", params={"cursor": "not-a-cursor"})
    assert (bad.status, bad.body["scimType"]) == (400, "invalidCursor")
    first = await scim.request("GET", "/Users", params={"cursor": "", "count": "1"})
    assert first.status == 200 and "nextCursor" in first.body
    cursor = first.body["nextCursor"]
    other_query = await scim.request("GET", "/Users", params={"cursor": cursor, "filter": "userName pr"})
    assert (other_query.status, other_query.body["scimType"]) == (400, "invalidCursor")
    other = await new_client(http, gateway)
    foreign = await other.request("GET", "/Users", params={"cursor": cursor})
    assert (foreign.status, foreign.body["scimType"]) == (400, "invalidCursor")
    as_groups = await scim.request("GET", "/Groups", params={"cursor": cursor})
    assert (as_groups.status, as_groups.body["scimType"]) == (400, "invalidCursor")
    both = await scim.request("GET", "/Users", params={"cursor": "", "startIndex": "2"})
    assert (both.status, both.body["scimType"]) == (400, "invalidValue")
    count = await scim.request("GET", "/Users", params={"cursor": "", "count": "0"})
    assert (count.status, count.body["scimType"]) == (400, "invalidCount")
    searched = await scim.request("POST", "/Users/.search", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "cursor": cursor, "count": 1})
    assert searched.status == 200 and searched.body["Resources"][0]["id"] != first.body["Resources"][0]["id"]
    by_index = await scim.request("GET", "/Users", params={"count": "1"})  # index paging as before
    assert by_index.body["startIndex"] == 1 and "nextCursor" not in by_index.body
    config = await scim.request("GET", "/ServiceProviderConfig")
    assert config.body["pagination"] == {"cursor": True, "index": True, "defaultPaginationMethod": "index",
                                         "defaultPageSize": 100, "maxPageSize": 1000, "cursorTimeout": 3600}


async def test_a_root_search_walks_users_then_groups_by_cursor(scim):
    prefix = f"root-{uuid.uuid4().hex[:6]}"
    users = await _bulk_users(scim, prefix, 7)
    groups = []
    for n in range(4):
        reply = await scim.request("POST", "/Groups", {"schemas": [GROUP], "displayName": f"{prefix}-g{n}"})
        groups.append(reply.body["id"])
    # The connection is the test's own: everything in it is these users and groups.
    search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": 3}
    seen, cursor = [], ""
    for _ in range(20):  # bounded
        reply = await scim.request("POST", "/.search", {**search, "cursor": cursor})
        assert reply.status == 200, reply.body
        assert reply.body["totalResults"] == 11 and "startIndex" not in reply.body
        seen += [r["id"] for r in reply.body["Resources"]]
        if "nextCursor" not in reply.body:
            break
        cursor = reply.body["nextCursor"]
    assert seen == users + groups
    as_users = await scim.request("POST", "/Users/.search", {**search, "cursor": cursor})
    assert (as_users.status, as_users.body["scimType"]) == (400, "invalidCursor")
