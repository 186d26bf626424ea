"""SCIM /Users against the running gateway and services: a compliance
checklist of RFC 7644 (each docstring names the section it checks)."""

import asyncio
import uuid

import pytest

from tests.gateway.scim_client import PATCH_OP, new_client
from tests.support import scim_user

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


@pytest.fixture
async def scim(http, gateway):
    return await new_client(http, gateway)


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


async def test_create_returns_full_resource_with_meta(scim):
    """RFC 7644 §3.3: 201 with the resource, Location, and meta (RFC 7643 §3.1)."""
    reply = await scim.request("POST", "/Users", scim_user(unique("ada"), externalId="00u1", password="secret!"))
    assert reply.status == 201 and reply.content_type == "application/scim+json"
    user = reply.body
    assert reply.headers["Location"] == user["meta"]["location"].split("?")[0]
    assert set(user["meta"]) == {"resourceType", "created", "lastModified", "location", "version"}
    assert reply.headers["ETag"] == user["meta"]["version"]
    assert user["externalId"] == "00u1" and "password" not in user


async def test_get_by_id_and_if_none_match(scim):
    """RFC 7644 §3.4.1 and §3.14: GET returns the resource; If-None-Match with the current version is 304."""
    user = await scim.create_user(scim_user(unique("get")))
    reply = await scim.request("GET", f"/Users/{user['id']}")
    assert reply.status == 200 and reply.body == user
    reply = await scim.request("GET", f"/Users/{user['id']}", headers={"If-None-Match": user["meta"]["version"]})
    assert reply.status == 304 and reply.body is None


async def test_filter_user_name_eq_is_case_insensitive(scim):
    """RFC 7644 §3.4.2.2, RFC 7643 §4.1.1: userName has caseExact false."""
    name = unique("Probe")
    user = await scim.create_user(scim_user(name))
    reply = await scim.request("GET", "/Users", params={"filter": f'userName eq "{name.upper()}"'})
    assert reply.status == 200
    assert reply.body["schemas"] == [LIST_RESPONSE]
    assert reply.body["totalResults"] == 1 and reply.body["Resources"][0]["id"] == user["id"]
    assert reply.body["itemsPerPage"] == 1 and reply.body["startIndex"] == 1


