"""The gateway's OpenAPI 3.1 description, served at GET /openapi.json.

It describes the management API (/v1, HTTP Basic with the project id and
secret) and SCIM (/scim/v2/{connection_id}, the connection's bearer token),
built here as plain data from what the code already knows:

- the SCIM User and Group schemas from `scim.schema`, the one description of
  every attribute that filters, PATCH, projection and /Schemas read;
- the error shapes and their `error_type` / `scimType` values from the one
  error table (`runtime.errors`);
- limits (page sizes, Bulk operations, body size) from the modules that enforce them.

What it cannot derive (the management JSON shapes, which statuses an
operation answers) is written out below beside each path, and kept honest by
tests/gateway/test_openapi.py: every route the app serves must be described
here and nothing more, the document must validate as OpenAPI 3.1, and
schemathesis runs it against the running gateway, checking that no request
gets a 500 and that every response matches what is described.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web

from gateway.errors import SCIM_CONTENT_TYPE, SCIM_ERROR_SCHEMA
from gateway.json import json_response
from gateway.keys import SETTINGS
from gateway.limits import MAX_BODY_BYTES
from gateway.management.admin_portal import MAX_MINUTES as PORTAL_LINK_MAX_MINUTES
from gateway.management.common import INT32_MAX, MAX_LIMIT
from gateway.scim.bulk import MAX_OPERATIONS as MAX_BULK_OPERATIONS
from gateway.scim.requests import MAX_RESULTS
from runtime.errors import KINDS_BY_REASON
from runtime.event_catalog import EVENT_TYPES
from runtime.shapes import CUSTOM_FIELD_TYPES, IDENTITY_PROVIDERS
from scim.schema import (
    BULK_REQUEST,
    BULK_RESPONSE,
    CORE_GROUP,
    CORE_USER,
    GROUP,
    LIST_RESPONSE,
    PATCH_OP,
    SEARCH_REQUEST,
    USER,
    Attribute,
    ResourceType,
)
from scim.users import MAX_USER_NAME_LENGTH

JsonObject = dict[str, Any]

routes = web.RouteTableDef()

PATH = "/openapi.json"
SCIM = "/scim/v2/{connection_id}"
JSON = "application/json"
SCIM_JSON = SCIM_CONTENT_TYPE
NDJSON = "application/x-ndjson"


MANAGEMENT_TAGS = (
    ("Organizations", "The vendor's customers."),
    ("SCIM connections", "An organization's SCIM connection: base URL, bearer token and its rotation, "
                         "and the IdP groups that grant roles."),
    ("Members", "An organization's members, provisioned through SCIM, and their roles."),
    ("Roles", "The project's roles and what each allows."),
    ("SCIM schema extensions", "The project's own SCIM attributes, under schema extensions of User."),
    ("Custom fields", "The app's own member fields, which each connection's attribute mapping fills from what "
                      "its IdP sends."),
    ("Sessions", "Sessions of the vendor's app's members, and the JWKS that verifies their JWTs."),
    ("Webhook endpoints", "Where scimd sends signed events (Standard Webhooks)."),
    ("Webhook deliveries", "Every attempt of every event to every endpoint, and replays."),
    ("Audit log", "One entry per mutating SCIM request."),
    ("Admin Portal", "One-time links into the Admin Portal of an organization."),
)
SCIM_TAGS = (
    ("SCIM Users", "RFC 7644 §3 for Users."),
    ("SCIM Groups", "RFC 7644 §3 for Groups; members change by set operations."),
    ("SCIM", "Searching every resource type, and /Bulk."),
    ("SCIM discovery", "RFC 7644 §4; served without the bearer token."),
)


# -------------------------------------------------------------------- helpers

def _ref(name: str) -> JsonObject:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: JsonObject, *, required: tuple[str, ...] | None = None, closed: bool = True,
         description: str = "") -> JsonObject:
    """An object schema; every property is required unless `required` says otherwise."""
    schema: JsonObject = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else list(required),
    }
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def _array(items: JsonObject, description: str = "") -> JsonObject:
    schema: JsonObject = {"type": "array", "items": items}
    if description:
        schema["description"] = description
    return schema


STRING: JsonObject = {"type": "string"}
NULLABLE_STRING: JsonObject = {"type": ["string", "null"]}
BOOLEAN: JsonObject = {"type": "boolean"}
INTEGER: JsonObject = {"type": "integer"}
TIMESTAMP: JsonObject = {"type": "string", "format": "date-time", "description": "RFC 3339, UTC, milliseconds."}
NULLABLE_TIMESTAMP: JsonObject = {"type": ["string", "null"], "format": "date-time"}
STRINGS: JsonObject = _array(STRING)
EVENT_TYPE: JsonObject = {"type": "string", "enum": list(EVENT_TYPES), "description": "See docs/events.md."}


def _string(description: str, **extra: Any) -> JsonObject:
    return {"type": "string", "description": description, **extra}


def _optional_string(description: str) -> JsonObject:
    """A request field that may be absent, null or "" (all the same: not set)."""
    return {"type": ["string", "null"], "description": description}


def _path(name: str, description: str, **schema: Any) -> JsonObject:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", **schema}}


def _query(name: str, description: str, schema: JsonObject) -> JsonObject:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _header(name: str, description: str) -> JsonObject:
    return {"name": name, "in": "header", "required": False, "description": description, "schema": STRING}


def _body(schema: JsonObject, *media_types: str, example: Any = None, required: bool = True) -> JsonObject:
    content: JsonObject = {}
    for media_type in media_types or (JSON,):
        content[media_type] = {"schema": schema}
        if example is not None:
            content[media_type]["example"] = example
    return {"required": required, "content": content}


# ---------------------------------------------------------------- error shapes

_STATUS_TEXT = {
    304: "Not Modified: the resource still has the version of If-None-Match.",
    400: "The request is invalid.",
    401: "Missing or wrong credentials.",
    403: "Forbidden.",
    404: "Not found.",
    409: "Conflict: a uniqueness rule or the resource's state forbids it.",
    412: "The If-Match version is not the current one.",
    408: "The request body did not arrive within the body timeout.",
    413: "The body is larger than allowed.",
    415: "The body is not application/json.",
    429: "Too many requests for this connection; retry after Retry-After seconds.",
    503: "A backend service is unavailable; retry later.",
}


def _error_types() -> list[str]:
    return sorted(kind.reason.lower() for kind in KINDS_BY_REASON.values())


def _scim_types() -> list[str]:
    return sorted({kind.scim_type for kind in KINDS_BY_REASON.values() if kind.scim_type})


def _management_error(status: int) -> JsonObject:
    headers: JsonObject = {}
    response: JsonObject = {
        "description": _STATUS_TEXT[status],
        "content": {JSON: {"schema": {"allOf": [
            _ref("ManagementError"), {"properties": {"status_code": {"const": status}}},
        ]}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _scim_error(status: int) -> JsonObject:
    headers: JsonObject = {}
    if status == 401:
        headers["WWW-Authenticate"] = {"description": 'Bearer realm="scimd"', "schema": STRING}
    if status == 429:
        headers["Retry-After"] = {"description": "Seconds to wait.", "required": True, "schema": {"type": "string"}}
    response: JsonObject = {
        "description": _STATUS_TEXT[status],
        "content": {SCIM_JSON: {"schema": {"allOf": [
            _ref("ScimError"), {"properties": {"status": {"const": str(status)}}},
        ]}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _errors(prefix: str, statuses: tuple[int, ...]) -> JsonObject:
    return {str(status): {"$ref": f"#/components/responses/{prefix}{status}"} for status in statuses}


# ------------------------------------------------------- management operations

def _envelope(status: int, description: str, fields: JsonObject | None = None,
              optional: tuple[str, ...] = ()) -> JsonObject:
    """A management success: {status_code, request_id, ...fields}."""
    fields = fields or {}
    properties = {"status_code": {"const": status}, "request_id": STRING, **fields}
    required = tuple(name for name in properties if name not in optional)
    return {str(status): {"description": description, "content": {JSON: {"schema": _obj(properties, required=required)}}}}


LIST_PARAMS = (
    _query("limit", f"Page size (default 100; larger values are cut to {MAX_LIMIT}).", {"type": "integer", "minimum": 1}),
    _query("cursor", "The `next_cursor` of the previous page.", STRING),
)
NEXT_CURSOR = {"next_cursor": {"type": ["string", "null"], "description": "null on the last page."}}

ATTEMPTS_PAGE = _envelope(200, "A page of attempts, newest first.",
                          {"attempts": _array(_ref("WebhookDeliveryAttempt")), **NEXT_CURSOR})

ORG_ID = _path("organization_id", "The organization's id.")
CONNECTION_ID = _path("connection_id", "The SCIM connection's id.")
SCIM_CONNECTION_ID = _path("connection_id", "The SCIM connection's id (the last segment of its base URL).")


def _management_op(operation_id: str, tag: str, summary: str, responses: JsonObject, *,
                   errors: tuple[int, ...], body: JsonObject | None = None,
                   parameters: tuple[JsonObject, ...] = (), description: str = "",
                   public: bool = False) -> JsonObject:
    operation: JsonObject = {"operationId": operation_id, "tags": [tag], "summary": summary}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = body
        errors = tuple(sorted({*errors, 400, 408, 413, 415}))
    if public:
        operation["security"] = []
    else:
        errors = tuple(sorted({*errors, 401}))
    operation["responses"] = {**responses, **_errors("Management", tuple(sorted({*errors, 503})))}
    return operation


def _management_paths() -> JsonObject:
    connection = ("/v1/b2b/scim/{organization_id}/connection", ORG_ID)
    paths: JsonObject = {
        "/v1/b2b/organizations": {
            "post": _management_op(
                "createOrganization", "Organizations", "Create an organization",
                _envelope(201, "The organization.", {"organization": _ref("Organization")}),
                errors=(409,), body=_body(_ref("OrganizationCreate"), example={
                    "organization_name": "Acme Inc", "organization_slug": "acme"}),
            ),
            "get": _management_op(
                "listOrganizations", "Organizations", "List organizations",
                _envelope(200, "A page of organizations.", {"organizations": _array(_ref("Organization")), **NEXT_CURSOR}),
                errors=(400,), parameters=LIST_PARAMS,
            ),
        },
        "/v1/b2b/organizations/{organization_id}": {
            "parameters": [ORG_ID],
            "get": _management_op(
                "getOrganization", "Organizations", "Get an organization",
                _envelope(200, "The organization.", {"organization": _ref("Organization")}), errors=(404,),
            ),
            "put": _management_op(
                "updateOrganization", "Organizations", "Update an organization",
                _envelope(200, "The updated organization.", {"organization": _ref("Organization")}),
                errors=(404, 409), body=_body(_ref("OrganizationUpdate"), example={"organization_name": "Acme Corporation"}),
                description="Fields left out (or empty) keep their value.",
            ),
            "delete": _management_op(
                "deleteOrganization", "Organizations", "Delete an organization",
                _envelope(200, "Deleted.", {"organization_id": STRING}), errors=(404,),
                description="Deletes the organization and its connection at once (its tokens stop working within "
                            "about a second), then its members and groups, each with its event.",
            ),
        },
        connection[0]: {
            "parameters": [ORG_ID],
            "post": _management_op(
                "createConnection", "SCIM connections", "Create the organization's SCIM connection",
                _envelope(201, "The connection with its bearer token, shown only here.",
                          {"connection": _ref("ConnectionWithToken")}),
                errors=(404, 409), body=_body(_ref("ConnectionCreate"), example={
                    "display_name": "Okta", "identity_provider": "okta"}),
            ),
            "get": _management_op(
                "getConnection", "SCIM connections", "Get the organization's SCIM connection",
                _envelope(200, "The connection (never its token).", {"connection": _ref("ConnectionWithHolds")}),
                errors=(400, 404),
            ),
        },
        connection[0] + "/{connection_id}": {
            "parameters": [ORG_ID, CONNECTION_ID],
            "put": _management_op(
                "updateConnection", "SCIM connections", "Update a connection and what grants roles through it",
                {**_envelope(200, "The connection and the role changes the mappings caused (or would cause, "
                                  "with dry_run).",
                             {"connection": _ref("Connection"), "role_changes": _array(_ref("RoleChange")),
                              "dry_run": {"const": True}}, optional=("dry_run",))},
                errors=(400, 404), body=_body(_ref("ConnectionUpdate"), example={
                    "scim_group_implicit_role_assignments": [{"group_id": "group-…", "role_id": "editor"}]}),
                parameters=(_query("dry_run", "Change nothing; answer who would gain or lose which role.",
                                   {"type": "boolean"}),),
                description="Fields left out keep their value; each of `scim_group_implicit_role_assignments`, "
                            "`scim_attribute_implicit_role_assignments` and `scim_rule_implicit_role_assignments`, "
                            "when given, replaces every assignment of its kind, in one transaction with the others.",
            ),
            "delete": _management_op(
                "deleteConnection", "SCIM connections", "Delete a connection",
                _envelope(200, "Deleted.", {"connection_id": STRING}), errors=(400, 404),
                description="Its tokens stop working on every gateway within about a second.",
            ),
        },
        connection[0] + "/{connection_id}/groups": {
            "parameters": [ORG_ID, CONNECTION_ID],
            "get": _management_op(
                "listConnectionGroups", "SCIM connections", "List the IdP groups of a connection",
                _envelope(200, "A page of groups, oldest first.",
                          {"scim_groups": _array(_ref("ScimGroupSummary")), **NEXT_CURSOR}),
                errors=(400, 404), parameters=LIST_PARAMS,
            ),
        },
        connection[0] + "/{connection_id}/deprovision_guard": {
            "parameters": [ORG_ID, CONNECTION_ID],
            "get": _management_op(
                "getDeprovisionGuard", "SCIM connections", "Get the connection's mass-deprovision guard",
                _envelope(200, "The guard in force: the connection's own, or the project default.",
                          {"deprovision_guard": _ref("DeprovisionGuard")}),
                errors=(400, 404),
            ),
            "put": _management_op(
                "setDeprovisionGuard", "SCIM connections", "Set the connection's mass-deprovision guard",
                _envelope(200, "The guard in force now.", {"deprovision_guard": _ref("DeprovisionGuard")}),
                errors=(400, 404), body=_body(_ref("DeprovisionGuardUpdate"), example={
                    "enabled": True, "percent": 20, "window_seconds": 3600, "auto_apply_seconds": 0}),
                description="Past the guard's allowance within its window, deactivations and deletions the "
                            "IdP makes are answered as usual over SCIM but held: the members stay active for "
                            "the app (no status change, no role or session revocation, no member webhook) "
                            "until the held deprovisions are approved or rejected. Fields left out keep their "
                            "value; `{\"inherit\": true}` goes back to the project default "
                            "(`SCIMD_DEPROVISION_GUARD_*`).",
            ),
        },
        connection[0] + "/{connection_id}/held_deprovisions": {
            "parameters": [ORG_ID, CONNECTION_ID],
            "get": _management_op(
                "listHeldDeprovisions", "SCIM connections", "List the deprovisions the guard holds",
                _envelope(200, "Held deprovisions, in the order they were held.",
                          {"held_deprovisions": _array(_ref("HeldDeprovision"))}),
                errors=(400, 404),
            ),
        },
        connection[0] + "/{connection_id}/held_deprovisions/{decision}": {
            "parameters": [ORG_ID, CONNECTION_ID, _path(
                "decision", "approve: every held deprovision takes effect, in the order it was held, with its "
                            "events; reject: the members stay as they are for the app (audited).",
                enum=["approve", "reject"])],
            "post": _management_op(
                "resolveHeldDeprovisions", "SCIM connections", "Approve or reject the held deprovisions",
                _envelope(200, "What was approved or rejected, in the order it was held.",
                          {"approved": _array(_ref("HeldDeprovision")), "rejected": _array(_ref("HeldDeprovision"))},
                          optional=("approved", "rejected")),
                errors=(400, 404),
            ),
        },
        connection[0] + "/{connection_id}/requests": {
            "parameters": [ORG_ID, CONNECTION_ID],
            "get": _management_op(
                "listConnectionRequests", "SCIM connections", "The connection's request log",
                _envelope(200, "A page of requests, newest first.",
                          {"requests": _array(_ref("ScimRequestRecord")), **NEXT_CURSOR}),
                errors=(400, 404),
                parameters=(*LIST_PARAMS,
                            _query("member", "Only requests about this member or group (its id) or userName.",
                                   STRING),
                            _query("status", "Statuses (409) or classes (4xx), comma-separated.", STRING),
                            _query("since", "RFC 3339.", {"type": "string", "format": "date-time"}),
                            _query("until", "RFC 3339 (exclusive).", {"type": "string", "format": "date-time"})),
                description="Every authenticated SCIM request of the last SCIMD_REQUEST_LOG_RETENTION_DAYS (7), "
                            "as it was answered, with its body (passwords and SCIMD_REQUEST_LOG_REDACT "
                            "attributes redacted), and for failures the scimType, detail and a hint.",
            ),
        },
        connection[0] + "/{connection_id}/attribute_mapping": {
            "parameters": [ORG_ID, CONNECTION_ID],
            "get": _management_op(
                "getAttributeMapping", "SCIM connections", "The connection's attribute mapping",
                _envelope(200, "The mapping (version 0: none yet) and how far its apply has come.",
                          {"attribute_mapping": _ref("AttributeMapping")}),
                errors=(400, 404),
            ),
            "put": _management_op(
                "putAttributeMapping", "SCIM connections", "Replace the connection's attribute mapping",
                _envelope(200, "The mapping; with dry_run, the one proposed, and whose custom attributes it "
                               "would change, from what to what.",
                          {"attribute_mapping": _ref("AttributeMapping"), "dry_run": {"const": True},
                           "changes": _array(_ref("CustomAttributeChange")), "changed_count": INTEGER,
                           "member_count": INTEGER},
                          optional=("dry_run", "changes", "changed_count", "member_count")),
                errors=(400, 404, 409),
                body=_body(_ref("AttributeMappingPut"), example={"fields": [
                    {"field": "department", "sources": [
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "title"],
                     "transforms": [{"type": "trim"}], "default": "Unassigned"}]}),
                parameters=(
                    _query("dry_run", "Change nothing; answer whose custom attributes would change.",
                           {"type": "boolean"}),
                    _query("limit", f"With dry_run: how many changes to list (default 100, at most {MAX_LIMIT}).",
                           {"type": "integer", "minimum": 1})),
                description="For each custom field, the attribute paths tried in turn (as …/attributes lists "
                            "them: core, enterprise, extension or undeclared), the transforms each goes through, "
                            "and a default: the first path that gives a value of the field's type wins. The "
                            "connection's members are then brought to the new mapping in the background, each "
                            "whose values change with its scim.member.update event (source API, "
                            "previous_attributes.custom_attributes); `apply` tells how far it has come.",
            ),
        },
        connection[0] + "/{connection_id}/attributes": {
            "parameters": [ORG_ID, CONNECTION_ID],
            "get": _management_op(
                "listSeenAttributes", "SCIM connections", "The attribute paths the connection's IdP has sent",
                _envelope(200, "Every path seen, never a value.", {"attributes": _array(_ref("SeenAttribute"))}),
                errors=(400, 404),
            ),
        },
        connection[0] + "/{connection_id}/health": {
            "parameters": [ORG_ID, CONNECTION_ID],
            "get": _management_op(
                "getConnectionHealth", "SCIM connections", "What the request log and tokens say of the connection",
                _envelope(200, "The connection's health.", {"health": _ref("ConnectionHealth")}),
                errors=(400, 404),
            ),
        },
        connection[0] + "/{connection_id}/rotate/{step}": {
            "parameters": [ORG_ID, CONNECTION_ID, _path(
                "step", "start: a next token that works beside the current one; complete: only the next one "
                        "works; cancel: only the current one works.", enum=["start", "complete", "cancel"])],
            "post": _management_op(
                "rotateConnectionToken", "SCIM connections", "Rotate the bearer token without downtime",
                _envelope(200, "The connection; after `start` with `next_bearer_token`, shown only here.",
                          {"connection": _ref("ConnectionInRotation")}),
                errors=(400, 404, 409),
            ),
        },
        connection[0] + "/{connection_id}/oauth_client": {
            "parameters": [ORG_ID, CONNECTION_ID],
            "post": _management_op(
                "enableClientCredentials", "SCIM connections", "Give the connection an OAuth client",
                _envelope(201, "The connection, the client id and its secret (shown only here).",
                          {"connection": _ref("Connection"), "client_id": STRING, "client_secret": STRING}),
                errors=(400, 404, 409),
                description="The IdP then gets access tokens (an hour each) from the connection's "
                            "oauth_token_endpoint with grant_type=client_credentials (RFC 6749 §4.4).",
            ),
            "delete": _management_op(
                "disableClientCredentials", "SCIM connections", "Remove the connection's OAuth client",
                _envelope(200, "The connection.", {"connection": _ref("Connection")}), errors=(400, 404, 409),
                description="Every access token its secrets got stops working.",
            ),
        },
        connection[0] + "/{connection_id}/oauth_client/rotate/{step}": {
            "parameters": [ORG_ID, CONNECTION_ID, _path(
                "step", "start: a next secret that works beside the current one; complete: only the next one "
                        "works; cancel: only the current one works.", enum=["start", "complete", "cancel"])],
            "post": _management_op(
                "rotateClientSecret", "SCIM connections", "Rotate the OAuth client secret without downtime",
                _envelope(200, "The connection; after `start` with `next_client_secret`, shown only here.",
                          {"connection": _ref("ConnectionWithClientSecret")}),
                errors=(400, 404, 409),
            ),
        },
        connection[0] + "/{connection_id}/assertion_trust": {
            "parameters": [ORG_ID, CONNECTION_ID],
            "put": _management_op(
                "setAssertionTrust", "SCIM connections", "Accept signed JWT assertions instead of a secret",
                _envelope(200, "The connection.", {"connection": _ref("Connection")}), errors=(400, 404),
                body=_body(_ref("AssertionTrust"), example={
                    "issuer": "https://login.microsoftonline.com/{tenant}/v2.0", "subject": "{object id}",
                    "audience": "api://scimd", "jwks_url": "https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys"}),
                description="RFC 7523: the IdP authenticates with a JWT signed by a key at jwks_url, whose iss, "
                            "sub and aud match, each jti once (e.g. Microsoft Entra workload identity federation).",
            ),
            "delete": _management_op(
                "deleteAssertionTrust", "SCIM connections", "Stop accepting signed assertions",
                _envelope(200, "The connection.", {"connection": _ref("Connection")}), errors=(400, 404, 409),
            ),
        },
        "/v1/b2b/organizations/{organization_id}/reconcile": {
            "parameters": [ORG_ID],
            "post": _management_op(
                "reconcileMembers", "Members", "Prove the app holds the directory's members, a range at a time",
                _envelope(200, "What differs in the range compared.", {
                    "missing": _array(_ref("MemberVersion")), "stale": _array(_ref("MemberVersion")),
                    "extra": STRINGS,
                    "role_mismatch": _array(_obj({"member_id": STRING, "roles": STRINGS})),
                    "compared_through": {"type": ["string", "null"],
                                         "description": "The range compared was (after, compared_through]; "
                                                        "null: everything after `after`."},
                    "re_emitted": INTEGER, "roles_re_emitted": INTEGER}),
                errors=(400,), body=_body(_ref("ReconcileRequest"), example={
                    "members": [{"member_id": "member-…", "etag": "3", "roles": ["editor"]}],
                    "after": "", "through": "", "re_emit": False}),
                description="The app sends the members it holds with ids in (after, through] (as byte strings; "
                            "\"\" through: no bound), each with its etag and optionally its role ids. The answer "
                            "lists the members it lacks (missing), holds at another version (stale), holds but "
                            "scimd deleted or never had (extra), and whose roles differ. With re_emit, each "
                            "missing and stale member's current state goes out as scim.member.update, and each "
                            "extra one scimd deleted as scim.member.delete, and each role mismatch's current roles as "
                            "scim.member.update with data.member.roles (source RECONCILE).",
            ),
        },
        "/v1/b2b/organizations/{organization_id}/snapshot": {
            "parameters": [ORG_ID],
            "get": _management_op(
                "readOrganizationSnapshot", "Members", "Read the organization's state at an Events API cursor",
                {"200": {"description": "One JSON object per line (application/x-ndjson).",
                         "content": {NDJSON: {"schema": {"type": "string"}, "example": (
                             '{"object":"snapshot","organization_id":"organization-…","events_cursor":"…"}\n'
                             '{"object":"member","member_id":"member-…","status":"active","roles":[…],…}\n'
                             '{"object":"idp_group","group_id":"group-…","group_name":"Engineering",…}\n'
                             '{"object":"membership","group_id":"group-…","member_id":"member-…"}\n'
                             '{"object":"end","members":1,"idp_groups":1,"memberships":1}\n')}}}},
                errors=(404, 409),
                description="Everything the organization's events add up to, read in one transaction: its "
                            "members (as data.member of the webhooks, with their roles), IdP groups and "
                            "memberships, each a line, after a first line whose events_cursor is the Events "
                            "API `after` that continues exactly where the snapshot ends (no gap, no overlap). "
                            "The last line is {\"object\": \"end\", counts}, or {\"object\": \"error\", …} "
                            "if the read broke off (read it again). 409: the organization's first events "
                            "predate snapshots; reconcile instead.",
            ),
        },
        "/v1/b2b/organizations/{organization_id}/members": {
            "parameters": [ORG_ID],
            "get": _management_op(
                "listMembers", "Members", "List members with their roles",
                _envelope(200, "A page of members.", {"members": _array(_ref("Member")), **NEXT_CURSOR}),
                errors=(400,), parameters=(*LIST_PARAMS, {
                    **_query("custom_attribute", "Only members whose custom field holds the value: "
                                                 "`<field>:<value>`, e.g. `department:finance`; repeat to require "
                                                 "several (at most 10).", _array(STRING)),
                    "style": "form", "explode": True}),
            ),
        },
        "/v1/b2b/organizations/{organization_id}/members/{member_id}": {
            "parameters": [ORG_ID, _path("member_id", "The member's id (the SCIM User's id).")],
            "get": _management_op(
                "getMember", "Members", "Get a member with their roles and why they hold them",
                _envelope(200, "The member.", {"member": _ref("Member")}), errors=(400, 404),
            ),
            "put": _management_op(
                "updateMember", "Members", "Replace a member's directly assigned roles",
                _envelope(200, "The member.", {"member": _ref("Member")}), errors=(404,),
                body=_body(_ref("MemberUpdate"), example={"roles": ["editor"]}),
                description="Only `roles` can be set; the identity provider owns every other attribute "
                            "(naming one is 400 `mutability`).",
            ),
        },
        "/v1/b2b/organizations/{organization_id}/audit_log": {
            "parameters": [ORG_ID],
            "get": _management_op(
                "listAuditLog", "Audit log", "List the organization's SCIM audit log, newest first",
                _envelope(200, "A page of entries.", {"entries": _array(_ref("AuditEntry")), **NEXT_CURSOR}),
                errors=(400,), parameters=LIST_PARAMS,
            ),
        },
        "/v1/rbac/roles": {
            "post": _management_op(
                "createRole", "Roles", "Create a role",
                _envelope(201, "The role.", {"role": _ref("Role")}), errors=(409,),
                body=_body(_ref("RoleCreate"), example={
                    "role_id": "editor", "description": "Edits documents",
                    "permissions": [{"resource_id": "documents", "actions": ["read", "write"]}]}),
            ),
            "get": _management_op(
                "listRoles", "Roles", "List roles",
                _envelope(200, "A page of roles.", {"roles": _array(_ref("Role")), **NEXT_CURSOR}),
                errors=(400,), parameters=LIST_PARAMS,
            ),
        },
        "/v1/rbac/roles/{role_id}": {
            "parameters": [_path("role_id", "The role's id.")],
            "get": _management_op(
                "getRole", "Roles", "Get a role", _envelope(200, "The role.", {"role": _ref("Role")}), errors=(404,),
            ),
            "put": _management_op(
                "updateRole", "Roles", "Replace a role's description and permissions",
                _envelope(200, "The role.", {"role": _ref("Role")}), errors=(404, 412),
                body=_body(_ref("RoleUpdate"), example={
                    "description": "Edits and publishes documents",
                    "permissions": [{"resource_id": "documents", "actions": ["read", "write", "publish"]}]}), parameters=(_header("If-Match", "The role's etag."),),
            ),
            "delete": _management_op(
                "deleteRole", "Roles", "Delete a role",
                _envelope(200, "Deleted."), errors=(404, 412), parameters=(_header("If-Match", "The role's etag."),),
                description="Members holding the role lose it (each told through scim.member.update).",
            ),
        },
        "/v1/scim/schema_extensions": {
            "get": _management_op(
                "listSchemaExtensions", "SCIM schema extensions", "List the project's SCIM schema extensions",
                _envelope(200, "Every extension, oldest first.",
                          {"schema_extensions": _array(_ref("SchemaExtension"))}),
                errors=(),
            ),
        },
        "/v1/scim/schema_extensions/{schema_id}": {
            "parameters": [_path("schema_id", "The extension's URN, e.g. "
                                              "urn:ietf:params:scim:schemas:extension:acme:2.0:User.")],
            "get": _management_op(
                "getSchemaExtension", "SCIM schema extensions", "Get a SCIM schema extension",
                _envelope(200, "The extension.", {"schema_extension": _ref("SchemaExtension")}), errors=(404,),
            ),
            "put": _management_op(
                "putSchemaExtension", "SCIM schema extensions", "Create or replace a SCIM schema extension",
                _envelope(200, "The extension (201 when it was created).",
                          {"schema_extension": _ref("SchemaExtension")}),
                errors=(409,), body=_body(_ref("SchemaExtensionPut"), example={
                    "resource_type": "User", "name": "AcmeUser", "description": "Acme's fields",
                    "attributes": [{"name": "costCenter", "type": "string"},
                                   {"name": "level", "type": "integer"}]}),
                description="Every connection's /Schemas and /ResourceTypes advertise it; SCIM writes are "
                            "validated against it (400 invalidValue naming the attribute); its attributes are "
                            "stored, returned, filterable, sortable and patchable like the enterprise extension's. "
                            "A change that values already stored would break is refused (409) and changes nothing.",
            ),
            "delete": _management_op(
                "deleteSchemaExtension", "SCIM schema extensions", "Delete a SCIM schema extension",
                _envelope(200, "Deleted."), errors=(404,),
                description="Values stored under it stay on the members, no longer advertised.",
            ),
        },
        "/v1/scim/custom_fields": {
            "get": _management_op(
                "listCustomFields", "Custom fields", "List the app's custom member fields",
                _envelope(200, "Every field, oldest first.", {"custom_fields": _array(_ref("CustomField"))}),
                errors=(),
            ),
        },
        "/v1/scim/custom_fields/{key}": {
            "parameters": [_path("key", "The field's key: 1-64 lower-case letters, digits or '_', starting with a "
                                        "letter.")],
            "get": _management_op(
                "getCustomField", "Custom fields", "Get a custom field",
                _envelope(200, "The field.", {"custom_field": _ref("CustomField")}), errors=(404,),
            ),
            "put": _management_op(
                "putCustomField", "Custom fields", "Create or replace a custom field",
                {**_envelope(201, "Created.", {"custom_field": _ref("CustomField")}),
                 **_envelope(200, "Replaced (or unchanged).", {"custom_field": _ref("CustomField")})},
                errors=(409,), body=_body(_ref("CustomFieldPut"), example={
                    "type": "string", "description": "The member's department"}),
                description="Members carry `custom_attributes` (management API, gRPC, webhooks) as each "
                            "connection's attribute mapping computes them. A field some connection maps keeps "
                            "its type (409). At most 100 fields.",
            ),
            "delete": _management_op(
                "deleteCustomField", "Custom fields", "Delete a custom field",
                _envelope(200, "Deleted."), errors=(404, 409),
                description="Refused (409) while a connection maps it.",
            ),
        },
        "/v1/b2b/sessions": {
            "post": _management_op(
                "createSession", "Sessions", "Start a member session",
                _envelope(200, "The session, its token and a short-lived JWT.", {
                    "member_id": STRING, "organization_id": STRING, "member": _ref("MemberWithoutRoles"),
                    "member_session": _ref("Session"), "session_token": STRING, "session_jwt": STRING}),
                errors=(404,), body=_body(_ref("SessionCreate"), example={
                    "organization_id": "organization-…", "member_id": "member-…", "session_duration_minutes": 60}),
            ),
        },
        "/v1/b2b/sessions/authenticate": {
            "post": _management_op(
                "authenticateSession", "Sessions", "Authenticate a session; answers a fresh JWT",
                _envelope(200, "The session and a fresh JWT.", {
                    "member_id": STRING, "organization_id": STRING, "member": _ref("MemberWithoutRoles"),
                    "member_session": _ref("Session"), "session_jwt": STRING}),
                errors=(401, 404), body=_body(_ref("SessionAuthenticate"), example={"session_jwt": "eyJhbGciOiJFUzI1NiIs…"}),
            ),
        },
        "/v1/b2b/sessions/revoke": {
            "post": _management_op(
                "revokeSessions", "Sessions", "Revoke one session or every session of a member",
                _envelope(200, "What was revoked.", {"revoked_member_session_ids": STRINGS}),
                errors=(404,), body=_body(_ref("SessionRevoke"), example={"organization_id": "organization-…", "member_id": "member-…"}),
            ),
        },
        "/v1/b2b/sessions/jwks/{project_id}": {
            "parameters": [_path("project_id", "The project id.")],
            "get": _management_op(
                "getJwks", "Sessions", "The public keys that verify session JWTs",
                _envelope(200, "The JWKS (cacheable for 60 s).", {"keys": _array(_ref("Jwk"))}),
                errors=(404,), public=True,
                description="Public, like any JWKS: verifiers fetch it without the project secret.",
            ),
        },
        "/v1/b2b/sessions/jwks/rotate": {
            "post": _management_op(
                "rotateSigningKey", "Sessions", "Rotate the session signing key",
                _envelope(200, "The new signing key.", {"signing_key": _ref("Jwk")}), errors=(),
            ),
        },
        "/v1/webhooks/endpoints": {
            "post": _management_op(
                "createWebhookEndpoint", "Webhook endpoints", "Create a webhook endpoint",
                _envelope(201, "The endpoint with its signing secret, shown only here.",
                          {"endpoint": _ref("WebhookEndpointWithSecret")}),
                errors=(), body=_body(_ref("WebhookEndpointCreate"), example={
                    "url": "https://example.com/hook", "event_types": ["scim.member.create"]}),
            ),
            "get": _management_op(
                "listWebhookEndpoints", "Webhook endpoints", "List webhook endpoints",
                _envelope(200, "A page of endpoints.", {"endpoints": _array(_ref("WebhookEndpoint")), **NEXT_CURSOR}),
                errors=(400,), parameters=LIST_PARAMS,
            ),
        },
        "/v1/webhooks/endpoints/{endpoint_id}": {
            "parameters": [_path("endpoint_id", "The endpoint's id.")],
            "get": _management_op(
                "getWebhookEndpoint", "Webhook endpoints", "Get a webhook endpoint",
                _envelope(200, "The endpoint.", {"endpoint": _ref("WebhookEndpoint")}), errors=(404,),
            ),
            "put": _management_op(
                "updateWebhookEndpoint", "Webhook endpoints", "Update a webhook endpoint",
                _envelope(200, "The updated endpoint.", {"endpoint": _ref("WebhookEndpoint")}),
                errors=(404, 412), body=_body(_ref("WebhookEndpointUpdate"), example={
                    "event_types": ["scim.member.create", "scim.member.delete"], "enabled": True}),
                parameters=(_header("If-Match", "The endpoint's etag."),),
                description="Changes the fields present. Enabling a disabled endpoint resumes its pending deliveries.",
            ),
            "delete": _management_op(
                "deleteWebhookEndpoint", "Webhook endpoints", "Delete a webhook endpoint",
                _envelope(200, "Deleted."), errors=(404,),
            ),
        },
        "/v1/webhooks/endpoints/{endpoint_id}/rotate_secret": {
            "parameters": [_path("endpoint_id", "The endpoint's id.")],
            "post": _management_op(
                "rotateWebhookEndpointSecret", "Webhook endpoints", "Rotate an endpoint's signing secret",
                _envelope(200, "The endpoint with its new secret, shown only here.",
                          {"endpoint": _ref("WebhookEndpointWithSecret")}),
                errors=(404,), body=_body(_ref("WebhookSecretRotate"), required=False, example={"grace_period_seconds": 3600}),
                description="For the grace period each delivery carries signatures from both the new and the "
                            "previous secret, space-separated in webhook-signature.",
            ),
        },
        "/v1/webhooks/endpoints/{endpoint_id}/attempts": {
            "parameters": [_path("endpoint_id", "The endpoint's id.")],
            "get": _management_op(
                "listWebhookEndpointAttempts", "Webhook deliveries", "The delivery log of an endpoint",
                ATTEMPTS_PAGE,
                errors=(400,), parameters=(*LIST_PARAMS, _query("event_id", "Only this event's attempts.", STRING)),
            ),
        },
        "/v1/webhooks/endpoints/{endpoint_id}/replay": {
            "parameters": [_path("endpoint_id", "The endpoint's id.")],
            "post": _management_op(
                "replayWebhookEndpointEvents", "Webhook deliveries", "Deliver again the events of a time range",
                _envelope(202, "Scheduled.", {"deliveries_scheduled": INTEGER}),
                errors=(404,), body=_body(_ref("WebhookEndpointReplay"), example={
                    "start_time": "2026-12-01T00:00:00Z", "end_time": "2026-12-01T01:00:00Z"}),
            ),
        },
        "/v1/webhooks/events/{event_id}/attempts": {
            "parameters": [_path("event_id", "The event's id (the webhook-id header).")],
            "get": _management_op(
                "listWebhookEventAttempts", "Webhook deliveries", "The delivery log of an event",
                ATTEMPTS_PAGE,
                errors=(400,), parameters=LIST_PARAMS,
            ),
        },
        "/v1/webhooks/events/{event_id}/replay": {
            "parameters": [_path("event_id", "The event's id (the webhook-id header).")],
            "post": _management_op(
                "replayWebhookEvent", "Webhook deliveries", "Deliver an event again",
                _envelope(202, "Scheduled.", {"deliveries_scheduled": INTEGER}),
                errors=(404,), body=_body(_ref("WebhookEventReplay"), required=False, example={"endpoint_id": "endpoint-…"}),
            ),
        },
        "/v1/events": {
            "get": _management_op(
                "listEvents", "Webhook deliveries", "Every event of the last 30 days (the pull Events API)",
                _envelope(200, "Events oldest first, each the body its webhooks carry; poll again with next_cursor.",
                          {"events": _array(_obj({"type": STRING, "timestamp": TIMESTAMP,
                                                  "data": {"type": "object"}},
                                                 required=("type", "timestamp", "data"))),
                           "next_cursor": STRING}),
                errors=(400,),
                parameters=(
                    _query("after", "The `next_cursor` of an earlier call; none starts at the oldest event kept.",
                           STRING),
                    _query("types", "Comma-separated event types to include, e.g. `scim.member.create`; one of: "
                           + ", ".join(EVENT_TYPES) + ".", STRING),
                    _query("organization_id", "Only this organization's events.", STRING),
                    LIST_PARAMS[0],
                ),
                description="Whether or not an endpoint subscribes to them. Reconcile against it instead of "
                            "trusting webhooks alone. Events are listed in the order they were published, and an "
                            "event shows here only after every earlier one, so paging with next_cursor never "
                            "skips one.",
            ),
        },
        "/v1/b2b/admin_portal/links": {
            "post": _management_op(
                "createAdminPortalLink", "Admin Portal", "Create a one-time Admin Portal link",
                _envelope(201, "The link: it opens the organization's Admin Portal once, before `expires_at`.",
                          {"url": {"type": "string", "format": "uri"}, "expires_at": TIMESTAMP}),
                errors=(404,), body=_body(_ref("AdminPortalLinkCreate"), example={
                    "organization_id": "organization-…", "expires_in_minutes": 10}),
            ),
        },
    }
    return paths


def _management_schemas() -> JsonObject:
    assignment = _obj({"group_id": STRING, "group_name": STRING, "role_id": STRING})
    attribute_assignment = _obj({"attribute": {"type": "string", "enum": ["roles", "entitlements"]},
                                 "value": STRING, "role_id": STRING})
    rule_assignment = _obj({"filter": STRING, "role_id": STRING})
    connection = {
        "connection_id": STRING,
        "organization_id": STRING,
        "status": {"type": "string", "enum": ["active", "disabled"]},
        "display_name": STRING,
        "identity_provider": {"type": "string", "description": "One of: " + ", ".join(IDENTITY_PROVIDERS) + "."},
        "base_url": {"type": "string", "format": "uri", "description": "What the IdP calls; for microsoft-entra "
                     "it ends in ?aadOptscim062020."},
        "bearer_token_last_four": STRING,
        "bearer_token_expires_at": NULLABLE_TIMESTAMP,
        "next_bearer_token_last_four": {"type": "string", "description": "Empty when no rotation is in progress."},
        "next_bearer_token_expires_at": NULLABLE_TIMESTAMP,
        "rate_limit_per_second": {"type": "integer", "description": "0: the project default."},
        "bearer_token_last_used_at": {**NULLABLE_TIMESTAMP, "description": "When the token last authenticated a "
                                      "SCIM request (within about a second); null: never."},
        "next_bearer_token_last_used_at": {**NULLABLE_TIMESTAMP, "description": "The same for the next token "
                                           "during a rotation: whether the IdP uses it yet."},
        "bearer_token_enabled": {**BOOLEAN, "description": "Whether the static bearer token is accepted."},
        "strict_attributes": {**BOOLEAN, "description": "Whether SCIM writes naming attributes no schema declares "
                                                        "are refused (400) instead of kept as undeclared attributes."},
        "oauth_token_endpoint": {"type": "string", "format": "uri",
                                 "description": "Where an OAuth client of this connection gets access tokens."},
        "oauth_client": {"type": ["object", "null"], "description": "Set when OAuth client credentials are on.",
                         "properties": {"client_id": STRING, "client_secret_last_four": STRING,
                                        "next_client_secret_last_four": STRING}},
        "assertion_trust": {"type": ["object", "null"], "description": "Set when JWT client assertions are "
                            "accepted (RFC 7523).", "properties": {"issuer": STRING, "subject": STRING,
                                                                  "audience": STRING, "jwks_url": STRING}},
        "scim_group_implicit_role_assignments": _array(assignment),
        "scim_attribute_implicit_role_assignments": _array(attribute_assignment),
        "scim_rule_implicit_role_assignments": _array(rule_assignment),
    }
    member = {
        "member_id": STRING,
        "organization_id": STRING,
        "email_address": STRING,
        "name": STRING,
        "status": {"type": "string", "enum": ["active", "deactivated", "deleted"]},
        "external_id": STRING,
        "scim_registration": _obj({
            "connection_id": STRING, "registration_id": STRING, "external_id": STRING,
            "scim_attributes": {"type": "object", "description": "The SCIM attributes as stored."},
            "undeclared_attributes": {"type": "object", "description": "What the identity provider sent that no "
                                      "schema declares, as sent (unknown attributes, extensions under their URN)."},
        }),
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "etag": {"type": "string", "description": "The member's version: what reconcile compares."},
        "custom_attributes": {"type": "object", "description": "The app's custom fields (key → value) as the "
                              "connection's attribute mapping computes them."},
    }
    role_source = _obj({
        "type": {"type": "string",
                 "enum": ["direct_assignment", "scim_connection_group", "scim_attribute", "scim_attribute_rule"]},
        "details": _obj({"connection_id": STRING, "group_id": STRING, "group_name": STRING, "attribute": STRING,
                         "value": STRING, "filter": STRING}, required=(),
                        description="scim_connection_group: connection_id, group_id, group_name; scim_attribute: "
                                    "connection_id, attribute, value; scim_attribute_rule: connection_id, filter."),
    })
    permission = _obj({"resource_id": STRING, "actions": STRINGS})
    permission_write = _obj({"resource_id": {"type": "string", "minLength": 1},
                             "actions": {**STRINGS, "minItems": 1}})
    endpoint = {"endpoint_id": STRING, "url": STRING, "event_types": STRINGS, "organization_ids": STRINGS,
                "enabled": BOOLEAN, "disabled_reason": {"type": ["string", "null"], "enum": ["gone", "failing", None]},
                "disabled_at": NULLABLE_TIMESTAMP, "failing_since": NULLABLE_TIMESTAMP,
                "previous_secret_expires_at": NULLABLE_TIMESTAMP, "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
                "etag": STRING}
    optional_int = {"type": ["integer", "null"]}
    transform = _obj({
        "type": {"type": "string", "enum": ["trim", "lower", "upper", "split", "regex"]},
        "separator": _string("split: what to split at."),
        "index": {"type": "integer", "description": "split: which part (0 first; negative from the end)."},
        "pattern": _string("regex: an RE2 regular expression, searched for."),
        "group": {"type": "integer", "description": "regex: which group to take (0: the whole match; default 1)."},
    }, required=("type",))
    return {
        "ManagementError": _obj({
            "status_code": INTEGER,
            "request_id": STRING,
            "error_type": {"type": "string", "enum": _error_types(),
                           "description": "The reason, for clients to branch on (never on the message)."},
            "error_message": STRING,
        }),
        "Organization": _obj({"organization_id": STRING, "organization_name": STRING, "organization_slug": STRING,
                              "created_at": TIMESTAMP, "updated_at": TIMESTAMP}),
        "OrganizationCreate": _obj({
            "organization_name": _string("At most 128 characters.", minLength=1, pattern=r"\S"),
            "organization_slug": _optional_string("2-128 of a-z 0-9 . _ ~ -, starting with a letter or digit; "
                                                  "derived from the name when left out."),
        }, required=("organization_name",), closed=False),
        "OrganizationUpdate": _obj({
            "organization_name": _optional_string("At most 128 characters."),
            "organization_slug": _optional_string("2-128 of a-z 0-9 . _ ~ -."),
        }, required=(), closed=False),
        "Connection": _obj(connection),
        "ConnectionWithHolds": _obj({**connection, "held_deprovisions": {
            "type": "integer", "minimum": 0,
            "description": "Deprovisions the mass-deprovision guard holds: above 0, show a banner and offer "
                           "approve or reject (held_deprovisions/{decision})."}}),
        "DeprovisionGuard": _obj({
            "enabled": BOOLEAN,
            "percent": {"type": "integer", "minimum": 0, "maximum": 100,
                        "description": "Hold past this share of the connection's active members; 0: no share limit."},
            "max_count": {"type": "integer", "minimum": 0, "description": "Hold past this many; 0: no count limit."},
            "window_seconds": {"type": "integer", "minimum": 1},
            "auto_apply_seconds": {"type": "integer", "minimum": 0,
                                   "description": "Approve by itself this long after the first hold; 0: never."},
            "source": {"type": "string", "enum": ["connection", "project"]},
        }),
        "DeprovisionGuardUpdate": _obj({
            "enabled": {"type": ["boolean", "null"]},
            "percent": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
            "max_count": {"type": ["integer", "null"], "minimum": 0, "maximum": INT32_MAX},
            "window_seconds": {"type": ["integer", "null"], "minimum": 1, "maximum": 30 * 86400},
            "auto_apply_seconds": {"type": ["integer", "null"], "minimum": 0, "maximum": 30 * 86400},
            "inherit": {"type": ["boolean", "null"], "description": "true: forget the connection's own guard."},
            "source": {"type": ["string", "null"], "description": "Ignored (what a GET shows)."},
        }, required=()),
        "ScimRequestRecord": _obj({
            "request_id": STRING, "token_id": STRING, "method": STRING, "path": STRING, "query": STRING,
            "status": INTEGER, "scim_type": STRING, "detail": STRING, "hint": STRING, "latency_ms": {"type": "number"},
            "resource_id": STRING, "user_name": STRING,
            "body": {"type": ["object", "null"], "description": "The request body, redacted."}, "time": TIMESTAMP,
        }),
        "ConnectionHealth": _obj({
            "last_request_at": NULLABLE_TIMESTAMP, "requests_last_hour": INTEGER, "errors_last_hour": INTEGER,
            "error_rate_last_hour": {"type": "number"}, "users_received": INTEGER, "groups_received": BOOLEAN,
            "bearer_token_last_used_at": NULLABLE_TIMESTAMP, "next_bearer_token_last_used_at": NULLABLE_TIMESTAMP,
            "warnings": {**STRINGS, "description": "What to fix, in words for an IT admin."},
        }),
        "MemberVersion": _obj({"member_id": STRING, "etag": STRING}),
        "ReconcileRequest": _obj({
            "members": {**_array(_obj({"member_id": STRING, "etag": STRING, "roles": {"type": ["array", "null"],
                                                                                      "items": STRING}},
                                      required=("member_id", "etag"))), "maxItems": 1000},
            "after": {"type": ["string", "null"], "description": "The page starts after this member id."},
            "through": {"type": ["string", "null"], "description": "The page ends with this member id."},
            "re_emit": {"type": ["boolean", "null"]},
        }, required=()),
        "HeldDeprovision": _obj({"member_id": STRING, "user_name": STRING,
                                 "change": {"type": "string", "enum": ["deactivate", "delete"]},
                                 "held_at": TIMESTAMP}),
        "ConnectionWithToken": _obj({**connection, "bearer_token": STRING}),
        "ConnectionWithClientSecret": _obj({**connection, "next_client_secret": STRING}, required=tuple(connection)),
        "AssertionTrust": _obj({
            "issuer": _string("The assertions' iss.", minLength=1), "subject": _string("Their sub.", minLength=1),
            "audience": _string("One of their aud.", minLength=1),
            "jwks_url": _string("Where the issuer publishes its keys (http(s); fetched through the webhooks' SSRF "
                                "guard).", minLength=1),
        }),
        "ConnectionInRotation": _obj({**connection, "next_bearer_token": STRING},
                                     required=tuple(connection)),
        "ConnectionCreate": _obj({
            "display_name": _optional_string("At most 128 characters."),
            "identity_provider": {"type": ["string", "null"], "enum": [*IDENTITY_PROVIDERS, "", None]},
        }, required=(), closed=False),
        "ConnectionUpdate": _obj({
            "display_name": _optional_string("At most 128 characters."),
            "identity_provider": {"type": ["string", "null"], "enum": [*IDENTITY_PROVIDERS, "", None]},
            "rate_limit_per_second": {**optional_int, "minimum": 0, "maximum": INT32_MAX,
                                      "description": "Requests per second for this connection; 0: the project "
                                                     "default."},
            "bearer_token_enabled": {"type": ["boolean", "null"], "description": "false refuses the static bearer "
                                     "token at once (409 unless OAuth is set up)."},
            "strict_attributes": {"type": ["boolean", "null"], "description": "true refuses SCIM writes naming "
                                  "attributes no schema declares (400 naming them)."},
            "scim_group_implicit_role_assignments": {
                "type": ["array", "null"],
                "items": _obj({"group_id": STRING, "role_id": STRING}, closed=False),
                "description": "Replaces every mapping: members of each group hold its role.",
            },
            "scim_attribute_implicit_role_assignments": {
                "type": ["array", "null"], "maxItems": 1000,
                "items": _obj({"attribute": {"type": "string", "description": "roles or entitlements."},
                               "value": STRING, "role_id": STRING}, closed=False),
                "description": "Replaces every attribute assignment: a member whose roles (or entitlements) "
                               "hold an element whose value equals `value`, compared without case, holds the "
                               "role. Entra sends the app roles assigned to a user as roles.",
            },
            "scim_rule_implicit_role_assignments": {
                "type": ["array", "null"], "maxItems": 100,
                "items": _obj({"filter": STRING, "role_id": STRING}, closed=False),
                "description": "Replaces every rule: a member whose SCIM attributes match the filter (RFC 7644 "
                               "filter syntax over the User type with your schema extensions, at most 20 "
                               "comparisons; id, meta, groups and password cannot be named) holds the role. "
                               "An invalid filter is a 400 with the parser's message.",
            },
        }, required=(), closed=False),
        "RoleChange": _obj({"member_id": STRING, "gained_role_ids": STRINGS, "lost_role_ids": STRINGS}),
        "ScimGroupSummary": _obj({"group_id": STRING, "group_name": STRING, "organization_id": STRING,
                                  "connection_id": STRING}),
        "MemberWithoutRoles": _obj(member),
        "Member": _obj({**member, "roles": _array(_obj({"role_id": STRING, "sources": _array(role_source)}))}),
        "MemberUpdate": _obj({"roles": {"type": ["array", "null"], "items": STRING,
                                        "description": "The directly assigned role ids."}}, required=()),
        "AuditEntry": _obj({
            "audit_id": STRING, "connection_id": STRING, "token_id": STRING, "request_id": STRING,
            "operation": STRING, "resource_type": STRING, "resource_id": STRING, "changed_attributes": STRINGS,
            "result": STRING, "detail": STRING, "created_at": TIMESTAMP,
        }),
        "SchemaExtension": _obj({
            "schema_id": STRING, "resource_type": {"type": "string", "enum": ["User", "Group"]},
            "name": STRING, "description": STRING, "attributes": _array({"type": "object"}),
            "version": INTEGER, "created_at": TIMESTAMP, "updated_at": TIMESTAMP}),
        "SchemaExtensionPut": _obj({
            "resource_type": {"type": "string", "enum": ["User", "Group"], "description": "What it extends (default User)."},
            "name": _optional_string("Defaults to the URN's last part."),
            "description": _optional_string("At most 1,000 characters."),
            "attributes": {"type": "array", "minItems": 1, "maxItems": 100, "description": "RFC 7643 §7 "
                           "attribute definitions: name, type, multiValued, required, caseExact, mutability, "
                           "returned, uniqueness, canonicalValues, referenceTypes, subAttributes, description.",
                           "items": {"type": "object", "required": ["name"]}},
        }, required=("attributes",), closed=False),
        "CustomField": _obj({
            "key": STRING, "type": {"type": "string", "enum": list(CUSTOM_FIELD_TYPES)}, "description": STRING,
            "created_at": TIMESTAMP, "updated_at": TIMESTAMP}),
        "CustomFieldPut": _obj({
            "type": {"type": "string", "enum": list(CUSTOM_FIELD_TYPES)},
            "description": _optional_string("At most 1,000 characters."),
        }, required=("type",), closed=False),
        "AttributeMapping": _obj({
            "fields": _array(_obj({"field": STRING, "sources": STRINGS, "transforms": _array(transform),
                                   "default": {"description": "A value of the field's type."}},
                                  required=("field", "sources", "transforms"))),
            "version": {"type": "integer", "description": "0: the connection has no mapping yet."},
            "updated_at": NULLABLE_TIMESTAMP,
            "apply": _obj({
                "state": {"type": "string", "enum": ["applying", "done"]},
                "done": INTEGER, "total": INTEGER,
                "changed": {"type": "integer", "description": "Members whose values changed (each with its "
                                                             "scim.member.update event)."}}),
        }),
        "AttributeMappingPut": _obj({
            "fields": {"type": "array", "maxItems": 100, "items": _obj({
                "field": _string("A custom field's key."),
                "sources": {"type": "array", "minItems": 1, "maxItems": 5, "items": STRING,
                            "description": "Attribute paths, tried in turn: title, name.givenName, emails.value "
                                           "(the primary's), urn:…:enterprise:2.0:User:department, an undeclared "
                                           "favoriteColor or urn:example:x:1.0:User:shoeSize."},
                "transforms": {"type": ["array", "null"], "maxItems": 10, "items": transform},
                "default": {"description": "A value of the field's type when no source gives one; null: none."},
            }, required=("field", "sources"), closed=False)},
        }, required=("fields",), closed=False),
        "CustomAttributeChange": _obj({
            "member_id": STRING, "user_name": STRING,
            "from": {"type": "object", "description": "The fields that change, with their values now (null: none)."},
            "to": {"type": "object", "description": "The same fields, with their values under the new mapping."}}),
        "SeenAttribute": _obj({"path": STRING, "json_type": STRING, "declared": BOOLEAN, "member_count": INTEGER,
                               "last_seen_at": TIMESTAMP}),
        "Role": _obj({"role_id": STRING, "description": STRING, "permissions": _array(permission),
                      "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "etag": STRING}),
        "RoleCreate": _obj({
            "role_id": _string("1-128 letters, digits, '_', '.', ':' or '-'.", pattern=r"^[A-Za-z0-9_.:-]{1,128}$"),
            "description": _optional_string("What the role is for."),
            "permissions": {"type": ["array", "null"], "items": permission_write},
        }, required=("role_id",), closed=False),
        "RoleUpdate": _obj({
            "description": _optional_string("What the role is for."),
            "permissions": {"type": ["array", "null"], "items": permission_write},
        }, required=(), closed=False),
        "Session": _obj({"member_session_id": STRING, "member_id": STRING, "organization_id": STRING,
                         "started_at": TIMESTAMP, "last_accessed_at": TIMESTAMP, "expires_at": TIMESTAMP,
                         "roles": STRINGS}),
        "SessionCreate": _obj({
            "organization_id": _string("The member's organization.", minLength=1, pattern=r"\S"),
            "member_id": _string("An active member.", minLength=1, pattern=r"\S"),
            "session_duration_minutes": {**optional_int, "minimum": 0, "maximum": INT32_MAX,
                                         "description": "0 or absent: the default."},
        }, required=("organization_id", "member_id"), closed=False),
        "SessionAuthenticate": _obj({
            "session_token": _optional_string("The session token (give this or session_jwt)."),
            "session_jwt": _optional_string("A session JWT (give this or session_token)."),
        }, required=(), closed=False),
        "SessionRevoke": _obj({
            "organization_id": _string("The organization.", minLength=1, pattern=r"\S"),
            "member_session_id": _optional_string("One session (give this or member_id)."),
            "member_id": _optional_string("Every session of this member."),
        }, required=("organization_id",), closed=False),
        "Jwk": _obj({name: STRING for name in ("kid", "kty", "alg", "use", "crv", "x", "y")}, required=()),
        "WebhookEndpoint": _obj(endpoint),
        "WebhookEndpointWithSecret": _obj({**endpoint, "secret": _string("whsec_…: verifies the signatures.")}),
        "WebhookEndpointCreate": _obj({
            "url": _string("Where to POST events.", minLength=1, format="uri"),
            "event_types": {"type": ["array", "null"], "items": EVENT_TYPE,
                            "description": "The event types to send; empty or absent: every type."},
            "organization_ids": {"type": ["array", "null"], "items": STRING,
                                 "description": "The organizations whose events to send; empty or absent: all."},
        }, required=("url",), closed=False),
        "WebhookEndpointUpdate": _obj({
            "url": _string("Where to POST events.", minLength=1, format="uri"),
            "event_types": {"type": ["array", "null"], "items": EVENT_TYPE},
            "organization_ids": {"type": ["array", "null"], "items": STRING},
            "enabled": BOOLEAN,
        }, required=(), closed=False),
        "WebhookSecretRotate": _obj({
            "grace_period_seconds": {**optional_int, "minimum": 0, "maximum": 7 * 24 * 3600,
                                     "description": "How long the previous secret keeps signing; 0 or absent: a day."},
        }, required=(), closed=False),
        "WebhookDeliveryAttempt": _obj({
            "attempt_id": STRING, "event_id": STRING, "endpoint_id": STRING, "attempted_at": TIMESTAMP,
            "status_code": {"type": ["integer", "null"], "description": "null when no response came."},
            "latency_ms": {"type": "number"}, "response_snippet": STRING, "error": NULLABLE_STRING,
            "outcome": {"type": "string", "enum": ["succeeded", "retrying", "failed", "unknown"]},
            "next_attempt_at": NULLABLE_TIMESTAMP,
        }),
        "WebhookEventReplay": _obj({
            "endpoint_id": _optional_string("Only to this endpoint; absent: to every subscribed endpoint."),
        }, required=(), closed=False),
        "WebhookEndpointReplay": _obj({
            "start_time": _string("Events from this time (RFC 3339)...", format="date-time"),
            "end_time": _string("...until before this one.", format="date-time"),
        }, required=("start_time", "end_time"), closed=False),
        "AdminPortalLinkCreate": _obj({
            "organization_id": _string("The organization whose portal opens.", minLength=1, pattern=r"\S"),
            "expires_in_minutes": {**optional_int, "minimum": 1, "maximum": PORTAL_LINK_MAX_MINUTES,
                                   "description": "Default 10."},
        }, required=("organization_id",), closed=False),
    }


# --------------------------------------------------------------- SCIM schemas

_SCIM_TYPES: dict[str, JsonObject] = {
    "string": STRING,
    "boolean": BOOLEAN,
    "decimal": {"type": "number"},
    "integer": INTEGER,
    "dateTime": {"type": "string", "format": "date-time"},
    "reference": STRING,
    "binary": STRING,
}


def _attribute_schema(attribute: Attribute, *, for_response: bool) -> JsonObject:
    if attribute.type == "complex":
        schema = _obj(
            {sub.name: _attribute_schema(sub, for_response=for_response)
             for sub in attribute.sub_attributes if _shown(sub, for_response)},
            required=(), closed=for_response,
        )
    else:
        schema = dict(_SCIM_TYPES[attribute.type])
    if attribute.multi_valued:
        schema = _array(schema)
    if attribute.description:
        schema["description"] = attribute.description
    return schema


def _shown(attribute: Attribute, for_response: bool) -> bool:
    """Responses never show writeOnly attributes; requests need not send readOnly ones (they are ignored)."""
    return attribute.mutability != ("writeOnly" if for_response else "readOnly")


def _resource_schema(resource_type: ResourceType, *, for_response: bool) -> JsonObject:
    properties: JsonObject = {"schemas": STRINGS}
    for attribute in (*resource_type.common, *resource_type.schema.attributes):
        if _shown(attribute, for_response):
            properties[attribute.name] = _attribute_schema(attribute, for_response=for_response)
    for extension in resource_type.extensions:
        properties[extension.schema.id] = _obj(
            {a.name: _attribute_schema(a, for_response=for_response)
             for a in extension.schema.attributes if _shown(a, for_response)},
            required=(), closed=for_response, description=extension.schema.description,
        )
    if for_response:
        # attributes/excludedAttributes may leave out anything but these (RFC 7644 §3.9).
        return _obj(properties, required=("schemas", "id"))
    # Requests: unknown attributes and schema URNs are ignored, as IdPs send them.
    return _obj(properties, required=(), closed=False)


def _scim_schemas() -> JsonObject:
    user_request = _resource_schema(USER, for_response=False)
    user_request["properties"]["userName"] = {
        "type": "string", "minLength": 1, "maxLength": MAX_USER_NAME_LENGTH, "pattern": r"\S",
        "description": "Unique per connection ignoring case; stored without surrounding whitespace.",
    }
    user_request["required"] = ["userName"]
    group_request = _resource_schema(GROUP, for_response=False)
    group_request["properties"]["displayName"] = {
        "type": "string", "minLength": 1, "pattern": r"\S", "description": "Unique per connection ignoring case.",
    }
    group_request["properties"]["members"]["items"]["properties"]["value"] = {
        "type": "string", "minLength": 1, "description": "A User's id in this connection.",
    }
    group_request["properties"]["members"]["items"]["required"] = ["value"]
    group_request["required"] = ["displayName"]
    error = _obj({
        "schemas": {"type": "array", "items": {"const": SCIM_ERROR_SCHEMA}, "minItems": 1},
        "status": {"type": "string", "pattern": r"^[0-9]{3}$", "description": "The HTTP status, as a string."},
        "scimType": {"type": "string", "enum": _scim_types()},
        "detail": STRING,
    }, required=("schemas", "status", "detail"))
    list_response = {
        "schemas": {"type": "array", "items": {"const": LIST_RESPONSE}},
        "totalResults": {"type": "integer", "minimum": 0},
        "itemsPerPage": {"type": "integer", "minimum": 0},
        "startIndex": {"type": "integer", "minimum": 1, "description": "Paged by index."},
        "nextCursor": _string("Paged by cursor (RFC 9865): the cursor of the next page; absent on the last."),
    }
    attribute_list = {"oneOf": [STRING, STRINGS], "description": "Attribute names, comma-separated or as an array."}
    search_fields = {
        "schemas": {"type": "array", "items": STRING, "description": f"Should contain {SEARCH_REQUEST}."},
        "attributes": attribute_list,
        "excludedAttributes": attribute_list,
        "filter": STRING,
        "sortBy": STRING,
        "sortOrder": {"type": "string", "enum": ["ascending", "descending"]},
        "startIndex": INTEGER,
        "count": INTEGER,
        "cursor": _string("RFC 9865: \"\" for the first page by cursor, then the previous page's nextCursor."),
    }
    # startIndex when paged by index, nextCursor when paged by cursor and more follow.
    list_required = ("schemas", "totalResults", "itemsPerPage", "Resources")
    discovery_meta = _obj({"resourceType": STRING, "location": {"type": "string", "format": "uri"}})
    schema_attribute: JsonObject = _obj({
        "name": STRING, "type": STRING, "multiValued": BOOLEAN, "description": STRING, "required": BOOLEAN,
        "caseExact": BOOLEAN, "mutability": STRING, "returned": STRING, "uniqueness": STRING,
        "canonicalValues": STRINGS, "referenceTypes": STRINGS,
        "subAttributes": _array(_ref("ScimSchemaAttribute")),
    }, required=("name", "type", "multiValued", "required", "mutability", "returned"))
    supported = _obj({"supported": BOOLEAN})
    return {
        "ScimError": {**error, "description": "RFC 7644 §3.12."},
        "OAuthError": _obj({"error": {"type": "string", "enum": [
            "invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type", "temporarily_unavailable"]},
            "error_description": STRING}, description="RFC 6749 §5.2."),
        "User": {**_resource_schema(USER, for_response=True), "description": "RFC 7643 §4.1, with the "
                 "enterprise extension (§4.3) under its URN."},
        "UserRequest": {**user_request, "description": "A User to create or to replace. Read-only attributes "
                        "(id, meta, groups), the password (never stored) and unknown attributes are ignored; "
                        "null and \"\" mean absent, and so do [] for a multi-valued or complex attribute and {} "
                        "for a complex one. A single object stands for a one-element multi-valued attribute, a "
                        "one-element array for a single-valued complex one, and a bare id for the enterprise "
                        "manager."},
        "Group": {**_resource_schema(GROUP, for_response=True), "description": "RFC 7643 §4.2."},
        "GroupRequest": {**group_request, "description": "A Group to create or to replace."},
        "UserListResponse": _obj({**list_response, "Resources": _array(_ref("User"))}, required=list_required),
        "GroupListResponse": _obj({**list_response, "Resources": _array(_ref("Group"))}, required=list_required),
        "ResourceListResponse": _obj({**list_response,
                                      "Resources": _array({"anyOf": [_ref("User"), _ref("Group")]})},
                                     required=list_required),
        "PatchOp": _obj({
            "schemas": {"type": "array", "items": STRING, "description": f"Should contain {PATCH_OP}."},
            "Operations": _array(_obj({
                "op": {"type": "string", "enum": ["add", "remove", "replace", "Add", "Remove", "Replace"],
                       "description": "Matched without case."},
                "path": STRING,
                "value": {},
            }, required=("op",), closed=False), "RFC 7644 §3.5.2; applied atomically."),
        }, required=("Operations",), closed=False),
        "SearchRequest": _obj(search_fields, required=(), closed=False),
        "BulkRequest": _obj({
            "schemas": {"type": "array", "items": STRING, "contains": {"const": BULK_REQUEST}},
            "failOnErrors": {"type": "integer", "minimum": 1},
            "Operations": {**_array(_obj({
                "method": {"type": "string", "enum": ["POST", "PUT", "PATCH", "DELETE"]},
                "path": _string("/Users, /Groups, /Users/{id} or /Groups/{id}; an id may be bulkId:<bulkId>."),
                "bulkId": STRING,
                "version": STRING,
                "data": {"type": "object"},
            }, required=("method", "path"), closed=False)), "maxItems": MAX_BULK_OPERATIONS},
        }, required=("Operations",), closed=False),
        "BulkResponse": _obj({
            "schemas": {"type": "array", "items": {"const": BULK_RESPONSE}},
            "Operations": _array(_obj({
                "method": STRING,
                "bulkId": STRING,
                "status": {"type": "string", "pattern": r"^[0-9]{3}$"},
                "location": {"type": "string", "format": "uri"},
                "version": STRING,
                "response": _ref("ScimError"),
            }, required=("method", "status"))),
        }),
        "ServiceProviderConfig": _obj({
            "schemas": STRINGS,
            "documentationUri": STRING,
            "patch": supported,
            "bulk": _obj({"supported": BOOLEAN, "maxOperations": INTEGER, "maxPayloadSize": INTEGER}),
            "filter": _obj({"supported": BOOLEAN, "maxResults": INTEGER}),
            "changePassword": supported,
            "sort": supported,
            "etag": supported,
            "pagination": _obj({"cursor": BOOLEAN, "index": BOOLEAN, "defaultPaginationMethod": STRING,
                                "defaultPageSize": INTEGER, "maxPageSize": INTEGER, "cursorTimeout": INTEGER},
                               description="RFC 9865 §4."),
            "authenticationSchemes": _array(_obj({
                "type": STRING, "name": STRING, "description": STRING, "specUri": STRING,
                "documentationUri": STRING, "primary": BOOLEAN,
            }, required=("type", "name", "description"))),
            "meta": discovery_meta,
        }),
        "ResourceType": _obj({
            "schemas": STRINGS, "id": STRING, "name": STRING, "endpoint": STRING, "description": STRING,
            "schema": STRING,
            "schemaExtensions": _array(_obj({"schema": STRING, "required": BOOLEAN})),
            "meta": discovery_meta,
        }),
        "ScimSchema": _obj({
            "schemas": STRINGS, "id": STRING, "name": STRING, "description": STRING,
            "attributes": _array(_ref("ScimSchemaAttribute")), "meta": discovery_meta,
        }),
        "ScimSchemaAttribute": schema_attribute,
        "ResourceTypeListResponse": _obj({**list_response, "Resources": _array(_ref("ResourceType"))},
                                         required=list_required),
        "ScimSchemaListResponse": _obj({**list_response, "Resources": _array(_ref("ScimSchema"))},
                                       required=list_required),
    }


# ------------------------------------------------------------ SCIM operations

PROJECTION_PARAMS = (
    _query("attributes", "Return only these attributes (comma-separated; RFC 7644 §3.9).", STRING),
    _query("excludedAttributes", "Leave these attributes out (comma-separated).", STRING),
)
LIST_QUERY_PARAMS = (
    _query("filter", "RFC 7644 §3.4.2.2, e.g. userName eq \"ada@acme.com\".", STRING),
    _query("sortBy", "An attribute path.", STRING),
    _query("sortOrder", "ascending (default) or descending.", {"type": "string", "enum": ["ascending", "descending"]}),
    _query("startIndex", "1-based; less than 1 is 1. Not with cursor.", INTEGER),
    _query("cursor", "RFC 9865 cursor paging: empty for the first page, then the previous page's nextCursor "
                     "(same filter, sortBy and sortOrder; valid for an hour). A resource that exists throughout "
                     "is listed exactly once however the directory changes between pages.", STRING),
    _query("count", f"Page size (default 100, at most {MAX_RESULTS}); 0 answers only totalResults "
                    f"(by cursor: 1 to {MAX_RESULTS}).", INTEGER),
    *PROJECTION_PARAMS,
)
RESOURCE_HEADERS = {
    "ETag": {"description": "The resource's version, e.g. W/\"3\".", "required": True, "schema": STRING},
}


def _scim_resource(status: int, schema: str, description: str) -> JsonObject:
    headers = dict(RESOURCE_HEADERS)
    if status == 201:
        headers["Location"] = {"description": "The new resource's URL.", "required": True,
                               "schema": {"type": "string", "format": "uri"}}
    return {str(status): {"description": description, "headers": headers,
                          "content": {SCIM_JSON: {"schema": _ref(schema)}}}}


def _scim_ok(schema: str, description: str) -> JsonObject:
    return {"200": {"description": description, "content": {SCIM_JSON: {"schema": _ref(schema)}}}}


def _scim_op(operation_id: str, tag: str, summary: str, responses: JsonObject, *, errors: tuple[int, ...],
             body: JsonObject | None = None, parameters: tuple[JsonObject, ...] = (), description: str = "",
             public: bool = False) -> JsonObject:
    operation: JsonObject = {"operationId": operation_id, "tags": [tag], "summary": summary}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = body
        errors = (*errors, 400, 408, 413)
    if public:
        operation["security"] = []
    else:
        errors = (*errors, 401, 429, 503)
    operation["responses"] = {**responses, **_errors("Scim", tuple(sorted(set(errors))))}
    return operation


def _scim_body(schema: str, example: Any = None) -> JsonObject:
    return _body(_ref(schema), SCIM_JSON, JSON, example=example)


IF_MATCH = _header("If-Match", "Apply only if the resource still has this version (its ETag); 412 otherwise.")
NOT_MODIFIED = {"304": {"description": _STATUS_TEXT[304], "headers": RESOURCE_HEADERS}}
NO_CONTENT = {"204": {"description": "Deleted."}}


def _scim_resource_paths(endpoint: str, resource: str, tag: str, example: JsonObject) -> JsonObject:
    collection, item = f"{SCIM}/{endpoint}", f"{SCIM}/{endpoint}/{{resource_id}}"
    plural = endpoint
    item_id = _path("resource_id", f"The {resource}'s id.")
    patch_responses: JsonObject = _scim_resource(200, resource, f"The patched {resource}.")
    if resource == "Group":
        patch_responses["204"] = {
            "description": "Applied; the group has more members than a response shows (RFC 7644 §3.5.2 allows 204).",
            "headers": RESOURCE_HEADERS,
        }
    return {
        collection: {
            "parameters": [SCIM_CONNECTION_ID],
            "post": _scim_op(f"create{resource}", tag, f"Create a {resource}",
                             _scim_resource(201, resource, f"The {resource}."), errors=(409,),
                             body=_scim_body(f"{resource}Request", example), parameters=PROJECTION_PARAMS),
            "get": _scim_op(f"list{plural}", tag, f"List or filter {plural}",
                            _scim_ok(f"{resource}ListResponse", "A page of results."), errors=(400,),
                            parameters=LIST_QUERY_PARAMS),
        },
        f"{collection}/.search": {
            "parameters": [SCIM_CONNECTION_ID],
            "post": _scim_op(f"search{plural}", tag, f"Search {plural} (RFC 7644 §3.4.3)",
                             _scim_ok(f"{resource}ListResponse", "A page of results."), errors=(),
                             body=_scim_body("SearchRequest", {
                                 "schemas": [SEARCH_REQUEST], "filter": "externalId pr", "startIndex": 1, "count": 10})),
        },
        item: {
            "parameters": [SCIM_CONNECTION_ID, item_id],
            "get": _scim_op(f"get{resource}", tag, f"Get a {resource}",
                            {**_scim_resource(200, resource, f"The {resource}."), **NOT_MODIFIED}, errors=(400, 404),
                            parameters=(*PROJECTION_PARAMS, _header("If-None-Match", "304 when still this version."))),
            "put": _scim_op(f"replace{resource}", tag, f"Replace a {resource}",
                            _scim_resource(200, resource, f"The {resource}."), errors=(404, 409, 412),
                            body=_scim_body(f"{resource}Request", example), parameters=(*PROJECTION_PARAMS, IF_MATCH)),
            "patch": _scim_op(f"patch{resource}", tag, f"Patch a {resource}", patch_responses,
                              errors=(404, 409, 412),
                              body=_scim_body("PatchOp", {"schemas": [PATCH_OP], "Operations": [
                                  {"op": "replace", "path": "active" if resource == "User" else "displayName",
                                   "value": False if resource == "User" else "Editors"}]}),
                              parameters=(*PROJECTION_PARAMS, IF_MATCH)),
            "delete": _scim_op(f"delete{resource}", tag, f"Delete a {resource}", NO_CONTENT,
                               errors=(404, 412), parameters=(IF_MATCH,)),
        },
    }


def _scim_paths() -> JsonObject:
    user_example = {
        "schemas": [CORE_USER], "userName": "ada@acme.com", "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": "ada@acme.com", "type": "work", "primary": True}], "active": True,
    }
    group_example = {"schemas": [CORE_GROUP], "displayName": "Editors"}
    discovery_filter = _query("filter", "Not supported on discovery: answered with 403 (RFC 7644 §4).", STRING)

    def discovery(operation_id: str, summary: str, schema: str, *, by_id: bool = False) -> JsonObject:
        return _scim_op(operation_id, "SCIM discovery", summary, _scim_ok(schema, summary + "."),
                        errors=(403, 404) if by_id else (403,), parameters=(discovery_filter,), public=True)

    return {
        **_scim_resource_paths("Users", "User", "SCIM Users", user_example),
        **_scim_resource_paths("Groups", "Group", "SCIM Groups", group_example),
        f"{SCIM}/.search": {
            "parameters": [SCIM_CONNECTION_ID],
            "post": _scim_op("searchResources", "SCIM", "Search every resource type, Users then Groups",
                             _scim_ok("ResourceListResponse", "A page of results."), errors=(),
                             body=_scim_body("SearchRequest", {
                                 "schemas": [SEARCH_REQUEST], "filter": 'userName sw "a"', "count": 10})),
        },
        f"{SCIM}/oauth2/token": {
            "parameters": [SCIM_CONNECTION_ID],
            "post": {
                "operationId": "issueAccessToken", "tags": ["SCIM"], "security": [],
                "summary": "Get an access token for the connection (OAuth 2.0)",
                "description": "RFC 6749 §4.4 client_credentials, the client authenticated by HTTP Basic "
                               "(client id = the connection id), by client_id/client_secret, or by a JWT "
                               "client_assertion (RFC 7523 §2.2); or the urn:ietf:params:oauth:grant-type:"
                               "jwt-bearer grant with an assertion (§2.1). The access token authenticates SCIM "
                               "requests like the bearer token, for an hour.",
                "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
                    "schema": _obj({
                        "grant_type": {"type": "string",
                                       "enum": ["client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer"]},
                        "client_id": STRING, "client_secret": STRING, "client_assertion_type": STRING,
                        "client_assertion": STRING, "assertion": STRING, "scope": STRING,
                    }, required=("grant_type",), closed=False),
                    "example": {"grant_type": "client_credentials", "client_id": "scim-connection-…",
                                "client_secret": "scimd_client_…"}}}},
                "responses": {
                    "200": {"description": "An access token.", "content": {JSON: {"schema": _obj({
                        "access_token": STRING, "token_type": {"const": "Bearer"}, "expires_in": INTEGER})}}},
                    **{str(status): {"description": description, "content": {JSON: {"schema": _ref("OAuthError")}}}
                       for status, description in ((400, "invalid_request, invalid_grant or unsupported_grant_type."),
                                                   (401, "invalid_client."),
                                                   (503, "temporarily_unavailable: retry."))},
                },
            },
        },
        f"{SCIM}/Bulk": {
            "parameters": [SCIM_CONNECTION_ID],
            "post": _scim_op(
                "bulk", "SCIM", "Apply many operations (RFC 7644 §3.7)",
                _scim_ok("BulkResponse", "One result per operation applied, in request order."), errors=(),
                body=_scim_body("BulkRequest", {"schemas": [BULK_REQUEST], "Operations": [
                    {"method": "POST", "path": "/Users", "bulkId": "ada", "data": user_example}]}),
                description=f"At most {MAX_BULK_OPERATIONS} operations and {MAX_BODY_BYTES} bytes; each operation "
                            "counts against the connection's rate limit.",
            ),
        },
        f"{SCIM}/ServiceProviderConfig": {
            "parameters": [SCIM_CONNECTION_ID],
            "get": discovery("getServiceProviderConfig", "The service provider's configuration",
                             "ServiceProviderConfig"),
        },
        f"{SCIM}/ResourceTypes": {
            "parameters": [SCIM_CONNECTION_ID],
            "get": discovery("listResourceTypes", "The resource types", "ResourceTypeListResponse"),
        },
        f"{SCIM}/ResourceTypes/{{name}}": {
            "parameters": [SCIM_CONNECTION_ID, _path("name", "User or Group (without case).")],
            "get": discovery("getResourceType", "A resource type", "ResourceType", by_id=True),
        },
        f"{SCIM}/Schemas": {
            "parameters": [SCIM_CONNECTION_ID],
            "get": discovery("listSchemas", "The schemas", "ScimSchemaListResponse"),
        },
        f"{SCIM}/Schemas/{{urn}}": {
            "parameters": [SCIM_CONNECTION_ID, _path("urn", "The schema's URN (without case).")],
            "get": discovery("getSchema", "A schema", "ScimSchema", by_id=True),
        },
    }


# ---------------------------------------------------------------- operations

def _operations_paths() -> JsonObject:
    def plain(operation_id: str, summary: str, responses: JsonObject) -> JsonObject:
        return {"get": {"operationId": operation_id, "tags": ["Operations"], "summary": summary, "security": [],
                        "responses": responses}}

    readiness = _obj({
        "status": {"type": "string", "enum": ["ready", "unavailable"]},
        "services": {"type": "object", "additionalProperties": STRING,
                     "description": "Each backend service's gRPC health status, e.g. SERVING."},
        "token_revocations": {"type": "string", "enum": ["subscribed", "waiting"]},
    })
    return {
        "/healthz": plain("healthz", "The gateway is alive", {"200": {
            "description": "Alive.", "content": {JSON: {"schema": _obj({"status": {"const": "ok"}})}}}}),
        "/readyz": plain("readyz", "Every backend service answers its health check", {
            "200": {"description": "Ready.", "content": {JSON: {"schema": readiness}}},
            "503": {"description": "Not ready.", "content": {JSON: {"schema": readiness}}},
        }),
        PATH: plain("openapi", "This document", {"200": {
            "description": "The OpenAPI 3.1 description of the gateway.",
            "content": {JSON: {"schema": {"type": "object"}}}}}),
    }


# ------------------------------------------------------------------ document

@cache
def document(public_url: str) -> JsonObject:
    """The OpenAPI document for a gateway reached at `public_url`."""
    statuses = (400, 401, 403, 404, 408, 409, 412, 413, 415, 429, 503)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "scimd",
            "version": "1",
            "summary": "SCIM 2.0 provisioning: the vendor's management API and the identity providers' SCIM API.",
            "description": (
                "Two APIs share this gateway.\n\n"
                "- **Management API** (`/v1/…`): for the vendor's backend, authenticated with HTTP Basic "
                "(project id : project secret). JSON; a success is `{status_code, request_id, …}`, an error "
                "`{status_code, request_id, error_type, error_message}`.\n"
                "- **SCIM 2.0** (`/scim/v2/{connection_id}/…`, RFC 7643/7644): for identity providers, "
                "authenticated with the connection's bearer token. `application/scim+json`; errors are "
                "RFC 7644 §3.12 objects with `status` as a string.\n\n"
                "Every response carries `X-Request-Id` (a client may send its own)."
            ),
        },
        "servers": [{"url": public_url}],
        "tags": [{"name": name, "description": text} for name, text in (*MANAGEMENT_TAGS, *SCIM_TAGS)]
        + [{"name": "Operations", "description": "Liveness, readiness and this document."}],
        "security": [{"basicAuth": []}],
        "paths": _with_not_found({**_management_paths(), **_with_bearer(_scim_paths()), **_operations_paths()}),
        "components": {
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic",
                              "description": "The project id as user name and the project secret as password."},
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "The SCIM connection's bearer token (RFC 6750)."},
            },
            "schemas": {**_management_schemas(), **_scim_schemas()},
            "responses": {
                **{f"Management{status}": _management_error(status) for status in statuses if status != 304},
                **{f"Scim{status}": _scim_error(status) for status in statuses},
            },
        },
    }


def _with_not_found(paths: JsonObject) -> JsonObject:
    """A path whose parameters name nothing is 404, on every operation (an id
    that is not printable ASCII is refused before any handler runs)."""
    for path, item in paths.items():
        if "{" not in path:
            continue
        prefix = "Scim" if path.startswith("/scim/") else "Management"
        for method, operation in item.items():
            if method != "parameters":
                operation["responses"].setdefault("404", {"$ref": f"#/components/responses/{prefix}404"})
    return paths


def _with_bearer(paths: JsonObject) -> JsonObject:
    """SCIM operations use the bearer token unless they say otherwise (discovery)."""
    for item in paths.values():
        for method, operation in item.items():
            if method != "parameters":
                operation.setdefault("security", [{"bearerAuth": []}])
    return paths


@routes.get(PATH)
async def openapi(request: web.Request) -> web.Response:
    return json_response(document(request.app[SETTINGS].public_url))
