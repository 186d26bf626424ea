"""Reconciliation (issue 17 §2): a consumer that lost events under load ends,
with one reconcile, holding exactly the live state."""

from __future__ import annotations

import asyncio
import uuid

import orjson

from tests.gateway.management_client import ManagementClient
from tests.support import bearer, create_connection, create_organization, scim_user

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
WEBHOOK_WAIT_SECONDS = 30
DROP_EVERY = 20  # the consumer loses one webhook in twenty: 5 %


class App:
    """The vendor's app as the webhooks build it: member_id → etag. It loses
    every DROP_EVERY-th webhook, and the webhooks of `lost` (a loss no later
    event repairs, so that the reconcile always has something to mend)."""

    def __init__(self, lost: frozenset[str] = frozenset()) -> None:
        self.members: dict[str, str] = {}
        self.seen = 0
        self.lost = lost

    def apply(self, webhook: dict, *, drop: bool) -> None:
        self.seen += 1
        member = webhook["data"]["member"]
        if drop and (self.seen % DROP_EVERY == 0 or member["member_id"] in self.lost):
            return  # lost on the consumer's side
        if webhook["type"] == "scim.member.delete":
            self.members.pop(member["member_id"], None)
        else:
            self.members[member["member_id"]] = member["etag"]


async def _drain(receiver, app: App, count: int, *, drop: bool) -> None:
    for _ in range(count):
        app.apply(orjson.loads((await receiver.next(WEBHOOK_WAIT_SECONDS)).body), drop=drop)


async def _live(vendor: ManagementClient, organization_id: str) -> dict[str, str]:
    live, cursor = {}, ""
    for _ in range(100):  # bounded: pages of 1000
        status, body = await vendor.request("GET", f"/v1/b2b/organizations/{organization_id}/members",
                                            params={"limit": "1000", **({"cursor": cursor} if cursor else {})})
        assert status == 200, body
        live.update((m["member_id"], m["etag"]) for m in body["members"])
        cursor = body["next_cursor"]
        if not cursor:
            return live
    raise AssertionError("too many pages")


async def test_a_consumer_that_lost_five_percent_ends_with_the_live_state_after_one_reconcile(
        http, gateway, webhook_receiver):
    vendor = ManagementClient(http, gateway)
    organization_id = (await create_organization(http, gateway, "reconcile"))["organization_id"]
    connection = await create_connection(http, gateway, organization_id)
    path = f"/v1/b2b/scim/{organization_id}/connection/{connection['connection_id']}"
    assert (await vendor.request("PUT", path, {"rate_limit_per_second": 100_000}))[0] == 200
    status, body = await vendor.request("POST", "/v1/webhooks/endpoints", {
        "url": webhook_receiver.url, "organization_ids": [organization_id],
        "event_types": ["scim.member.create", "scim.member.update", "scim.member.delete"]})
    assert status == 201, body
    base = f"{gateway.url}/scim/v2/{connection['connection_id']}"

    async def create(n: int) -> str:
        async with http.post(f"{base}/Users", headers=bearer(connection),
                             json=scim_user(f"rec-{n}-{uuid.uuid4().hex[:6]}@example.com")) as response:
            assert response.status == 201
            return (await response.json(content_type=None))["id"]

    async def rename(member_id: str, n: int) -> None:
        patch = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": f"R{n}"}]}
        async with http.patch(f"{base}/Users/{member_id}", headers=bearer(connection), json=patch) as response:
            assert response.status == 200

    async def delete(member_id: str) -> None:
        async with http.delete(f"{base}/Users/{member_id}", headers=bearer(connection)) as response:
            assert response.status == 204

    members: list[str] = []
    for start in range(0, 60, 10):  # creates, with renames of earlier members between them: writes under load
        batch = await asyncio.gather(*(create(n) for n in range(start, start + 10)),
                                     *(rename(m, start) for m in members[-5:]))
        members += [m for m in batch if isinstance(m, str)]
    await asyncio.gather(*(delete(m) for m in members[:6]))
    events = 60 + 25 + 6

    app = App(lost=frozenset({members[-1]}))  # the last created: never renamed nor deleted
    await _drain(webhook_receiver, app, events, drop=True)
    live = await _live(vendor, organization_id)
    assert app.members != live  # the consumer lost some

    held = [{"member_id": m, "etag": e} for m, e in sorted(app.members.items(), key=lambda item: item[0].encode())]
    status, body = await vendor.request("POST", f"/v1/b2b/organizations/{organization_id}/reconcile",
                                        {"members": held, "re_emit": True})
    assert status == 200, body
    differing = len(body["missing"]) + len(body["stale"]) + len(body["extra"])
    assert differing >= 1 and body["re_emitted"] == differing
    assert {m["member_id"] for m in body["missing"]} == set(live) - set(app.members)
    await _drain(webhook_receiver, app, body["re_emitted"], drop=False)
    assert app.members == live

    status, body = await vendor.request("POST", f"/v1/b2b/organizations/{organization_id}/reconcile", {
        "members": [{"member_id": m, "etag": e} for m, e in sorted(app.members.items(), key=lambda i: i[0].encode())]})
    assert (body["missing"], body["stale"], body["extra"], body["re_emitted"]) == ([], [], [], 0)


