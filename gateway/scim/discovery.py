"""SCIM discovery (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes and
/Schemas, rendered from scim.schema, the one description of every attribute.

- Served without the bearer token: RFC 7644 §4 lets service providers serve
  these endpoints unauthenticated, and IdPs probe them before a token is set.
  An Authorization header, valid or not, is not looked at; nor is the
  connection id, since the documents are the same for every connection (only
  `meta.location` carries it). They describe the server, never tenant data.
- Query parameters such as sorting and paging are ignored; a `filter` is
  answered with 403, as §4 recommends, so that clients cannot believe their
  filter was applied.
- The connection-independent parts are built once per process; each request
  adds its `meta.location` (RFC 7643 §3.1) under the connection's base URL.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from aiohttp import web
from scimd.connections.v1 import connection_pb2

from gateway.auth import authenticate_connection, public
from gateway.keys import BACKENDS, SCHEMA_REGISTRY, SETTINGS, TOKEN_CACHE
from gateway.limits import MAX_BODY_BYTES
from gateway.scim import bulk as bulk_limits
from gateway.scim.cursors import CURSOR_TIMEOUT_SECONDS
from gateway.scim.requests import DEFAULT_COUNT, MAX_RESULTS
from gateway.scim.routes import PREFIX, scim_response
from runtime.errors import ServiceError
from scim.schema import LIST_RESPONSE, RESOURCE_TYPES, SCHEMAS, Attribute, ResourceType, Schema

SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"

DOCUMENTATION_URI = "https://scimd.dev/#pointing-an-identity-provider-at-scimd"
# What is advertised is what is enforced: the same constants.
MAX_BULK_OPERATIONS = bulk_limits.MAX_OPERATIONS
MAX_BULK_PAYLOAD_BYTES = MAX_BODY_BYTES
MAX_FILTER_RESULTS = MAX_RESULTS

routes = web.RouteTableDef()


# ------------------------------------------------------------------ rendering

BEARER_SCHEME = {
    "type": "oauthbearertoken",
    "name": "OAuth Bearer Token",
    "description": "Authentication with the SCIM connection's bearer token (RFC 6750).",
    "specUri": "https://www.rfc-editor.org/info/rfc6750",
    "documentationUri": DOCUMENTATION_URI,
}
CLIENT_CREDENTIALS_SCHEME = {
    "type": "oauth2",
    "name": "OAuth 2.0 client credentials",
    "description": "An access token from the connection's /oauth2/token with grant_type=client_credentials, "
                   "the client authenticated by its secret (RFC 6749 §4.4).",
    "specUri": "https://www.rfc-editor.org/info/rfc6749",
    "documentationUri": DOCUMENTATION_URI,
}
ASSERTION_SCHEME = {
    "type": "oauth2",
    "name": "OAuth 2.0 JWT client assertion",
    "description": "An access token from the connection's /oauth2/token, the client authenticated by a JWT "
                   "its identity provider signs (RFC 7523), with no secret.",
    "specUri": "https://www.rfc-editor.org/info/rfc7523",
    "documentationUri": DOCUMENTATION_URI,
}
EVERY_SCHEME = ("bearer", "client_credentials", "assertion")
_SCHEMES = {"bearer": BEARER_SCHEME, "client_credentials": CLIENT_CREDENTIALS_SCHEME, "assertion": ASSERTION_SCHEME}


@cache
def service_provider_config(schemes: tuple[str, ...] = EVERY_SCHEME) -> dict[str, Any]:
    """RFC 7643 §5, without meta, listing the authentication schemes given."""
    return {
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "documentationUri": DOCUMENTATION_URI,
        "patch": {"supported": True},
        "bulk": {"supported": True, "maxOperations": MAX_BULK_OPERATIONS, "maxPayloadSize": MAX_BULK_PAYLOAD_BYTES},
        "filter": {"supported": True, "maxResults": MAX_FILTER_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        # RFC 9865 §4: both methods; index stays the default, as Okta and Entra page by index.
        "pagination": {
            "cursor": True,
            "index": True,
            "defaultPaginationMethod": "index",
            "defaultPageSize": DEFAULT_COUNT,
            "maxPageSize": MAX_RESULTS,
            "cursorTimeout": CURSOR_TIMEOUT_SECONDS,
        },
        "etag": {"supported": True},
        "authenticationSchemes": [{**_SCHEMES[name], "primary": n == 0} for n, name in enumerate(schemes)],
    }


def _schemes_of(connection: connection_pb2.Connection) -> tuple[str, ...]:
    accepted = (("bearer", connection.bearer_token_enabled), ("client_credentials", connection.HasField("oauth_client")),
                ("assertion", connection.HasField("assertion_trust")))
    return tuple(name for name, on in accepted if on)


@lru_cache(maxsize=8)
def resource_types(types: tuple[ResourceType, ...] = RESOURCE_TYPES) -> dict[str, dict[str, Any]]:
    """RFC 7643 §6, without meta, by id."""
    return {resource_type.name: _resource_type(resource_type) for resource_type in types}


def _resource_type(resource_type: ResourceType) -> dict[str, Any]:
    return {
        "schemas": [RESOURCE_TYPE],
        "id": resource_type.name,
        "name": resource_type.name,
        "endpoint": resource_type.endpoint,
        "description": resource_type.description,
        "schema": resource_type.schema.id,
        "schemaExtensions": [
            {"schema": extension.schema.id, "required": extension.required} for extension in resource_type.extensions
        ],
    }


@lru_cache(maxsize=8)
def schemas(extensions: tuple[Schema, ...] = ()) -> dict[str, dict[str, Any]]:
    """RFC 7643 §7, without meta, by id (the URN): the core schemas, then the vendor's extensions."""
    return {schema.id: _schema(schema) for schema in (*SCHEMAS, *extensions)}


