"""The RbacService RPCs."""

from __future__ import annotations

import re

import asyncpg
import grpc
from scimd.rbac.v1 import member_roles_pb2, role_pb2
from scimd.rbac.v1 import rbac_service_pb2 as pb
from scimd.rbac.v1 import rbac_service_pb2_grpc as pb_grpc

from runtime.errors import ServiceError
from runtime.paging import decode_page_token, encode_page_token, page_size
from runtime.tenant_scope import TenantPool, bind_for_transaction
from runtime.timestamps import to_timestamp
from services.rbac import repository
from services.rbac.connection_assignments import GROUPS, ConnectionAssignments, proposed
from services.rbac.directory_reader import DirectoryReader
from services.rbac.propagation import RolePropagator
from services.rbac.resolution import allows, roles_to_proto
from services.rbac.role_checks import require_existing_roles

_ROLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
BATCH_GET_MAX = 1000


def role_from_row(row: asyncpg.Record) -> role_pb2.Role:
    return role_pb2.Role(
        role_id=row["role_id"],
        description=row["description"],
        permissions=[role_pb2.Permission(**p) for p in row["permissions"]],
        create_time=to_timestamp(row["created_at"]),
        update_time=to_timestamp(row["updated_at"]),
        etag=str(row["version"]),
    )


def _permissions(role: role_pb2.Role) -> list[dict]:
    permissions = []
    for permission in role.permissions:
        if not permission.resource_id or not permission.actions or not all(permission.actions):
            raise ServiceError("INVALID_VALUE", "each permission needs a resource_id and at least one action")
        permissions.append({"resource_id": permission.resource_id, "actions": sorted(set(permission.actions))})
    return permissions


def _version(etag: str) -> int | None:
    if not etag:
        return None
    if not etag.isdigit():
        raise ServiceError("ETAG_MISMATCH", "etag does not match the current role")
    return int(etag)


def _require(**fields: str) -> None:
    for name, value in fields.items():
        if not value:
            raise ServiceError("INVALID_VALUE", f"{name} is required")


