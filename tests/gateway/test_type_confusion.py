"""Type confusion, field by field (issue 16 §5): every field of every request
body the OpenAPI document describes, at every depth, is sent once with a
value of each other JSON type, on top of a body the gateway accepts.

- Nothing is ever a server error, and every refusal has its API's error shape
  (RFC 7644 §3.12 on SCIM, the management envelope elsewhere).
- A value of a type the field's schema does not allow is refused (4xx; in a
  Bulk request, that operation's status), except where SCIM's documented
  dialects accept it (scim/users.py): null is "unassigned", an empty array or
  object is "unassigned" for a multi-valued or complex attribute, a single
  object stands for a one-element multi-valued attribute and a one-element
  array for a single-valued complex one.

Schemathesis (test_openapi.py) explores too, at random; this sweep is the
deterministic floor under it: no field is left out.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

from gateway.openapi import document
from tests.support import bearer, create_connection, create_organization, post_json, scim_user

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
WRONG: dict[str, Any] = {"null": None, "boolean": True, "integer": 7, "number": 1.5, "string": "x",
                         "empty array": [], "empty object": {}, "array of an object": [{}]}
CONCURRENCY = 8
# Operations whose base body is fine but whose effects would break the next ones: last.
LAST = ("/v1/b2b/sessions/revoke",)
DROP = object()  # in a variant: leave the example's field out
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MULTI = {"display": "shown", "type": "work", "primary": True}  # the sub-attributes every multi-valued one has
COMPLETE_USER = {
    "externalId": "ext-ada", "displayName": "Ada Lovelace", "nickName": "Ada", "profileUrl": "https://example.com/ada",
    "title": "Analyst", "userType": "Employee", "preferredLanguage": "en-GB", "locale": "en-GB",
    "timezone": "Europe/London", "password": "never stored",
    "name": {"formatted": "Ada King", "middleName": "Augusta", "honorificPrefix": "Lady", "honorificSuffix": "-"},
    "emails": [{"display": "Ada"}],  # merged into the example's first email
    "phoneNumbers": [{**MULTI, "value": "+44 20 7946 0000"}], "ims": [{**MULTI, "value": "ada"}],
    "photos": [{**MULTI, "value": "https://example.com/ada.png"}],
    "addresses": [{"formatted": "12 St James's Square, London", "streetAddress": "12 St James's Square",
                   "locality": "London", "region": "London", "postalCode": "SW1Y 4JH", "country": "GB",
                   "type": "work", "primary": True}],
    "entitlements": [{**MULTI, "value": "analyst"}], "roles": [{**MULTI, "value": "engineer"}],
    "x509Certificates": [{**MULTI, "value": "MIIB"}],
    ENTERPRISE: {"employeeNumber": "1815", "costCenter": "C1", "organization": "Acme", "division": "R&D",
                 "department": "Engines", "manager": {"value": "member-…", "$ref": "https://example.com/Users/1"}},
}
GROUP_MEMBERS = [{"value": "member-…", "$ref": "https://example.com/Users/1", "type": "User"}]
QUERY = {"attributes": ["userName"], "excludedAttributes": ["emails"], "sortBy": "userName", "sortOrder": "ascending",
         "startIndex": 1}
# Bodies read by the same code as another operation's, swept there in depth and
# here at the top level only (the suite's time is bounded).
SHALLOW = ("POST /scim/v2/{connection_id}/Users", "POST /scim/v2/{connection_id}/Groups")
# Operation → what completes its documented example into bases that, together,
# hold every field the document declares (several where fields exclude each other).
COMPLETIONS: dict[str, list[dict]] = {
    "PUT /v1/b2b/organizations/{organization_id}": [{"organization_slug": "acme"}],
    "PUT /v1/b2b/scim/{organization_id}/connection/{connection_id}": [
        {"display_name": "Okta", "identity_provider": "okta", "rate_limit_per_second": 100_000,
         "bearer_token_enabled": True, "strict_attributes": False,
         "scim_attribute_implicit_role_assignments": [{"attribute": "roles", "value": "Billing.Admin",
                                                       "role_id": "editor"}],
         "scim_rule_implicit_role_assignments": [{"filter": f'{ENTERPRISE}:department eq "Finance"',
                                                  "role_id": "editor"}]}],
    "POST /v1/b2b/sessions/authenticate": [{}, {"session_jwt": DROP, "session_token": "<session token>"}],
    "POST /v1/b2b/sessions/revoke": [{}, {"member_id": DROP, "member_session_id": "<session id>"}],
    # Allow-listed in the tests (tests/conftest.py) and never resolved: the example's Entra URL is unreachable here.
    "PUT /v1/b2b/scim/{organization_id}/connection/{connection_id}/assertion_trust": [
        {"jwks_url": "https://hooks.scimd.test/keys"}],
    "POST /v1/webhooks/endpoints": [{"organization_ids": ["organization-…"]}],
    "PUT /v1/webhooks/endpoints/{endpoint_id}": [{"url": "https://example.com/hook",
                                                  "organization_ids": ["organization-…"]}],
    "POST /scim/v2/{connection_id}/Users": [COMPLETE_USER],
    "PUT /scim/v2/{connection_id}/Users/{resource_id}": [COMPLETE_USER],
    "POST /scim/v2/{connection_id}/Groups": [{"externalId": "ext-editors", "members": GROUP_MEMBERS}],
    "PUT /scim/v2/{connection_id}/Groups/{resource_id}": [{"externalId": "ext-editors",
                                                         "members": GROUP_MEMBERS}],
    # startIndex and cursor (RFC 9865) exclude each other: a base for each.
    "POST /scim/v2/{connection_id}/Users/.search": [QUERY, {"startIndex": DROP, "cursor": ""}],
    "POST /scim/v2/{connection_id}/Groups/.search": [{**QUERY, "sortBy": "displayName"},
                                                     {"sortBy": "displayName", "startIndex": DROP, "cursor": ""}],
    "POST /scim/v2/{connection_id}/.search": [QUERY, {"startIndex": DROP, "cursor": ""}],
    "PUT /v1/b2b/scim/{organization_id}/connection/{connection_id}/deprovision_guard": [
        {"max_count": 50, "source": "connection"}, {"inherit": True}],
    "POST /scim/v2/{connection_id}/Bulk": [{"failOnErrors": 1, "Operations": [{"version": "W/\"1\""}]}],
    # Each transform type has its own fields: a base for each.
    "PUT /v1/b2b/scim/{organization_id}/connection/{connection_id}/attribute_mapping": [
        {"fields": [{"transforms": [{"type": "split", "separator": "-", "index": 0}]}]},
        {"fields": [{"transforms": [{"type": "regex", "pattern": "(\\w+)", "group": 1}]}]}],
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def fields(body: Any, prefix: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every (path, value) inside a body; an array by its first element."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield (*prefix, key), value
            yield from fields(value, (*prefix, key))
    elif isinstance(body, list) and body:
        yield (*prefix, 0), body[0]
        yield from fields(body[0], (*prefix, 0))


def replaced(body: Any, path: tuple, value: Any) -> Any:
    copied = copy.deepcopy(body)
    container = copied
    for step in path[:-1]:
        container = container[step]
    container[path[-1]] = value
    return copied


def merged(example: Any, completion: Any) -> Any:
    """`example` with `completion` laid over it: objects key by key, an array's first element."""
    if isinstance(example, dict) and isinstance(completion, dict):
        result = dict(example)
        for key, value in completion.items():
            if value is DROP:
                result.pop(key, None)
            else:
                result[key] = merged(example.get(key), value) if key in example else copy.deepcopy(value)
        return result
    if isinstance(example, list) and isinstance(completion, list) and example and completion:
        return [merged(example[0], completion[0]), *example[1:]]
    return copy.deepcopy(completion)


