"""Bad input gets a clear error and stores nothing (RFC 7644 §3.12 on SCIM paths)."""

import asyncio
import json

import grpc
import orjson
import pytest
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.directory.v1.directory_service_pb2_grpc import DirectoryServiceStub

from runtime.context import Tenant
from tests.support import basic_auth, bearer, create_connection, create_organization, post_json, scim_user

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
async def tenant_connection(http, gateway):
    organization = await create_organization(http, gateway, "bad")
    return await create_connection(http, gateway, organization["organization_id"])


async def _members(settings, connection) -> int:
    async with grpc.aio.insecure_channel(settings.services.directory) as channel:
        response = await DirectoryServiceStub(channel).ListMembers(
            directory_pb.ListMembersRequest(),
            metadata=Tenant(connection["organization_id"], connection["connection_id"]).metadata(),
        )
    return response.total_size


async def _scim_post(http, url, data: bytes, headers) -> tuple[int, dict, str]:
    async with http.post(url, data=data, headers=headers) as response:
        return response.status, await response.json(content_type=None), response.content_type


def _assert_scim_error(status, body, content_type, expected_status, scim_type=None):
    assert status == expected_status
    assert content_type == "application/scim+json"
    assert body["schemas"] == [SCIM_ERROR]
    assert body["status"] == str(expected_status)
    assert body["detail"]
    if scim_type:
        assert body["scimType"] == scim_type


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer wrong", "Basic dXNlcjpwYXNz", "Bearer scimd_0123456789abcdef_" + "A" * 43],
)
async def test_missing_or_wrong_token_is_401(http, gateway, tenant_connection, authorization):
    """RFC 7644 §3.12: 401 for a failed authentication, as SCIM error JSON."""
    headers = {"Content-Type": "application/scim+json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    result = await _scim_post(http, f"{tenant_connection['base_url']}/Users", orjson.dumps(scim_user("x@y.test")), headers)
    _assert_scim_error(*result, 401)
    assert await _members(gateway.settings, tenant_connection) == 0


async def test_token_of_another_connection_is_401(http, gateway, tenant_connection):
    other_org = await create_organization(http, gateway, "other")
    other = await create_connection(http, gateway, other_org["organization_id"])
    result = await _scim_post(http, f"{tenant_connection['base_url']}/Users", orjson.dumps(scim_user("x@y.test")), bearer(other))
    _assert_scim_error(*result, 401)
    assert await _members(gateway.settings, tenant_connection) == 0
    assert await _members(gateway.settings, other) == 0


async def test_unknown_connection_is_401(http, gateway, tenant_connection):
    url = f"{gateway.url}/scim/v2/scim-connection-unknown/Users"
    _assert_scim_error(*await _scim_post(http, url, orjson.dumps(scim_user("x@y.test")), bearer(tenant_connection)), 401)


@pytest.mark.parametrize("data", [b"{not json", b"", b"[1, 2]", b'"a string"', b"\xff\xfe"])
async def test_malformed_json_is_invalid_syntax(http, gateway, tenant_connection, data):
    """RFC 7644 §3.12: invalidSyntax for an unparsable request body."""
    result = await _scim_post(http, f"{tenant_connection['base_url']}/Users", data, bearer(tenant_connection))
    _assert_scim_error(*result, 400, "invalidSyntax")
    assert await _members(gateway.settings, tenant_connection) == 0


async def test_missing_user_name_is_invalid_value(http, gateway, tenant_connection):
    """RFC 7643 §4.1.1: userName is required."""
    body = scim_user("x@y.test")
    del body["userName"]
    result = await _scim_post(http, f"{tenant_connection['base_url']}/Users", orjson.dumps(body), bearer(tenant_connection))
    _assert_scim_error(*result, 400, "invalidValue")
    assert await _members(gateway.settings, tenant_connection) == 0


async def test_duplicate_user_name_in_other_case_is_409_uniqueness(http, gateway, tenant_connection):
    """RFC 7644 §3.3: 409 uniqueness when the resource already exists."""
    url = f"{tenant_connection['base_url']}/Users"
    status, _, _ = await _scim_post(http, url, orjson.dumps(scim_user("Grace@Navy.test")), bearer(tenant_connection))
    assert status == 201
    result = await _scim_post(http, url, orjson.dumps(scim_user("grace@navy.test")), bearer(tenant_connection))
    _assert_scim_error(*result, 409, "uniqueness")
    assert await _members(gateway.settings, tenant_connection) == 1


async def test_unknown_user_is_404(http, gateway, tenant_connection):
    async with http.get(f"{tenant_connection['base_url']}/Users/member-nope", headers=bearer(tenant_connection)) as response:
        _assert_scim_error(response.status, await response.json(content_type=None), response.content_type, 404)


async def test_unknown_scim_path_is_scim_404(http, gateway, tenant_connection):
    async with http.get(f"{tenant_connection['base_url']}/Nothing", headers=bearer(tenant_connection)) as response:
        _assert_scim_error(response.status, await response.json(content_type=None), response.content_type, 404)


async def test_oversized_body_is_413(http, gateway, tenant_connection):
    big = orjson.dumps(scim_user("big@y.test", displayName="x" * (2 * 1024 * 1024)))
    result = await _scim_post(http, f"{tenant_connection['base_url']}/Users", big, bearer(tenant_connection))
    _assert_scim_error(*result, 413)
    assert await _members(gateway.settings, tenant_connection) == 0


@pytest.mark.parametrize("credentials", [None, ("wrong", "creds"), ("project-id-only", "")])
async def test_wrong_management_credentials_are_401(http, gateway, credentials):
    headers = basic_auth(*credentials) if credentials else {}
    status, body = await post_json(http, f"{gateway.url}/v1/b2b/organizations", {"organization_name": "Nope"}, headers=headers)
    assert status == 401
    assert body["error_type"] == "unauthorized_credentials" and body["status_code"] == 401 and body["request_id"]


async def test_right_id_with_wrong_secret_is_401(http, gateway):
    headers = basic_auth(gateway.settings.project_id, gateway.settings.project_secret + "x")
    status, _ = await post_json(http, f"{gateway.url}/v1/b2b/organizations", {"organization_name": "Nope"}, headers=headers)
    assert status == 401


@pytest.mark.parametrize(
    "body, error_type",
    [({}, "invalid_value"), ({"organization_name": 5}, "invalid_value"), ({"organization_name": "A", "organization_slug": "NO SPACES"}, "invalid_value")],
)
async def test_invalid_organization_requests(http, gateway, body, error_type):
    status, response = await post_json(http, f"{gateway.url}/v1/b2b/organizations", body, headers=gateway.auth)
    assert status == 400 and response["error_type"] == error_type


async def test_management_malformed_json(http, gateway):
    async with http.post(f"{gateway.url}/v1/b2b/organizations", data=b"{",
                         headers={**gateway.auth, "Content-Type": "application/json"}) as response:
        body = await response.json()
    assert response.status == 400 and body["error_type"] == "invalid_syntax"


async def test_connection_for_unknown_organization_is_404(http, gateway):
    status, body = await post_json(http, f"{gateway.url}/v1/b2b/scim/organization-nope/connection", {}, headers=gateway.auth)
    assert status == 404 and body["error_type"] == "not_found"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "http:///nohost"])