class RbacServicer(pb_grpc.RbacServiceServicer):
    def __init__(self, pool: TenantPool, directory: DirectoryReader, propagator: RolePropagator):
        self._pool = pool
        self._directory = directory
        self._propagator = propagator
        self._assignments = ConnectionAssignments(pool, directory, propagator)

    async def CreateRole(self, request: pb.CreateRoleRequest, context: grpc.aio.ServicerContext):
        role = request.role
        if not _ROLE_ID.match(role.role_id):
            raise ServiceError("INVALID_VALUE", "role_id must be 1-128 letters, digits, '_', '.', ':' or '-'")
        permissions = _permissions(role)
        try:
            row = await repository.insert_role(self._pool.shared, role.role_id, role.description, permissions)
        except repository.RoleExists:
            raise ServiceError("UNIQUENESS", f"role {role.role_id!r} already exists") from None
        return pb.CreateRoleResponse(role=role_from_row(row))

    async def GetRole(self, request: pb.GetRoleRequest, context: grpc.aio.ServicerContext):
        row = await repository.get_role(self._pool.shared, request.role_id)
        if row is None:
            raise ServiceError("NOT_FOUND", f"role {request.role_id!r} not found")
        return pb.GetRoleResponse(role=role_from_row(row))

    async def ListRoles(self, request: pb.ListRolesRequest, context: grpc.aio.ServicerContext):
        limit = page_size(request.page_size)
        key = decode_page_token(request.page_token, 1)
        rows = await repository.list_roles(self._pool.shared, limit + 1, str(key[0]) if key else "")
        page, more = rows[:limit], len(rows) > limit
        return pb.ListRolesResponse(
            roles=[role_from_row(r) for r in page],
            next_page_token=encode_page_token([page[-1]["role_id"]]) if more else "",
        )

    async def UpdateRole(self, request: pb.UpdateRoleRequest, context: grpc.aio.ServicerContext):
        role = request.role
        outcome, row = await repository.update_role(
            self._pool.shared, role.role_id, role.description, _permissions(role), _version(request.etag)
        )
        if outcome == "missing":
            raise ServiceError("NOT_FOUND", f"role {role.role_id!r} not found")
        if outcome == "stale":
            raise ServiceError("ETAG_MISMATCH", "etag does not match the current role")
        return pb.UpdateRoleResponse(role=role_from_row(row))

    async def DeleteRole(self, request: pb.DeleteRoleRequest, context: grpc.aio.ServicerContext):
        # The role, and every member's hold of it, go in one transaction. With
        # the roles lock held exclusively no recomputation is in flight, so the
        # holders found are all of them.
        async with self._pool.shared.acquire() as conn, conn.transaction():
            await repository.lock_roles_exclusively(conn)
            organizations = await repository.organizations_holding_role(conn, request.role_id)
            outcome = await repository.delete_role(conn, request.role_id, _version(request.etag))
            if outcome == "missing":
                raise ServiceError("NOT_FOUND", f"role {request.role_id!r} not found")
            if outcome == "stale":
                raise ServiceError("ETAG_MISMATCH", "etag does not match the current role")
            for organization_id in organizations:
                await bind_for_transaction(conn, organization_id)
                holders = await repository.holders_of_role(conn, organization_id, request.role_id)
                await repository.lock_organization(conn, organization_id)
                await self._propagator.recompute(conn, organization_id, holders, source="API")
        return pb.DeleteRoleResponse()

    async def ListGroupRoleAssignments(self, request: pb.ListGroupRoleAssignmentsRequest, context):
        _require(organization_id=request.organization_id, connection_id=request.connection_id)
        assignments = await self._assignments.get(request.organization_id, request.connection_id)
        return pb.ListGroupRoleAssignmentsResponse(assignments=assignments.group_assignments)

    async def ReplaceGroupRoleAssignments(self, request: pb.ReplaceGroupRoleAssignmentsRequest, context):
        _require(organization_id=request.organization_id, connection_id=request.connection_id)
        wanted = proposed(member_roles_pb2.ConnectionRoleAssignments(group_assignments=request.assignments), [GROUPS])
        assignments, changes = await self._assignments.update(
            request.organization_id, request.connection_id, wanted, validate_only=request.validate_only)
        return pb.ReplaceGroupRoleAssignmentsResponse(assignments=assignments.group_assignments, changes=changes)

    async def GetConnectionRoleAssignments(self, request: pb.GetConnectionRoleAssignmentsRequest, context):
        _require(organization_id=request.organization_id, connection_id=request.connection_id)
        assignments = await self._assignments.get(request.organization_id, request.connection_id)
        return pb.GetConnectionRoleAssignmentsResponse(assignments=assignments)

    async def UpdateConnectionRoleAssignments(self, request: pb.UpdateConnectionRoleAssignmentsRequest, context):
        given = request.assignments
        _require(organization_id=given.organization_id, connection_id=given.connection_id)
        wanted = proposed(given, request.update_mask.paths)
        assignments, changes = await self._assignments.update(
            given.organization_id, given.connection_id, wanted, validate_only=request.validate_only)
        return pb.UpdateConnectionRoleAssignmentsResponse(assignments=assignments, changes=changes)

    async def GetMemberRoles(self, request: pb.GetMemberRolesRequest, context):
        _require(organization_id=request.organization_id, member_id=request.member_id)
        roles = await repository.member_roles(self._pool.of(request.organization_id), request.organization_id, request.member_id)
        return pb.GetMemberRolesResponse(member_roles=roles_to_proto(request.organization_id, request.member_id, roles))

    async def BatchGetMemberRoles(self, request: pb.BatchGetMemberRolesRequest, context):
        _require(organization_id=request.organization_id)
        if len(request.member_ids) > BATCH_GET_MAX:
            raise ServiceError("INVALID_VALUE", f"at most {BATCH_GET_MAX} member ids per call")
        stored = await repository.stored_roles(self._pool.of(request.organization_id), request.organization_id, list(request.member_ids))
        return pb.BatchGetMemberRolesResponse(member_roles=[
            roles_to_proto(request.organization_id, member_id, stored.get(member_id, []))
            for member_id in request.member_ids
        ])

    async def ReemitMemberRoles(self, request: pb.ReemitMemberRolesRequest, context):
        _require(organization_id=request.organization_id)
        if len(request.member_ids) > BATCH_GET_MAX:
            raise ServiceError("INVALID_VALUE", f"at most {BATCH_GET_MAX} member ids per call")
        async with self._pool.of(request.organization_id).acquire() as conn, conn.transaction():
            await repository.lock_organization(conn, request.organization_id)
            count = await self._propagator.reemit(conn, request.organization_id, list(request.member_ids),
                                                  source="RECONCILE")
        return pb.ReemitMemberRolesResponse(re_emitted=count)

    async def ReplaceDirectRoleAssignments(self, request: pb.ReplaceDirectRoleAssignmentsRequest, context):
        organization_id, member_id = request.organization_id, request.member_id
        _require(organization_id=organization_id, member_id=member_id)
        role_ids = sorted(set(request.role_ids))
        async with self._pool.of(organization_id).acquire() as conn, conn.transaction():
            await repository.lock_organization(conn, organization_id)
            await require_existing_roles(conn, role_ids)
            if not await self._directory.members(organization_id, [member_id]):
                raise ServiceError("NOT_FOUND", f"member {member_id!r} not found")
            await repository.replace_direct_role_ids(conn, organization_id, member_id, role_ids)
            await self._propagator.recompute(conn, organization_id, [member_id], source="API")
            roles = await repository.member_roles(conn, organization_id, member_id)
        return pb.ReplaceDirectRoleAssignmentsResponse(member_roles=roles_to_proto(organization_id, member_id, roles))

    async def CheckPermission(self, request: pb.CheckPermissionRequest, context):
        _require(
            organization_id=request.organization_id, member_id=request.member_id,
            resource_id=request.resource_id, action=request.action,
        )
        rows = await repository.permissions_of_member(self._pool.of(request.organization_id), request.organization_id, request.member_id)
        granting = [r["role_id"] for r in rows if allows(r["permissions"], request.resource_id, request.action)]
        return pb.CheckPermissionResponse(allowed=bool(granting), granting_role_ids=granting)