class Schemas:
    def __init__(self, doc: dict):
        self.components = doc["components"]["schemas"]

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def alternatives(self, schema: dict) -> list[dict]:
        schema = self.resolve(schema)
        if "oneOf" in schema or "anyOf" in schema:
            return [a for option in schema.get("oneOf", schema.get("anyOf")) for a in self.alternatives(option)]
        return [schema]

    def at(self, schema: dict, path: tuple) -> list[dict]:
        """The schemas that may describe the value at `path` (none: not described)."""
        current = self.alternatives(schema)
        for step in path:
            following = []
            for option in current:
                if isinstance(step, int) and "items" in option:
                    following += self.alternatives(option["items"])
                elif isinstance(step, str) and step in option.get("properties", {}):
                    following += self.alternatives(option["properties"][step])
            current = following
        return current

    def undescribed_in(self, schema: dict, bodies: list[Any], prefix: str = "") -> list[str]:
        """The fields `schema` declares that none of `bodies` holds, at every depth."""
        missing = []
        for option in self.alternatives(schema):
            for name, declared in option.get("properties", {}).items():
                present = [b[name] for b in bodies if isinstance(b, dict) and name in b]
                if not present:
                    missing.append(prefix + name)
                    continue
                for inner in self.alternatives(declared):
                    if "items" in inner:
                        elements = [value[0] for value in present if isinstance(value, list) and value]
                        missing += self.undescribed_in(inner["items"], elements, f"{prefix}{name}[].")
                    elif "properties" in inner:
                        missing += self.undescribed_in(inner, present, f"{prefix}{name}.")
        return missing

    def allowed_types(self, schema: dict, path: tuple) -> set[str] | None:
        """The JSON types the document allows at `path`; None when any is."""
        types: set[str] = set()
        for option in self.at(schema, path):
            declared = option.get("type")
            if declared is None:
                return None
            types |= {declared} if isinstance(declared, str) else set(declared)
        if "number" in types:
            types.add("integer")
        return types or None


