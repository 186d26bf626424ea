"""The project's roles: what each allows (resource + actions)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scimd.rbac.v1 import rbac_service_pb2 as rbac_pb
from scimd.rbac.v1 import role_pb2

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS
from gateway.management.common import envelope, if_match_etag, limit_param, string_field
from runtime.errors import ServiceError
from runtime.timestamps import to_rfc3339

routes = web.RouteTableDef()


def role_json(role: role_pb2.Role) -> dict[str, Any]:
    return {
        "role_id": role.role_id,
        "description": role.description,
        "permissions": [{"resource_id": p.resource_id, "actions": list(p.actions)} for p in role.permissions],
        "created_at": to_rfc3339(role.create_time),
        "updated_at": to_rfc3339(role.update_time),
        "etag": role.etag,
    }


def _permissions(body: dict[str, Any]) -> list[role_pb2.Permission]:
    value = body.get("permissions")
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(p, dict)
        and isinstance(p.get("resource_id"), str)
        and isinstance(p.get("actions"), list)
        and all(isinstance(a, str) for a in p["actions"])
        for p in value
    ):
        raise ServiceError("INVALID_VALUE", "permissions must be a list of {resource_id, actions: [string]} objects")
    return [role_pb2.Permission(resource_id=p["resource_id"], actions=p["actions"]) for p in value]


@routes.post("/v1/rbac/roles")
async def create_role(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    role = role_pb2.Role(
        role_id=string_field(body, "role_id", required=True),
        description=string_field(body, "description"),
        permissions=_permissions(body),
    )
    response = await call(
        request.app[BACKENDS].rbac.CreateRole(rbac_pb.CreateRoleRequest(role=role))
    )
    return envelope(201, role=role_json(response.role))


@routes.get("/v1/rbac/roles")
async def list_roles(request: web.Request) -> web.Response:
    response = await call(
        request.app[BACKENDS].rbac.ListRoles(
            rbac_pb.ListRolesRequest(page_size=limit_param(request), page_token=request.query.get("cursor", "")),
        )
    )
    return envelope(200, roles=[role_json(r) for r in response.roles], next_cursor=response.next_page_token or None)


@routes.get("/v1/rbac/roles/{role_id}")
async def get_role(request: web.Request) -> web.Response:
    response = await call(
        request.app[BACKENDS].rbac.GetRole(
            rbac_pb.GetRoleRequest(role_id=request.match_info["role_id"])
        )
    )
    return envelope(200, role=role_json(response.role))


@routes.put("/v1/rbac/roles/{role_id}")
async def update_role(request: web.Request) -> web.Response:
    """Replaces description and permissions; If-Match: <etag> guards against lost updates."""
    body = await read_json_object(request)
    role = role_pb2.Role(
        role_id=request.match_info["role_id"],
        description=string_field(body, "description"),
        permissions=_permissions(body),
    )
    response = await call(
        request.app[BACKENDS].rbac.UpdateRole(
            rbac_pb.UpdateRoleRequest(role=role, etag=if_match_etag(request))
        )
    )
    return envelope(200, role=role_json(response.role))


@routes.delete("/v1/rbac/roles/{role_id}")
async def delete_role(request: web.Request) -> web.Response:
    """Members holding the role lose it (and are told through scim.member.update)."""
    await call(
        request.app[BACKENDS].rbac.DeleteRole(
            rbac_pb.DeleteRoleRequest(role_id=request.match_info["role_id"], etag=if_match_etag(request)),
        )
    )
    return envelope(200)