async def test_invalid_webhook_urls(http, gateway, url):
    status, body = await post_json(http, f"{gateway.url}/v1/webhooks/endpoints", {"url": url}, headers=gateway.auth)
    assert status == 400 and body["error_type"] == "invalid_value"


HUGE = 10**20


@pytest.mark.parametrize("path", [
    f"/Users?startIndex={HUGE}&count={HUGE}",
    f"/Groups?startIndex={HUGE}&count={HUGE}",
    f"/Users?startIndex=-{HUGE}&count=-{HUGE}",
    f"/Users?startIndex={2**31}",
])
async def test_out_of_range_paging_is_answered_not_a_500(http, gateway, tenant_connection, path):
    """RFC 7644 §3.4.2.4: startIndex past the results gives an empty page; count is capped."""
    async with http.get(tenant_connection["base_url"] + path, headers=bearer(tenant_connection)) as response:
        body = await response.json(content_type=None)
    assert response.status == 200, body
    assert body["Resources"] == [] or body["itemsPerPage"] == len(body["Resources"])


@pytest.mark.parametrize("number", [2**62, HUGE])
async def test_out_of_range_paging_in_a_search_body(http, gateway, tenant_connection, number):
    """Past 64 bits a JSON number is read as a float, refused as not an integer; below, it pages like any other."""
    status, body, content_type = await _scim_post(
        http, tenant_connection["base_url"] + "/Users/.search",
        json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "startIndex": number, "count": number}).encode(),
        {**bearer(tenant_connection), "Content-Type": "application/scim+json"},
    )
    if number < 2**63:
        assert status == 200 and body["Resources"] == [], body
    else:
        _assert_scim_error(status, body, content_type, 400, "invalidValue")


