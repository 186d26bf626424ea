"""Issue 21 §1–2: the vendor's own SCIM schema extensions, end to end, and
nothing the IdP sends silently dropped. Each test declares an extension with
a URN of its own and deletes it after, so tests never see each other's."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import quote

import pytest

from tests.gateway.management_client import ManagementClient
from tests.support import bearer, create_connection, create_organization, scim_user, send_json

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
async def vendor(http, gateway) -> ManagementClient:
    return ManagementClient(http, gateway)


@pytest.fixture
async def extension(vendor):
    """A User extension: costCenter (string), level (integer), badges (multi-valued),
    site (complex), secret (returned never) and note (returned on request)."""
    urn = f"urn:ietf:params:scim:schemas:extension:acme{uuid.uuid4().hex[:8]}:2.0:User"
    status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{urn}", {
        "resource_type": "User", "name": "AcmeUser", "description": "Acme's fields",
        "attributes": [
            {"name": "costCenter", "type": "string"},
            {"name": "level", "type": "integer"},
            {"name": "badges", "type": "string", "multiValued": True},
            {"name": "site", "type": "complex", "subAttributes": [{"name": "code"}, {"name": "floor", "type": "integer"}]},
            {"name": "secret", "returned": "never"},
            {"name": "note", "returned": "request"},
            {"name": "tier", "canonicalValues": ["gold", "silver"]},
        ],
    })
    assert status == 201, body
    yield urn
    await vendor.request("DELETE", f"/v1/scim/schema_extensions/{urn}")


@pytest.fixture
async def scim(http, gateway):
    organization = await create_organization(http, gateway, "custom")
    connection = await create_connection(http, gateway, organization["organization_id"])
    return organization, connection


async def test_an_extension_is_advertised_at_schemas_and_resource_types(http, scim, extension):
    _, connection = scim
    status, listed = await send_json(http, "GET", connection["base_url"] + "/Schemas")
    assert status == 200
    schema = next(s for s in listed["Resources"] if s["id"] == extension)
    names = {a["name"]: a for a in schema["attributes"]}
    assert names["level"]["type"] == "integer" and names["badges"]["multiValued"] is True
    assert [s["name"] for s in names["site"]["subAttributes"]] == ["code", "floor"]
    assert schema["meta"]["location"].endswith(f"/Schemas/{extension}")
    status, user_type = await send_json(http, "GET", connection["base_url"] + "/ResourceTypes/User")
    assert {"schema": extension, "required": False} in user_type["schemaExtensions"]


async def test_okta_nested_create_and_entra_flattened_patch_store_and_return_the_values(http, scim, extension):
    _, connection = scim
    user = scim_user(f"ada-{uuid.uuid4().hex[:6]}@acme.test", schemas=[
        "urn:ietf:params:scim:schemas:core:2.0:User", extension])
    user[extension] = {"costCenter": "CC-1", "level": 3, "badges": ["a", "b"], "site": {"code": "BER", "floor": 2},
                       "secret": "s3cr3t", "note": "hello"}
    status, created = await send_json(http, "POST", connection["base_url"] + "/Users", user, bearer(connection))
    assert status == 201, created
    assert created[extension] == {"costCenter": "CC-1", "level": 3, "badges": ["a", "b"],
                                  "site": {"code": "BER", "floor": 2}}  # secret never, note only on request
    assert extension in created["schemas"]
    user_url = f"{connection['base_url']}/Users/{created['id']}"

    # Entra: a flattened path naming the extension's attribute.
    status, patched = await send_json(http, "PATCH", user_url, {"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": f"{extension}:costCenter", "value": "CC-2"},
        {"op": "add", "path": f"{extension}:site.floor", "value": 5},
    ]}, bearer(connection))
    assert status == 200, patched
    assert patched[extension]["costCenter"] == "CC-2" and patched[extension]["site"] == {"code": "BER", "floor": 5}
    # Okta: the extension as a nested object in a path-less add.
    status, patched = await send_json(http, "PATCH", user_url, {"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "value": {extension: {"level": 4}}}]}, bearer(connection))
    assert status == 200 and patched[extension]["level"] == 4, patched

    status, asked = await send_json(http, "GET", f"{user_url}?attributes={quote(extension + ':note')}",
                                headers=bearer(connection))
    assert asked[extension] == {"note": "hello"}
    status, read = await send_json(http, "GET", user_url, headers=bearer(connection))
    assert "secret" not in read[extension] and "note" not in read[extension]


@pytest.mark.parametrize("value, named", [
    ({"level": "three"}, "level"), ({"level": 2.5}, "level"), ({"costCenter": 7}, "costCenter"),
    ({"badges": [1]}, "badges"), ({"site": "BER"}, "site"), ({"tier": "bronze"}, "tier"),
])
async def test_a_value_of_the_wrong_type_is_a_400_naming_the_attribute(http, scim, extension, value, named):
    _, connection = scim
    user = scim_user(f"bad-{uuid.uuid4().hex[:6]}@acme.test", **{extension: value})
    status, body = await send_json(http, "POST", connection["base_url"] + "/Users", user, bearer(connection))
    assert status == 400 and body["scimType"] == "invalidValue", body
    assert named in body["detail"], body


async def test_extension_attributes_filter_and_sort(http, scim, extension):
    _, connection = scim
    for n, center in enumerate(["CC-9", "cc-1", "CC-5"]):
        user = scim_user(f"f{n}-{uuid.uuid4().hex[:6]}@acme.test", **{extension: {"costCenter": center, "level": n}})
        status, body = await send_json(http, "POST", connection["base_url"] + "/Users", user, bearer(connection))
        assert status == 201, body
    query = quote(f'{extension}:costCenter eq "CC-1"')
    status, found = await send_json(http, "GET", f"{connection['base_url']}/Users?filter={query}", headers=bearer(connection))
    assert status == 200 and found["totalResults"] == 1, found  # caseExact false
    query = quote(f"{extension}:level ge 1")
    status, found = await send_json(http, "GET", f"{connection['base_url']}/Users?filter={query}"
                                f"&sortBy={quote(extension + ':costCenter')}", headers=bearer(connection))
    assert [u[extension]["costCenter"] for u in found["Resources"]] == ["cc-1", "CC-5"]  # levels 1 and 2


async def test_what_no_schema_declares_is_kept_and_shown_never_dropped(http, gateway, vendor, scim, extension):
    organization, connection = scim
    user = scim_user(f"raw-{uuid.uuid4().hex[:6]}@acme.test", favoriteColor="blue",
                     **{"urn:example:unknown:1.0:User": {"shoeSize": 44}, extension: {"costCenter": "CC-1",
                                                                                       "undeclaredThing": True}})
    status, created = await send_json(http, "POST", connection["base_url"] + "/Users", user, bearer(connection))
    assert status == 201, created
    member = await vendor.member(organization["organization_id"], created["id"])
    assert member["scim_registration"]["undeclared_attributes"] == {
        "favoriteColor": "blue", "urn:example:unknown:1.0:User": {"shoeSize": 44},
        f"{extension}:undeclaredThing": True}
    path = f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}/attributes"
    status, seen = await vendor.request("GET", path)
    assert status == 200, seen
    by_path = {a["path"]: a for a in seen["attributes"]}
    assert by_path["favoriteColor"] == {**by_path["favoriteColor"], "declared": False, "member_count": 1,
                                        "json_type": "string"}
    assert by_path["urn:example:unknown:1.0:User:shoeSize"]["declared"] is False
    assert by_path[f"{extension}:costCenter"]["declared"] is True
    assert by_path["emails.value"]["member_count"] == 1 and by_path["emails.value"]["declared"] is True
    assert "blue" not in str(seen)  # paths, never values


async def test_a_strict_connection_refuses_what_no_schema_declares(http, gateway, vendor, scim, extension):
    organization, connection = scim
    path = f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}"
    status, body = await vendor.request("PUT", path, {"strict_attributes": True})
    assert status == 200 and body["connection"]["strict_attributes"] is True, body
    user = scim_user(f"strict-{uuid.uuid4().hex[:6]}@acme.test", favoriteColor="blue")
    status, body = await send_json(http, "POST", connection["base_url"] + "/Users", user, bearer(connection))
    assert status == 400 and body["scimType"] == "invalidValue" and "favoriteColor" in body["detail"], body
    declared = scim_user(f"ok-{uuid.uuid4().hex[:6]}@acme.test", **{extension: {"costCenter": "CC-1"}})
    status, body = await send_json(http, "POST", connection["base_url"] + "/Users", declared, bearer(connection))
    assert status == 201, body


async def test_a_change_that_stored_values_would_break_is_refused_and_changes_nothing(http, vendor, scim, extension):
    _, connection = scim
    user = scim_user(f"cc-{uuid.uuid4().hex[:6]}@acme.test", **{extension: {"costCenter": "CC-1"}})
    status, body = await send_json(http, "POST", connection["base_url"] + "/Users", user, bearer(connection))
    assert status == 201, body
    status, before = await vendor.request("GET", f"/v1/scim/schema_extensions/{extension}")
    for breaking in ([{"name": "costCenter", "type": "integer"}],  # the stored "CC-1" is no integer
                     [{"name": "level", "type": "integer"}],  # costCenter would vanish
                     [{"name": "costCenter", "canonicalValues": ["CC-2"]}]):
        status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{extension}",
                                            {"resource_type": "User", "attributes": breaking})
        assert status == 409 and body["error_type"] == "conflict", body
    status, after = await vendor.request("GET", f"/v1/scim/schema_extensions/{extension}")
    assert after["schema_extension"] == before["schema_extension"]
    widened = [*before["schema_extension"]["attributes"], {"name": "region"}]
    status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{extension}",
                                        {"resource_type": "User", "attributes": widened})
    assert status == 200 and body["schema_extension"]["version"] == 2, body


@pytest.mark.parametrize("definition, fragment", [
    ({"attributes": []}, "attributes"),
    ({"attributes": [{"name": "1st"}]}, "name"),
    ({"attributes": [{"name": "a", "type": "float"}]}, "type"),
    ({"attributes": [{"name": "a"}, {"name": "A"}]}, "twice"),
    ({"attributes": [{"name": "a", "type": "complex"}]}, "subAttributes"),
    ({"attributes": [{"name": "a", "type": "complex", "subAttributes": [
        {"name": "b", "type": "complex", "subAttributes": [{"name": "c"}]}]}]}, "complex"),
    ({"attributes": [{"name": "a", "mutability": "readOnly"}]}, "readOnly"),
    ({"attributes": [{"name": "a", "colour": "red"}]}, "colour"),
    ({"resource_type": "Device", "attributes": [{"name": "a"}]}, "resource_type"),
])
async def test_a_bad_definition_is_a_400_saying_what_is_wrong(vendor, definition, fragment):
    urn = f"urn:ietf:params:scim:schemas:extension:bad{uuid.uuid4().hex[:8]}:2.0:User"
    status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{urn}", definition)
    assert status == 400 and fragment in body["error_message"], body


@pytest.mark.parametrize("urn", ["urn:ietf:params:scim:schemas:core:2.0:User",
                                 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                                 "urn:ietf:params:scim:api:messages:2.0:Thing", "not-a-urn"])
async def test_scim_own_schemas_cannot_be_redefined(vendor, urn):
    status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{urn}",
                                        {"attributes": [{"name": "a"}]})
    assert status == 400, body


async def test_an_entra_patch_of_an_undeclared_attribute_is_kept_not_refused(http, vendor, scim):
    """Entra sends mapped attributes the vendor has not declared as flattened PATCH paths: kept
    (not a 400 that would fail the user's sync), and a strict connection refuses them."""
    organization, connection = scim
    status, created = await send_json(http, "POST", connection["base_url"] + "/Users",
                                  scim_user(f"entra-{uuid.uuid4().hex[:6]}@acme.test"), bearer(connection))
    assert status == 201, created
    user_url = f"{connection['base_url']}/Users/{created['id']}"
    status, body = await send_json(http, "PATCH", user_url, {"schemas": [PATCH_OP], "Operations": [
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:contoso:1.0:User:costCenter", "value": "CC-7"},
        {"op": "Replace", "path": "title", "value": "Engineer"}]}, bearer(connection))
    assert status == 200 and body["title"] == "Engineer", body
    member = await vendor.member(organization["organization_id"], created["id"])
    assert member["scim_registration"]["undeclared_attributes"] == {
        "urn:ietf:params:scim:schemas:extension:contoso:1.0:User:costCenter": "CC-7"}
    path = f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}"
    status, _ = await vendor.request("PUT", path, {"strict_attributes": True})
    assert status == 200
    status, body = await send_json(http, "PATCH", user_url, {"schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": "favoriteColor", "value": "blue"}]}, bearer(connection))
    assert status == 400 and "favoriteColor" in body["detail"], body