@dataclass
class Probe:
    operation: str
    path: tuple
    wrong: str
    status: int
    body: Any


def _scim_dialect(allowed: set[str], wrong: str, field: tuple) -> bool:
    """What scim/users.py accepts beyond the declared type, by design."""
    if wrong == "null":
        return True
    if field[-1] == "manager" and wrong == "string":
        return True  # Entra sends the enterprise manager as the manager's id
    if "object" in allowed and wrong in ("empty array", "array of an object"):
        return True  # a single-valued complex attribute given as a (one-element or empty) array
    if "array" in allowed and wrong == "empty object":
        return True  # a multi-valued attribute given as a single (here empty) object
    return False


@pytest.fixture
async def world(http, gateway):
    """Real resources for every operation's placeholders, so that each base body is accepted."""
    organization = await create_organization(http, gateway, "confusion")
    connection = await create_connection(http, gateway, organization["organization_id"])
    organization_id, connection_id = organization["organization_id"], connection["connection_id"]
    async with http.put(f"{gateway.url}/v1/b2b/scim/{organization_id}/connection/{connection_id}",
                        json={"rate_limit_per_second": 100_000}, headers=gateway.auth) as response:
        assert response.status == 200
    base = f"{gateway.url}/scim/v2/{connection_id}"
    status, user = await post_json(http, f"{base}/Users", scim_user(f"confused-{uuid.uuid4().hex[:8]}@example.com"),
                                   headers=bearer(connection))
    assert status == 201, user
    status, group = await post_json(http, f"{base}/Groups", {"displayName": f"Confused {uuid.uuid4().hex[:6]}"},
                                    headers=bearer(connection))
    assert status == 201, group
    role_id = f"confusion-{uuid.uuid4().hex[:8]}"
    status, _ = await post_json(http, f"{gateway.url}/v1/rbac/roles", {"role_id": role_id}, headers=gateway.auth)
    assert status == 201
    sink = f"http://127.0.0.1:9/confusion-{uuid.uuid4().hex}"  # nothing listens: deliveries fail at once
    status, endpoint = await post_json(http, f"{gateway.url}/v1/webhooks/endpoints",
                                       {"url": sink, "event_types": ["organization.delete"],
                                        "organization_ids": [organization_id]}, headers=gateway.auth)
    assert status == 201, endpoint
    async with http.get(f"{gateway.url}/v1/events", params={"limit": "1"}, headers=gateway.auth) as response:
        events = (await response.json())["events"]
    world = {
        "organization_id": organization_id, "connection_id": connection_id, "member_id": user["id"],
        "role_id": role_id, "endpoint_id": endpoint["endpoint"]["endpoint_id"], "event_id": events[0]["data"]["event_id"],
        "group_id": group["id"], "sink": sink, "session_jwt": "", "session_token": "", "session_id": "",
        "bearer": bearer(connection), "user_id": user["id"],
        "schema_id": f"urn:ietf:params:scim:schemas:extension:confusion{uuid.uuid4().hex[:8]}:2.0:User",
        "key": f"confusion_{uuid.uuid4().hex[:8]}",
    }
    async with http.put(f"{gateway.url}/v1/scim/custom_fields/{world['key']}", json={"type": "string"},
                        headers=gateway.auth) as response:
        assert response.status == 201
    yield world
    async with http.delete(f"{gateway.url}/v1/scim/schema_extensions/{world['schema_id']}", headers=gateway.auth):
        pass
    # A mapped custom field stays: the mapping goes first.
    async with http.put(f"{gateway.url}/v1/b2b/scim/{organization_id}/connection/{connection_id}/attribute_mapping",
                        json={"fields": []}, headers=gateway.auth):
        pass
    async with http.delete(f"{gateway.url}/v1/scim/custom_fields/{world['key']}", headers=gateway.auth):
        pass
    async with http.get(f"{gateway.url}/v1/webhooks/endpoints", params={"limit": "1000"},
                        headers=gateway.auth) as response:
        made = [e["endpoint_id"] for e in (await response.json())["endpoints"] if e["url"] == sink]
    for endpoint_id in made:
        async with http.delete(f"{gateway.url}/v1/webhooks/endpoints/{endpoint_id}", headers=gateway.auth):
            pass


