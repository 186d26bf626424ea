"""Recorded IdP conversations, replayed request by request against the
running gateway: what Okta's and Microsoft Entra's provisioning clients send
(the bodies follow Okta's SCIM 2.0 reference and Microsoft's SCIM endpoint
tutorial), and what each step must answer."""

import uuid

from tests.gateway.scim_client import PATCH_OP, new_client

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


async def test_okta_user_lifecycle(http, gateway):
    scim = await new_client(http, gateway, "okta")
    user_name = f"test.user.{uuid.uuid4().hex[:6]}@okta.local"
    probe = await scim.request("GET", "/Users", params={"filter": f'userName eq "{user_name}"', "startIndex": "1", "count": "100"})
    assert probe.status == 200 and probe.body["totalResults"] == 0

    created = await scim.request("POST", "/Users", {
        "schemas": [CORE], "userName": user_name, "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}], "displayName": "Test User",
        "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7", "groups": [], "password": "1mz050nq", "active": True,
    })
    assert created.status == 201 and "password" not in created.body
    user = created.body

    assert (await scim.request("GET", f"/Users/{user['id']}")).status == 200
    found = await scim.request("GET", "/Users", params={"filter": f'userName eq "{user_name}"', "startIndex": "1", "count": "100"})
    assert found.body["totalResults"] == 1

    # Okta's update is a PUT that echoes id and meta.
    put_body = {**user, "name": {"givenName": "Another", "familyName": "User"}, "password": "t1meMa$heen"}
    updated = await scim.request("PUT", f"/Users/{user['id']}", put_body)
    assert updated.status == 200 and updated.body["name"]["givenName"] == "Another"

    deactivated = await scim.request("PATCH", f"/Users/{user['id']}", {
        "schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}],
    })
    assert deactivated.status == 200 and deactivated.body["active"] is False

    duplicate = await scim.request("POST", "/Users", {"schemas": [CORE], "userName": user_name.upper(), "active": True})
    assert duplicate.status == 409 and duplicate.body["scimType"] == "uniqueness"

    assert (await scim.request("GET", f"/Users/{uuid.uuid4()}")).status == 404

    # Okta pages with startIndex += 100 until it has everything.
    collected, start = [], 1
    for _ in range(10):
        page = await scim.request("GET", "/Users", params={"startIndex": str(start), "count": "100"})
        collected += page.body["Resources"]
        if start + page.body["itemsPerPage"] > page.body["totalResults"]:
            break
        start += 100
    assert [u["id"] for u in collected] == [user["id"]]


async def test_entra_user_lifecycle(http, gateway):
    scim = await new_client(http, gateway, "microsoft-entra")
    assert scim.base_url.endswith("?aadOptscim062020")
    random_probe = await scim.request("GET", "/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'})
    assert random_probe.status == 200 and random_probe.body["totalResults"] == 0

    user_name = f"Test_User_{uuid.uuid4()}"
    external_id = str(uuid.uuid4())
    created = await scim.request("POST", "/Users", {
        "schemas": [CORE, ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": f"{user_name}@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        ENTERPRISE: {"department": "Engineering", "employeeNumber": "42"},
        "urn:ietf:params:scim:schemas:extension:CustomExtension:2.0:User": {"anything": "ignored"},
    })
    assert created.status == 201, created.body
    user = created.body
    assert ENTERPRISE in user["schemas"] and user[ENTERPRISE]["department"] == "Engineering"

    by_external_id = await scim.request("GET", "/Users", params={"filter": f'externalId eq "{external_id}"'})
    assert by_external_id.body["totalResults"] == 1

    manager = await scim.create_user({"schemas": [CORE], "userName": f"Manager_{uuid.uuid4()}", "active": True})
    patched = await scim.request("PATCH", f"/Users/{user['id']}", {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": manager["id"]},
            {"op": "Replace", "path": "displayName", "value": ""},
        ],
    })
    assert patched.status == 200, patched.body
    assert patched.body["emails"][0]["value"] == "updatedEmail@microsoft.com"
    assert patched.body["name"]["familyName"] == "updatedFamilyName"
    assert patched.body[ENTERPRISE]["manager"]["value"] == manager["id"]
    assert patched.body[ENTERPRISE]["manager"]["$ref"].endswith(f"/Users/{manager['id']}")

    renamed = await scim.request("PATCH", f"/Users/{user['id']}", {
        "schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "userName", "value": f"{user_name}_renamed"}],
    })
    assert renamed.status == 200 and renamed.body["userName"] == f"{user_name}_renamed"

    no_path = await scim.request("PATCH", f"/Users/{user['id']}", {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "Replace", "value": {"name.givenName": "Given", f"{ENTERPRISE}:department": "Sales"}}],
    })
    assert no_path.status == 200, no_path.body
    assert no_path.body["name"]["givenName"] == "Given" and no_path.body[ENTERPRISE]["department"] == "Sales"

    disabled = await scim.request("PATCH", f"/Users/{user['id']}", {
        "schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
    })
    assert disabled.status == 200 and disabled.body["active"] is False

    assert (await scim.request("DELETE", f"/Users/{user['id']}")).status == 204
    assert (await scim.request("GET", f"/Users/{user['id']}")).status == 404
