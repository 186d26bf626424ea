"""SCIM HTTP handlers at /scim/v2/{connection_id}: authenticate, parse, call
the operation, project and frame. The rules live in scim/ and the operations
in users_api.py."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.auth import authenticate_connection
from gateway.errors import SCIM_CONTENT_TYPE
from gateway.json import json_response, read_json_object
from gateway.keys import BACKENDS, SETTINGS, TOKEN_CACHE
from gateway.scim import users_api
from gateway.scim.context import ScimContext, ScimResult
from gateway.scim.requests import list_query, version_of
from scim.projection import parse_attribute_list, project
from scim.schema import USER

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


async def scim_context(request: web.Request) -> ScimContext:
    backends = request.app[BACKENDS]
    connection = await authenticate_connection(
        request, backends, request.app[TOKEN_CACHE], request.match_info["connection_id"]
    )
    return ScimContext(backends, request.app[SETTINGS], connection)


def _projected(resource: dict[str, Any], attributes: str | None, excluded: str | None) -> dict[str, Any]:
    """RFC 7644 §3.9: attributes / excludedAttributes on every response that carries a resource."""
    if not attributes and not excluded:
        return resource  # rendered resources hold only default-returned attributes already
    return project(resource, USER, attributes=parse_attribute_list(attributes), excluded=parse_attribute_list(excluded))


def _respond(request: web.Request, result: ScimResult) -> web.Response:
    query = request.query
    resource = (
        _projected(result.resource, query.get("attributes"), query.get("excludedAttributes"))
        if result.resource is not None
        else None
    )
    location = result.location if result.status == 201 else ""
    return scim_response(resource, status=result.status, etag=result.etag, location=location)


@routes.post(PREFIX + "/Users")
async def create_user(request: web.Request) -> web.Response:
    ctx = await scim_context(request)
    return _respond(request, await users_api.create(ctx, await read_json_object(request)))


@routes.get(PREFIX + "/Users/{user_id}")
async def get_user(request: web.Request) -> web.Response:
    ctx = await scim_context(request)
    result = await users_api.get(ctx, request.match_info["user_id"])
    wanted = version_of(request.headers.get("If-None-Match"))
    if wanted and wanted == version_of(result.etag):
        return web.Response(status=304, headers={"ETag": result.etag})
    return _respond(request, result)


@routes.put(PREFIX + "/Users/{user_id}")
async def replace_user(request: web.Request) -> web.Response:
    ctx = await scim_context(request)
    body = await read_json_object(request)
    version = version_of(request.headers.get("If-Match"))
    return _respond(request, await users_api.replace(ctx, request.match_info["user_id"], body, version))


@routes.patch(PREFIX + "/Users/{user_id}")
async def patch_user(request: web.Request) -> web.Response:
    ctx = await scim_context(request)
    body = await read_json_object(request)
    version = version_of(request.headers.get("If-Match"))
    return _respond(request, await users_api.patch(ctx, request.match_info["user_id"], body, version))


@routes.delete(PREFIX + "/Users/{user_id}")
async def delete_user(request: web.Request) -> web.Response:
    ctx = await scim_context(request)
    version = version_of(request.headers.get("If-Match"))
    return _respond(request, await users_api.delete(ctx, request.match_info["user_id"], version))


async def _list(request: web.Request, source) -> web.Response:
    ctx = await scim_context(request)
    query = list_query(source)
    envelope, resources = await users_api.search(ctx, query)
    envelope["Resources"] = [_projected(r, query.attributes, query.excluded_attributes) for r in resources]
    return scim_response(envelope)


@routes.get(PREFIX + "/Users")
async def list_users(request: web.Request) -> web.Response:
    return await _list(request, request.query)


@routes.post(PREFIX + "/Users/.search")
async def search_users(request: web.Request) -> web.Response:
    return await _list(request, await read_json_object(request))


@routes.post(PREFIX + "/.search")
async def search_root(request: web.Request) -> web.Response:
    # Users are the only resource type with a search yet; Groups join them.
    return await _list(request, await read_json_object(request))
