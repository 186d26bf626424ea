"""Roles from SCIM attributes (issue 21 §4): Entra's app role assignments
(sent as `roles`) and rules on attributes (`department eq "Finance"` →
billing-viewer), set on the connection (dry run first), each a role source
of its own type; the member's roles show them, a fresh session JWT carries
them, CheckPermission honours them, and the IdP changing the attribute takes
the role away as leaving a group does."""

from __future__ import annotations

import uuid

import grpc
import pytest
from scimd.rbac.v1 import rbac_service_pb2 as rbac_pb
from scimd.rbac.v1.rbac_service_pb2_grpc import RbacServiceStub
from standardwebhooks import Webhook

from tests.gateway.management_client import ManagementClient
from tests.gateway.test_rbac import Tenant, new_tenant
from tests.gateway.test_sessions import (
    SESSION_CLAIM,
    authenticate,
    claims_of,
    next_revocation_of,
    revocation_events,
    start_session,
)
from tests.support import scim_user

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
FINANCE_RULE = f'{ENTERPRISE}:department eq "Finance"'
# How Entra sends an app role assigned to the user.
BILLING_ADMIN_APP_ROLE = {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "value": "Billing.Admin"}
ATTRIBUTES = "scim_attribute_implicit_role_assignments"
RULES = "scim_rule_implicit_role_assignments"


@pytest.fixture
async def vendor(http, gateway) -> ManagementClient:
    return ManagementClient(http, gateway)


@pytest.fixture
async def rbac(running_services):
    async with grpc.aio.insecure_channel(running_services.services.rbac) as channel:
        yield RbacServiceStub(channel)


async def user(tenant: Tenant, name: str, **attributes) -> str:
    created = await tenant.scim.create_user(scim_user(f"{name}-{uuid.uuid4().hex[:6]}@example.com", **attributes))
    return created["id"]


