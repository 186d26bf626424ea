"""What the rbac service reads from the directory service, over gRPC: the
directory is the source of truth for members and their groups."""

from __future__ import annotations

from contextlib import AbstractContextManager

import grpc
import orjson
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.directory.v1 import member_pb2
from scimd.directory.v1.directory_service_pb2_grpc import DirectoryServiceStub

from runtime.context import Tenant, acting_for
from runtime.errors import ServiceError
from runtime.grpc_client import ContextChannel
from scim.extensions import parse_extension, with_extensions
from scim.schema import USER, ResourceType

BATCH = 1000
CALL_TIMEOUT_SECONDS = 30.0


def _acting_for(organization_id: str, connection_id: str = "") -> AbstractContextManager[None]:
    """The calls inside act for the tenant; its ids come from callers of the
    rbac API, and an id gRPC metadata cannot carry names nothing."""
    try:
        return acting_for(Tenant(organization_id, connection_id))
    except ValueError:
        raise ServiceError("NOT_FOUND", "no such organization or connection") from None


class DirectoryReader:
    def __init__(self, channel: ContextChannel):
        self._stub = DirectoryServiceStub(channel)

    async def members(self, organization_id: str, member_ids: list[str]) -> dict[str, member_pb2.Member]:
        """The members that exist (and are not deleted), by id."""
        found: dict[str, member_pb2.Member] = {}
        with _acting_for(organization_id):
            for start in range(0, len(member_ids), BATCH):
                try:
                    response = await self._stub.BatchGetMembers(
                        directory_pb.BatchGetMembersRequest(member_ids=member_ids[start:start + BATCH]),
                        timeout=CALL_TIMEOUT_SECONDS,
                    )
                except grpc.aio.AioRpcError as error:
                    raise ServiceError.from_rpc_error(error) from None
                found.update((m.member_id, m) for m in response.members)
        return found

    async def member_ids_matching(self, organization_id: str, connection_id: str, scim_filter: str) -> list[str]:
        """The ids of the connection's members whose SCIM attributes match the filter."""
        ids: list[str] = []
        page_token = ""
        with _acting_for(organization_id, connection_id):
            while True:
                try:
                    response = await self._stub.ListMembers(
                        directory_pb.ListMembersRequest(filter=scim_filter, page_size=BATCH, page_token=page_token),
                        timeout=CALL_TIMEOUT_SECONDS,
                    )
                except grpc.aio.AioRpcError as error:
                    raise ServiceError.from_rpc_error(error) from None
                ids.extend(m.member_id for m in response.members)
                if not response.next_page_token:
                    return ids
                page_token = response.next_page_token

    async def user_type(self) -> ResourceType:
        """The SCIM User type with the project's schema extensions, as the directory has them now."""
        try:
            response = await self._stub.ListSchemaExtensions(
                directory_pb.ListSchemaExtensionsRequest(), timeout=CALL_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            raise ServiceError.from_rpc_error(error) from None
        extensions = [parse_extension(e.resource_type, orjson.loads(e.definition_json)) for e in response.extensions]
        return with_extensions(USER, extensions)

    async def group_member_ids(self, organization_id: str, connection_id: str, group_id: str) -> list[str]:
        """The group's members; none if there is no such group."""
        ids: list[str] = []
        page_token = ""
        with _acting_for(organization_id, connection_id):
            while True:
                try:
                    response = await self._stub.ListGroupMembers(
                        directory_pb.ListGroupMembersRequest(group_id=group_id, page_size=10_000, page_token=page_token),
                        timeout=CALL_TIMEOUT_SECONDS,
                    )
                except grpc.aio.AioRpcError as error:
                    if error.code() == grpc.StatusCode.NOT_FOUND:
                        return ids
                    raise ServiceError.from_rpc_error(error) from None
                ids.extend(m.member_id for m in response.members)
                if not response.next_page_token:
                    return ids
                page_token = response.next_page_token

    async def group_names(self, organization_id: str, connection_id: str, group_ids: list[str]) -> dict[str, str]:
        """group_id → displayName, for the groups of the connection that exist."""
        names: dict[str, str] = {}
        with _acting_for(organization_id, connection_id):
            for group_id in group_ids:
                try:
                    response = await self._stub.GetGroup(
                        directory_pb.GetGroupRequest(group_id=group_id), timeout=CALL_TIMEOUT_SECONDS
                    )
                except grpc.aio.AioRpcError as error:
                    if error.code() == grpc.StatusCode.NOT_FOUND:
                        continue
                    raise ServiceError.from_rpc_error(error) from None
                names[group_id] = response.group.display_name
        return names
