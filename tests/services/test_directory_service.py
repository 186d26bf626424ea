"""DirectoryService over real gRPC: members, tenancy from metadata, the outbox event."""

import uuid

import grpc
import nats
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy
from scimd.directory.v1 import directory_service_pb2 as pb
from scimd.directory.v1 import member_pb2
from scimd.directory.v1.directory_service_pb2_grpc import DirectoryServiceStub
from scimd.events.v1 import event_pb2

from runtime.context import Tenant
from runtime.errors import ServiceError
from runtime.events import EventStream
from tests.support import registration


@pytest.fixture
async def directory(running_services):
    async with grpc.aio.insecure_channel(running_services.services.directory) as channel:
        yield DirectoryServiceStub(channel)


def tenant() -> Tenant:
    return Tenant(f"organization-{uuid.uuid4()}", f"scim-connection-{uuid.uuid4()}")


async def _reason(rpc) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rpc
    return ServiceError.from_rpc_error(caught.value).reason


async def test_create_member_derives_the_member_fields(directory):
    owner = tenant()
    reg = registration(
        "Ada@Example.com",
        name={"givenName": "Ada", "familyName": "Lovelace"},
        emails=[{"value": "ada.work@example.com", "primary": True}],
    )
    member = (await directory.CreateMember(pb.CreateMemberRequest(scim_registration=reg), metadata=owner.metadata())).member
    assert member.organization_id == owner.organization_id
    assert member.scim_registration.connection_id == owner.connection_id
    assert member.email_address == "ada.work@example.com"
    assert member.name == "Ada Lovelace"
    assert member.status == member_pb2.MEMBER_STATUS_ACTIVE
    fetched = (await directory.GetMember(pb.GetMemberRequest(member_id=member.member_id), metadata=owner.metadata())).member
    assert fetched == member


async def test_inactive_user_becomes_a_deactivated_member(directory):
    member = (
        await directory.CreateMember(
            pb.CreateMemberRequest(scim_registration=registration("off@example.com", active=False)), metadata=tenant().metadata()
        )
    ).member
    assert member.status == member_pb2.MEMBER_STATUS_DEACTIVATED


async def test_user_name_is_unique_per_connection_ignoring_case(directory):
    owner = tenant()
    await directory.CreateMember(pb.CreateMemberRequest(scim_registration=registration("dup@example.com")), metadata=owner.metadata())
    reason = await _reason(
        directory.CreateMember(pb.CreateMemberRequest(scim_registration=registration("DUP@example.com")), metadata=owner.metadata())
    )
    assert reason == "UNIQUENESS"
    # Another connection may use the same userName.
    await directory.CreateMember(pb.CreateMemberRequest(scim_registration=registration("dup@example.com")), metadata=tenant().metadata())


async def test_another_organizations_member_is_not_found(directory):
    owner, stranger = tenant(), tenant()
    member = (await directory.CreateMember(pb.CreateMemberRequest(scim_registration=registration("mine@example.com")), metadata=owner.metadata())).member
    assert await _reason(directory.GetMember(pb.GetMemberRequest(member_id=member.member_id), metadata=stranger.metadata())) == "NOT_FOUND"
    listed = await directory.ListMembers(pb.ListMembersRequest(), metadata=stranger.metadata())
    assert list(listed.members) == [] and listed.total_size == 0


async def test_calls_without_a_tenant_are_refused(directory):
    assert await _reason(directory.GetMember(pb.GetMemberRequest(member_id="member-x"))) == "PERMISSION_DENIED"
    organization_only = Tenant(f"organization-{uuid.uuid4()}")
    reason = await _reason(
        directory.CreateMember(pb.CreateMemberRequest(scim_registration=registration("x@example.com")), metadata=organization_only.metadata())
    )
    assert reason == "PERMISSION_DENIED"


async def test_missing_user_name_is_invalid(directory):
    assert await _reason(directory.CreateMember(pb.CreateMemberRequest(), metadata=tenant().metadata())) == "INVALID_VALUE"


