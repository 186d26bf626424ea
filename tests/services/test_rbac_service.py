"""The rbac service over real gRPC: effective roles, CheckPermission, and
replaying directory events (at-least-once delivery) changes nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
import grpc
import pytest
from google.protobuf import field_mask_pb2
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.directory.v1 import group_pb2
from scimd.directory.v1.directory_service_pb2_grpc import DirectoryServiceStub
from scimd.events.v1 import event_pb2
from scimd.rbac.v1 import member_roles_pb2, role_pb2
from scimd.rbac.v1 import rbac_service_pb2 as pb
from scimd.rbac.v1.rbac_service_pb2_grpc import RbacServiceStub

from runtime.context import Tenant
from runtime.db import create_pool, migrate
from runtime.events import EventStream
from runtime.grpc_client import open_channel
from services.rbac import attribute_grant_repository, repository
from services.rbac.attribute_grants import AttributeAssignment
from services.rbac.directory_reader import DirectoryReader
from services.rbac.follower import DirectoryFollower
from services.rbac.propagation import RolePropagator
from services.rbac.server import MIGRATIONS
from services.rbac.session_revocation import SessionRevoker
from tests.support import registration, until


@pytest.fixture
async def stubs(running_services):
    async with grpc.aio.insecure_channel(running_services.services.rbac) as rbac_channel, \
            grpc.aio.insecure_channel(running_services.services.directory) as directory_channel:
        yield RbacServiceStub(rbac_channel), DirectoryServiceStub(directory_channel)


async def _member_in_mapped_group(rbac, directory, permissions) -> tuple[str, str, str, str]:
    """(organization_id, member_id, role_id, group_id): a member of a group mapped to a new role."""
    tenant = Tenant(f"organization-{uuid.uuid4()}", f"scim-connection-{uuid.uuid4()}")
    role_id = f"role-{uuid.uuid4().hex[:8]}"
    await rbac.CreateRole(pb.CreateRoleRequest(role=role_pb2.Role(role_id=role_id, permissions=permissions)))
    member = (await directory.CreateMember(
        directory_pb.CreateMemberRequest(scim_registration=registration(f"{uuid.uuid4().hex}@example.com")),
        metadata=tenant.metadata(),
    )).member
    group = (await directory.CreateGroup(
        directory_pb.CreateGroupRequest(group=group_pb2.Group(display_name="Team"), member_ids=[member.member_id]),
        metadata=tenant.metadata(),
    )).group
    await rbac.ReplaceGroupRoleAssignments(pb.ReplaceGroupRoleAssignmentsRequest(
        organization_id=tenant.organization_id, connection_id=tenant.connection_id,
        assignments=[member_roles_pb2.GroupRoleAssignment(group_id=group.group_id, role_id=role_id)],
    ))
    return tenant.organization_id, member.member_id, role_id, group.group_id


async def test_effective_roles_and_permission_checks(stubs):
    rbac, directory = stubs
    organization_id, member_id, role_id, _ = await _member_in_mapped_group(rbac, directory, [
        role_pb2.Permission(resource_id="documents", actions=["read", "write"]),
        role_pb2.Permission(resource_id="billing", actions=["*"]),
    ])
    roles = (await rbac.GetMemberRoles(pb.GetMemberRolesRequest(organization_id=organization_id, member_id=member_id))).member_roles
    assert [r.role_id for r in roles.roles] == [role_id]
    assert roles.roles[0].sources[0].type == member_roles_pb2.RoleSource.SCIM_CONNECTION_GROUP
    assert roles.roles[0].sources[0].group_name == "Team"

    async def check(resource: str, action: str, organization: str = organization_id) -> pb.CheckPermissionResponse:
        return await rbac.CheckPermission(pb.CheckPermissionRequest(
            organization_id=organization, member_id=member_id, resource_id=resource, action=action,
        ))

    assert (await check("documents", "write")).granting_role_ids == [role_id]
    assert (await check("billing", "refund")).allowed  # "*" allows every action
    assert not (await check("documents", "delete")).allowed
    assert not (await check("settings", "read")).allowed
    # Another organization never sees this member's roles.
    assert not (await check("documents", "read", f"organization-{uuid.uuid4()}")).allowed

    batch = await rbac.BatchGetMemberRoles(pb.BatchGetMemberRolesRequest(
        organization_id=organization_id, member_ids=["member-unknown", member_id],
    ))
    assert [len(m.roles) for m in batch.member_roles] == [0, 1]


async def test_missing_fields_are_invalid(stubs):
    rbac, _ = stubs
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await rbac.CheckPermission(pb.CheckPermissionRequest(organization_id="organization-x", member_id="m"))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await rbac.ReplaceDirectRoleAssignments(pb.ReplaceDirectRoleAssignmentsRequest(
            organization_id="organization-x", member_id="member-missing", role_ids=[],
        ))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def _role_events_of(pool, member_id: str) -> int:
    rows = await pool.fetch("SELECT payload FROM outbox")
    count = 0
    for row in rows:
        event = event_pb2.Event.FromString(row["payload"])
        count += event.member_changed.member.member_id == member_id
    return count


async def test_replayed_and_late_events_converge(stubs, running_services):
    """Events come at least once and maybe late: the follower recomputes from
    the directory's current state, so a replay emits nothing and a stale
    member_add does not re-grant a role."""
    rbac, directory = stubs
    organization_id, member_id, role_id, group_id = await _member_in_mapped_group(rbac, directory, [])
    pool = await create_pool(running_services.database_url, "rbac")
    channel = open_channel(running_services.services.directory)  # as the rbac service opens it: the tenant rides along
    try:
        follower = _follower(pool, channel, running_services)
        added = event_pb2.Event(type="scim.idp_group.member_add", organization_id=organization_id)
        added.group_changed.group.group_id = group_id
        added.group_changed.member_ids.append(member_id)

        before = await _role_events_of(pool.shared, member_id)
        await follower.handle([added, added])
        assert await _role_events_of(pool.shared, member_id) == before

        tenant_metadata = (("x-scimd-organization-id", organization_id),)
        member = (await directory.GetMember(directory_pb.GetMemberRequest(member_id=member_id),
                                            metadata=tenant_metadata)).member
        connection = Tenant(organization_id, member.scim_registration.connection_id)
        await directory.RemoveGroupMembers(
            directory_pb.RemoveGroupMembersRequest(group_id=group_id, member_ids=[member_id]),
            metadata=connection.metadata(),
        )
        await follower.handle([added])  # stale: the member has left since
        roles = await rbac.GetMemberRoles(pb.GetMemberRolesRequest(organization_id=organization_id, member_id=member_id))
        assert list(roles.member_roles.roles) == []
    finally:
        await channel.close()
        await pool.close()


async def _waits_for_an_advisory_lock(conn, task: asyncio.Task) -> bool:
    """Whether a session of this database waits for an advisory lock; fails if `task` ended instead."""
    assert not task.done(), "the follower did not wait for the mapping being saved"
    return await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))")


def _follower(pool, channel, running_services) -> DirectoryFollower:
    """A directory follower as the rbac service makes one."""
    stream = EventStream(running_services.nats_prefix)
    revoker = SessionRevoker(stream, running_services.project_id, timedelta(minutes=5))
    return DirectoryFollower(pool, RolePropagator(DirectoryReader(channel), stream, running_services.project_id,
                                                  revoker), revoker)


async def test_a_mapping_being_saved_is_waited_for_and_seen_by_the_follower_of_a_creation(stubs, running_services):
    """The follower asks whether a created member's connection grants roles on
    attributes under the organization's lock. A mapping saved meanwhile, whose
    own recompute may have read the members before this one existed, is waited
    for and seen; a check without the lock would find no mapping and grant nothing."""
    rbac, directory = stubs
    tenant = Tenant(f"organization-{uuid.uuid4()}", f"scim-connection-{uuid.uuid4()}")
    role_id = f"role-{uuid.uuid4().hex[:8]}"
    await rbac.CreateRole(pb.CreateRoleRequest(role=role_pb2.Role(role_id=role_id, permissions=[])))
    member = (await directory.CreateMember(directory_pb.CreateMemberRequest(
        scim_registration=registration(f"{uuid.uuid4().hex}@example.com", roles=[{"value": "billing.admin"}])),
        metadata=tenant.metadata())).member
    created = event_pb2.Event(type="scim.member.create", organization_id=tenant.organization_id)
    created.member_changed.member.CopyFrom(member)
    pool = await create_pool(running_services.database_url, "rbac")
    channel = open_channel(running_services.services.directory)
    try:
        follower = _follower(pool, channel, running_services)
        async with pool.of(tenant.organization_id).acquire() as saving:
            transaction = saving.transaction()
            await transaction.start()
            try:
                await repository.lock_organization(saving, tenant.organization_id)
                await attribute_grant_repository.replace_attribute_assignments(
                    saving, tenant.organization_id, tenant.connection_id,
                    [AttributeAssignment("roles", "billing.admin", role_id)])
                following = asyncio.create_task(follower.handle([created]))
                await until(lambda: _waits_for_an_advisory_lock(saving, following),
                            "the follower waiting for the mapping being saved", deadline_s=10)
            finally:
                await transaction.commit()
        await asyncio.wait_for(following, 10)
        roles = await rbac.GetMemberRoles(pb.GetMemberRolesRequest(organization_id=tenant.organization_id,
                                                                   member_id=member.member_id))
        assert [role.role_id for role in roles.member_roles.roles] == [role_id]
    finally:
        await channel.close()
        await pool.close()


async def test_ids_that_cannot_be_ids_are_not_found(stubs):
    """Ids travel on to the directory in gRPC metadata; anything but printable ASCII is no id of ours."""
    rbac, _ = stubs
    for organization_id in ("organization-é", "organization-\n"):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await rbac.ReplaceDirectRoleAssignments(pb.ReplaceDirectRoleAssignmentsRequest(
                organization_id=organization_id, member_id="member-x", role_ids=[],
            ))
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_connection_role_assignments_by_kind(stubs):
    """UpdateConnectionRoleAssignments replaces the kinds its update_mask
    names and keeps the others; the sources carry their attribute, value and filter."""
    rbac, directory = stubs
    organization_id, member_id, group_role, group_id = await _member_in_mapped_group(rbac, directory, [])
    tenant_metadata = (("x-scimd-organization-id", organization_id),)
    connection_id = (await directory.GetMember(directory_pb.GetMemberRequest(member_id=member_id),
                                               metadata=tenant_metadata)).member.scim_registration.connection_id
    tenant = Tenant(organization_id, connection_id)
    entitled = (await directory.CreateMember(directory_pb.CreateMemberRequest(scim_registration=registration(
        f"{uuid.uuid4().hex}@example.com", title="Controller", entitlements=[{"value": "Reports"}],
    )), metadata=tenant.metadata())).member.member_id
    role_id = f"role-{uuid.uuid4().hex[:8]}"
    await rbac.CreateRole(pb.CreateRoleRequest(role=role_pb2.Role(role_id=role_id)))
    wanted = member_roles_pb2.ConnectionRoleAssignments(
        organization_id=organization_id, connection_id=connection_id,
        attribute_assignments=[member_roles_pb2.AttributeRoleAssignment(
            attribute="Entitlements", value="reports", role_id=role_id)],
        rule_assignments=[member_roles_pb2.RuleRoleAssignment(filter='title sw "Contr"', role_id=role_id)],
    )
    answer = await rbac.UpdateConnectionRoleAssignments(pb.UpdateConnectionRoleAssignmentsRequest(
        assignments=wanted, update_mask=field_mask_pb2.FieldMask(paths=["attribute_assignments", "rule_assignments"]),
    ))
    assert [c.member_id for c in answer.changes] == [entitled]
    assert [a.group_id for a in answer.assignments.group_assignments] == [group_id]  # not in the mask: kept
    assert answer.assignments.attribute_assignments[0].attribute == "entitlements"
    got = await rbac.GetConnectionRoleAssignments(pb.GetConnectionRoleAssignmentsRequest(
        organization_id=organization_id, connection_id=connection_id))
    assert got.assignments == answer.assignments

    sources = (await rbac.GetMemberRoles(pb.GetMemberRolesRequest(
        organization_id=organization_id, member_id=entitled))).member_roles.roles[0].sources
    assert [(s.type, s.connection_id, s.attribute, s.value, s.filter) for s in sources] == [
        (member_roles_pb2.RoleSource.SCIM_ATTRIBUTE, connection_id, "entitlements", "reports", ""),
        (member_roles_pb2.RoleSource.SCIM_ATTRIBUTE_RULE, connection_id, "", "", 'title sw "Contr"'),
    ]
    # The group kind alone, through the older RPC, leaves the attribute kinds be.
    await rbac.ReplaceGroupRoleAssignments(pb.ReplaceGroupRoleAssignmentsRequest(
        organization_id=organization_id, connection_id=connection_id, assignments=[]))
    got = await rbac.GetConnectionRoleAssignments(pb.GetConnectionRoleAssignmentsRequest(
        organization_id=organization_id, connection_id=connection_id))
    assert not got.assignments.group_assignments and len(got.assignments.rule_assignments) == 1
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await rbac.UpdateConnectionRoleAssignments(pb.UpdateConnectionRoleAssignmentsRequest(
            assignments=wanted, update_mask=field_mask_pb2.FieldMask(paths=["organization_id"])))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_tenant_tables_have_row_level_security(fresh_database):
    """Every rbac table naming an organization is scoped by a policy (the
    attribute and rule assignments of issue 21 §4 included)."""
    url = await fresh_database()
    await migrate(url, "rbac", MIGRATIONS)
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT c.relname, c.relrowsecurity, EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) AS scoped"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id'"
            " WHERE n.nspname = 'rbac' AND c.relkind = 'r'"
        )
    finally:
        await conn.close()
    assert {"attribute_role_assignments", "rule_role_assignments"} <= {r["relname"] for r in rows}
    assert [r["relname"] for r in rows if not (r["relrowsecurity"] and r["scoped"])] == []
