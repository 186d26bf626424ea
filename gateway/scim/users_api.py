"""SCIM /Users operations (RFC 7644 §3.3-§3.6), each one gRPC call to the
directory service. Shared by the HTTP handlers and /Bulk."""

from __future__ import annotations

from typing import Any

import orjson
from scimd.directory.v1 import directory_service_pb2 as pb
from scimd.directory.v1 import member_pb2

from gateway.calls import call
from gateway.scim.context import ScimContext, ScimResult
from gateway.scim.cursors import list_envelope, page_token_of
from gateway.scim.requests import ListQuery
from gateway.scim.users import etag_of, user_resource
from runtime.errors import ServiceError


def _registration(body: dict[str, Any]) -> member_pb2.ScimRegistration:
    # The directory applies the SCIM write rules (it is the authority for every
    # caller); the password alone is checked and dropped here, so it never leaves the gateway.
    attributes = {key: value for key, value in body.items() if key.lower() != "password"}
    if any(key.lower() == "password" and not isinstance(value, (str, type(None))) for key, value in body.items()):
        raise ServiceError("INVALID_VALUE", "password must be a string")
    return member_pb2.ScimRegistration(scim_attributes_json=orjson.dumps(attributes).decode())


async def _result(ctx: ScimContext, member: member_pb2.Member, status: int = 200) -> ScimResult:
    resource = user_resource(member, ctx.base_url, await ctx.schemas.resource_type("User"))
    return ScimResult(status, resource, etag_of(member), resource["meta"]["location"])


async def create(ctx: ScimContext, body: dict[str, Any]) -> ScimResult:
    response = await call(
        ctx.backends.directory.CreateMember(
            pb.CreateMemberRequest(scim_registration=_registration(body),
                                   reject_undeclared=ctx.connection.strict_attributes)
        )
    )
    return await _result(ctx, response.member, 201)


async def get(ctx: ScimContext, user_id: str) -> ScimResult:
    response = await call(
        ctx.backends.directory.GetMember(pb.GetMemberRequest(member_id=user_id, view=pb.MEMBER_VIEW_IDENTITY_PROVIDER))
    )
    return await _result(ctx, response.member)


async def replace(ctx: ScimContext, user_id: str, body: dict[str, Any], version: str = "") -> ScimResult:
    response = await call(
        ctx.backends.directory.UpdateMember(
            pb.UpdateMemberRequest(member_id=user_id, scim_registration=_registration(body), etag=version,
                                   reject_undeclared=ctx.connection.strict_attributes),
        )
    )
    return await _result(ctx, response.member)


async def patch(ctx: ScimContext, user_id: str, body: dict[str, Any], version: str = "") -> ScimResult:
    response = await call(
        ctx.backends.directory.PatchMember(
            pb.PatchMemberRequest(member_id=user_id, patch_json=orjson.dumps(body).decode(), etag=version,
                                  reject_undeclared=ctx.connection.strict_attributes),
        )
    )
    return await _result(ctx, response.member)


async def delete(ctx: ScimContext, user_id: str, version: str = "") -> ScimResult:
    await call(
        ctx.backends.directory.DeleteMember(
            pb.DeleteMemberRequest(member_id=user_id, etag=version)
        )
    )
    return ScimResult(204)


async def search(ctx: ScimContext, query: ListQuery) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ListResponse envelope and its resources (unprojected)."""
    request = pb.ListMembersRequest(
        filter=query.filter,
        order_by=query.sort_by,
        descending=query.descending,
        skip=query.start_index - 1 if query.cursor is None else 0,
        page_token=page_token_of(ctx, "User", query),
        page_size=query.count,
        total_size_only=query.count == 0,
        view=pb.MEMBER_VIEW_IDENTITY_PROVIDER,  # what the IdP wrote, held deprovisions included
    )
    response = await call(ctx.backends.directory.ListMembers(request))
    user_type = await ctx.schemas.resource_type("User")
    resources = [user_resource(member, ctx.base_url, user_type) for member in response.members]
    envelope = list_envelope(ctx, "User", query, response.total_size, len(resources), response.next_page_token)
    return envelope, resources