async def test_list_members_pages_in_a_stable_order(directory):
    owner = tenant()
    ids = []
    for index in range(7):
        member = (await directory.CreateMember(pb.CreateMemberRequest(scim_registration=registration(f"u{index}@example.com")), metadata=owner.metadata())).member
        ids.append(member.member_id)
    seen, token = [], ""
    for _ in range(10):
        page = await directory.ListMembers(pb.ListMembersRequest(page_size=3, page_token=token), metadata=owner.metadata())
        assert page.total_size == 7
        seen += [m.member_id for m in page.members]
        token = page.next_page_token
        if not token:
            break
    assert seen == ids


async def test_member_create_is_published_as_an_event(directory, running_services):
    """The change and its outbox row commit together; the relay publishes it with Nats-Msg-Id = event id."""
    stream = EventStream(running_services.nats_prefix)
    nc = await nats.connect(running_services.nats_url)
    try:
        js = nc.jetstream()
        # Subscribed before the write, to new messages only: the stream holds every test's events.
        subscription = await js.subscribe(
            stream.subject("scim.member.create"), stream=stream.name, ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
        )
        owner = tenant()
        member = (await directory.CreateMember(pb.CreateMemberRequest(scim_registration=registration("evt@example.com")), metadata=owner.metadata())).member
        event = None
        for _ in range(1000):
            message = await subscription.next_msg(timeout=20)
            candidate = event_pb2.Event.FromString(message.data)
            if candidate.member_changed.member.member_id == member.member_id:
                event, headers = candidate, message.headers
                break
        assert event is not None
        assert event.type == "scim.member.create" and event.action == "CREATE" and event.source == "SCIM"
        assert event.organization_id == owner.organization_id
        assert event.project_id == running_services.project_id
        assert headers["Nats-Msg-Id"] == event.event_id
    finally:
        await nc.close()


async def test_a_deleted_members_personal_data_is_forgotten_after_the_retention(directory, running_services):
    """Issue 16 §6: names, emails and SCIM attributes of a member deleted
    longer ago than the retention are forgotten; a recent deletion and live
    members keep theirs."""
    from datetime import timedelta

    import asyncpg

    from runtime.db import create_pool
    from services.directory.repository import forget_deleted_members

    owner = tenant()
    made = {}
    for name in ("old", "recent", "live"):
        reg = registration(f"{name}-{uuid.uuid4().hex[:6]}@example.com", name={"givenName": name.title()},
                           externalId=f"ext-{name}", emails=[{"value": f"{name}@example.com"}])
        made[name] = (await directory.CreateMember(pb.CreateMemberRequest(scim_registration=reg),
                                                   metadata=owner.metadata())).member.member_id
    for name in ("old", "recent"):
        await directory.DeleteMember(pb.DeleteMemberRequest(member_id=made[name]), metadata=owner.metadata())
    admin = await asyncpg.connect(running_services.database_url)
    try:
        await admin.execute("UPDATE directory.members SET deleted_at = now() - interval '31 days' WHERE member_id = $1",
                            made["old"])
        pool = await create_pool(running_services.database_url, "directory")
        try:
            assert await forget_deleted_members(pool.shared, timedelta(days=30)) >= 1
        finally:
            await pool.close()
        rows = {r["member_id"]: r for r in await admin.fetch(
            "SELECT member_id, user_name, external_id, email_address, name, scim_attributes FROM directory.members"
            " WHERE member_id = ANY($1::text[])", list(made.values()))}
    finally:
        await admin.close()
    old = rows[made["old"]]
    assert (old["user_name"], old["external_id"], old["email_address"], old["name"]) == (made["old"], None, "", "")
    assert old["scim_attributes"] in ({}, "{}")
    for kept in ("recent", "live"):
        assert rows[made[kept]]["email_address"] == f"{kept}@example.com", kept
