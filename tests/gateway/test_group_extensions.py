"""Issue 21 §1 for Groups: the vendor's extensions of Group, end to end —
advertised, stored, returned, validated, filtered, sorted, patched in Okta's
and Entra's dialects, replaced by PUT, unique where declared, carried in the
update event's previous_attributes, and checked against stored values when
the definition changes. Each test declares an extension of its own."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import quote

import pytest

from tests.gateway.management_client import ManagementClient
from tests.support import bearer, create_connection, create_organization, scim_user, send_json

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
async def vendor(http, gateway) -> ManagementClient:
    return ManagementClient(http, gateway)


@pytest.fixture
async def extension(vendor):
    """A Group extension: costCenter (string), level (integer), code (unique within the connection)."""
    urn = f"urn:ietf:params:scim:schemas:extension:acme{uuid.uuid4().hex[:8]}:2.0:Group"
    status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{urn}", {
        "resource_type": "Group", "name": "AcmeGroup",
        "attributes": [
            {"name": "costCenter", "type": "string"},
            {"name": "level", "type": "integer"},
            {"name": "code", "uniqueness": "server"},
            {"name": "site", "type": "complex", "subAttributes": [{"name": "city"}]},
        ],
    })
    assert status == 201, body
    yield urn
    await vendor.request("DELETE", f"/v1/scim/schema_extensions/{urn}")


@pytest.fixture
async def scim(http, gateway):
    organization = await create_organization(http, gateway, "groupext")
    connection = await create_connection(http, gateway, organization["organization_id"])
    return organization, connection


async def _group(http, connection, name: str, **extra) -> dict:
    body = {"schemas": [CORE_GROUP, *[k for k in extra if k.startswith("urn:")]], "displayName": name, **extra}
    status, created = await send_json(http, "POST", connection["base_url"] + "/Groups", body, bearer(connection))
    assert status == 201, created
    return created


async def test_a_group_extension_is_advertised(http, scim, extension):
    _, connection = scim
    status, schema = await send_json(http, "GET", f"{connection['base_url']}/Schemas/{extension}")
    assert status == 200 and [a["name"] for a in schema["attributes"]] == ["costCenter", "level", "code", "site"]
    status, group_type = await send_json(http, "GET", connection["base_url"] + "/ResourceTypes/Group")
    assert {"schema": extension, "required": False} in group_type["schemaExtensions"]
    status, user_type = await send_json(http, "GET", connection["base_url"] + "/ResourceTypes/User")
    assert extension not in [e["schema"] for e in user_type["schemaExtensions"]]


async def test_okta_nested_and_entra_flattened_writes_store_and_return_the_values(http, scim, extension):
    _, connection = scim
    user = scim_user(f"m-{uuid.uuid4().hex[:6]}@acme.test")
    status, member = await send_json(http, "POST", connection["base_url"] + "/Users", user, bearer(connection))
    assert status == 201, member
    created = await _group(http, connection, "Finance", members=[{"value": member["id"]}],
                           **{extension: {"costCenter": "CC-1", "level": 2, "undeclaredThing": "x"}})
    assert created["schemas"] == [CORE_GROUP, extension]
    assert created[extension] == {"costCenter": "CC-1", "level": 2}
    url = f"{connection['base_url']}/Groups/{created['id']}"

    # Entra: the flattened path, "Replace" capitalised, beside a member add.
    status, patched = await send_json(http, "PATCH", url, {"schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": f"{extension}:costCenter", "value": "CC-2"},
        {"op": "Add", "path": f"{extension}:site.city", "value": "Berlin"},
    ]}, bearer(connection))
    assert status == 200, patched
    assert patched[extension] == {"costCenter": "CC-2", "level": 2, "site": {"city": "Berlin"}}
    assert [m["value"] for m in patched["members"]] == [member["id"]]

    # Okta: no path, the extension as a nested object, beside displayName.
    status, patched = await send_json(http, "PATCH", url, {"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "value": {"id": created["id"], "displayName": "Finance EU", extension: {"level": 3}}},
    ]}, bearer(connection))
    assert status == 200, patched
    assert patched["displayName"] == "Finance EU"
    assert patched[extension] == {"costCenter": "CC-2", "level": 3, "site": {"city": "Berlin"}}

    status, patched = await send_json(http, "PATCH", url, {"schemas": [PATCH_OP], "Operations": [
        {"op": "remove", "path": f"{extension}:site"}]}, bearer(connection))
    assert status == 200 and patched[extension] == {"costCenter": "CC-2", "level": 3}, patched

    status, read = await send_json(http, "GET", url, headers=bearer(connection))
    assert read[extension] == {"costCenter": "CC-2", "level": 3}
    status, projected = await send_json(http, "GET", f"{url}?attributes={quote(extension + ':level')}",
                                    headers=bearer(connection))
    assert projected[extension] == {"level": 3} and "members" not in projected, projected

    # PUT replaces the extension values too: what it leaves out is cleared.
    status, replaced = await send_json(http, "PUT", url, {"schemas": [CORE_GROUP], "displayName": "Finance EU",
                                                      "members": [{"value": member["id"]}]}, bearer(connection))
    assert status == 200 and extension not in replaced and replaced["schemas"] == [CORE_GROUP], replaced


@pytest.mark.parametrize("operation, named", [
    ({"op": "replace", "path": "{urn}:level", "value": "three"}, "level"),
    ({"op": "add", "value": {"{urn}": {"costCenter": 7}}}, "costCenter"),
    ({"op": "replace", "path": "{urn}:site", "value": "Berlin"}, "site"),
])
async def test_a_patch_value_of_the_wrong_type_is_a_400_and_changes_nothing(http, scim, extension, operation, named):
    _, connection = scim
    created = await _group(http, connection, f"g-{uuid.uuid4().hex[:6]}", **{extension: {"level": 1}})
    spelled = {key: (value.replace("{urn}", extension) if isinstance(value, str) else
                     {k.replace("{urn}", extension): v for k, v in value.items()} if isinstance(value, dict) else value)
               for key, value in operation.items()}
    url = f"{connection['base_url']}/Groups/{created['id']}"
    status, body = await send_json(http, "PATCH", url, {"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "displayName", "value": "renamed"}, spelled]}, bearer(connection))
    assert status == 400 and body["scimType"] == "invalidValue", body
    assert named in body["detail"] and "Operations[1]" in body["detail"], body
    status, read = await send_json(http, "GET", url, headers=bearer(connection))
    assert read["displayName"] == created["displayName"] and read[extension] == {"level": 1}


async def test_a_post_value_of_the_wrong_type_is_a_400_naming_the_attribute(http, scim, extension):
    _, connection = scim
    body = {"schemas": [CORE_GROUP], "displayName": "bad", extension: {"level": "high"}}
    status, answer = await send_json(http, "POST", connection["base_url"] + "/Groups", body, bearer(connection))
    assert status == 400 and answer["scimType"] == "invalidValue" and "level" in answer["detail"], answer


async def test_group_extension_attributes_filter_and_sort(http, scim, extension):
    _, connection = scim
    for n, center in enumerate(["CC-9", "cc-1", "CC-5"]):
        await _group(http, connection, f"f{n}-{uuid.uuid4().hex[:6]}", **{extension: {"costCenter": center, "level": n}})
    await _group(http, connection, f"none-{uuid.uuid4().hex[:6]}")
    base = f"{connection['base_url']}/Groups"
    query = quote(f'{extension}:costCenter eq "CC-1"')
    status, found = await send_json(http, "GET", f"{base}?filter={query}", headers=bearer(connection))
    assert status == 200 and found["totalResults"] == 1, found  # caseExact false
    status, found = await send_json(http, "GET", f"{base}?filter={quote(f'{extension}:level ge 1')}"
                                f"&sortBy={quote(extension + ':costCenter')}&excludedAttributes=members",
                                headers=bearer(connection))
    assert [g[extension]["costCenter"] for g in found["Resources"]] == ["cc-1", "CC-5"]
    status, found = await send_json(http, "GET", f"{base}?filter={quote(f'not ({extension}:costCenter pr)')}",
                                headers=bearer(connection))
    assert status == 200 and found["totalResults"] == 1 and extension not in found["Resources"][0], found
    status, found = await send_json(http, "GET", f"{base}?filter={quote(f'{extension}:nothing eq 1')}",
                                headers=bearer(connection))
    assert status == 400 and found["scimType"] == "invalidFilter", found


async def test_a_value_declared_unique_is_a_409_for_a_second_group(http, scim, extension):
    _, connection = scim
    first = await _group(http, connection, "one", **{extension: {"code": "FIN"}})
    body = {"schemas": [CORE_GROUP], "displayName": "two", extension: {"code": "fin"}}
    status, answer = await send_json(http, "POST", connection["base_url"] + "/Groups", body, bearer(connection))
    assert status == 409 and answer["scimType"] == "uniqueness", answer
    second = await _group(http, connection, "two", **{extension: {"code": "OPS"}})
    status, answer = await send_json(http, "PATCH", f"{connection['base_url']}/Groups/{second['id']}", {
        "schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": f"{extension}:code", "value": "FIN"}]},
        bearer(connection))
    assert status == 409 and answer["scimType"] == "uniqueness", answer
    # A member may hold the value a group holds: uniqueness is per resource type.
    user = scim_user(f"u-{uuid.uuid4().hex[:6]}@acme.test")
    status, _ = await send_json(http, "POST", connection["base_url"] + "/Users", user, bearer(connection))
    assert status == 201
    status, _ = await send_json(http, "DELETE", f"{connection['base_url']}/Groups/{first['id']}", headers=bearer(connection))
    assert status == 204
    status, answer = await send_json(http, "PATCH", f"{connection['base_url']}/Groups/{second['id']}", {
        "schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": f"{extension}:code", "value": "FIN"}]},
        bearer(connection))
    assert status == 200 and answer[extension]["code"] == "FIN", answer


async def test_the_update_event_carries_the_previous_extension_values(http, vendor, scim, extension):
    organization, connection = scim
    created = await _group(http, connection, "evented", **{extension: {"costCenter": "CC-1"}})
    status, _ = await send_json(http, "PATCH", f"{connection['base_url']}/Groups/{created['id']}", {
        "schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": f"{extension}:costCenter", "value": "CC-2"}]},
        bearer(connection))
    assert status == 200
    for _ in range(100):  # through the outbox and JetStream
        status, body = await vendor.request("GET", "/v1/events", params={
            "types": "scim.idp_group.update", "organization_id": organization["organization_id"]})
        if body["events"]:
            break
        await asyncio.sleep(0.1)
    [event] = body["events"]
    assert event["data"]["idp_group"]["scim_attributes"] == {extension: {"costCenter": "CC-2"}}, event
    assert event["data"]["previous_attributes"] == {"scim_attributes": {extension: {"costCenter": "CC-1"}}}, event


async def test_a_change_that_stored_group_values_would_break_is_refused(http, vendor, scim, extension):
    _, connection = scim
    await _group(http, connection, "stored", **{extension: {"costCenter": "CC-1"}})
    status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{extension}", {
        "resource_type": "Group", "attributes": [{"name": "costCenter", "type": "integer"}, {"name": "level"},
                                                 {"name": "code"}, {"name": "site", "type": "complex",
                                                                    "subAttributes": [{"name": "city"}]}]})
    assert status == 409 and "group" in body["error_message"] and "costCenter" in body["error_message"], body
