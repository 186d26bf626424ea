"""SCIM /Bulk (RFC 7644 §3.7)."""

import uuid

import pytest

from tests.gateway.scim_client import PATCH_OP, new_client
from tests.support import scim_user

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"


@pytest.fixture
async def scim(http, gateway):
    return await new_client(http, gateway)


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


async def test_bulk_with_bulk_id_references(scim):
    """RFC 7644 §3.7.2: bulkId references resolve across operations, in any order."""
    body = {
        "schemas": [BULK_REQUEST],
        "Operations": [
            {"method": "PATCH", "path": "/Users/bulkId:ada",
             "data": {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "Patched"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "ada", "data": scim_user(unique("bulk-ada"))},
            {"method": "POST", "path": "/Users", "bulkId": "grace",
             "data": {**scim_user(unique("bulk-grace")),
                      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "bulkId:ada"}}}},
        ],
    }
    reply = await scim.request("POST", "/Bulk", body)
    assert reply.status == 200 and reply.body["schemas"] == [BULK_RESPONSE]
    patch, ada, grace = reply.body["Operations"]
    assert ada["status"] == "201" and ada["bulkId"] == "ada" and ada["location"].endswith("/Users/" + ada["location"].rsplit("/", 1)[1])
    assert patch["status"] == "200" and grace["status"] == "201"
    ada_id = ada["location"].rsplit("/", 1)[1]
    fetched = await scim.request("GET", f"/Users/{ada_id}")
    assert fetched.body["displayName"] == "Patched"
    grace_user = await scim.request("GET", f"/Users/{grace['location'].rsplit('/', 1)[1]}")
    assert grace_user.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"] == ada_id


async def test_fail_on_errors_stops_processing(scim):
    """RFC 7644 §3.7.3: after failOnErrors errors the rest is not processed."""
    existing = await scim.create_user(scim_user(unique("dup")))
    body = {
        "schemas": [BULK_REQUEST],
        "failOnErrors": 1,
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": scim_user(existing["userName"])},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": scim_user(unique("never"))},
        ],
    }
    reply = await scim.request("POST", "/Bulk", body)
    assert reply.status == 200
    assert len(reply.body["Operations"]) == 1
    failed = reply.body["Operations"][0]
    assert failed["status"] == "409" and failed["response"]["scimType"] == "uniqueness"


async def test_unresolvable_bulk_id_is_an_error(scim):
    body = {"schemas": [BULK_REQUEST], "Operations": [
        {"method": "DELETE", "path": "/Users/bulkId:ghost"},
    ]}
    reply = await scim.request("POST", "/Bulk", body)
    assert reply.body["Operations"][0]["status"] == "400"


async def test_too_many_operations_is_413(scim):
    """RFC 7644 §3.7.4: more than maxOperations is 413."""
    body = {"schemas": [BULK_REQUEST], "Operations": [{"method": "DELETE", "path": "/Users/x"}] * 1001}
    reply = await scim.request("POST", "/Bulk", body)
    assert reply.status == 413 and reply.body["status"] == "413"


async def test_too_large_payload_is_413(scim):
    """RFC 7644 §3.7.4: more than maxPayloadSize is 413."""
    body = {"schemas": [BULK_REQUEST], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "x", "data": scim_user(unique("big"), displayName="x" * 1_100_000)}
    ]}
    reply = await scim.request("POST", "/Bulk", body)
    assert reply.status == 413


async def test_bulk_delete_and_put(scim):
    user = await scim.create_user(scim_user(unique("bulkput")))
    body = {"schemas": [BULK_REQUEST], "Operations": [
        {"method": "PUT", "path": f"/Users/{user['id']}", "version": user["meta"]["version"],
         "data": {**scim_user(user["userName"]), "displayName": "Put"}},
        {"method": "DELETE", "path": f"/Users/{user['id']}"},
    ]}
    reply = await scim.request("POST", "/Bulk", body)
    assert [op["status"] for op in reply.body["Operations"]] == ["200", "204"]
    assert (await scim.request("GET", f"/Users/{user['id']}")).status == 404


async def _rate_limited_client(http, gateway, per_second: int):
    from tests.gateway.management_client import ManagementClient
    from tests.gateway.scim_client import ScimClient
    from tests.support import create_connection, create_organization

    organization = await create_organization(http, gateway, "bulkrate")
    connection = await create_connection(http, gateway, organization["organization_id"])
    status, _ = await ManagementClient(http, gateway).request(
        "PUT", f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}",
        {"rate_limit_per_second": per_second})
    assert status == 200
    return ScimClient(http, connection["base_url"], connection["bearer_token"])


@pytest.mark.parametrize("spelling", ["Operations", "operations", "OPERATIONS"])
async def test_bulk_charges_the_operations_it_executes_whatever_their_spelling(http, gateway, spelling):
    """Issue 16: at 1 request/s, 50 operations under `operations` ran with 200.
    SCIM names are case-insensitive: every spelling runs, and every spelling is
    charged per operation. A Bulk larger than the bucket (two seconds' worth)
    runs when the bucket is full and leaves a debt of what it cost."""
    scim = await _rate_limited_client(http, gateway, per_second=1)
    body = {"schemas": [BULK_REQUEST], spelling: [
        {"method": "POST", "path": "/Users", "bulkId": f"u{n}", "data": scim_user(unique("rate"))} for n in range(50)
    ]}
    reply = await scim.request("POST", "/Bulk", body)
    assert reply.status == 200 and [op["status"] for op in reply.body["Operations"]] == ["201"] * 50, reply.body
    after = await scim.request("GET", "/Users", params={"count": "1"})
    assert after.status == 429 and int(after.headers["Retry-After"]) >= 40, after.headers  # 50 operations owed
    small = await _rate_limited_client(http, gateway, per_second=5)
    reply = await small.request("POST", "/Bulk", {spelling.lower(): [
        {"METHOD": "post", "Path": "/Users", "BULKID": "a", "Data": scim_user(unique("spelt"))}]})
    assert reply.status == 200 and reply.body["Operations"][0]["status"] == "201", reply.body


@pytest.mark.parametrize("body", [
    {"schemas": False, "Operations": []},
    {"schemas": "urn:ietf:params:scim:api:messages:2.0:BulkRequest", "Operations": []},
    {"schemas": [BULK_REQUEST], "Operations": [], "operations": []},
    {"schemas": [BULK_REQUEST], "Operations": [{"method": "POST", "Method": "DELETE", "path": "/Users"}]},
    {"schemas": [BULK_REQUEST], "Operations": {"method": "POST"}},
    {"schemas": [BULK_REQUEST], "Operations": [{"method": "POST", "path": "/Users", "bulkId": 7, "data": {}}]},
])
async def test_malformed_bulk_requests_are_400(scim, body):
    reply = await scim.request("POST", "/Bulk", body)
    assert reply.status == 400 and reply.body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"], reply.body


async def test_bulk_is_authenticated_before_its_body_is_read(http, gateway):
    """An unauthenticated Bulk is 401 even with a body the gateway would refuse to parse."""
    scim = await new_client(http, gateway)
    url = scim.base_url.split("?")[0] + "/Bulk"
    async with http.post(url, data=b"{" * 100, headers={"Authorization": "Bearer nope",
                                                        "Content-Type": "application/scim+json"}) as response:
        assert response.status == 401
