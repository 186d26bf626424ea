"""Group methods of the DirectoryService over real gRPC: membership as set
operations, tenancy, and the events of every change."""

import uuid

import grpc
import pytest
from scimd.directory.v1 import directory_service_pb2 as pb
from scimd.directory.v1 import group_pb2
from scimd.directory.v1.directory_service_pb2_grpc import DirectoryServiceStub

from runtime.context import Tenant
from runtime.errors import ServiceError
from tests.support import registration


@pytest.fixture
async def directory(running_services):
    async with grpc.aio.insecure_channel(running_services.services.directory) as channel:
        yield DirectoryServiceStub(channel)


def tenant() -> Tenant:
    return Tenant(f"organization-{uuid.uuid4()}", f"scim-connection-{uuid.uuid4()}")


async def _members(directory, owner: Tenant, count: int) -> list[str]:
    ids = []
    for i in range(count):
        response = await directory.CreateMember(
            pb.CreateMemberRequest(scim_registration=registration(f"m{i}-{uuid.uuid4().hex[:6]}@example.com")),
            metadata=owner.metadata(),
        )
        ids.append(response.member.member_id)
    return ids


async def _listed(directory, owner: Tenant, group_id: str, page_size: int = 2) -> list[str]:
    ids, token = [], ""
    for _ in range(100):
        page = await directory.ListGroupMembers(
            pb.ListGroupMembersRequest(group_id=group_id, page_size=page_size, page_token=token), metadata=owner.metadata()
        )
        ids += [m.member_id for m in page.members]
        token = page.next_page_token
        if not token:
            return ids
    raise AssertionError("paging did not end")


async def test_add_and_remove_members_as_sets(directory):
    owner = tenant()
    a, b, c = await _members(directory, owner, 3)
    group = (await directory.CreateGroup(
        pb.CreateGroupRequest(group=group_pb2.Group(display_name="Eng"), member_ids=[a]), metadata=owner.metadata()
    )).group
    assert group.member_count == 1
    group = (await directory.AddGroupMembers(
        pb.AddGroupMembersRequest(group_id=group.group_id, member_ids=[a, b, c]), metadata=owner.metadata()
    )).group
    assert group.member_count == 3 and group.etag == "2"
    group = (await directory.RemoveGroupMembers(
        pb.RemoveGroupMembersRequest(group_id=group.group_id, member_ids=[b, "member-absent"]), metadata=owner.metadata()
    )).group
    assert group.member_count == 2
    assert sorted(await _listed(directory, owner, group.group_id)) == sorted([a, c])


async def test_unchanged_membership_keeps_the_version(directory):
    owner = tenant()
    (a,) = await _members(directory, owner, 1)
    group = (await directory.CreateGroup(
        pb.CreateGroupRequest(group=group_pb2.Group(display_name="Same"), member_ids=[a]), metadata=owner.metadata()
    )).group
    again = (await directory.AddGroupMembers(
        pb.AddGroupMembersRequest(group_id=group.group_id, member_ids=[a]), metadata=owner.metadata()
    )).group
    assert again.etag == group.etag


async def test_members_of_another_tenant_are_unknown(directory):
    owner, stranger = tenant(), tenant()
    (foreign,) = await _members(directory, stranger, 1)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await directory.CreateGroup(
            pb.CreateGroupRequest(group=group_pb2.Group(display_name="X"), member_ids=[foreign]), metadata=owner.metadata()
        )
    assert ServiceError.from_rpc_error(caught.value).reason == "INVALID_VALUE"


async def test_group_of_another_tenant_is_not_found(directory):
    owner, stranger = tenant(), tenant()
    group = (await directory.CreateGroup(
        pb.CreateGroupRequest(group=group_pb2.Group(display_name="Mine")), metadata=owner.metadata()
    )).group
    for call in (
        directory.GetGroup(pb.GetGroupRequest(group_id=group.group_id), metadata=stranger.metadata()),
        directory.ListGroupMembers(pb.ListGroupMembersRequest(group_id=group.group_id), metadata=stranger.metadata()),
        directory.AddGroupMembers(pb.AddGroupMembersRequest(group_id=group.group_id), metadata=stranger.metadata()),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert ServiceError.from_rpc_error(caught.value).reason == "NOT_FOUND"