async def _project_types(request: web.Request) -> tuple[ResourceType, ...]:
    registry = request.app[SCHEMA_REGISTRY]
    return tuple([await registry.resource_type(t.name) for t in RESOURCE_TYPES])


async def _project_schemas(request: web.Request) -> dict[str, dict[str, Any]]:
    return schemas(tuple(await request.app[SCHEMA_REGISTRY].extension_schemas()))


def _schema(schema: Schema) -> dict[str, Any]:
    return {
        "schemas": [SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": [_attribute(attribute) for attribute in schema.attributes],
    }


def _attribute(attribute: Attribute) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "name": attribute.name,
        "type": attribute.type,
        "multiValued": attribute.multi_valued,
        "description": attribute.description + (
            f" At most {attribute.max_values} values." if attribute.multi_valued and attribute.max_values else ""),
        "required": attribute.required,
        "caseExact": attribute.case_exact,
        "mutability": attribute.mutability,
        "returned": attribute.returned,
        "uniqueness": attribute.uniqueness,
    }
    if attribute.canonical_values:
        rendered["canonicalValues"] = list(attribute.canonical_values)
    if attribute.type == "reference" and attribute.reference_types:
        rendered["referenceTypes"] = list(attribute.reference_types)
    if attribute.type == "complex" and attribute.sub_attributes:
        rendered["subAttributes"] = [_attribute(sub) for sub in attribute.sub_attributes]
    return rendered


def _located(resource: dict[str, Any], resource_type: str, location: str) -> dict[str, Any]:
    return {**resource, "meta": {"resourceType": resource_type, "location": location}}


def _list_response(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": len(resources),
        "itemsPerPage": len(resources),
        "startIndex": 1,
        "Resources": resources,
    }


# ------------------------------------------------------------------- handlers

def _base(request: web.Request) -> str:
    if "filter" in request.query:
        raise ServiceError("PERMISSION_DENIED", "filter is not supported on the discovery endpoints (RFC 7644 §4)")
    return f"{request.app[SETTINGS].public_url}/scim/v2/{request.match_info['connection_id']}"


def _resource_type_resource(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    return _located(resource, "ResourceType", f"{base}/ResourceTypes/{resource['id']}")


def _schema_resource(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    return _located(resource, "Schema", f"{base}/Schemas/{resource['id']}")


@routes.get(PREFIX + "/ServiceProviderConfig")
@public
async def get_service_provider_config(request: web.Request) -> web.Response:
    """Public; to the connection's own client (its credentials sent along, as
    Okta and Entra do) it lists exactly the schemes the connection accepts."""
    base = _base(request)
    schemes = EVERY_SCHEME
    if request.headers.get("Authorization"):
        try:
            connection, _ = await authenticate_connection(request, request.app[BACKENDS], request.app[TOKEN_CACHE],
                                                          request.match_info["connection_id"])
            schemes = _schemes_of(connection) or EVERY_SCHEME
        except ServiceError:
            pass  # a stranger's or a wrong token: the general answer
    return scim_response(_located(service_provider_config(schemes), "ServiceProviderConfig",
                                  f"{base}/ServiceProviderConfig"))


@routes.get(PREFIX + "/ResourceTypes")
@public
async def list_resource_types(request: web.Request) -> web.Response:
    base = _base(request)
    types = resource_types(await _project_types(request))
    return scim_response(_list_response([_resource_type_resource(base, r) for r in types.values()]))


@routes.get(PREFIX + "/ResourceTypes/{name}")
@public
async def get_resource_type(request: web.Request) -> web.Response:
    base = _base(request)
    resource = _find(resource_types(await _project_types(request)), request.match_info["name"], "resource type")
    return scim_response(_resource_type_resource(base, resource))


@routes.get(PREFIX + "/Schemas")
@public
async def list_schemas(request: web.Request) -> web.Response:
    base = _base(request)
    return scim_response(_list_response([_schema_resource(base, s) for s in (await _project_schemas(request)).values()]))


@routes.get(PREFIX + "/Schemas/{urn}")
@public
async def get_schema(request: web.Request) -> web.Response:
    base = _base(request)
    resource = _find(await _project_schemas(request), request.match_info["urn"], "schema")
    return scim_response(_schema_resource(base, resource))


def _find(resources: dict[str, dict[str, Any]], wanted: str, kind: str) -> dict[str, Any]:
    """The resource whose id matches `wanted` without case (URNs and resource
    type names are compared case-insensitively), or a SCIM 404."""
    lowered = wanted.lower()
    for resource_id, resource in resources.items():
        if resource_id.lower() == lowered:
            return resource
    raise ServiceError("NOT_FOUND", f"no {kind} {wanted!r}")
