"""Hostile inputs (issue 16 §5 and its class): every request in the corpus
below, with or without credentials, gets a 4xx in the error shape of its API,
never a 500. The corpus is data: add a line for every new kind of attack."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass

import orjson
import pytest

from tests.support import basic_auth, bearer, create_connection, create_organization

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def nested(depth: int, leaf: object = "x") -> object:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def nested_list(depth: int, leaf: object = "x") -> object:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def deep_text(depth: int, leaf: str = '"x"') -> bytes:
    """Nesting orjson itself may refuse, written out by hand."""
    return ('{"a":' * depth + leaf + "}" * depth).encode()


@dataclass(frozen=True)
class Attack:
    name: str
    method: str
    path: str  # {scim} is the connection's SCIM base, {org} its organization, {endpoint} a webhook endpoint
    body: bytes | None
    auth: str  # "scim", "vendor" or "none"
    # A Bulk answers 200 when its request is well-formed; then each bad operation is a 4xx of its own.
    per_operation: bool = False


def _json(value: object) -> bytes:
    return json.dumps(value).encode()  # the standard library writes deeper nesting than orjson


def _user(**extra) -> dict:
    return {"schemas": [USER], "userName": f"hostile-{uuid.uuid4().hex[:8]}@example.com", **extra}


CORPUS = [
    # JSON nested past any real SCIM payload, at every JSON entrance.
    *(Attack(f"users nested {d}", "POST", "{scim}/Users", _json(_user(title=nested(d))), "scim") for d in (40, 254, 300, 600)),
    Attack("users nested 2000 by hand", "POST", "{scim}/Users", deep_text(2000), "scim"),
    Attack("users nested lists 600", "POST", "{scim}/Users", _json(_user(emails=nested_list(600))), "scim"),
    Attack("groups nested 300", "POST", "{scim}/Groups",
           _json({"schemas": [GROUP], "displayName": "g", "x": nested(300)}), "scim"),
    Attack("bulk data nested 300", "POST", "{scim}/Bulk", _json({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": _user(title=nested(300))}]}), "scim"),
    Attack("patch value nested 300", "PATCH", "{scim}/Users/member-none", _json({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "title", "value": nested(300)}]}), "scim"),
    Attack("search nested 300", "POST", "{scim}/Users/.search", _json({"filter": nested(300)}), "scim"),
    Attack("NUL 600 deep, no credentials", "POST", "{scim}/Users", _json(_user(title=nested(600, "\u0000"))), "none"),
    Attack("NUL 600 deep", "POST", "{scim}/Users", _json(_user(title=nested(600, "\u0000"))), "scim"),
    Attack("NUL 600 deep, management", "POST", "/v1/b2b/organizations",
           _json({"organization_name": nested(600, "\u0000")}), "vendor"),
    Attack("NUL in a key", "POST", "{scim}/Users", _json(_user(**{"ti\u0000tle": "x"})), "scim"),
    Attack("management nested 300", "POST", "/v1/b2b/organizations", _json({"organization_name": nested(300)}), "vendor"),
    Attack("management nested 2000 by hand", "POST", "/v1/rbac/roles", deep_text(2000), "vendor"),
    # Bulk's own fields.
    Attack("bulk schemas false", "POST", "{scim}/Bulk", _json({"schemas": False, "Operations": []}), "scim"),
    Attack("bulk schemas object", "POST", "{scim}/Bulk", _json({"schemas": {"a": 1}, "Operations": []}), "scim"),
    Attack("bulk failOnErrors huge", "POST", "{scim}/Bulk",
           _json({"schemas": [BULK], "failOnErrors": 2**70, "Operations": []}), "scim"),
    Attack("bulk method number", "POST", "{scim}/Bulk",
           _json({"schemas": [BULK], "Operations": [{"method": 5, "path": "/Users"}]}), "scim", per_operation=True),
    Attack("bulk path list", "POST", "{scim}/Bulk",
           _json({"schemas": [BULK], "Operations": [{"method": "DELETE", "path": ["/Users"]}]}), "scim",
           per_operation=True),
    # Cursors and times out of every range.
    *(Attack(f"audit cursor {name}", "GET", "{org_path}/audit_log?cursor=" + cursor, None, "vendor")
      for name, cursor in (("2^63", "WzkyMjMzNzIwMzY4NTQ3NzU4MDhd"), ("-2^63-1", "Wy05MjIzMzcyMDM2ODU0Nzc1ODA5XQ"),
                           ("nested", "W1tbW11dXV1d"), ("float", "WzEuNWUzMDBd"), ("garbage", "%FF%FE"))),
    Attack("attempts cursor 2^63", "GET", "/v1/webhooks/endpoints/{endpoint}/attempts?cursor=WzkyMjMzNzIwMzY4NTQ3NzU4MDhd",
           None, "vendor"),
    Attack("events cursor 2^63", "GET", "/v1/events?after=WzkyMjMzNzIwMzY4NTQ3NzU4MDhd", None, "vendor"),
    Attack("members cursor nested", "GET", "{org_path}/members?cursor=W1tbW11dXV1d", None, "vendor"),
    *(Attack(f"replay start {when}", "POST", "/v1/webhooks/endpoints/{endpoint}/replay",
             _json({"start_time": when, "end_time": "2030-01-01T00:00:00Z"}), "vendor")
      for when in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z", "not a time",
                   "2026-13-45T00:00:00Z")),
    Attack("replay start number", "POST", "/v1/webhooks/endpoints/{endpoint}/replay",
           _json({"start_time": 5, "end_time": []}), "vendor"),
    # Webhook URLs a client cannot use.
    *(Attack(f"webhook url {url[:30]!r}", "POST", "/v1/webhooks/endpoints", _json({"url": url}), "vendor")
      for url in ("http://" + "\u00e9" * 64 + ".example/", "http://[::1x]/", "http://[::1/", "http://\U0001FBF127.0.0.1/",
                  "http://a..b/", "http://" + "a" * 300 + "/", "http://%zz/", "http://x:99999/", "http://x:-1/",
                  "http://u@/", "http:// /")),
    Attack("webhook url not a string", "POST", "/v1/webhooks/endpoints", _json({"url": {"a": 1}}), "vendor"),
    Attack("webhook event types not strings", "POST", "/v1/webhooks/endpoints",
           _json({"url": "https://hooks.scimd.test/x", "event_types": [1, None]}), "vendor"),
]


@dataclass
class Target:
    scim: str
    scim_token: str
    org_path: str
    endpoint: str


@pytest.fixture(scope="module")
async def target(gateway):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        organization = await create_organization(http, gateway, "hostile")
        connection = await create_connection(http, gateway, organization["organization_id"])
        async with http.post(f"{gateway.url}/v1/webhooks/endpoints", headers=gateway.auth,
                             json={"url": "https://hooks.scimd.test/hostile", "event_types": ["organization.delete"]}) \
                as response:
            endpoint = (await response.json())["endpoint"]["endpoint_id"]
    yield Target(connection["base_url"].split("?")[0], connection["bearer_token"],
                 f"/v1/b2b/organizations/{organization['organization_id']}", endpoint)


@pytest.mark.parametrize("attack", CORPUS, ids=[a.name for a in CORPUS])
async def test_hostile_input_is_a_clear_4xx(http, gateway, target, attack):
    url = attack.path.format(scim=target.scim, org_path=target.org_path, endpoint=target.endpoint)
    if not url.startswith("http"):
        url = gateway.url + url
    headers = {"Content-Type": "application/scim+json" if attack.auth == "scim" else "application/json"}
    if attack.auth == "scim":
        headers["Authorization"] = f"Bearer {target.scim_token}"
    elif attack.auth == "vendor":
        headers.update(basic_auth(gateway.settings.project_id, gateway.settings.project_secret))
    async with http.request(attack.method, url, data=attack.body, headers=headers) as response:
        status, raw = response.status, await response.read()
    body = orjson.loads(raw)
    if attack.per_operation:
        assert status == 200 and all(400 <= int(op["status"]) < 500 for op in body["Operations"]), body
        return
    assert 400 <= status < 500, (status, raw[:300])
    if "/scim/v2/" in url:
        assert body["schemas"] == [SCIM_ERROR] and body["status"] == str(status), body
    else:
        assert body["status_code"] == status and body["error_message"], body


def _series(name: str) -> int:
    from prometheus_client import REGISTRY

    return sum(len(metric.samples) for metric in REGISTRY.collect() if metric.name == name)


async def test_unauthenticated_requests_add_no_metric_series(http, gateway):
    """Issue 16 §4: 3,000 unauthenticated requests added 6,000 series. Now
    neither a connection id in the path nor an invented method is a label."""
    for _ in range(3):  # the labels of these shapes exist once
        async with http.get(f"{gateway.url}/scim/v2/scim-connection-{uuid.uuid4()}/Users"):
            pass
        async with http.request("FROB", f"{gateway.url}/scim/v2/scim-connection-{uuid.uuid4()}/Users"):
            pass
    before = _series("scimd_http_requests") + _series("scimd_http_request_duration_seconds")
    for n in range(300):
        method = "GET" if n % 2 else f"X{n}"
        async with http.request(method, f"{gateway.url}/scim/v2/scim-connection-{uuid.uuid4()}/Users") as response:
            assert response.status in (400, 401, 405)
    after = _series("scimd_http_requests") + _series("scimd_http_request_duration_seconds")
    assert after == before


@pytest.mark.parametrize("request_line", [
    b"FROB\x01 /scim/v2/x/Users HTTP/1.1", b"BREW /scim/v2/x/Users HTTP/1.1", b"GET /\x00 HTTP/1.1",
    b"GET / HTTP/9.9", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # the last: a TLS hello on the plain port
])
async def test_a_request_the_http_parser_refuses_is_a_400_and_no_error_in_the_log(gateway, caplog, request_line):
    """aiohttp logged these at error level with a traceback: anyone could fill
    the error log. Now each is one info line."""
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    host, port = gateway.url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request_line + b"\r\nHost: scimd\r\n\r\n")
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status_line.split()[1] == b"400", status_line
    parser_records = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert not [r for r in parser_records if r.levelno >= logging.WARNING or r.exc_info]
    assert [r for r in parser_records if r.getMessage() == "malformed HTTP request refused"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None])
async def test_the_management_api_takes_only_json_bodies(http, gateway, content_type):
    """Issue 16 §6: no cross-site form can create anything with a browser's credentials."""
    slug = f"csrf-{uuid.uuid4().hex[:8]}"
    headers = dict(gateway.auth)
    if content_type:
        headers["Content-Type"] = content_type
    body = json.dumps({"organization_name": "CSRF", "organization_slug": slug}).encode()
    async with http.post(f"{gateway.url}/v1/b2b/organizations", data=body, headers=headers) as response:
        assert response.status == 415, await response.text()
        assert (await response.json())["error_type"] == "unsupported_media_type"
    async with http.get(f"{gateway.url}/v1/b2b/organizations", headers=gateway.auth, params={"limit": "1000"}) as listed:
        assert slug not in await listed.text()


