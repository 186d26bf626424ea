"""Issue 21 §3: attribute mapping per connection, end to end. The vendor
defines its custom fields; a connection maps what its IdP sends onto them;
members carry custom_attributes (management API, gRPC, webhooks), and a
mapping change is previewed, then applied in the background with events.

Each test uses fields with keys of its own and removes them after, so tests
never see each other's."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import orjson
import pytest
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.directory.v1.directory_service_pb2_grpc import DirectoryServiceStub
from standardwebhooks import Webhook

from runtime.context import Tenant
from tests.gateway.attribute_mapping_vendor import mapping_vendor
from tests.gateway.management_client import ManagementClient
from tests.gateway.scim_client import ScimClient
from tests.support import create_connection, create_organization, scim_user

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MEMBER_UPDATE = "scim.member.update"


@pytest.fixture
async def vendor(http, gateway):
    async for made in mapping_vendor(http, gateway):
        yield made


@pytest.fixture
async def extension(vendor):
    urn = f"urn:ietf:params:scim:schemas:extension:acme{uuid.uuid4().hex[:8]}:2.0:User"
    status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{urn}", {
        "resource_type": "User", "attributes": [{"name": "costCenter"}, {"name": "contractor", "type": "boolean"}]})
    assert status == 201, body
    yield urn
    await vendor.request("DELETE", f"/v1/scim/schema_extensions/{urn}")


async def _tenant(http, gateway, identity_provider: str = "okta") -> tuple[dict, dict, ScimClient]:
    organization = await create_organization(http, gateway, "mapping")
    connection = await create_connection(http, gateway, organization["organization_id"], identity_provider)
    return organization, connection, ScimClient(http, connection["base_url"], connection["bearer_token"])


async def _update_events(http, gateway, receiver, organization: dict) -> "UpdateEvents":
    status, body = await ManagementClient(http, gateway).request("POST", "/v1/webhooks/endpoints", {
        "url": receiver.url, "event_types": [MEMBER_UPDATE], "organization_ids": [organization["organization_id"]]})
    assert status == 201, body
    return UpdateEvents(receiver, body["endpoint"]["secret"])


class UpdateEvents:
    """The scim.member.update webhooks of one organization, verified, by member."""

    def __init__(self, receiver, secret: str):
        self.receiver, self.secret = receiver, secret
        self.by_member: dict[str, list[dict]] = {}

    async def of(self, member_ids: set[str], each: int = 1) -> dict[str, list[dict]]:
        """At least `each` update of every member in `member_ids` (bounded by the receiver's timeout)."""
        while any(len(self.by_member.get(m, [])) < each for m in member_ids):
            delivered = await self.receiver.next(timeout=20)
            data = Webhook(self.secret).verify(delivered.body, delivered.headers)["data"]
            self.by_member.setdefault(data["id"], []).append(data)
        return {m: self.by_member[m] for m in member_ids}


async def test_okta_maps_an_extension_attribute_and_the_update_webhook_carries_the_previous_value(
        http, gateway, vendor, extension, webhook_receiver):
    """Okta sends the vendor's extension as a nested object, in POST and in a path-less PATCH."""
    organization, connection, scim = await _tenant(http, gateway, "okta")
    cost_center, contractor = await vendor.field("cost_center"), await vendor.field("contractor", "boolean")
    await vendor.map(organization, connection, [
        {"field": cost_center, "sources": [f"{extension}:costCenter"], "transforms": [{"type": "trim"},
                                                                                      {"type": "upper"}]},
        {"field": contractor, "sources": [f"{extension}:contractor"], "default": False}])
    events = await _update_events(http, gateway, webhook_receiver, organization)

    user = await scim.create_user(scim_user(f"ada-{uuid.uuid4().hex[:6]}@acme.test",
                                            schemas=["urn:ietf:params:scim:schemas:core:2.0:User", extension],
                                            **{extension: {"costCenter": " cc-1 "}}))
    member = await vendor.member(organization["organization_id"], user["id"])
    assert member["custom_attributes"] == {cost_center: "CC-1", contractor: False}

    reply = await scim.patch(f"/Users/{user['id']}", {"op": "replace", "value": {
        extension: {"costCenter": "cc-2", "contractor": True}}})
    assert reply.status == 200, reply.body
    update = (await events.of({user["id"]}))[user["id"]][0]
    assert update["member"]["custom_attributes"] == {cost_center: "CC-2", contractor: True}
    assert update["previous_attributes"]["custom_attributes"] == {cost_center: "CC-1", contractor: False}
    assert update["source"] == "SCIM"


async def test_entra_maps_flattened_extension_paths_and_the_update_webhook_carries_the_previous_value(
        http, gateway, vendor, extension, webhook_receiver):
    """Entra sends extension attributes as flattened paths (urn:…:User:costCenter) and booleans as strings."""
    organization, connection, scim = await _tenant(http, gateway, "microsoft-entra")
    cost_center, department = await vendor.field("cost_center"), await vendor.field("department")
    await vendor.map(organization, connection, [
        {"field": cost_center, "sources": [f"{extension}:costCenter"],
         "transforms": [{"type": "regex", "pattern": r"^CC-(\d+)$", "group": 1}]},
        {"field": department, "sources": [f"{ENTERPRISE}:department"], "transforms": [{"type": "lower"}]}])
    events = await _update_events(http, gateway, webhook_receiver, organization)

    user = await scim.create_user({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, extension],
        "userName": f"grace-{uuid.uuid4().hex[:6]}@contoso.test", "active": "True",
        "displayName": "Grace", ENTERPRISE: {"department": "Research"}, extension: {"costCenter": "CC-0042"}})
    member = await vendor.member(organization["organization_id"], user["id"])
    assert member["custom_attributes"] == {cost_center: "0042", department: "research"}

    reply = await scim.patch(f"/Users/{user['id']}",
                             {"op": "Replace", "path": f"{extension}:costCenter", "value": "CC-7"},
                             {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Sales"})
    assert reply.status == 200, reply.body
    update = (await events.of({user["id"]}))[user["id"]][0]
    assert update["member"]["custom_attributes"] == {cost_center: "7", department: "sales"}
    assert update["previous_attributes"]["custom_attributes"] == {cost_center: "0042", department: "research"}


async def test_undeclared_attributes_map_and_a_value_that_cannot_be_cast_is_absent(http, gateway, vendor):
    organization, connection, scim = await _tenant(http, gateway)
    color, shoe_size = await vendor.field("color"), await vendor.field("shoe_size", "number")
    await vendor.map(organization, connection, [
        {"field": color, "sources": ["favoriteColor"]},
        {"field": shoe_size, "sources": ["urn:example:shoes:1.0:User:size", "title"]}])
    sized = await scim.create_user(scim_user(f"s-{uuid.uuid4().hex[:6]}@acme.test", favoriteColor="teal",
                                             **{"urn:example:shoes:1.0:User": {"size": "44"}}))
    unsized = await scim.create_user(scim_user(f"u-{uuid.uuid4().hex[:6]}@acme.test", title="Engineer"))
    assert (await vendor.member(organization["organization_id"], sized["id"]))["custom_attributes"] == {
        color: "teal", shoe_size: 44}
    # "Engineer" is no number: no value, and the write succeeded all the same.
    assert (await vendor.member(organization["organization_id"], unsized["id"]))["custom_attributes"] == {}


async def test_a_dry_run_lists_whose_values_would_change_and_changes_nothing(http, gateway, vendor):
    organization, connection, scim = await _tenant(http, gateway)
    department = await vendor.field("department")
    users = [await scim.create_user(scim_user(f"d{n}-{uuid.uuid4().hex[:6]}@acme.test",
                                              **{ENTERPRISE: {"department": name}}))
             for n, name in enumerate(["Sales", "sales", "Research"])]
    await vendor.map(organization, connection, [{"field": department, "sources": [f"{ENTERPRISE}:department"]}])
    before = await vendor.applied(organization, connection)

    body = await vendor.map(organization, connection, [
        {"field": department, "sources": [f"{ENTERPRISE}:department"], "transforms": [{"type": "lower"}]}],
        dry_run="true", limit="1")
    assert body["dry_run"] is True and body["member_count"] == 3 and body["changed_count"] == 2, body
    assert body["changes"] == [{"member_id": users[0]["id"], "user_name": users[0]["userName"],
                                "from": {department: "Sales"}, "to": {department: "sales"}}]
    assert body["attribute_mapping"]["fields"][0]["transforms"] == [{"type": "lower"}]
    assert body["attribute_mapping"]["version"] == before["version"]
    status, stored = await vendor.request("GET", vendor.mapping_path(organization, connection))
    assert stored["attribute_mapping"] == before
    member = await vendor.member(organization["organization_id"], users[2]["id"])
    assert member["custom_attributes"] == {department: "Research"}


async def test_a_mapping_change_is_applied_to_existing_members_with_their_update_events(
        http, gateway, vendor, webhook_receiver):
    organization, connection, scim = await _tenant(http, gateway)
    users = [await scim.create_user(scim_user(f"a{n}-{uuid.uuid4().hex[:6]}@acme.test", title=f" Level {n} ",
                                              **{ENTERPRISE: {"employeeNumber": f"E-{n}"}}))
             for n in range(12)]
    level, employee = await vendor.field("level", "number"), await vendor.field("employee")
    events = await _update_events(http, gateway, webhook_receiver, organization)
    etags = {u["id"]: (await vendor.member(organization["organization_id"], u["id"]))["etag"] for u in users}

    await vendor.map(organization, connection, [
        {"field": level, "sources": ["title"], "transforms": [{"type": "trim"},
                                                              {"type": "split", "separator": " ", "index": 1}]},
        {"field": employee, "sources": [f"{ENTERPRISE}:employeeNumber"]}])
    applied = await vendor.applied(organization, connection)
    assert applied["apply"] == {"state": "done", "done": 12, "total": 12, "changed": 12}
    updates = await events.of({u["id"] for u in users})
    for n, user in enumerate(users):
        update = updates[user["id"]][0]
        assert update["source"] == "API"
        assert update["member"]["custom_attributes"] == {level: n, employee: f"E-{n}"}
        assert update["previous_attributes"] == {"custom_attributes": {level: None, employee: None}}
        member = await vendor.member(organization["organization_id"], user["id"])
        assert member["custom_attributes"] == {level: n, employee: f"E-{n}"} and member["etag"] != etags[user["id"]]

    # Only the members whose values change get an event: level 0's employee number ends in 0.
    await vendor.map(organization, connection, [
        {"field": employee, "sources": [f"{ENTERPRISE}:employeeNumber"],
         "transforms": [{"type": "regex", "pattern": "-(0)$"}], "default": "other"}])
    applied = await vendor.applied(organization, connection)
    assert applied["apply"] == {"state": "done", "done": 12, "total": 12, "changed": 12}
    updates = await events.of({u["id"] for u in users}, each=2)
    assert updates[users[0]["id"]][1]["previous_attributes"] == {"custom_attributes": {level: 0, employee: "E-0"}}
    assert updates[users[0]["id"]][1]["member"]["custom_attributes"] == {employee: "0"}
    assert updates[users[5]["id"]][1]["member"]["custom_attributes"] == {employee: "other"}


async def test_list_members_filters_by_a_custom_field_over_grpc(http, gateway, vendor, running_services):
    organization, connection, scim = await _tenant(http, gateway)
    team, badges = await vendor.field("team"), await vendor.field("badges", "string_list")
    await vendor.map(organization, connection, [
        {"field": team, "sources": [f"{ENTERPRISE}:division"]},
        {"field": badges, "sources": ["entitlements.value"]}])
    made = {}
    for name, division, entitlements in (("a", "Blue", ["x"]), ("b", "Red", ["x", "y"]), ("c", "Blue", ["y"])):
        user = await scim.create_user(scim_user(f"{name}-{uuid.uuid4().hex[:6]}@acme.test",
                                                entitlements=[{"value": e} for e in entitlements],
                                                **{ENTERPRISE: {"division": division}}))
        made[user["id"]] = name
    tenant = Tenant(organization["organization_id"], connection["connection_id"])
    async with grpc.aio.insecure_channel(running_services.services.directory) as channel:
        directory = DirectoryServiceStub(channel)

        async def names(**wanted: str) -> list[str]:
            listed = await directory.ListMembers(directory_pb.ListMembersRequest(custom_attributes=wanted),
                                                 metadata=tenant.metadata())
            return sorted(made[m.member_id] for m in listed.members)

        assert await names(**{team: "Blue"}) == ["a", "c"]
        assert await names(**{team: "Blue", badges: "y"}) == ["c"]
        assert await names(**{badges: "x"}) == ["a", "b"]
        assert await names(**{team: "Green"}) == []
        fetched = await directory.GetMember(directory_pb.GetMemberRequest(member_id=next(iter(made))),
                                            metadata=tenant.metadata())
        assert orjson.loads(fetched.member.custom_attributes_json) == {team: "Blue", badges: ["x"]}
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await directory.ListMembers(directory_pb.ListMembersRequest(custom_attributes={"no_such_field": "x"}),
                                        metadata=tenant.metadata())
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    # The management API filters the same way.
    members = f"/v1/b2b/organizations/{organization['organization_id']}/members"
    status, listed = await vendor.request("GET", members, params=[("custom_attribute", f"{team}:Blue"),
                                                                  ("custom_attribute", f"{badges}:y")])
    assert status == 200 and [made[m["member_id"]] for m in listed["members"]] == ["c"], listed
    for bad in ("no-colon", ":Blue", "no_such_field:x"):
        status, body = await vendor.request("GET", members, params={"custom_attribute": bad})
        assert status == 400, (bad, body)


async def test_a_deleted_connections_mapping_goes_with_it_and_frees_its_fields(http, gateway, vendor):
    """A field that some connection maps cannot be deleted (409); once the only
    connection mapping it is deleted, its mapping goes too and the field can be."""
    organization, connection, scim = await _tenant(http, gateway)
    department = await vendor.field("department")
    await vendor.map(organization, connection, [{"field": department, "sources": ["title"]}])
    await scim.create_user(scim_user(f"d-{uuid.uuid4().hex[:6]}@acme.test", title="Chef"))
    status, body = await vendor.request("DELETE", f"/v1/scim/custom_fields/{department}")
    assert status == 409, body
    status, body = await vendor.request(
        "DELETE", f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}")
    assert status == 200, body
    for _ in range(100):  # the connection's deletion reaches the directory as an event
        status, body = await vendor.request("DELETE", f"/v1/scim/custom_fields/{department}")
        if status != 409:
            break
        await asyncio.sleep(0.1)
    assert status == 200, body


async def test_another_organizations_mapping_never_applies(http, gateway, vendor):
    ours, our_connection, our_scim = await _tenant(http, gateway)
    theirs, their_connection, their_scim = await _tenant(http, gateway)
    department = await vendor.field("department")
    await vendor.map(ours, our_connection, [{"field": department, "sources": ["title"]}])

    theirs_user = await their_scim.create_user(scim_user(f"t-{uuid.uuid4().hex[:6]}@other.test", title="Spy"))
    ours_user = await our_scim.create_user(scim_user(f"o-{uuid.uuid4().hex[:6]}@acme.test", title="Chef"))
    assert (await vendor.member(theirs["organization_id"], theirs_user["id"]))["custom_attributes"] == {}
    assert (await vendor.member(ours["organization_id"], ours_user["id"]))["custom_attributes"] == {department: "Chef"}

    # Our connection named under their organization is nobody's.
    crossed = f"/v1/b2b/scim/{theirs['organization_id']}/connection/{our_connection['connection_id']}" \
              "/attribute_mapping"
    assert (await vendor.request("GET", crossed))[0] == 404
    status, _ = await vendor.request("PUT", crossed, {"fields": [{"field": department, "sources": ["userName"]}]})
    assert status == 404
    status, body = await vendor.request("GET", vendor.mapping_path(theirs, their_connection))
    assert status == 200 and body["attribute_mapping"]["version"] == 0 and body["attribute_mapping"]["fields"] == []


async def test_a_mapped_field_keeps_its_type_and_stays(http, gateway, vendor):
    organization, connection, _ = await _tenant(http, gateway)
    key = await vendor.field("kept")
    status, listed = await vendor.request("GET", "/v1/scim/custom_fields")
    assert status == 200 and key in [f["key"] for f in listed["custom_fields"]]
    status, same = await vendor.request("PUT", f"/v1/scim/custom_fields/{key}", {"type": "string",
                                                                                 "description": "kept"})
    assert status == 200, same
    await vendor.map(organization, connection, [{"field": key, "sources": ["title"]}])
    status, body = await vendor.request("PUT", f"/v1/scim/custom_fields/{key}", {"type": "number"})
    assert status == 409 and body["error_type"] == "conflict", body
    status, body = await vendor.request("DELETE", f"/v1/scim/custom_fields/{key}")
    assert status == 409, body
    status, body = await vendor.request("PUT", f"/v1/scim/custom_fields/{key}", {"type": "string",
                                                                                 "description": "renamed"})
    assert status == 200 and body["custom_field"]["description"] == "renamed", body
    status, body = await vendor.request("GET", f"/v1/scim/custom_fields/{key}")
    assert status == 200 and body["custom_field"]["type"] == "string"


@pytest.mark.parametrize("entry, fragment", [
    ({"sources": ["title"], "transforms": [{"type": "regex", "pattern": "(a"}]}, "RE2"),
    ({"sources": ["title"], "transforms": [{"type": "regex", "pattern": r"(a)\1"}]}, "RE2"),
    ({"sources": ["title"], "transforms": [{"type": "split", "separator": ""}]}, "separator"),
    ({"sources": []}, "sources"),
    ({"sources": ["title"], "default": 3}, "default"),
    ({"field": "no_such_field", "sources": ["title"]}, "no custom field"),
])
async def test_an_invalid_mapping_is_a_400_saying_where(http, gateway, vendor, entry, fragment):
    organization, connection, _ = await _tenant(http, gateway)
    key = await vendor.field("invalid")
    status, body = await vendor.request("PUT", vendor.mapping_path(organization, connection),
                                        {"fields": [{"field": key, **entry}]})
    assert status == 400 and fragment in body["error_message"], body