async def test_out_of_range_integers_in_the_management_api_are_400(http, gateway, tenant_connection):
    auth = basic_auth(gateway.settings.project_id, gateway.settings.project_secret)
    organization_id, connection_id = tenant_connection["organization_id"], tenant_connection["connection_id"]
    for path in ("/v1/rbac/roles", "/v1/b2b/organizations", f"/v1/b2b/organizations/{organization_id}/members"):
        async with http.get(f"{gateway.url}{path}?limit={HUGE}", headers=auth) as response:
            assert response.status == 200, path  # capped, as a page size
    for method, path, body in (
        ("PUT", f"/v1/b2b/scim/{organization_id}/connection/{connection_id}", {"rate_limit_per_second": HUGE}),
        ("PUT", f"/v1/b2b/scim/{organization_id}/connection/{connection_id}", {"rate_limit_per_second": -1}),
        ("POST", "/v1/b2b/sessions", {"organization_id": organization_id, "member_id": "m",
                                      "session_duration_minutes": HUGE}),
    ):
        async with http.request(method, gateway.url + path, json=body, headers=auth) as response:
            answer = await response.json(content_type=None)
        assert response.status == 400, (path, answer)
        assert answer["error_type"] == "invalid_value"


# Found by schemathesis (tests/gateway/test_openapi.py): inputs no service can
# hold, or that came back from a service in a form the gateway could not read.

async def _raw_status(gateway, method: str, path: str, headers: list[tuple[str, bytes]], body: bytes = b"") -> int:
    """The status of a request sent byte for byte (HTTP clients refuse header values that are not text)."""
    from urllib.parse import urlsplit

    address = urlsplit(gateway.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    head = f"{method} {path} HTTP/1.1\r\nHost: {address.netloc}\r\nConnection: close\r\n"
    head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + b"".join(name.encode() + b": " + value + b"\r\n" for name, value in headers)
                 + b"\r\n" + body)
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


async def test_nul_characters_in_a_body_are_invalid_value(http, gateway, tenant_connection):
    """PostgreSQL's text and jsonb cannot hold U+0000: 400, never a 500."""
    status, body, content_type = await _scim_post(
        http, f"{tenant_connection['base_url']}/Users", orjson.dumps(scim_user("nul@y.test", title="a\u0000b")),
        bearer(tenant_connection),
    )
    _assert_scim_error(status, body, content_type, 400, "invalidValue")
    async with http.post(f"{gateway.url}/v1/rbac/roles", json={"role_id": "nul", "description": "\u0000"},
                         headers=basic_auth(gateway.settings.project_id, gateway.settings.project_secret)) as response:
        assert response.status == 400
        assert (await response.json())["error_type"] == "invalid_value"
    assert await _members(gateway.settings, tenant_connection) == 0


@pytest.mark.parametrize("segment", ["%C3%A9", "a%0Ab", "%00"])
async def test_ids_in_paths_that_no_id_can_be_are_404(http, gateway, tenant_connection, segment):
    """Ids are printable ASCII; others could not even travel in gRPC metadata."""
    auth = basic_auth(gateway.settings.project_id, gateway.settings.project_secret)
    organization_id = tenant_connection["organization_id"]
    for method, path in (("GET", f"/v1/b2b/organizations/{segment}/members"),
                         ("GET", f"/v1/b2b/organizations/{segment}/audit_log"),
                         ("PUT", f"/v1/b2b/organizations/{organization_id}/members/{segment}")):
        async with http.request(method, gateway.url + path, json={"roles": []}, headers=auth) as response:
            assert response.status == 404, path
            assert (await response.json())["error_type"] == "not_found"
    async with http.get(f"{tenant_connection['base_url']}/Users/{segment}", headers=bearer(tenant_connection)) as response:
        _assert_scim_error(response.status, await response.json(content_type=None), response.content_type, 404)