async def test_probe_for_unknown_user_is_empty_list_not_404(scim):
    """Okta and Entra probe before creating: zero results is a 200 (RFC 7644 §3.4.2)."""
    reply = await scim.request("GET", "/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'})
    assert reply.status == 200 and reply.body["totalResults"] == 0 and reply.body["Resources"] == []


async def test_external_id_is_case_exact(scim):
    """RFC 7643 §3.1: externalId has caseExact true."""
    await scim.create_user(scim_user(unique("ext"), externalId="AbC-123"))
    exact = await scim.request("GET", "/Users", params={"filter": 'externalId eq "AbC-123"'})
    other_case = await scim.request("GET", "/Users", params={"filter": 'externalId eq "abc-123"'})
    assert exact.body["totalResults"] == 1 and other_case.body["totalResults"] == 0


async def test_complex_filters(scim):
    """RFC 7644 §3.4.2.2: value paths, and/or/not, sub-attributes, URN-qualified attributes."""
    first = await scim.create_user(scim_user(unique("cf1"), **{ENTERPRISE: {"department": "R&D"}}))
    await scim.create_user(scim_user(unique("cf2"), **{ENTERPRISE: {"department": "Sales"}}))
    cases = {
        f'emails[type eq "work" and value eq "{first["userName"]}"]': 1,
        f'{ENTERPRISE}:department eq "r&d" and userName eq "{first["userName"]}"': 1,
        f'name.familyName eq "Lovelace" and not (userName eq "{first["userName"]}")': 1,
        f'userName eq "{first["userName"]}" or userName eq "nobody@example.com"': 1,
        f'id eq "{first["id"]}"': 1,
    }
    for expression, expected in cases.items():
        reply = await scim.request("GET", "/Users", params={"filter": expression})
        assert reply.status == 200, (expression, reply.body)
        assert reply.body["totalResults"] == expected, expression


@pytest.mark.parametrize("expression", ['userName eq', 'userName zz "x"', '(userName eq "x"', 'noSuchAttr eq "x"', 'active gt true'])
async def test_malformed_filters_are_invalid_filter(scim, expression):
    """RFC 7644 §3.4.2.2 and §3.12: a bad filter is 400 invalidFilter."""
    reply = await scim.request("GET", "/Users", params={"filter": expression})
    assert reply.status == 400 and reply.body["scimType"] == "invalidFilter"


async def test_paging_is_stable_and_counts(scim):
    """RFC 7644 §3.4.2.4: startIndex and count; count=0 returns only totalResults; startIndex < 1 is 1."""
    ids = [(await scim.create_user(scim_user(unique(f"page{i}"))))["id"] for i in range(7)]
    seen = []
    for start in (1, 4, 7):
        reply = await scim.request("GET", "/Users", params={"startIndex": str(start), "count": "3"})
        assert reply.body["totalResults"] == 7 and reply.body["startIndex"] == start
        assert reply.body["itemsPerPage"] == len(reply.body["Resources"])
        seen += [r["id"] for r in reply.body["Resources"]]
    assert seen == ids
    only_total = await scim.request("GET", "/Users", params={"count": "0"})
    assert only_total.body["totalResults"] == 7 and only_total.body["Resources"] == [] and only_total.body["itemsPerPage"] == 0
    below_one = await scim.request("GET", "/Users", params={"startIndex": "-5", "count": "1"})
    assert below_one.body["startIndex"] == 1 and below_one.body["Resources"][0]["id"] == ids[0]


async def test_sorting(scim):
    """RFC 7644 §3.4.2.3: sortBy and sortOrder."""
    for name in ("charlie", "alpha", "bravo"):
        await scim.create_user(scim_user(f"{name}-{uuid.uuid4().hex[:4]}@example.com"))
    ascending = await scim.request("GET", "/Users", params={"sortBy": "userName"})
    names = [r["userName"] for r in ascending.body["Resources"]]
    assert names == sorted(names, key=str.lower)
    descending = await scim.request("GET", "/Users", params={"sortBy": "userName", "sortOrder": "descending"})
    assert [r["userName"] for r in descending.body["Resources"]] == names[::-1]


async def test_search_with_post(scim):
    """RFC 7644 §3.4.3: POST /Users/.search and POST /.search take a SearchRequest."""
    user = await scim.create_user(scim_user(unique("search")))
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": f'userName eq "{user["userName"]}"', "attributes": ["userName"], "startIndex": 1, "count": 10}
    for path in ("/Users/.search", "/.search"):
        reply = await scim.request("POST", path, body)
        assert reply.status == 200 and reply.body["totalResults"] == 1
        assert set(reply.body["Resources"][0]) <= {"schemas", "id", "userName"}


async def test_attributes_and_excluded_attributes_on_reads_and_writes(scim):
    """RFC 7644 §3.4.2.5 and §3.9."""
    reply = await scim.request("POST", "/Users", scim_user(unique("proj")), params=None)
    user = reply.body
    only = await scim.request("GET", f"/Users/{user['id']}", params={"attributes": "userName,name.givenName"})
    assert set(only.body) == {"schemas", "id", "userName", "name"} and only.body["name"] == {"givenName": "Ada"}
    without = await scim.request("GET", f"/Users/{user['id']}", params={"excludedAttributes": "emails,meta"})
    assert "emails" not in without.body and "meta" not in without.body and without.body["id"] == user["id"]
    patched = await scim.request(
        "PATCH", f"/Users/{user['id']}?attributes=displayName",
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "Ada L."}]},
    )
    assert patched.status == 200 and set(patched.body) == {"schemas", "id", "displayName"}


