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
