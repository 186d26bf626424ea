"""SCIM /Groups operations, each backed by the directory's group methods.
Members are read (page by page) only when the response will show them."""

from __future__ import annotations

from typing import Any

import orjson
from scimd.directory.v1 import directory_service_pb2 as pb
from scimd.directory.v1 import group_pb2

from gateway.calls import call
from gateway.scim.context import ScimContext, ScimResult
from gateway.scim.cursors import list_envelope, page_token_of
from gateway.scim.groups import etag_of, extension_values_of, group_resource
from gateway.scim.requests import ListQuery
from runtime.errors import ServiceError
from scim.schema import check_schemas

MEMBER_PAGE = 10_000


def _display_name(body: dict[str, Any]) -> str:
    check_schemas(body)  # every Group body is read here first
    value = next((v for k, v in body.items() if k.lower() == "displayname"), None)
    if not isinstance(value, str) or not value.strip():
        raise ServiceError("INVALID_VALUE", "displayName is required and must be a non-empty string")
    return value


def _external_id(body: dict[str, Any]) -> str:
    value = next((v for k, v in body.items() if k.lower() == "externalid"), None)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ServiceError("INVALID_VALUE", "externalId must be a string")
    return value


def _member_ids(body: dict[str, Any]) -> list[str]:
    """The ids of `members` (RFC 7643 §4.2): an array of {value, $ref, type};
    like every multi-valued attribute, null, [] or {} means none, and a
    single object stands for one."""
    members = next((v for k, v in body.items() if k.lower() == "members"), None)
    if members is None or members in ("", {}):
        return []
    if isinstance(members, dict):
        members = [members]
    if not isinstance(members, list):
        raise ServiceError("INVALID_VALUE", "members must be an array")
    ids = []
    for member in members:
        fields = {k.lower(): v for k, v in member.items()} if isinstance(member, dict) else {}
        value = fields.get("value")
        if not isinstance(value, str) or not value:
            raise ServiceError("INVALID_VALUE", "each member needs a value (the user's id)")
        for name in ("$ref", "type", "display"):
            if fields.get(name) is not None and not isinstance(fields[name], str):
                raise ServiceError("INVALID_VALUE", f"members.{name} must be a string")
        ids.append(value)
    return ids


async def members_of(ctx: ScimContext, group_id: str) -> list[group_pb2.GroupMember]:
    members: list[group_pb2.GroupMember] = []
    token = ""
    while True:
        response = await call(ctx.backends.directory.ListGroupMembers(
            pb.ListGroupMembersRequest(group_id=group_id, page_size=MEMBER_PAGE, page_token=token),
        ))
        members += response.members
        token = response.next_page_token
        if not token:
            return members


async def _result(ctx: ScimContext, group: group_pb2.Group, with_members: bool, status: int = 200) -> ScimResult:
    members = await members_of(ctx, group.group_id) if with_members else None
    resource = group_resource(group, members, ctx.base_url, await ctx.schemas.resource_type("Group"))
    return ScimResult(status, resource, etag_of(group), resource["meta"]["location"])


async def create(ctx: ScimContext, body: dict[str, Any], with_members: bool = True) -> ScimResult:
    request = pb.CreateGroupRequest(
        group=group_pb2.Group(display_name=_display_name(body), external_id=_external_id(body),
                              scim_attributes_json=orjson.dumps(extension_values_of(body)).decode()),
        member_ids=_member_ids(body),
    )
    response = await call(ctx.backends.directory.CreateGroup(request))
    return await _result(ctx, response.group, with_members, 201)


async def get(ctx: ScimContext, group_id: str, with_members: bool = True) -> ScimResult:
    response = await call(ctx.backends.directory.GetGroup(pb.GetGroupRequest(group_id=group_id)))
    return await _result(ctx, response.group, with_members)


async def replace(ctx: ScimContext, group_id: str, body: dict[str, Any], version: str = "",
                  with_members: bool = True) -> ScimResult:
    request = pb.UpdateGroupRequest(
        group_id=group_id, display_name=_display_name(body), external_id=_external_id(body),
        member_ids=_member_ids(body), etag=version,
        scim_attributes_json=orjson.dumps(extension_values_of(body)).decode(),
    )
    response = await call(ctx.backends.directory.UpdateGroup(request))
    return await _result(ctx, response.group, with_members)


async def patch(ctx: ScimContext, group_id: str, body: dict[str, Any], version: str = "",
                with_members: bool = True) -> ScimResult:
    """RFC 7644 §3.5.2: 200 with the group, or 204 (allowed there) when the
    group is larger than the configured limit and its members would be shown."""
    request = pb.PatchGroupRequest(group_id=group_id, patch_json=orjson.dumps(body).decode(), etag=version)
    response = await call(ctx.backends.directory.PatchGroup(request))
    if with_members and response.group.member_count > ctx.settings.group_response_member_limit:
        return ScimResult(204, None, etag_of(response.group))
    return await _result(ctx, response.group, with_members)


async def delete(ctx: ScimContext, group_id: str, version: str = "", with_members: bool = True) -> ScimResult:
    await call(ctx.backends.directory.DeleteGroup(
        pb.DeleteGroupRequest(group_id=group_id, etag=version)))
    return ScimResult(204)


# Members a page of groups may list in all. A fuller page is cut short (RFC
# 7644 §3.4.2.4 lets a server return fewer than `count`; itemsPerPage says how
# many, and the client continues from there), so no list reads without bound.
LIST_MEMBER_BUDGET = 10_000


async def search(ctx: ScimContext, query: ListQuery, with_members: bool = True):
    request = pb.ListGroupsRequest(
        filter=query.filter, order_by=query.sort_by, descending=query.descending,
        skip=query.start_index - 1 if query.cursor is None else 0, page_token=page_token_of(ctx, "Group", query),
        page_size=query.count, total_size_only=query.count == 0,
        member_budget=LIST_MEMBER_BUDGET if with_members else 0,
    )
    response = await call(ctx.backends.directory.ListGroups(request))
    resources = [(await _result(ctx, group, with_members)).resource for group in response.groups]
    envelope = list_envelope(ctx, "Group", query, response.total_size, len(resources), response.next_page_token)
    return envelope, resources