async def test_put_replaces_and_never_creates(scim):
    """RFC 7644 §3.5.1: PUT replaces; omitted attributes are cleared; read-only ones ignored; no create."""
    user = await scim.create_user(scim_user(unique("put"), displayName="Before", title="Engineer"))
    replacement = {**scim_user(user["userName"]), "id": "ignored", "meta": {"version": "bogus"}, "displayName": "After"}
    reply = await scim.request("PUT", f"/Users/{user['id']}", replacement)
    assert reply.status == 200
    assert reply.body["displayName"] == "After" and "title" not in reply.body and reply.body["id"] == user["id"]
    assert reply.body["meta"]["version"] != user["meta"]["version"]
    missing = await scim.request("PUT", f"/Users/member-{uuid.uuid4()}", scim_user(unique("nobody")))
    assert missing.status == 404


async def test_if_match_mismatch_is_412(scim):
    """RFC 7644 §3.14: a stale If-Match fails with 412 and changes nothing."""
    user = await scim.create_user(scim_user(unique("etag")))
    first = await scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "displayName", "value": "One"},
                             headers={"If-Match": user["meta"]["version"]})
    assert first.status == 200
    stale = await scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "displayName", "value": "Two"},
                             headers={"If-Match": user["meta"]["version"]})
    assert stale.status == 412
    current = await scim.request("GET", f"/Users/{user['id']}")
    assert current.body["displayName"] == "One" and current.body["meta"]["version"] == first.body["meta"]["version"]


async def test_okta_deactivation_and_reactivation(scim):
    """Okta deactivates with a no-path replace (RFC 7644 §3.5.2.3); the user stays readable and filterable."""
    user = await scim.create_user(scim_user(unique("okta")))
    reply = await scim.patch(f"/Users/{user['id']}", {"op": "replace", "value": {"active": False}})
    assert reply.status == 200 and reply.body["active"] is False
    listed = await scim.request("GET", "/Users", params={"filter": f'userName eq "{user["userName"]}" and active eq false'})
    assert listed.body["totalResults"] == 1
    again = await scim.patch(f"/Users/{user['id']}", {"op": "replace", "value": {"active": True}})
    assert again.body["active"] is True


async def test_entra_patch_dialect(scim):
    """Entra: capitalised ops, string booleans, value-filter paths that create, manager as a bare id."""
    manager = await scim.create_user(scim_user(unique("boss")))
    user = await scim.create_user({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": unique("entra"), "active": True})
    reply = await scim.patch(
        f"/Users/{user['id']}",
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "new@example.com"},
        {"op": "Replace", "path": "name.familyName", "value": "Hopper"},
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": manager["id"]},
        {"op": "Replace", "path": "active", "value": "False"},
    )
    assert reply.status == 200, reply.body
    body = reply.body
    assert {"type": "work", "value": "new@example.com"}.items() <= body["emails"][0].items()
    assert body["name"]["familyName"] == "Hopper" and body["active"] is False
    assert body[ENTERPRISE]["manager"]["value"] == manager["id"]


async def test_patch_errors(scim):
    """RFC 7644 §3.5.2 and §3.12: invalidPath, mutability, noTarget; atomic. (A well-formed
    path no schema declares is kept as an undeclared attribute: tests/gateway/test_custom_attributes.py.)"""
    user = await scim.create_user(scim_user(unique("errs"), displayName="Keep"))
    bad_path = await scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "displayName", "value": "Changed"},
                                {"op": "replace", "path": "emails[type eq \"work\"].noSuchSub", "value": "x"})
    assert bad_path.status == 400 and bad_path.body["scimType"] == "invalidPath"
    read_only = await scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "id", "value": "x"})
    assert read_only.status == 400 and read_only.body["scimType"] == "mutability"
    unchanged = await scim.request("GET", f"/Users/{user['id']}")
    assert unchanged.body["displayName"] == "Keep" and unchanged.body["meta"]["version"] == user["meta"]["version"]


