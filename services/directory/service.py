"""The DirectoryService RPCs. The tenant comes from call metadata only."""

from __future__ import annotations

import asyncpg
import grpc
from google.protobuf import json_format
from scimd.directory.v1 import directory_service_pb2 as pb
from scimd.directory.v1 import directory_service_pb2_grpc as pb_grpc
from scimd.events.v1 import event_pb2

from services.common.errors import ServiceError
from services.common.events import EventStream
from services.common.grpc_server import tenant_of
from services.common.ids import new_id
from services.common.outbox import enqueue, new_event
from services.common.paging import decode_time_keyset, page_size, time_keyset_token
from services.directory import repository
from services.directory.mapping import email_address_of, member_from_row, name_of, status_of

SCHEMA = "directory"
MAX_USER_NAME = 512


class DirectoryServicer(pb_grpc.DirectoryServiceServicer):
    def __init__(self, pool: asyncpg.Pool, stream: EventStream, project_id: str):
        self._pool = pool
        self._stream = stream
        self._project_id = project_id

    async def CreateMember(self, request: pb.CreateMemberRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        if not tenant.connection_id:
            raise ServiceError("PERMISSION_DENIED", "members are created on behalf of a SCIM connection")
        registration = request.scim_registration
        user_name = registration.user_name.strip()
        if not user_name or len(user_name) > MAX_USER_NAME:
            raise ServiceError("INVALID_VALUE", f"userName is required, at most {MAX_USER_NAME} characters")
        attributes = json_format.MessageToDict(registration.scim_attributes)
        async with self._pool.acquire() as conn, conn.transaction():
            try:
                row = await repository.insert_member(
                    conn,
                    member_id=new_id("member"),
                    organization_id=tenant.organization_id,
                    connection_id=tenant.connection_id,
                    registration_id=new_id("scim-registration"),
                    user_name=user_name,
                    external_id=registration.external_id or None,
                    email_address=email_address_of(attributes, user_name),
                    name=name_of(attributes),
                    status=status_of(attributes),
                    scim_attributes=attributes,
                )
            except repository.UserNameTaken:
                raise ServiceError("UNIQUENESS", f"userName {user_name!r} is already in use") from None
            member = member_from_row(row)
            event = new_event(
                "scim.member.create", "CREATE",
                project_id=self._project_id, organization_id=tenant.organization_id,
            )
            event.member_changed.CopyFrom(event_pb2.MemberChanged(member=member))
            await enqueue(conn, self._stream, SCHEMA, event)
        return pb.CreateMemberResponse(member=member)

    async def GetMember(self, request: pb.GetMemberRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        row = await repository.get_member(self._pool, tenant.organization_id, tenant.connection_id, request.member_id)
        if row is None:
            raise ServiceError("NOT_FOUND", f"member {request.member_id!r} not found")
        return pb.GetMemberResponse(member=member_from_row(row))

    async def ListMembers(self, request: pb.ListMembersRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        limit = page_size(request.page_size)
        after = decode_time_keyset(request.page_token)
        rows, total = await repository.list_members(
            self._pool, tenant.organization_id, tenant.connection_id,
            limit=limit + 1, after=after, show_deleted=request.show_deleted,
        )
        page, more = rows[:limit], len(rows) > limit
        next_token = time_keyset_token(page[-1]["created_at"], page[-1]["member_id"]) if more else ""
        return pb.ListMembersResponse(
            members=[member_from_row(r) for r in page], next_page_token=next_token, total_size=total
        )
