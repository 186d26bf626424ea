"""An organization's members (provisioned through SCIM), with their roles.

The IdP owns a member's attributes; through this API the vendor reads
members and assigns roles directly (`PUT … {"roles": [...]}`, Stytch's
Update Member), beside the roles the IdP's groups imply.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.directory.v1 import member_pb2
from scimd.rbac.v1 import member_roles_pb2
from scimd.rbac.v1 import rbac_service_pb2 as rbac_pb

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS
from gateway.management.common import envelope, limit_param, string_list_field
from runtime.errors import ServiceError
from runtime.shapes import member_json, roles_json

routes = web.RouteTableDef()

MEMBERS_PAGE_MAX = 1000


def member_with_roles(member: member_pb2.Member, roles: member_roles_pb2.MemberRoles) -> dict[str, Any]:
    shown = member_json(member)
    shown["roles"] = roles_json(roles)
    return shown


async def _member(request: web.Request, organization_id: str, member_id: str) -> dict[str, Any]:
    backends = request.app[BACKENDS]
    member, roles = await asyncio.gather(
        call(backends.directory.GetMember(
            directory_pb.GetMemberRequest(member_id=member_id)
        )),
        call(backends.rbac.GetMemberRoles(
            rbac_pb.GetMemberRolesRequest(organization_id=organization_id, member_id=member_id),
        )),
    )
    return member_with_roles(member.member, roles.member_roles)


@routes.get("/v1/b2b/organizations/{organization_id}/members/{member_id}")
async def get_member(request: web.Request) -> web.Response:
    member = await _member(request, request.match_info["organization_id"], request.match_info["member_id"])
    return envelope(200, member=member)


@routes.put("/v1/b2b/organizations/{organization_id}/members/{member_id}")
async def update_member(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    others = sorted(set(body) - {"roles"})
    if others:
        raise ServiceError(
            "MUTABILITY", f"only roles can be set here; the identity provider owns {', '.join(others)}"
        )
    role_ids = string_list_field(body, "roles")
    organization_id, member_id = request.match_info["organization_id"], request.match_info["member_id"]
    if role_ids is not None:
        await call(
            request.app[BACKENDS].rbac.ReplaceDirectRoleAssignments(
                rbac_pb.ReplaceDirectRoleAssignmentsRequest(
                    organization_id=organization_id, member_id=member_id, role_ids=role_ids
                ),
            )
        )
    return envelope(200, member=await _member(request, organization_id, member_id))


MAX_CUSTOM_ATTRIBUTE_FILTERS = 10


def custom_attribute_filters(request: web.Request) -> dict[str, str]:
    """`?custom_attribute=department:finance` (repeatable): field → value, all to hold."""
    given = request.query.getall("custom_attribute", [])
    if len(given) > MAX_CUSTOM_ATTRIBUTE_FILTERS:
        raise ServiceError("INVALID_VALUE", f"at most {MAX_CUSTOM_ATTRIBUTE_FILTERS} custom_attribute filters")
    filters = {}
    for text in given:
        key, colon, value = text.partition(":")
        if not colon or not key:
            raise ServiceError("INVALID_VALUE", "custom_attribute is <field>:<value>, e.g. department:finance")
        filters[key] = value
    return filters


@routes.get("/v1/b2b/organizations/{organization_id}/members")
async def list_members(request: web.Request) -> web.Response:
    organization_id = request.match_info["organization_id"]
    limit = min(limit_param(request), MEMBERS_PAGE_MAX)
    backends = request.app[BACKENDS]
    listed = await call(
        backends.directory.ListMembers(
            directory_pb.ListMembersRequest(page_size=limit, page_token=request.query.get("cursor", ""),
                                            custom_attributes=custom_attribute_filters(request)),
        )
    )
    roles = await call(
        backends.rbac.BatchGetMemberRoles(
            rbac_pb.BatchGetMemberRolesRequest(
                organization_id=organization_id, member_ids=[m.member_id for m in listed.members]
            ),
        )
    )
    return envelope(
        200,
        members=[member_with_roles(m, r) for m, r in zip(listed.members, roles.member_roles)],
        next_cursor=listed.next_page_token or None,
    )