async def finance_user(tenant: Tenant, name: str, department: str = "Finance") -> str:
    return await user(tenant, name, schemas=["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                      **{ENTERPRISE: {"department": department}})


async def assign(vendor: ManagementClient, tenant: Tenant, body: dict, **params) -> tuple[int, dict]:
    return await vendor.request(
        "PUT", f"/v1/b2b/scim/{tenant.organization_id}/connection/{tenant.connection_id}", body, params=params or None)


async def shown_connection(vendor: ManagementClient, tenant: Tenant) -> dict:
    status, body = await vendor.request("GET", f"/v1/b2b/scim/{tenant.organization_id}/connection")
    assert status == 200, body
    return body["connection"]


async def check(rbac: RbacServiceStub, tenant: Tenant, member_id: str, resource_id: str, action: str):
    return await rbac.CheckPermission(rbac_pb.CheckPermissionRequest(
        organization_id=tenant.organization_id, member_id=member_id, resource_id=resource_id, action=action))


def attribute_source(tenant: Tenant, value: str) -> dict:
    return {"type": "scim_attribute",
            "details": {"connection_id": tenant.connection_id, "attribute": "roles", "value": value}}


def rule_source(tenant: Tenant, scim_filter: str = FINANCE_RULE) -> dict:
    return {"type": "scim_attribute_rule", "details": {"connection_id": tenant.connection_id, "filter": scim_filter}}


async def test_an_entra_app_role_grants_the_mapped_role(http, gateway, vendor, rbac):
    """The done-when, Entra's half: an app role assignment in `roles` shows
    up in the member's roles with its source and in a fresh JWT."""
    tenant = await new_tenant(http, gateway, "microsoft-entra")
    billing_admin = await vendor.create_role("billing-admin", [{"resource_id": "billing", "actions": ["*"]}])
    ada = await user(tenant, "ada", roles=[BILLING_ADMIN_APP_ROLE])
    bob = await user(tenant, "bob")
    # The app role's value, in a case of the vendor's choosing: compared without case.
    assignments = {ATTRIBUTES: [{"attribute": "roles", "value": "billing.admin", "role_id": billing_admin}]}

    status, body = await assign(vendor, tenant, assignments, dry_run="true")
    assert status == 200, body
    assert body["dry_run"] is True
    assert body["role_changes"] == [{"member_id": ada, "gained_role_ids": [billing_admin], "lost_role_ids": []}]
    assert body["connection"][ATTRIBUTES] == assignments[ATTRIBUTES]
    assert await vendor.role_ids(tenant.organization_id, ada) == []
    assert (await shown_connection(vendor, tenant))[ATTRIBUTES] == []

    status, body = await assign(vendor, tenant, assignments)
    assert status == 200, body
    assert body["role_changes"] == [{"member_id": ada, "gained_role_ids": [billing_admin], "lost_role_ids": []}]
    assert (await shown_connection(vendor, tenant))[ATTRIBUTES] == assignments[ATTRIBUTES]
    member = await vendor.member(tenant.organization_id, ada)
    assert member["roles"] == [{"role_id": billing_admin, "sources": [attribute_source(tenant, "billing.admin")]}]
    assert await vendor.role_ids(tenant.organization_id, bob) == []

    session = await start_session(vendor, tenant.organization_id, ada)
    assert claims_of(session["session_jwt"])[SESSION_CLAIM]["roles"] == [billing_admin]
    assert session["member_session"]["roles"] == [billing_admin]
    allowed = await check(rbac, tenant, ada, "billing", "refund")
    assert allowed.allowed and list(allowed.granting_role_ids) == [billing_admin]
    assert not (await check(rbac, tenant, bob, "billing", "refund")).allowed

    # Entra assigns the app role to bob, then unassigns it from ada.
    await tenant.scim.patch(f"/Users/{bob}", {"op": "Add", "path": "roles", "value": [BILLING_ADMIN_APP_ROLE]})
    await vendor.wait_for_roles(tenant.organization_id, bob, [billing_admin])
    async with revocation_events(gateway) as events:
        await tenant.scim.patch(f"/Users/{ada}", {"op": "Remove", "path": 'roles[value eq "Billing.Admin"]'})
        event = await next_revocation_of(events, session["member_session"]["member_session_id"])
    assert event.sessions_revoked.reason == "roles_lost"
    assert await vendor.role_ids(tenant.organization_id, ada) == []


async def test_a_department_rule_follows_the_idp(http, gateway, vendor, rbac, webhook_receiver):
    """The done-when, the rule's half, with Okta's enterprise `department`:
    the rule's role reaches the member, a fresh JWT and CheckPermission; a
    new hire and a transfer in gain it, a transfer out loses it (webhook and
    session revocation as for a group)."""
    tenant = await new_tenant(http, gateway)
    viewer = await vendor.create_role("billing-viewer", [{"resource_id": "billing", "actions": ["read"]}])
    status, body = await vendor.request(
        "POST", "/v1/webhooks/endpoints", {"url": webhook_receiver.url, "event_types": ["scim.member.update"]})
    assert status == 201, body
    secret = body["endpoint"]["secret"]
    grace = await finance_user(tenant, "grace")
    sam = await finance_user(tenant, "sam", department="Sales")
    rules = {RULES: [{"filter": FINANCE_RULE, "role_id": viewer}]}

    status, body = await assign(vendor, tenant, rules, dry_run="true")
    assert status == 200, body
    assert body["role_changes"] == [{"member_id": grace, "gained_role_ids": [viewer], "lost_role_ids": []}]
    assert (await shown_connection(vendor, tenant))[RULES] == []

    status, body = await assign(vendor, tenant, rules)
    assert status == 200, body
    assert body["connection"][RULES] == rules[RULES] and body["connection"][ATTRIBUTES] == []
    assert body["role_changes"] == [{"member_id": grace, "gained_role_ids": [viewer], "lost_role_ids": []}]
    member = await vendor.member(tenant.organization_id, grace)
    assert member["roles"] == [{"role_id": viewer, "sources": [rule_source(tenant)]}]

    session = await start_session(vendor, tenant.organization_id, grace)
    assert claims_of(session["session_jwt"])[SESSION_CLAIM]["roles"] == [viewer]
    assert (await check(rbac, tenant, grace, "billing", "read")).allowed
    assert not (await check(rbac, tenant, grace, "billing", "write")).allowed

    # A new hire in Finance, and sam's transfer in (Okta's PATCH), gain the role.
    hire = await finance_user(tenant, "hire")
    await vendor.wait_for_roles(tenant.organization_id, hire, [viewer])
    await tenant.scim.patch(f"/Users/{sam}", {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Finance"})
    await vendor.wait_for_roles(tenant.organization_id, sam, [viewer])

    # Grace moves to Sales: the role goes, and with her last role her session.
    async with revocation_events(gateway) as events:
        reply = await tenant.scim.patch(
            f"/Users/{grace}", {"op": "replace", "value": {f"{ENTERPRISE}:department": "Sales"}})
        assert reply.status == 200, reply.body
        event = await next_revocation_of(events, session["member_session"]["member_session_id"])
    assert event.sessions_revoked.reason == "roles_lost"
    assert await vendor.role_ids(tenant.organization_id, grace) == []
    assert (await authenticate(vendor, session_token=session["session_token"]))[0] == 401

    for _ in range(100):
        delivered = await webhook_receiver.next(timeout=20)
        data = Webhook(secret).verify(delivered.body, delivered.headers)["data"]
        if data["id"] == grace and "roles" in data.get("previous_attributes", {}) and data["member"]["roles"] == []:
            break
    assert data["previous_attributes"]["roles"] == [{"role_id": viewer, "sources": [rule_source(tenant)]}]


async def test_all_three_kinds_replace_in_one_request_and_each_kind_alone(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    viewer, admin, editor = (await vendor.create_role("viewer"), await vendor.create_role("admin"),
                             await vendor.create_role("editor"))
    ada = await finance_user(tenant, "ada")
    group_id = await tenant.group("Editors", ada)
    status, body = await assign(vendor, tenant, {
        "scim_group_implicit_role_assignments": [{"group_id": group_id, "role_id": editor}],
        ATTRIBUTES: [{"attribute": "entitlements", "value": "Admin", "role_id": admin}],
        RULES: [{"filter": FINANCE_RULE, "role_id": viewer}, {"filter": FINANCE_RULE, "role_id": viewer}],
    })
    assert status == 200, body
    assert body["role_changes"] == [{"member_id": ada, "gained_role_ids": sorted([editor, viewer]),
                                     "lost_role_ids": []}]
    assert body["connection"][RULES] == [{"filter": FINANCE_RULE, "role_id": viewer}]  # kept once

    # A field left out keeps its kind; an empty list clears it.
    status, body = await assign(vendor, tenant, {RULES: []})
    assert status == 200, body
    assert body["role_changes"] == [{"member_id": ada, "gained_role_ids": [], "lost_role_ids": [viewer]}]
    connection = await shown_connection(vendor, tenant)
    assert [a["role_id"] for a in connection["scim_group_implicit_role_assignments"]] == [editor]
    assert connection[ATTRIBUTES] == [{"attribute": "entitlements", "value": "Admin", "role_id": admin}]
    assert connection[RULES] == []

    # Deleting a role takes its rules with it.
    await assign(vendor, tenant, {RULES: [{"filter": FINANCE_RULE, "role_id": viewer}]})
    assert (await vendor.request("DELETE", f"/v1/rbac/roles/{viewer}"))[0] == 200
    assert (await shown_connection(vendor, tenant))[RULES] == []
    assert await vendor.role_ids(tenant.organization_id, ada) == [editor]


@pytest.mark.parametrize("body, message", [
    ({RULES: [{"filter": 'department eq "Finance"', "role_id": "{role}"}]}, "unknown attribute 'department'"),
    ({RULES: [{"filter": f"{ENTERPRISE}:department eq", "role_id": "{role}"}]}, "expected"),
    ({RULES: [{"filter": 'groups[display eq "Finance"]', "role_id": "{role}"}]}, "map the group"),
    ({RULES: [{"filter": " ", "role_id": "{role}"}]}, "needs a filter"),
    ({RULES: [{"filter": FINANCE_RULE, "role_id": "no-such-role"}]}, "no such role"),
    ({RULES: [{"filter": f'title eq "t{i}"', "role_id": "{role}"} for i in range(101)]}, "at most 100"),
    ({RULES: [{"filter": FINANCE_RULE}]}, "must be a list"),
    ({ATTRIBUTES: [{"attribute": "groups", "value": "x", "role_id": "{role}"}]}, "roles, entitlements"),
    ({ATTRIBUTES: [{"attribute": "roles", "value": "", "role_id": "{role}"}]}, "value of 1-256"),
    ({ATTRIBUTES: [{"attribute": "roles", "value": "x", "role_id": "no-such-role"}]}, "no such role"),
    ({ATTRIBUTES: "roles"}, "must be a list"),
])
async def test_invalid_assignments_are_400_and_change_nothing(http, gateway, vendor, body, message):
    tenant = await new_tenant(http, gateway)
    role = await vendor.create_role("viewer")
    ada = await user(tenant, "ada", roles=[BILLING_ADMIN_APP_ROLE])
    valid = {"attribute": "roles", "value": "Billing.Admin", "role_id": role}
    body = {ATTRIBUTES: [valid], **body}  # with a valid part, which must not apply either
    body = {field: [{k: (role if v == "{role}" else v) for k, v in item.items()} for item in value]
            if isinstance(value, list) else value for field, value in body.items()}
    for params in ({"dry_run": "true"}, {}):
        status, answer = await assign(vendor, tenant, body, **params)
        assert status == 400 and answer["error_type"] == "invalid_value", answer
        assert message in answer["error_message"], answer
    connection = await shown_connection(vendor, tenant)
    assert connection[ATTRIBUTES] == [] and connection[RULES] == []
    assert await vendor.role_ids(tenant.organization_id, ada) == []


async def test_another_organizations_rules_never_apply(http, gateway, vendor):
    """Assignments are a connection's: another organization's members, even
    matching the rule or holding the value, never gain the role, and its
    connection cannot be configured through this organization."""
    ours, theirs = await new_tenant(http, gateway), await new_tenant(http, gateway, "microsoft-entra")
    viewer = await vendor.create_role("billing-viewer")
    assignments = {RULES: [{"filter": FINANCE_RULE, "role_id": viewer}],
                   ATTRIBUTES: [{"attribute": "roles", "value": "Billing.Admin", "role_id": viewer}]}
    our_member = await finance_user(ours, "grace")
    their_finance = await finance_user(theirs, "eve")
    their_admin = await user(theirs, "mallory", roles=[BILLING_ADMIN_APP_ROLE])

    status, body = await assign(vendor, ours, assignments)
    assert status == 200, body
    assert body["role_changes"] == [{"member_id": our_member, "gained_role_ids": [viewer], "lost_role_ids": []}]
    status, _ = await vendor.request(
        "PUT", f"/v1/b2b/scim/{ours.organization_id}/connection/{theirs.connection_id}", assignments)
    assert status == 404
    # Their IdP keeps writing matching attributes: nothing follows from our rules.
    await theirs.scim.patch(f"/Users/{their_admin}", {"op": "replace", "path": "title", "value": "Boss"})
    later = await finance_user(theirs, "later")
    ours_later = await finance_user(ours, "later")
    await vendor.wait_for_roles(ours.organization_id, ours_later, [viewer])  # the follower has caught up
    for member_id in (their_finance, their_admin, later):
        assert await vendor.role_ids(theirs.organization_id, member_id) == []
    connection = await shown_connection(vendor, theirs)
    assert connection[RULES] == [] and connection[ATTRIBUTES] == []


async def test_a_rule_on_the_vendors_extension(http, gateway, vendor):
    """Rules are checked against the User type with the vendor's extensions."""
    urn = f"urn:ietf:params:scim:schemas:extension:acme{uuid.uuid4().hex[:8]}:2.0:User"
    status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{urn}", {
        "resource_type": "User", "name": "AcmeUser", "attributes": [{"name": "clearance", "type": "integer"}]})
    assert status == 201, body
    try:
        tenant = await new_tenant(http, gateway)
        vault = await vendor.create_role("vault")
        cleared = await user(tenant, "cleared", schemas=["urn:ietf:params:scim:schemas:core:2.0:User", urn],
                             **{urn: {"clearance": 4}})
        await user(tenant, "uncleared", schemas=["urn:ietf:params:scim:schemas:core:2.0:User", urn],
                   **{urn: {"clearance": 1}})
        status, body = await assign(vendor, tenant, {RULES: [{"filter": f"{urn}:clearance ge 3", "role_id": vault}]})
        assert status == 200, body
        assert body["role_changes"] == [{"member_id": cleared, "gained_role_ids": [vault], "lost_role_ids": []}]
        status, body = await assign(vendor, tenant, {RULES: [{"filter": f'{urn}:clearance ge "3"', "role_id": vault}]})
        assert status == 400 and "clearance" in body["error_message"], body
    finally:
        await vendor.request("DELETE", f"/v1/scim/schema_extensions/{urn}")


async def test_a_rule_follows_its_extension_when_the_vendor_deletes_and_declares_it_again(http, gateway, vendor):
    """A rule naming a deleted extension's attribute matches nobody, so the
    roles it granted go; declared again (the members kept their values), it
    grants them again — each change a scim.schema_extension.* event that the
    rbac service recomputes the rules' members on."""
    urn = f"urn:ietf:params:scim:schemas:extension:acme{uuid.uuid4().hex[:8]}:2.0:User"
    definition = {"resource_type": "User", "name": "AcmeUser", "attributes": [{"name": "clearance", "type": "integer"}]}
    status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{urn}", definition)
    assert status == 201, body
    try:
        tenant = await new_tenant(http, gateway)
        vault = await vendor.create_role("vault")
        cleared = await user(tenant, "cleared", schemas=["urn:ietf:params:scim:schemas:core:2.0:User", urn],
                             **{urn: {"clearance": 4}})
        status, body = await assign(vendor, tenant, {RULES: [{"filter": f"{urn}:clearance ge 3", "role_id": vault}]})
        assert status == 200 and await vendor.role_ids(tenant.organization_id, cleared) == [vault], body

        status, body = await vendor.request("DELETE", f"/v1/scim/schema_extensions/{urn}")
        assert status == 200, body
        await vendor.wait_for_roles(tenant.organization_id, cleared, [])

        status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{urn}", definition)
        assert status == 201, body
        await vendor.wait_for_roles(tenant.organization_id, cleared, [vault])
    finally:
        await vendor.request("DELETE", f"/v1/scim/schema_extensions/{urn}")


async def test_deleting_the_connection_ends_its_attribute_roles(http, gateway, vendor):
    tenant = await new_tenant(http, gateway, "microsoft-entra")
    viewer, admin, direct = (await vendor.create_role("viewer"), await vendor.create_role("admin"),
                             await vendor.create_role("direct"))
    ada = await finance_user(tenant, "ada")
    await tenant.scim.patch(f"/Users/{ada}", {"op": "Add", "path": "roles", "value": [BILLING_ADMIN_APP_ROLE]})
    status, body = await assign(vendor, tenant, {
        RULES: [{"filter": FINANCE_RULE, "role_id": viewer}],
        ATTRIBUTES: [{"attribute": "roles", "value": "Billing.Admin", "role_id": admin}],
    })
    assert status == 200, body
    await vendor.request("PUT", f"/v1/b2b/organizations/{tenant.organization_id}/members/{ada}", {"roles": [direct]})
    assert sorted(await vendor.role_ids(tenant.organization_id, ada)) == sorted([viewer, admin, direct])
    path = f"/v1/b2b/scim/{tenant.organization_id}/connection/{tenant.connection_id}"
    assert (await vendor.request("DELETE", path))[0] == 200
    # The member stays with the organization and keeps its direct role only.
    member = await vendor.wait_for_roles(tenant.organization_id, ada, [direct])
    assert member["status"] == "active"