async def test_a_management_401_does_not_invite_a_browser_to_keep_credentials(http, gateway):
    async with http.get(f"{gateway.url}/v1/b2b/organizations") as response:
        assert response.status == 401 and "WWW-Authenticate" not in response.headers


def _management_routes(settings) -> list[tuple[str, str, bool]]:
    return _routes(settings, "/v1/")


def _routes(settings, prefix: str) -> list[tuple[str, str, bool]]:
    from gateway.app import create_app
    from gateway.auth import is_public

    routes = []
    for route in create_app(settings).router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith(prefix) and route.method != "HEAD":
            routes.append((route.method, path, is_public(route.handler)))
    return routes


async def test_every_scim_route_is_closed_without_the_connections_token_unless_declared_public(http, gateway):
    """Default-deny on the SCIM API too: no handler can forget to authenticate,
    and a token of one connection opens nothing under another's URL."""
    import re

    organization = await create_organization(http, gateway)
    mine = await create_connection(http, gateway, organization["organization_id"])
    other = await create_connection(http, gateway, (await create_organization(http, gateway))["organization_id"])
    routes = _routes(gateway.settings, "/scim/v2/")
    assert len(routes) > 10
    public = set()
    for method, path, is_public in routes:
        if is_public:
            public.add(path.rsplit("/scim/v2/{connection_id}", 1)[1])
            continue
        url = gateway.url + re.sub(r"\{[^}]+\}", "x", path.replace("{connection_id}", mine["connection_id"]))
        for headers in ({}, bearer(other), {"Authorization": "Bearer "}):
            async with http.request(method, url, json={}, headers=headers) as response:
                assert response.status == 401, (method, path, headers, response.status)
                assert (await response.json(content_type=None))["schemas"] == [SCIM_ERROR]
    # Discovery, and the OAuth token endpoint (its client authenticates in the request itself).
    assert public == {"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/{name}", "/Schemas", "/Schemas/{urn}",
                      "/oauth2/token"}
    for path in ("/NoSuchResource", "/Users/x/y"):  # what exists is not told to strangers
        async with http.get(f"{gateway.url}/scim/v2/{mine['connection_id']}{path}") as response:
            assert response.status == 401
        async with http.get(f"{gateway.url}/scim/v2/{mine['connection_id']}{path}",
                            headers=bearer(mine)) as response:
            assert response.status == 404