async def test_delete_then_404_and_user_name_reusable(scim):
    """RFC 7644 §3.6: DELETE is 204, then the resource is 404; the userName may be provisioned again."""
    user = await scim.create_user(scim_user(unique("del")))
    assert (await scim.request("DELETE", f"/Users/{user['id']}")).status == 204
    assert (await scim.request("GET", f"/Users/{user['id']}")).status == 404
    assert (await scim.request("DELETE", f"/Users/{user['id']}")).status == 404
    again = await scim.request("POST", "/Users", scim_user(user["userName"]))
    assert again.status == 201 and again.body["id"] != user["id"]


async def test_user_name_rename_conflict_is_409(scim):
    first = await scim.create_user(scim_user(unique("one")))
    second = await scim.create_user(scim_user(unique("two")))
    reply = await scim.patch(f"/Users/{second['id']}", {"op": "replace", "path": "userName", "value": first["userName"].upper()})
    assert reply.status == 409 and reply.body["scimType"] == "uniqueness"


async def test_concurrent_patches_lose_no_update(scim):
    """RFC 7644 §3.14 goal: concurrent writers never lose an update (each PATCH adds one email)."""
    user = await scim.create_user({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": unique("race")})
    replies = await asyncio.gather(*(
        scim.patch(f"/Users/{user['id']}", {"op": "add", "path": "emails", "value": [{"value": f"e{i}@example.com", "type": "other"}]})
        for i in range(20)
    ))
    assert all(r.status == 200 for r in replies)
    final = await scim.request("GET", f"/Users/{user['id']}")
    assert sorted(e["value"] for e in final.body["emails"]) == sorted(f"e{i}@example.com" for i in range(20))


async def test_other_connection_cannot_see_or_touch_users(http, gateway, scim):
    """Tenant isolation: another connection's ids are 404 and its users never listed."""
    user = await scim.create_user(scim_user(unique("mine")))
    stranger = await new_client(http, gateway)
    for method, body in (("GET", None), ("PUT", scim_user(unique("x"))), ("DELETE", None)):
        assert (await stranger.request(method, f"/Users/{user['id']}", body)).status == 404
    assert (await stranger.patch(f"/Users/{user['id']}", {"op": "replace", "path": "displayName", "value": "x"})).status == 404
    listed = await stranger.request("GET", "/Users", params={"filter": f'id eq "{user["id"]}"'})
    assert listed.body["totalResults"] == 0


@pytest.mark.parametrize("sort_by", [
    "name.givenName", "emails", "emails.value", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
])
async def test_sorting_by_attributes_kept_in_json_pages_with_a_filter(scim, sort_by):
    """RFC 7644 §3.4.2.3: sortBy any attribute, also when the page is full and
    a count is needed, with and without a filter (a sort expression has SQL
    parameters of its own, which the count must not receive)."""
    prefix = f"sorted-{uuid.uuid4().hex[:6]}"
    for given in ("Cleo", "Abel", "Bea"):
        await scim.create_user(scim_user(f"{prefix}-{given.lower()}@example.com", name={"givenName": given}))
    for params in ({"sortBy": sort_by, "count": "1"},
                   {"sortBy": sort_by, "count": "1", "filter": f'userName sw "{prefix}"'}):
        reply = await scim.request("GET", "/Users", params=params)
        assert reply.status == 200, reply.body
        assert reply.body["itemsPerPage"] == 1 and reply.body["totalResults"] >= 3
    reply = await scim.request("GET", "/Users", params={
        "sortBy": "name.givenName", "filter": f'userName sw "{prefix}"'})
    assert [r["name"]["givenName"] for r in reply.body["Resources"]] == ["Abel", "Bea", "Cleo"]
