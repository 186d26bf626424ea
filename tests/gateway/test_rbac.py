"""IdP groups that grant roles: mappings on the connection, roles with their
sources, recomputed as the IdP changes membership, and direct assignment."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.gateway.management_client import ManagementClient
from tests.gateway.scim_client import ScimClient
from tests.support import create_connection, create_organization, scim_user

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


class Tenant:
    """An organization, its connection, and an IdP talking SCIM to it."""

    def __init__(self, organization: dict, connection: dict, scim: ScimClient):
        self.organization_id = organization["organization_id"]
        self.connection_id = connection["connection_id"]
        self.scim = scim

    async def user(self, name: str) -> str:
        return (await self.scim.create_user(scim_user(f"{name}-{uuid.uuid4().hex[:6]}@example.com")))["id"]

    async def group(self, name: str, *member_ids: str) -> str:
        reply = await self.scim.request("POST", "/Groups", {
            "schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in member_ids],
        })
        assert reply.status == 201, reply.body
        return reply.body["id"]


@pytest.fixture
async def vendor(http, gateway) -> ManagementClient:
    return ManagementClient(http, gateway)


async def new_tenant(http, gateway, identity_provider: str = "okta") -> Tenant:
    organization = await create_organization(http, gateway, "rbac")
    connection = await create_connection(http, gateway, organization["organization_id"], identity_provider)
    return Tenant(organization, connection, ScimClient(http, connection["base_url"], connection["bearer_token"]))


def group_source(tenant: Tenant, group_id: str, group_name: str) -> dict:
    return {
        "type": "scim_connection_group",
        "details": {"connection_id": tenant.connection_id, "group_id": group_id, "group_name": group_name},
    }


async def test_roles_crud(vendor):
    role_id = await vendor.create_role("editor", [{"resource_id": "documents", "actions": ["read", "write"]}])
    status, body = await vendor.request("POST", "/v1/rbac/roles", {"role_id": role_id})
    assert status == 409 and body["error_type"]
    status, body = await vendor.request("GET", f"/v1/rbac/roles/{role_id}")
    assert status == 200
    role = body["role"]
    assert role["permissions"] == [{"resource_id": "documents", "actions": ["read", "write"]}]
    status, body = await vendor.request("PUT", f"/v1/rbac/roles/{role_id}", {"description": "x"}, headers={"If-Match": '"999"'})
    assert status == 412
    status, body = await vendor.request(
        "PUT", f"/v1/rbac/roles/{role_id}",
        {"description": "Edits documents", "permissions": [{"resource_id": "documents", "actions": ["*"]}]},
        headers={"If-Match": role["etag"]},
    )
    assert status == 200 and body["role"]["description"] == "Edits documents" and body["role"]["etag"] != role["etag"]
    await vendor.create_role("another")
    status, body = await vendor.request("GET", "/v1/rbac/roles", params={"limit": "1"})
    assert status == 200 and len(body["roles"]) == 1 and body["next_cursor"]
    status, second = await vendor.request("GET", "/v1/rbac/roles", params={"limit": "1", "cursor": body["next_cursor"]})
    assert status == 200 and second["roles"][0]["role_id"] != body["roles"][0]["role_id"]
    assert (await vendor.request("DELETE", f"/v1/rbac/roles/{role_id}"))[0] == 200
    assert (await vendor.request("GET", f"/v1/rbac/roles/{role_id}"))[0] == 404
    assert (await vendor.request("DELETE", f"/v1/rbac/roles/{role_id}"))[0] == 404


@pytest.mark.parametrize("body", [
    {"role_id": ""},
    {"role_id": "has space"},
    {"role_id": "ok", "permissions": "all"},
    {"role_id": "ok", "permissions": [{"resource_id": "docs", "actions": []}]},
    {"role_id": "ok", "permissions": [{"resource_id": "docs", "actions": "read"}]},
])
async def test_invalid_roles_are_400(vendor, body):
    status, answer = await vendor.request("POST", "/v1/rbac/roles", body)
    assert status == 400, answer


async def test_mapped_group_grants_role_with_source(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    editor = await vendor.create_role("editor")
    alice, bob = await tenant.user("alice"), await tenant.user("bob")
    group_id = await tenant.group("Editors", alice)

    status, body = await vendor.map_groups(tenant.organization_id, tenant.connection_id, [(group_id, editor)])
    assert status == 200, body
    assert body["connection"]["scim_group_implicit_role_assignments"] == [
        {"group_id": group_id, "group_name": "Editors", "role_id": editor}
    ]
    # The mapping applies before the answer: no waiting for alice.
    assert body["role_changes"] == [{"member_id": alice, "gained_role_ids": [editor], "lost_role_ids": []}]
    member = await vendor.member(tenant.organization_id, alice)
    assert member["roles"] == [{"role_id": editor, "sources": [group_source(tenant, group_id, "Editors")]}]
    assert await vendor.role_ids(tenant.organization_id, bob) == []

    # The IdP adds bob (Okta's PATCH), then removes alice (Entra's).
    await tenant.scim.patch(f"/Groups/{group_id}", {"op": "add", "path": "members", "value": [{"value": bob}]})
    await vendor.wait_for_roles(tenant.organization_id, bob, [editor])
    await tenant.scim.patch(f"/Groups/{group_id}", {"op": "Remove", "path": "members", "value": [{"value": alice}]})
    await vendor.wait_for_roles(tenant.organization_id, alice, [])

    status, body = await vendor.request("GET", f"/v1/b2b/scim/{tenant.organization_id}/connection")
    assert body["connection"]["scim_group_implicit_role_assignments"][0]["group_id"] == group_id


async def test_deactivation_revokes_and_reactivation_restores(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    editor, viewer = await vendor.create_role("editor"), await vendor.create_role("viewer")
    alice = await tenant.user("alice")
    group_id = await tenant.group("Editors", alice)
    await vendor.map_groups(tenant.organization_id, tenant.connection_id, [(group_id, editor)])
    status, _ = await vendor.request(
        "PUT", f"/v1/b2b/organizations/{tenant.organization_id}/members/{alice}", {"roles": [viewer]}
    )
    assert status == 200
    assert sorted(await vendor.role_ids(tenant.organization_id, alice)) == sorted([editor, viewer])

    await tenant.scim.patch(f"/Users/{alice}", {"op": "replace", "value": {"active": False}})
    await vendor.wait_for_roles(tenant.organization_id, alice, [])
    await tenant.scim.patch(f"/Users/{alice}", {"op": "replace", "path": "active", "value": True})
    member = await vendor.wait_for_roles(tenant.organization_id, alice, [editor, viewer])
    by_role = {r["role_id"]: r["sources"] for r in member["roles"]}
    assert by_role[viewer] == [{"type": "direct_assignment", "details": {}}]
    assert by_role[editor] == [group_source(tenant, group_id, "Editors")]


async def test_rename_and_delete_of_a_mapped_group(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    editor = await vendor.create_role("editor")
    alice = await tenant.user("alice")
    group_id = await tenant.group("Editors", alice)
    await vendor.map_groups(tenant.organization_id, tenant.connection_id, [(group_id, editor)])

    await tenant.scim.patch(f"/Groups/{group_id}", {"op": "replace", "path": "displayName", "value": "Writers"})
    await vendor.wait_for_member(
        tenant.organization_id, alice,
        lambda m: m["roles"] == [{"role_id": editor, "sources": [group_source(tenant, group_id, "Writers")]}],
    )
    assert (await tenant.scim.request("DELETE", f"/Groups/{group_id}")).status == 204
    await vendor.wait_for_roles(tenant.organization_id, alice, [])
    # A deleted group's mappings go with it.
    for _ in range(200):
        _, body = await vendor.request("GET", f"/v1/b2b/scim/{tenant.organization_id}/connection")
        if body["connection"]["scim_group_implicit_role_assignments"] == []:
            break
        await asyncio.sleep(0.05)
    assert body["connection"]["scim_group_implicit_role_assignments"] == []


async def test_dry_run_changes_nothing(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    editor, admin = await vendor.create_role("editor"), await vendor.create_role("admin")
    alice, bob = await tenant.user("alice"), await tenant.user("bob")
    editors = await tenant.group("Editors", alice, bob)
    admins = await tenant.group("Admins", bob)
    await vendor.map_groups(tenant.organization_id, tenant.connection_id, [(editors, editor)])

    status, body = await vendor.map_groups(
        tenant.organization_id, tenant.connection_id, [(admins, admin)], dry_run="true"
    )
    assert status == 200, body
    assert body["dry_run"] is True
    assert sorted(body["role_changes"], key=lambda c: c["member_id"]) == sorted([
        {"member_id": alice, "gained_role_ids": [], "lost_role_ids": [editor]},
        {"member_id": bob, "gained_role_ids": [admin], "lost_role_ids": [editor]},
    ], key=lambda c: c["member_id"])
    assert body["connection"]["scim_group_implicit_role_assignments"] == [
        {"group_id": admins, "group_name": "Admins", "role_id": admin}
    ]
    # Nothing changed.
    assert await vendor.role_ids(tenant.organization_id, bob) == [editor]
    _, body = await vendor.request("GET", f"/v1/b2b/scim/{tenant.organization_id}/connection")
    assert [a["group_id"] for a in body["connection"]["scim_group_implicit_role_assignments"]] == [editors]

    status, body = await vendor.map_groups(tenant.organization_id, tenant.connection_id, [(admins, admin)])
    assert status == 200
    assert await vendor.role_ids(tenant.organization_id, alice) == []
    assert await vendor.role_ids(tenant.organization_id, bob) == [admin]


async def test_deleting_a_role_takes_it_from_its_holders(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    doomed, kept = await vendor.create_role("doomed"), await vendor.create_role("kept")
    alice = await tenant.user("alice")
    group_id = await tenant.group("Team", alice)
    await vendor.map_groups(tenant.organization_id, tenant.connection_id, [(group_id, doomed), (group_id, kept)])
    await vendor.request("PUT", f"/v1/b2b/organizations/{tenant.organization_id}/members/{alice}", {"roles": [doomed]})
    assert sorted(await vendor.role_ids(tenant.organization_id, alice)) == sorted([doomed, kept])
    assert (await vendor.request("DELETE", f"/v1/rbac/roles/{doomed}"))[0] == 200
    assert await vendor.role_ids(tenant.organization_id, alice) == [kept]
    _, body = await vendor.request("GET", f"/v1/b2b/scim/{tenant.organization_id}/connection")
    assert [a["role_id"] for a in body["connection"]["scim_group_implicit_role_assignments"]] == [kept]


async def test_mapping_and_assignment_errors(http, gateway, vendor):
    tenant, other = await new_tenant(http, gateway), await new_tenant(http, gateway)
    editor = await vendor.create_role("editor")
    alice = await tenant.user("alice")
    group_id = await tenant.group("Editors", alice)
    foreign_group = await other.group("Theirs")
    path = f"/v1/b2b/scim/{tenant.organization_id}/connection/{tenant.connection_id}"

    for pairs in ([(group_id, "no-such-role")], [("group-unknown", editor)], [(foreign_group, editor)]):
        status, body = await vendor.map_groups(tenant.organization_id, tenant.connection_id, pairs)
        assert status == 400 and body["error_type"] == "invalid_value", body
    for bad in ({"scim_group_implicit_role_assignments": "x"},
                {"scim_group_implicit_role_assignments": [{"group_id": group_id}]}):
        assert (await vendor.request("PUT", path, bad))[0] == 400
    assert (await vendor.request("PUT", path, {}, params={"dry_run": "maybe"}))[0] == 400
    # Another organization's connection id under this organization: not found.
    status, _ = await vendor.request(
        "PUT", f"/v1/b2b/scim/{tenant.organization_id}/connection/{other.connection_id}", {}
    )
    assert status == 404
    # A bad identity_provider rejects the whole update, mappings included.
    status, _ = await vendor.request("PUT", path, {
        "identity_provider": "nope", "scim_group_implicit_role_assignments": [{"group_id": group_id, "role_id": editor}],
    })
    assert status == 400
    assert await vendor.role_ids(tenant.organization_id, alice) == []

    member_path = f"/v1/b2b/organizations/{tenant.organization_id}/members/{alice}"
    assert (await vendor.request("PUT", member_path, {"roles": ["no-such-role"]}))[0] == 400
    assert (await vendor.request("PUT", member_path, {"roles": "admin"}))[0] == 400
    assert (await vendor.request("PUT", member_path, {"name": "Mallory"}))[0] == 400
    # Members of one organization are invisible from another.
    assert (await vendor.request("GET", f"/v1/b2b/organizations/{other.organization_id}/members/{alice}"))[0] == 404
    status, _ = await vendor.request("PUT", f"/v1/b2b/organizations/{other.organization_id}/members/{alice}",
                                     {"roles": [editor]})
    assert status == 404
    assert await vendor.role_ids(tenant.organization_id, alice) == []


async def test_update_connection_fields(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    path = f"/v1/b2b/scim/{tenant.organization_id}/connection/{tenant.connection_id}"
    status, body = await vendor.request("PUT", path, {"display_name": "Entra", "identity_provider": "microsoft-entra"})
    assert status == 200, body
    connection = body["connection"]
    assert connection["display_name"] == "Entra" and connection["identity_provider"] == "microsoft-entra"
    assert connection["base_url"].endswith("?aadOptscim062020")
    assert connection["scim_group_implicit_role_assignments"] == []


async def test_connection_groups_are_paged(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    created = [await tenant.group(f"Group {i}") for i in range(5)]
    path = f"/v1/b2b/scim/{tenant.organization_id}/connection/{tenant.connection_id}/groups"
    seen, cursor = [], None
    for _ in range(10):
        status, body = await vendor.request("GET", path, params={"limit": "2", **({"cursor": cursor} if cursor else {})})
        assert status == 200, body
        seen += [g["group_id"] for g in body["scim_groups"]]
        assert all(g["connection_id"] == tenant.connection_id for g in body["scim_groups"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(created) and len(seen) == 5
    assert (await vendor.request("GET", path, params={"cursor": "abc"}))[0] == 400


async def test_members_list_with_roles(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    viewer = await vendor.create_role("viewer")
    alice, bob = await tenant.user("alice"), await tenant.user("bob")
    await vendor.request("PUT", f"/v1/b2b/organizations/{tenant.organization_id}/members/{bob}", {"roles": [viewer]})
    status, body = await vendor.request("GET", f"/v1/b2b/organizations/{tenant.organization_id}/members")
    assert status == 200
    roles = {m["member_id"]: [r["role_id"] for r in m["roles"]] for m in body["members"]}
    assert roles == {alice: [], bob: [viewer]}


async def test_role_change_reaches_the_webhook(http, gateway, vendor, webhook_receiver):
    """IdP adds a user to a mapped group → scim.member.update carrying the roles
    after and previous_attributes.roles before; removal takes the role away."""
    from standardwebhooks import Webhook

    tenant = await new_tenant(http, gateway)
    editor = await vendor.create_role("editor")
    status, body = await vendor.request(
        "POST", "/v1/webhooks/endpoints", {"url": webhook_receiver.url, "event_types": ["scim.member.update"]}
    )
    secret = body["endpoint"]["secret"]
    alice = await tenant.user("alice")
    group_id = await tenant.group("Editors")
    await vendor.map_groups(tenant.organization_id, tenant.connection_id, [(group_id, editor)])

    async def next_role_change() -> dict:
        for _ in range(50):
            delivered = await webhook_receiver.next(timeout=20)
            payload = Webhook(secret).verify(delivered.body, delivered.headers)
            if payload["data"]["id"] == alice and "roles" in payload["data"].get("previous_attributes", {}):
                return payload["data"]
        raise AssertionError("no role change was delivered")

    # One change at a time: roles are recomputed from the directory as it is, so
    # a join and a leave handled together (in one batch of events) change nothing.
    await tenant.scim.patch(f"/Groups/{group_id}", {"op": "add", "path": "members", "value": [{"value": alice}]})
    gained = await next_role_change()
    await tenant.scim.patch(f"/Groups/{group_id}", {"op": "remove", "path": f'members[value eq "{alice}"]'})
    lost = await next_role_change()
    assert gained["member"]["roles"] == [{"role_id": editor, "sources": [group_source(tenant, group_id, "Editors")]}]
    assert gained["previous_attributes"] == {"roles": []}
    assert gained["member"]["member_id"] == alice and gained["member"]["status"] == "active"
    assert lost["member"]["roles"] == [] and lost["previous_attributes"]["roles"][0]["role_id"] == editor


async def test_role_deleted_while_membership_changes(http, gateway, vendor):
    """No member keeps a deleted role, however the deletion interleaves with
    the recomputations that membership changes cause."""
    tenant = await new_tenant(http, gateway)
    doomed = await vendor.create_role("doomed")
    users = [await tenant.user(f"user{i}") for i in range(20)]
    group_id = await tenant.group("Team", *users[:5])
    await vendor.map_groups(tenant.organization_id, tenant.connection_id, [(group_id, doomed)])

    async def add(user: str):
        return await tenant.scim.patch(f"/Groups/{group_id}", {"op": "add", "path": "members", "value": [{"value": user}]})

    results = await asyncio.gather(*(add(u) for u in users[5:]), vendor.request("DELETE", f"/v1/rbac/roles/{doomed}"))
    assert all(r.status in (200, 204) for r in results[:-1]) and results[-1][0] == 200
    for user in users:
        await vendor.wait_for_roles(tenant.organization_id, user, [])


async def test_deleting_the_connection_ends_its_group_roles(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    editor, viewer = await vendor.create_role("editor"), await vendor.create_role("viewer")
    alice = await tenant.user("alice")
    group_id = await tenant.group("Editors", alice)
    await vendor.map_groups(tenant.organization_id, tenant.connection_id, [(group_id, editor)])
    await vendor.request("PUT", f"/v1/b2b/organizations/{tenant.organization_id}/members/{alice}", {"roles": [viewer]})
    path = f"/v1/b2b/scim/{tenant.organization_id}/connection/{tenant.connection_id}"
    assert (await vendor.request("DELETE", path))[0] == 200
    # The member stays with the organization and keeps its direct role.
    member = await vendor.wait_for_roles(tenant.organization_id, alice, [viewer])
    assert member["status"] == "active"