async def test_session_for_an_id_that_no_id_can_be_is_404(http, gateway):
    auth = basic_auth(gateway.settings.project_id, gateway.settings.project_secret)
    async with http.post(f"{gateway.url}/v1/b2b/sessions", json={"organization_id": "é", "member_id": "m"},
                         headers=auth) as response:
        assert response.status == 404


async def test_header_values_that_are_not_utf8(http, gateway, tenant_connection):
    """aiohttp keeps such bytes as lone surrogates, which protobuf refuses: a
    version that matches nothing (412), credentials that are wrong (401)."""
    status, user, _ = await _scim_post(http, f"{tenant_connection['base_url']}/Users",
                                       orjson.dumps(scim_user("latin1@y.test")), bearer(tenant_connection))
    assert status == 201
    path = f"/scim/v2/{tenant_connection['connection_id']}/Users/{user['id']}"
    token = bearer(tenant_connection)["Authorization"].encode()
    body = orjson.dumps(scim_user("latin1@y.test"))
    assert await _raw_status(gateway, "PUT", path, [("Authorization", token), ("If-Match", b'W/"\xe9"')], body) == 412
    assert await _raw_status(gateway, "GET", path, [("Authorization", token), ("If-None-Match", b"\xe9")]) == 200
    assert await _raw_status(gateway, "GET", path, [("Authorization", b"Bearer \xe9")]) == 401
    assert await _raw_status(gateway, "GET", "/v1/rbac/roles", [("Authorization", b"Basic \xe9")]) == 401
    auth = basic_auth(gateway.settings.project_id, gateway.settings.project_secret)
    async with http.post(f"{gateway.url}/v1/rbac/roles", json={"role_id": "latin1"}, headers=auth) as response:
        assert response.status == 201
    assert await _raw_status(gateway, "PUT", "/v1/rbac/roles/latin1",
                             [("Authorization", auth["Authorization"].encode()), ("If-Match", b"\xe9")], b"{}") == 412


async def test_a_groups_cursor_out_of_range_is_400(http, gateway, tenant_connection):
    auth = basic_auth(gateway.settings.project_id, gateway.settings.project_secret)
    path = (f"/v1/b2b/scim/{tenant_connection['organization_id']}/connection/{tenant_connection['connection_id']}"
            f"/groups?cursor={HUGE}")
    async with http.get(gateway.url + path, headers=auth) as response:
        assert response.status == 400
        assert (await response.json())["error_type"] == "invalid_value"


async def test_a_bulk_id_that_is_not_a_string_is_invalid_value(http, gateway, tenant_connection):
    """RFC 7644 §3.7: bulkId is a string (it was echoed back as given)."""
    result = await _scim_post(
        http, f"{tenant_connection['base_url']}/Bulk",
        orjson.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                      "Operations": [{"method": "POST", "path": "/Users", "bulkId": 5, "data": scim_user("b@y.test")}]}),
        bearer(tenant_connection),
    )
    _assert_scim_error(*result, 400, "invalidValue")
    assert await _members(gateway.settings, tenant_connection) == 0


async def test_errors_quoting_long_input_reach_the_client(http, gateway, tenant_connection):
    """A service's message may quote the request; past gRPC's default 8 KiB of
    trailers the status came back garbled, and the gateway answered 500."""
    long = "a" * 9000
    status, user, _ = await _scim_post(http, f"{tenant_connection['base_url']}/Users",
                                       orjson.dumps(scim_user("long@y.test")), bearer(tenant_connection))
    async with http.patch(f"{tenant_connection['base_url']}/Users/{user['id']}", headers=bearer(tenant_connection),
                          data=orjson.dumps({"Operations": [{"op": "add", "path": long, "value": "x"}]})) as response:
        _assert_scim_error(response.status, await response.json(content_type=None), response.content_type, 400)
    auth = basic_auth(gateway.settings.project_id, gateway.settings.project_secret)
    async with http.post(f"{gateway.url}/v1/b2b/admin_portal/links", json={"organization_id": long},
                         headers=auth) as response:
        assert response.status == 404
