"""SCIM HTTP handlers at /scim/v2/{connection_id}: authenticate, parse, call
the resource's operation, project and frame. The rules live in scim/ and the
operations in users_api.py and groups_api.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from aiohttp import web

from gateway.errors import SCIM_CONTENT_TYPE
from gateway.json import json_response, read_json_object
from gateway.keys import (
    AUTHENTICATED,
    BACKENDS,
    CONNECTION_SLOTS,
    RATE_LIMITER,
    SCHEMA_REGISTRY,
    SETTINGS,
    SLOT_HELD,
    WRITE_PRESSURE,
)
from gateway.rate_limit import retry_after_seconds
from gateway.scim.context import ScimContext, ScimResult
from gateway.scim.cursors import open_search_cursor, seal_search_cursor
from gateway.scim.requests import ListQuery, list_query, search_request, version_of
from gateway.scim.resources import RESOURCES, Resource
from gateway.token_cache import Authenticated
from runtime.errors import ServiceError
from scim.projection import hides_by_default, parse_attribute_list, project
from scim.schema import LIST_RESPONSE, ResourceType

routes = web.RouteTableDef()
PREFIX = "/scim/v2/{connection_id}"


def scim_response(resource: dict | None, *, status: int = 200, etag: str = "", location: str = "") -> web.Response:
    response = (
        json_response(resource, status=status, content_type=SCIM_CONTENT_TYPE)
        if resource is not None
        else web.Response(status=status)
    )
    if etag:
        response.headers["ETag"] = etag
    if location:
        response.headers["Location"] = location
    return response


def authenticated(request: web.Request) -> Authenticated:
    """The connection whose bearer token the request carries (authenticated by
    gateway.auth's middleware before the handler ran)."""
    return request[AUTHENTICATED]


def charged_context(request: web.Request, authenticated: Authenticated, cost: int = 1) -> ScimContext:
    """The connection's context, once its rate limit allows `cost` more requests."""
    connection, _ = authenticated
    wait = request.app[RATE_LIMITER].take(connection.connection_id, connection.rate_limit_per_second, cost)
    if wait:
        raise ServiceError(
            "RATE_LIMITED", "too many requests for this connection; retry after the given delay",
            retry_after_seconds=retry_after_seconds(wait),
        )
    # Fairness: one connection's requests in flight are bounded, the slot given back when answered (middleware).
    if not request.app[CONNECTION_SLOTS].try_take(connection.connection_id):
        raise ServiceError("RATE_LIMITED", "too many requests in flight for this connection; retry",
                           retry_after_seconds=1)
    request[SLOT_HELD] = connection.connection_id
    return ScimContext(request.app[BACKENDS], request.app[SETTINGS], connection, request.app[SCHEMA_REGISTRY])


def scim_context(request: web.Request) -> ScimContext:
    """The authenticated connection's context, charged one request."""
    return charged_context(request, authenticated(request))


async def write_context(request: web.Request, cost: int = 1) -> ScimContext:
    """The context of a request that writes `cost` changes, once webhook
    delivery is not too far behind to take them (gateway.write_pressure)."""
    ctx = charged_context(request, authenticated(request), cost)
    await request.app[WRITE_PRESSURE].admit(cost)
    return ctx


def _projection(resource_type: ResourceType, attributes: str | None,
                excluded: str | None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """RFC 7644 §3.9: attributes / excludedAttributes on every response that
    carries resources, decided once a response however many it carries."""
    if not attributes and not excluded and not hides_by_default(resource_type):
        return lambda resource: resource  # rendered resources hold only default-returned attributes already
    selected, left_out = parse_attribute_list(attributes), parse_attribute_list(excluded)
    return lambda resource: project(resource, resource_type, attributes=selected, excluded=left_out)


async def _respond(request: web.Request, ctx: ScimContext, res: Resource, result: ScimResult) -> web.Response:
    query = request.query
    resource_type = await ctx.schemas.resource_type(res.resource_type.name)
    resource = (
        _projection(resource_type, query.get("attributes"), query.get("excludedAttributes"))(result.resource)
        if result.resource is not None
        else None
    )
    location = result.location if result.status == 201 else ""
    return scim_response(resource, status=result.status, etag=result.etag, location=location)


def _options(request: web.Request, res: Resource) -> dict[str, Any]:
    return res.options(request.query.get("attributes"), request.query.get("excludedAttributes"))


async def _list(ctx: ScimContext, res: Resource, query: ListQuery) -> dict[str, Any]:
    envelope, resources = await res.api.search(
        ctx, query, **res.options(query.attributes, query.excluded_attributes)
    )
    resource_type = await ctx.schemas.resource_type(res.resource_type.name)
    projected = _projection(resource_type, query.attributes, query.excluded_attributes)
    envelope["Resources"] = [projected(r) for r in resources]
    return envelope


def _register(res: Resource) -> None:
    collection, item = f"{PREFIX}/{res.endpoint}", f"{PREFIX}/{res.endpoint}/{{resource_id}}"

    @routes.post(collection)
    async def create(request: web.Request) -> web.Response:
        ctx = await write_context(request)
        created = await res.api.create(ctx, await read_json_object(request), **_options(request, res))
        return await _respond(request, ctx, res, created)

    @routes.get(item)
    async def get(request: web.Request) -> web.Response:
        ctx = scim_context(request)
        result = await res.api.get(ctx, request.match_info["resource_id"], **_options(request, res))
        wanted = version_of(request.headers.get("If-None-Match"))
        if wanted and wanted == version_of(result.etag):
            return web.Response(status=304, headers={"ETag": result.etag})
        return await _respond(request, ctx, res, result)

    @routes.put(item)
    async def replace(request: web.Request) -> web.Response:
        ctx = await write_context(request)
        body = await read_json_object(request)
        version = version_of(request.headers.get("If-Match"))
        return await _respond(request, ctx, res, await res.api.replace(
            ctx, request.match_info["resource_id"], body, version, **_options(request, res)))

    @routes.patch(item)
    async def patch(request: web.Request) -> web.Response:
        ctx = await write_context(request)
        body = await read_json_object(request)
        version = version_of(request.headers.get("If-Match"))
        return await _respond(request, ctx, res, await res.api.patch(
            ctx, request.match_info["resource_id"], body, version, **_options(request, res)))

    @routes.delete(item)
    async def delete(request: web.Request) -> web.Response:
        ctx = await write_context(request)
        version = version_of(request.headers.get("If-Match"))
        deleted = await res.api.delete(ctx, request.match_info["resource_id"], version)
        return await _respond(request, ctx, res, deleted)

    @routes.get(collection)
    async def list_resources(request: web.Request) -> web.Response:
        ctx = scim_context(request)
        return scim_response(await _list(ctx, res, list_query(request.query)))

    @routes.post(f"{collection}/.search")
    async def search(request: web.Request) -> web.Response:
        ctx = scim_context(request)
        return scim_response(await _list(ctx, res, search_request(await read_json_object(request))))


for _resource in RESOURCES.values():
    _register(_resource)


@routes.post(PREFIX + "/.search")
async def search_root(request: web.Request) -> web.Response:
    """RFC 7644 §3.4.3: a search over every resource type, Users then Groups,
    paged as one list. A filter naming attributes a type lacks matches none of it."""
    ctx = scim_context(request)
    query = search_request(await read_json_object(request))
    totals: dict[str, int] = {}
    filter_errors: list[ServiceError] = []
    for name, res in RESOURCES.items():
        try:
            envelope, _ = await res.api.search(ctx, _window(query, 1, 0), **res.options(None, None, quiet=True))
            totals[name] = envelope["totalResults"]
        except ServiceError as error:
            if error.reason != "INVALID_FILTER":
                raise
            filter_errors.append(error)
            totals[name] = 0
    if len(filter_errors) == len(RESOURCES):
        raise filter_errors[0]
    if query.cursor is not None:
        return scim_response(await _search_root_by_cursor(ctx, query, totals))
    resources: list[dict[str, Any]] = []
    offset, remaining = query.start_index - 1, query.count
    for name, res in RESOURCES.items():
        if remaining > 0 and offset < totals[name]:
            page = await _list(ctx, res, _window(query, offset + 1, remaining))
            resources += page["Resources"]
            remaining -= len(page["Resources"])
        offset = max(0, offset - totals[name])
    return scim_response({
        "schemas": [LIST_RESPONSE],
        "totalResults": sum(totals.values()),
        "itemsPerPage": len(resources),
        "startIndex": query.start_index,
        "Resources": resources,
    })


async def _search_root_by_cursor(ctx: ScimContext, query: ListQuery, totals: dict[str, int]) -> dict[str, Any]:
    """A page of a root search walked by cursor (RFC 9865): the Users, then the
    Groups, each type by its own cursor; a page holds one type only."""
    phases = list(RESOURCES)
    phase, inner = open_search_cursor(ctx, query, phases)
    following = [name for name in phases[phases.index(phase):] if totals[name]]
    envelope: dict[str, Any] = {"schemas": [LIST_RESPONSE], "totalResults": sum(totals.values()),
                                "itemsPerPage": 0, "Resources": []}
    if not following:
        return envelope
    if following[0] != phase:
        phase, inner = following[0], ""
    page = await _list(ctx, RESOURCES[phase], replace(query, cursor=inner))
    envelope.update(itemsPerPage=len(page["Resources"]), Resources=page["Resources"])
    if "nextCursor" in page:
        envelope["nextCursor"] = seal_search_cursor(ctx, query, phase, page["nextCursor"])
    elif len(following) > 1:
        envelope["nextCursor"] = seal_search_cursor(ctx, query, following[1], "")
    return envelope


def _window(query: ListQuery, start_index: int, count: int) -> ListQuery:
    return ListQuery(query.filter, query.sort_by, query.descending, start_index, count,
                     query.attributes, query.excluded_attributes)