async def test_a_value_declared_unique_is_a_409_uniqueness_for_a_second_member(http, vendor, scim):
    _, connection = scim
    urn = f"urn:ietf:params:scim:schemas:extension:uniq{uuid.uuid4().hex[:8]}:2.0:User"
    status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{urn}", {"attributes": [
        {"name": "employeeId", "uniqueness": "server"}, {"name": "badge", "uniqueness": "server", "caseExact": True},
        {"name": "team"}]})
    assert status == 201, body
    try:
        first = scim_user(f"u1-{uuid.uuid4().hex[:6]}@acme.test", **{urn: {"employeeId": "E-1", "badge": "b", "team": "x"}})
        status, created = await send_json(http, "POST", connection["base_url"] + "/Users", first, bearer(connection))
        assert status == 201, created
        # Another member may share what is not unique, and a caseExact value in another case.
        second = scim_user(f"u2-{uuid.uuid4().hex[:6]}@acme.test", **{urn: {"employeeId": "E-2", "badge": "B", "team": "x"}})
        status, other = await send_json(http, "POST", connection["base_url"] + "/Users", second, bearer(connection))
        assert status == 201, other
        clash = scim_user(f"u3-{uuid.uuid4().hex[:6]}@acme.test", **{urn: {"employeeId": "e-1"}})  # not caseExact
        status, body = await send_json(http, "POST", connection["base_url"] + "/Users", clash, bearer(connection))
        assert status == 409 and body["scimType"] == "uniqueness" and "employeeId" in body["detail"], body
        # Taking it by PATCH is refused too; keeping one's own value is not a clash.
        other_url = f"{connection['base_url']}/Users/{other['id']}"
        status, body = await send_json(http, "PATCH", other_url, {"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": f"{urn}:employeeId", "value": "E-1"}]}, bearer(connection))
        assert status == 409 and body["scimType"] == "uniqueness", body
        status, body = await send_json(http, "PATCH", other_url, {"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": "title", "value": "Engineer"}]}, bearer(connection))
        assert status == 200, body
        # Once the first member is deleted, its value is free again.
        await send_json(http, "DELETE", f"{connection['base_url']}/Users/{created['id']}", headers=bearer(connection))
        status, body = await send_json(http, "POST", connection["base_url"] + "/Users", clash, bearer(connection))
        assert status == 201, body
    finally:
        await vendor.request("DELETE", f"/v1/scim/schema_extensions/{urn}")


async def test_concurrent_writers_of_one_unique_value_end_with_one_holder(http, vendor, scim):
    _, connection = scim
    urn = f"urn:ietf:params:scim:schemas:extension:race{uuid.uuid4().hex[:8]}:2.0:User"
    status, body = await vendor.request("PUT", f"/v1/scim/schema_extensions/{urn}", {"attributes": [
        {"name": "employeeId", "uniqueness": "server"}]})
    assert status == 201, body
    try:
        users = [scim_user(f"race{n}-{uuid.uuid4().hex[:6]}@acme.test", **{urn: {"employeeId": "E-42"}})
                 for n in range(8)]
        answers = await asyncio.gather(*(send_json(http, "POST", connection["base_url"] + "/Users", user,
                                               bearer(connection)) for user in users))
        assert sorted(status for status, _ in answers) == [201] + [409] * 7, answers
    finally:
        await vendor.request("DELETE", f"/v1/scim/schema_extensions/{urn}")