async def test_pages_name_their_range_and_roles_are_compared(http, gateway):
    vendor = ManagementClient(http, gateway)
    organization_id = (await create_organization(http, gateway, "ranges"))["organization_id"]
    connection = await create_connection(http, gateway, organization_id)
    base = f"{gateway.url}/scim/v2/{connection['connection_id']}"
    ids = []
    for n in range(4):
        async with http.post(f"{base}/Users", headers=bearer(connection),
                             json=scim_user(f"range-{n}-{uuid.uuid4().hex[:6]}@example.com")) as response:
            ids.append((await response.json(content_type=None))["id"])
    live = await _live(vendor, organization_id)
    ordered = sorted(ids, key=str.encode)
    url = f"/v1/b2b/organizations/{organization_id}/reconcile"
    # The first two, as one page: nothing beyond its range is judged.
    first = [{"member_id": m, "etag": live[m], "roles": []} for m in ordered[:2]]
    status, body = await vendor.request("POST", url, {"members": first, "through": ordered[1]})
    assert status == 200 and (body["missing"], body["stale"], body["extra"], body["role_mismatch"]) == ([], [], [], [])
    # The rest, with one stale etag and a role the member does not hold.
    rest = [{"member_id": ordered[2], "etag": "0"}, {"member_id": ordered[3], "etag": live[ordered[3]], "roles": ["x"]}]
    status, body = await vendor.request("POST", url, {"members": rest, "after": ordered[1]})
    assert body["stale"] == [{"member_id": ordered[2], "etag": live[ordered[2]]}]
    assert body["role_mismatch"] == [{"member_id": ordered[3], "roles": []}]
    status, body = await vendor.request("POST", url, {"members": rest, "after": ordered[2]})
    assert status == 400  # a member outside the page's range


async def test_re_emit_sends_the_current_roles_of_each_role_mismatch(http, gateway):
    vendor = ManagementClient(http, gateway)
    organization_id = (await create_organization(http, gateway, "reroles"))["organization_id"]
    connection = await create_connection(http, gateway, organization_id)
    base = f"{gateway.url}/scim/v2/{connection['connection_id']}"
    async with http.post(f"{base}/Users", headers=bearer(connection),
                         json=scim_user(f"reroles-{uuid.uuid4().hex[:6]}@example.com")) as response:
        member_id = (await response.json(content_type=None))["id"]
    editor = await vendor.create_role("reemit")
    status, body = await vendor.request("PUT", f"/v1/b2b/organizations/{organization_id}/members/{member_id}",
                                        {"roles": [editor]})
    assert status == 200, body
    live = await _live(vendor, organization_id)
    status, body = await vendor.request("POST", f"/v1/b2b/organizations/{organization_id}/reconcile", {
        "members": [{"member_id": member_id, "etag": live[member_id], "roles": []}], "re_emit": True})
    assert status == 200, body
    assert body["role_mismatch"] == [{"member_id": member_id, "roles": [editor]}]
    assert (body["re_emitted"], body["roles_re_emitted"]) == (0, 1)

    for _ in range(150):  # polling the Events API for the re-emitted event, bounded (15 s)
        status, page = await vendor.request("GET", "/v1/events", params={
            "organization_id": organization_id, "types": "scim.member.update", "limit": "1000"})
        reconciled = [e for e in page["events"] if e["data"]["source"] == "RECONCILE"]
        if reconciled:
            break
        await asyncio.sleep(0.1)
    assert [e["data"]["member"]["roles"][0]["role_id"] for e in reconciled] == [editor]
    assert reconciled[0]["data"]["member"]["member_id"] == member_id
