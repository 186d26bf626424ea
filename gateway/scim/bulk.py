"""SCIM /Bulk (RFC 7644 §3.7): many operations in one request, with bulkId
references between them, failOnErrors, and the advertised limits enforced."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from gateway.errors import SCIM_ERROR_SCHEMA
from gateway.json import read_json_object
from gateway.keys import WRITE_PRESSURE
from gateway.scim.context import ScimContext, ScimResult
from gateway.scim.resources import RESOURCES
from gateway.scim.routes import PREFIX, authenticated, charged_context, scim_response
from runtime.errors import ServiceError
from scim.errors import ScimError
from scim.schema import BULK_REQUEST, BULK_RESPONSE, check_schemas

routes = web.RouteTableDef()

MAX_OPERATIONS = 1000
_BULK_ID = re.compile(r"^bulkId:(.+)$")
# An operation's attributes (RFC 7644 §3.7), read whatever their case.
_OPERATION_ATTRIBUTES = ("method", "bulkId", "version", "path", "data")



class _Unresolved(Exception):
    """The operation refers to a bulkId not created yet."""


def _resolve(value: Any, created: dict[str, str]) -> Any:
    """`value` with every "bulkId:x" string replaced by the id created for x."""
    if isinstance(value, str):
        match = _BULK_ID.match(value)
        if match is None:
            return value
        if match.group(1) not in created:
            raise _Unresolved(match.group(1))
        return created[match.group(1)]
    if isinstance(value, list):
        return [_resolve(item, created) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, created) for key, item in value.items()}
    return value


def _error_entry(error: ServiceError) -> dict[str, Any]:
    kind = error.kind
    response = {"schemas": [SCIM_ERROR_SCHEMA], "status": str(kind.http_status), "detail": error.message}
    if kind.scim_type:
        response["scimType"] = kind.scim_type
    return {"status": str(kind.http_status), "response": response}


async def _execute(ctx: ScimContext, operation: dict[str, Any], created: dict[str, str]) -> ScimResult:
    method = str(operation.get("method", "")).upper()
    path = operation.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ServiceError("INVALID_VALUE", "each operation needs a path such as /Users or /Users/{id}")
    endpoint, _, resource_id = path.strip("/").partition("/")
    resource_id = _resolve(resource_id, created)
    resource = RESOURCES.get(endpoint)
    if resource is None or "/" in resource_id:
        raise ServiceError("INVALID_PATH", f"unsupported path {path!r}")
    api, options = resource.api, resource.options(None, None, quiet=True)
    data = _resolve(operation.get("data"), created)
    version = operation.get("version")
    if version is not None and not isinstance(version, str):
        raise ServiceError("INVALID_SYNTAX", "version must be a string (an ETag)")
    version = (version or "").removeprefix("W/").strip('"')
    if method == "POST" and not resource_id:
        if not isinstance(data, dict):
            raise ServiceError("INVALID_SYNTAX", "POST needs data")
        return await api.create(ctx, data, **options)
    if not resource_id:
        raise ServiceError("INVALID_PATH", f"{method} needs a resource path such as /{endpoint}/{{id}}")
    if method == "PUT" and isinstance(data, dict):
        return await api.replace(ctx, resource_id, data, version, **options)
    if method == "PATCH" and isinstance(data, dict):
        return await api.patch(ctx, resource_id, data, version, **options)
    if method == "DELETE":
        return await api.delete(ctx, resource_id, version)
    raise ServiceError("INVALID_SYNTAX", f"unsupported operation {method} {path}")


def _attribute(body: dict[str, Any], name: str) -> Any:
    """A top-level attribute, whatever its case (SCIM attribute names are
    case-insensitive); two spellings of one name are refused, not merged."""
    found = [value for key, value in body.items() if key.lower() == name.lower()]
    if len(found) > 1:
        raise ServiceError("INVALID_SYNTAX", f"{name} is given more than once")
    return found[0] if found else None


def bulk_request(body: dict[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
    """The operations to execute and failOnErrors, validated."""
    _attribute(body, "schemas")  # given once
    check_schemas(body, BULK_REQUEST)
    operations = _attribute(body, "Operations")
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        raise ServiceError("INVALID_SYNTAX", "Operations must be an array of objects")
    if len(operations) > MAX_OPERATIONS:
        raise ServiceError("PAYLOAD_TOO_LARGE", f"at most {MAX_OPERATIONS} operations per request")
    operations = [{name: _attribute(op, name) for name in _OPERATION_ATTRIBUTES} for op in operations]
    if any(not isinstance(op.get("bulkId"), (str, type(None))) for op in operations):
        raise ServiceError("INVALID_VALUE", "bulkId must be a string")
    fail_on_errors = _attribute(body, "failOnErrors")
    if fail_on_errors is not None and (isinstance(fail_on_errors, bool) or not isinstance(fail_on_errors, int)
                                       or fail_on_errors < 1):
        raise ServiceError("INVALID_VALUE", "failOnErrors must be a positive integer")
    return operations, fail_on_errors


async def run_bulk(ctx: ScimContext, operations: list[dict[str, Any]], fail_on_errors: int | None) -> dict[str, Any]:
    created: dict[str, str] = {}
    results: dict[int, dict[str, Any]] = {}
    errors = 0
    pending = list(enumerate(operations))
    # Operations are applied in order; one that refers to a later bulkId waits
    # for it (RFC 7644 §3.7.2), and what never resolves is an error.
    while pending and (fail_on_errors is None or errors < fail_on_errors):
        waiting = []
        for index, operation in pending:
            if fail_on_errors is not None and errors >= fail_on_errors:
                break
            entry: dict[str, Any] = {"method": str(operation.get("method", "")).upper()}
            bulk_id = operation.get("bulkId")
            if bulk_id is not None:
                entry["bulkId"] = bulk_id
            try:
                result = await _execute(ctx, operation, created)
            except _Unresolved:
                waiting.append((index, operation))
                continue
            except (ServiceError, ScimError) as error:
                errors += 1
                entry.update(_error_entry(error if isinstance(error, ServiceError) else ServiceError.from_scim(error)))
            else:
                if entry["method"] == "POST" and isinstance(bulk_id, str) and result.resource is not None:
                    created[bulk_id] = result.resource["id"]
                entry["status"] = str(result.status)
                if result.location:
                    entry["location"] = result.location
                if result.etag:
                    entry["version"] = result.etag
            results[index] = entry
        if len(waiting) == len(pending):
            for index, operation in waiting:
                errors += 1
                entry = {"method": str(operation.get("method", "")).upper(), **_error_entry(
                    ServiceError("INVALID_VALUE", "the operation refers to a bulkId that no operation created"))}
                if operation.get("bulkId") is not None:
                    entry["bulkId"] = operation["bulkId"]
                results[index] = entry
            break
        pending = waiting
    return {"schemas": [BULK_RESPONSE], "Operations": [results[i] for i in sorted(results)]}


@routes.post(PREFIX + "/Bulk")
async def bulk(request: web.Request) -> web.Response:
    connection = authenticated(request)  # by the middleware, before a byte of the body was read
    operations, fail_on_errors = bulk_request(await read_json_object(request))
    # Each operation executed counts against the connection's rate limit: exactly those read here.
    ctx = charged_context(request, connection, cost=max(1, len(operations)))
    await request.app[WRITE_PRESSURE].admit(max(1, len(operations)))
    return scim_response(await run_bulk(ctx, operations, fail_on_errors))