async def test_every_management_route_is_closed_without_credentials_unless_declared_public(http, gateway):
    """Default-deny: no management handler can forget to authenticate."""
    import re

    routes = _management_routes(gateway.settings)
    assert len(routes) > 30
    for method, path, is_public in routes:
        if is_public:
            continue
        url = gateway.url + re.sub(r"\{[^}]+\}", "x", path)
        async with http.request(method, url, json={}) as response:
            assert response.status == 401, (method, path, response.status)
    async with http.get(f"{gateway.url}/v1/no/such/route") as response:
        assert response.status == 401  # what exists is not told to strangers


async def test_the_public_routes_are_the_ones_the_openapi_document_declares_public(gateway):
    from gateway.openapi import document

    declared = {
        (method.upper(), path)
        for path, operations in document(gateway.url)["paths"].items() if path.startswith("/v1/")
        for method, operation in operations.items() if isinstance(operation, dict) and operation.get("security") == []
    }
    marked = {(method, path) for method, path, is_public in _management_routes(gateway.settings) if is_public}
    assert marked == declared and marked


async def test_the_public_scim_routes_are_the_ones_the_openapi_document_declares_public(gateway):
    from gateway.openapi import document

    declared = {
        (method.upper(), path)
        for path, operations in document(gateway.url)["paths"].items() if path.startswith("/scim/v2/")
        for method, operation in operations.items() if isinstance(operation, dict) and operation.get("security") == []
    }
    marked = {(method, path) for method, path, is_public in _routes(gateway.settings, "/scim/v2/") if is_public}
    assert marked == declared and marked
