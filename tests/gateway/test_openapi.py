"""GET /openapi.json: the gateway's OpenAPI 3.1 description, and what keeps it true.

- Drift: every route the aiohttp app serves is described, and the document
  describes nothing the app does not serve.
- Validity: the document is OpenAPI 3.1 (openapi-spec-validator).
- Conformance: schemathesis generates requests from the document for every
  operation, management API and SCIM, authenticated, and sends them to the
  running gateway: no response may be a server error, and every response must
  have a documented status, content type, headers and body.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.openapi import PATH, document
from runtime.settings import Settings
from tests.support import bearer, create_connection, create_organization, post_json, scim_user

METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
# Server-rendered pages for people (HTML forms with CSRF tokens under a session
# cookie), not an API: the Admin Portal is described by its own tests.
NOT_AN_API = ("/portal",)


def _served_routes(app: web.Application) -> set[tuple[str, str]]:
    served = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue  # aiohttp adds HEAD beside every GET
        canonical = route.resource.canonical
        if any(canonical == prefix or canonical.startswith(prefix + "/") for prefix in NOT_AN_API):
            continue
        served.add((route.method, canonical))
    return served


def _described_routes(doc: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item if method in METHODS}


def test_every_route_is_described_and_nothing_else():
    """The document and the router agree, route by route (canonical path + method)."""
    app = create_app(Settings())
    served, described = _served_routes(app), _described_routes(document("http://gateway"))
    assert ("GET", PATH) in served
    missing = sorted(served - described)
    extra = sorted(described - served)
    assert not missing, f"routes the app serves that /openapi.json does not describe: {missing}"
    assert not extra, f"routes /openapi.json describes that the app does not serve: {extra}"


def test_path_parameters_match_the_route_templates():
    """Every {name} of a path is declared as a path parameter, and nothing else is."""
    for path, item in document("http://gateway")["paths"].items():
        in_template = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            if method not in METHODS:
                continue
            declared = {p["name"] for p in (*item.get("parameters", ()), *operation.get("parameters", ()))
                        if p["in"] == "path"}
            assert declared == in_template, f"{method.upper()} {path}: {declared} != {in_template}"


def test_document_is_valid_openapi_3_1():
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    validate(document("http://gateway"), cls=OpenAPIV31SpecValidator)


def test_operation_ids_are_unique():
    ids = [op["operationId"] for item in document("http://gateway")["paths"].values()
           for method, op in item.items() if method in METHODS]
    assert len(ids) == len(set(ids))


async def test_openapi_json_is_served_without_credentials(gateway, http):
    async with http.get(f"{gateway.url}{PATH}") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        served = await response.json()
    assert served == document(gateway.url)
    assert served["openapi"] == "3.1.0"
    assert served["servers"] == [{"url": gateway.url}]


# ------------------------------------------------------------- schemathesis

# Examples per operation and pass. Generation is derandomized (Hypothesis
# derives its seed from the test), so every run sends the same requests.
# (Field-by-field type confusion has its own deterministic sweep: test_type_confusion.py.)
# SCIMD_FUZZ_EXAMPLES sets the positive count for a deeper run (the others follow it).
POSITIVE_EXAMPLES = int(os.environ.get("SCIMD_FUZZ_EXAMPLES", "12"))
NEGATIVE_EXAMPLES = max(1, POSITIVE_EXAMPLES // 2)
UNKNOWN_ID_EXAMPLES = max(1, POSITIVE_EXAMPLES // 4)
# Where the webhook endpoints of the run point: nothing listens there, so deliveries fail at once.
WEBHOOK_SINK = "http://127.0.0.1:9/openapi-fuzz"
# Path parameters that are never generated: without them nothing gets past authentication.
ALWAYS_FIXED = ("connection_id", "project_id")


@dataclass
class Fixture:
    """Real resources, so that generated requests reach past authentication and lookups."""

    base_url: str
    basic: str
    bearer: str
    path_parameters: dict[str, str]
    user_id: str
    group_id: str
    failures: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, Counter] = field(default_factory=dict)

    def fixed(self, path: str, *, only_always_fixed: bool = False) -> dict[str, str]:
        names = set(re.findall(r"{([^}]+)}", path))
        fixed = {name: value for name, value in self.path_parameters.items() if name in names}
        if "resource_id" in names:
            fixed["resource_id"] = self.user_id if "/Users/" in path else self.group_id
        if only_always_fixed:
            fixed = {name: value for name, value in fixed.items() if name in ALWAYS_FIXED}
        return fixed


async def _fixture(gateway, http) -> Fixture:
    organization = await create_organization(http, gateway, "openapi")
    connection = await create_connection(http, gateway, organization["organization_id"])
    base = f"{gateway.url}/scim/v2/{connection['connection_id']}"
    status, user = await post_json(http, f"{base}/Users", scim_user("fuzz@example.com"), headers=bearer(connection))
    assert status == 201, user
    status, group = await post_json(
        http, f"{base}/Groups",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Fuzzers",
         "members": [{"value": user["id"]}]},
        headers=bearer(connection),
    )
    assert status == 201, group
    status, role = await post_json(http, f"{gateway.url}/v1/rbac/roles", {"role_id": "openapi-fuzz"},
                                   headers=gateway.auth)
    assert status == 201, role
    status, endpoint = await post_json(http, f"{gateway.url}/v1/webhooks/endpoints",
                                       {"url": WEBHOOK_SINK, "event_types": ["organization.delete"]},
                                       headers=gateway.auth)
    assert status == 201, endpoint
    credentials = f"{gateway.settings.project_id}:{gateway.settings.project_secret}"
    return Fixture(
        base_url=gateway.url,
        basic="Basic " + base64.b64encode(credentials.encode()).decode(),
        bearer=f"Bearer {connection['bearer_token']}",
        path_parameters={
            "organization_id": organization["organization_id"],
            "connection_id": connection["connection_id"],
            "project_id": gateway.settings.project_id,
            "member_id": user["id"],
            "role_id": role["role"]["role_id"],
            "endpoint_id": endpoint["endpoint"]["endpoint_id"],
        },
        user_id=user["id"],
        group_id=group["id"],
    )


async def _webhook_endpoint_ids(gateway, http) -> set[str]:
    ids: set[str] = set()
    cursor = ""
    while True:
        async with http.get(f"{gateway.url}/v1/webhooks/endpoints", params={"limit": "1000", "cursor": cursor},
                            headers=gateway.auth) as response:
            assert response.status == 200
            page = await response.json()
        ids |= {endpoint["endpoint_id"] for endpoint in page["endpoints"]}
        cursor = page["next_cursor"]
        if not cursor:
            return ids


def _order(operation) -> tuple[int, str]:
    """SCIM, then the management API, then SCIM deletions, token rotations
    (after which the fixture's token no longer works) and management
    deletions, the organization last: each operation meets live resources."""
    path, method = operation.path, operation.method.upper()
    if method != "DELETE":
        rank = 0 if path.startswith("/scim/") else 3 if "/rotate/" in path else 1
    else:
        rank = 2 if path.startswith("/scim/") else 5 if path == "/v1/b2b/organizations/{organization_id}" else 4
    return rank, operation.label


def _fuzz(fixture: Fixture, doc: dict) -> None:
    """Runs in a worker thread, so that the event loop keeps serving the gateway."""
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import FailureGroup
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_headers_conformance, response_schema_conformance]
    schema = schemathesis.openapi.from_dict(doc)
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=_order)
    session = requests.Session()

    def fuzz(operation, mode: GenerationMode, examples: int, path_parameters: dict[str, str], name: str) -> None:
        auth = {"Authorization": fixture.bearer if operation.path.startswith("/scim/") else fixture.basic}

        @settings(max_examples=examples, derandomize=True, database=None, deadline=None, print_blob=False,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        def run(case):
            if operation.label in ("POST /v1/webhooks/endpoints", "PUT /v1/webhooks/endpoints/{endpoint_id}") \
                    and isinstance(case.body, dict) and isinstance(case.body.get("url"), str):
                case.body["url"] = WEBHOOK_SINK  # no event of the run leaves this machine
            try:
                response = case.call(base_url=fixture.base_url, session=session, headers=auth, timeout=30)
                fixture.statuses.setdefault(operation.label, Counter())[response.status_code] += 1
                case.validate_response(response, checks=checks, headers=auth)
            except FailureGroup as group:
                titles = ", ".join(sorted({failure.title for failure in group.exceptions}))
                fixture.failures.setdefault(f"{operation.label} [{name}] {titles}", group.message)
            except requests.RequestException as error:
                fixture.failures.setdefault(f"{operation.label} [{name}] {type(error).__name__}", str(error))

        try:
            run()
        except Unsatisfiable:
            # Nothing of the operation can be made invalid (no parameters, no body).
            assert mode == GenerationMode.NEGATIVE, operation.label

    for operation in operations:
        fixed = fixture.fixed(operation.path)
        fuzz(operation, GenerationMode.POSITIVE, POSITIVE_EXAMPLES, fixed, "positive")
        fuzz(operation, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, fixed, "negative")
        generated = fixture.fixed(operation.path, only_always_fixed=True)
        if generated != fixed:
            fuzz(operation, GenerationMode.POSITIVE, UNKNOWN_ID_EXAMPLES, generated, "generated ids")


# schemathesis draws from `random` inside its strategies; Hypothesis seeds it per example, so runs stay the same.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_schemathesis_finds_no_server_error_and_no_undocumented_response(gateway, http):
    """Every operation, authenticated, with valid and invalid inputs, against
    real resources and against generated ids."""
    fixture = await _fixture(gateway, http)
    endpoints_before = await _webhook_endpoint_ids(gateway, http)
    started = time.monotonic()
    try:
        await asyncio.to_thread(_fuzz, fixture, document(gateway.url))
    finally:
        # The endpoints schemathesis created would receive the events of later tests.
        for endpoint_id in await _webhook_endpoint_ids(gateway, http) - endpoints_before:
            async with http.delete(f"{gateway.url}/v1/webhooks/endpoints/{endpoint_id}", headers=gateway.auth):
                pass
    elapsed = time.monotonic() - started
    print(f"schemathesis: {sum(sum(c.values()) for c in fixture.statuses.values())} requests in {elapsed:.1f} s")
    for label, counts in fixture.statuses.items():
        print(f"  {label}: {dict(sorted(counts.items()))}")
    assert not fixture.failures, "\n\n".join(
        f"=== {key}\n{detail}" for key, detail in sorted(fixture.failures.items()))
