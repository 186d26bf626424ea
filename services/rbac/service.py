"""The RbacService RPCs."""

from __future__ import annotations

import re

import asyncpg
import grpc
from scimd.rbac.v1 import rbac_service_pb2 as pb
from scimd.rbac.v1 import rbac_service_pb2_grpc as pb_grpc
from scimd.rbac.v1 import role_pb2

from services.common.errors import ServiceError
from services.common.paging import decode_page_token, encode_page_token, page_size
from services.common.timestamps import to_timestamp
from services.rbac import repository

_ROLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


def role_from_row(row: asyncpg.Record) -> role_pb2.Role:
    return role_pb2.Role(
        role_id=row["role_id"],
        description=row["description"],
        permissions=[role_pb2.Permission(**p) for p in row["permissions"]],
        create_time=to_timestamp(row["created_at"]),
        update_time=to_timestamp(row["updated_at"]),
        etag=str(row["version"]),
    )


class RbacServicer(pb_grpc.RbacServiceServicer):
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def CreateRole(self, request: pb.CreateRoleRequest, context: grpc.aio.ServicerContext):
        role = request.role
        if not _ROLE_ID.match(role.role_id):
            raise ServiceError("INVALID_VALUE", "role_id must be 1-128 letters, digits, '_', '.', ':' or '-'")
        permissions = []
        for permission in role.permissions:
            if not permission.resource_id or not permission.actions:
                raise ServiceError("INVALID_VALUE", "each permission needs a resource_id and at least one action")
            permissions.append({"resource_id": permission.resource_id, "actions": list(permission.actions)})
        try:
            row = await repository.insert_role(self._pool, role.role_id, role.description, permissions)
        except repository.RoleExists:
            raise ServiceError("UNIQUENESS", f"role {role.role_id!r} already exists") from None
        return pb.CreateRoleResponse(role=role_from_row(row))

    async def GetRole(self, request: pb.GetRoleRequest, context: grpc.aio.ServicerContext):
        row = await repository.get_role(self._pool, request.role_id)
        if row is None:
            raise ServiceError("NOT_FOUND", f"role {request.role_id!r} not found")
        return pb.GetRoleResponse(role=role_from_row(row))

    async def ListRoles(self, request: pb.ListRolesRequest, context: grpc.aio.ServicerContext):
        limit = page_size(request.page_size)
        key = decode_page_token(request.page_token, 1)
        rows = await repository.list_roles(self._pool, limit + 1, str(key[0]) if key else "")
        page, more = rows[:limit], len(rows) > limit
        return pb.ListRolesResponse(
            roles=[role_from_row(r) for r in page],
            next_page_token=encode_page_token([page[-1]["role_id"]]) if more else "",
        )

    async def DeleteRole(self, request: pb.DeleteRoleRequest, context: grpc.aio.ServicerContext):
        version = None
        if request.etag:
            if not request.etag.isdigit():
                raise ServiceError("ETAG_MISMATCH", "etag does not match the current role")
            version = int(request.etag)
        outcome = await repository.delete_role(self._pool, request.role_id, version)
        if outcome == "missing":
            raise ServiceError("NOT_FOUND", f"role {request.role_id!r} not found")
        if outcome == "stale":
            raise ServiceError("ETAG_MISMATCH", "etag does not match the current role")
        return pb.DeleteRoleResponse()