async def _new_session(http, gateway, world: dict) -> None:
    """A fresh session of the world's member (role changes and revocations end the earlier ones),
    active again first: the sweep's PATCH example deactivates it."""
    async with http.patch(f"{gateway.url}/scim/v2/{world['connection_id']}/Users/{world['member_id']}",
                          json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                "Operations": [{"op": "replace", "path": "active", "value": True}]},
                          headers=world["bearer"]) as response:
        assert response.status == 200, await response.text()
    status, session = await post_json(http, f"{gateway.url}/v1/b2b/sessions",
                                      {"organization_id": world["organization_id"], "member_id": world["member_id"]},
                                      headers=gateway.auth)
    assert status in (200, 201), session
    world.update(session_jwt=session["session_jwt"], session_token=session["session_token"],
                 session_id=session["member_session"]["member_session_id"])


def _base_body(operation: str, example: Any, world: dict) -> Any:
    """The example with the world's ids in place of its placeholders, and fresh unique names."""
    unique = uuid.uuid4().hex[:10]
    placeholders = {"organization-…": world["organization_id"], "member-…": world["member_id"],
                    "endpoint-…": world["endpoint_id"], "group-…": world["group_id"], "editor": world["role_id"],
                    "https://example.com/hook": world["sink"], "ada@acme.com": f"ada-{unique}@example.com",
                    "acme": f"acme-{unique}", "Editors": f"Editors {unique}", "eyJhbGciOiJFUzI1NiIs…": world["session_jwt"],
                    "<session token>": world["session_token"], "<session id>": world["session_id"],
                    "department": world["key"]}

    def substitute(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [substitute(v) for v in value]
        return placeholders.get(value, value) if isinstance(value, str) else value

    body = substitute(example)
    if operation == "POST /v1/rbac/roles":
        body["role_id"] = f"confusion-{unique}"
    return body


def _url(gateway, path: str, world: dict) -> str:
    resource_id = world["user_id"] if "/Users/" in path else world["group_id"]
    for name in ("organization_id", "connection_id", "member_id", "role_id", "endpoint_id", "event_id", "schema_id",
                 "key"):
        path = path.replace("{" + name + "}", world[name])
    return gateway.url + path.replace("{resource_id}", resource_id)


def _operations(doc: dict) -> list[tuple[str, str, str, dict, Any]]:
    found = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            media_type, content = next(iter(operation["requestBody"]["content"].items()))
            if "json" not in media_type:
                continue  # a form (the OAuth token endpoint): every value is a string, no type to confuse
            found.append((method.upper(), path, media_type, content["schema"], content.get("example")))
    return sorted(found, key=lambda o: o[1] in LAST)


async def test_every_field_of_every_body_refuses_the_wrong_type_and_never_fails(http, gateway, world):
    doc = document(gateway.url)
    schemas = Schemas(doc)
    operations = _operations(doc)
    assert len(operations) >= 20 and all(example is not None for *_, example in operations), \
        "every request body in the OpenAPI document has an example to start from"
    limit = asyncio.Semaphore(CONCURRENCY)

    async def send(method: str, path: str, media_type: str, body: Any) -> tuple[int, Any]:
        scim = path.startswith("/scim/")
        headers = {**(world["bearer"] if scim else gateway.auth), "Content-Type": media_type}
        if path == "/v1/b2b/scim/{organization_id}/connection":
            # One connection per organization: each request gets an organization of its own.
            path = path.replace("{organization_id}", (await create_organization(http, gateway, "c"))["organization_id"])
        async with limit, http.request(method, _url(gateway, path, world), json=body, headers=headers) as response:
            answer = await response.json(content_type=None) if response.content_length != 0 else None
        if path.endswith("/Bulk") and response.status == 200 and answer["Operations"]:
            return int(answer["Operations"][0]["status"]), answer["Operations"][0].get("response")
        return response.status, answer

    problems: list[str] = []
    for method, path, media_type, schema, example in operations:
        operation = f"{method} {path}"
        bases = [merged(example, completion) for completion in COMPLETIONS.get(operation, [{}])]
        assert not schemas.undescribed_in(schema, bases), \
            f"{operation}: complete its example in COMPLETIONS so that every field is swept"
        for base in bases:
            if path.startswith("/v1/b2b/sessions/"):
                await _new_session(http, gateway, world)
            status, answer = await send(method, path, media_type, _base_body(operation, base, world))
            assert status < 300, f"{operation}: the base body must be accepted, got {status} {answer}"
            probes = [(field, wrong) for field, value in fields(base) for wrong in WRONG
                      if wrong != json_type(value) and (operation not in SHALLOW or len(field) == 1)
                      # a fraction differs from an integer only where an integer is due
                      and (wrong != "number" or json_type(value) == "integer")]

            async def probe(field: tuple, wrong: str, base: Any = base) -> Probe:
                body = replaced(_base_body(operation, base, world), field, copy.deepcopy(WRONG[wrong]))
                status, answer = await send(method, path, media_type, body)
                return Probe(operation, field, wrong, status, answer)

            for result in await asyncio.gather(*(probe(field, wrong) for field, wrong in probes)):
                problem = _judged(result, schemas, schema, path)
                if problem:
                    problems.append(problem)
    assert not problems, "\n".join(problems)


def _judged(result: Probe, schemas: Schemas, schema: dict, path: str) -> str:
    """What is wrong with one answer, or "" when nothing is."""
    where = f"{result.operation} {'.'.join(map(str, result.path))} = {result.wrong}"
    if result.status >= 500:
        return f"{where}: {result.status} {result.body}"
    if result.status >= 400:
        body = result.body if isinstance(result.body, dict) else {}
        if path.startswith("/scim/"):
            shape_ok = body.get("schemas") == [SCIM_ERROR] and body.get("status") == str(result.status)
        else:
            shape_ok = "error_type" in body and body.get("status_code") == result.status
        return "" if shape_ok else f"{where}: {result.status} without the error shape: {result.body}"
    allowed = schemas.allowed_types(schema, result.path)
    if path.endswith("/Bulk") and result.path[:3] == ("Operations", 0, "data"):
        allowed = schemas.allowed_types(schemas.components["UserRequest"], result.path[3:])
    if allowed is None or json_type(WRONG[result.wrong]) in allowed or result.wrong == "null":
        return ""  # allowed, or an optional field left out (a required one is refused by its own check)
    if path.startswith("/scim/") and _scim_dialect(allowed, result.wrong, result.path):
        return ""
    return f"{where}: accepted ({result.status}) though the document allows only {sorted(allowed)}"
