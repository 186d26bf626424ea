"""The group RPCs of the DirectoryService: SCIM Groups, with membership
changed by set operations under the group's row lock, so concurrent changes
never lose a member and a group of any size costs the same to change."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import asyncpg
import grpc
import orjson
from scimd.directory.v1 import directory_service_pb2 as pb
from scimd.directory.v1 import group_pb2

from runtime.context import Tenant
from runtime.errors import ServiceError
from runtime.event_catalog import GROUP_CREATE, GROUP_DELETE, GROUP_MEMBER_ADD, GROUP_MEMBER_DELETE, GROUP_UPDATE
from runtime.grpc_server import tenant_of
from runtime.ids import new_id
from runtime.json_input import parse_json_object
from runtime.outbox import QueuedEvent, enqueue_all, new_event
from runtime.paging import decode_page_token, encode_page_token, page_size
from runtime.tenant_scope import OrganizationScope
from runtime.timestamps import to_timestamp
from scim.extensions import unique_values
from scim.filter import FilterError, parse_filter
from scim.group_patch import UNCHANGED, GroupPatchPlan, MembershipStep, apply_extension_operations, plan_group_patch
from scim.groups import group_extension_values
from scim.schema import ResourceType
from services.directory import group_repository as repository
from services.directory.audit import AuditEntry, audited
from services.directory.filter_sql import SqlParams
from services.directory.group_filter_sql import compile_group_filter, group_sort_expression
from services.directory.keyset import Position, position_of
from services.directory.schema_extensions import ExtensionRegistry
from services.directory.uniqueness import claim_unique_values

MAX_DISPLAY_NAME = 512
MAX_MEMBERS_PER_CALL = 10_000
MEMBER_PAGE_DEFAULT = 1000
MEMBER_PAGE_MAX = 10_000


def group_from_row(row: asyncpg.Record) -> group_pb2.Group:
    return group_pb2.Group(
        group_id=row["group_id"],
        organization_id=row["organization_id"],
        connection_id=row["connection_id"],
        display_name=row["display_name"],
        external_id=row["external_id"] or "",
        member_count=row["member_count"],
        create_time=to_timestamp(row["created_at"]),
        update_time=to_timestamp(row["updated_at"]),
        etag=str(row["version"]),
        scim_attributes_json=orjson.dumps(row["scim_attributes"], option=orjson.OPT_SORT_KEYS).decode(),
    )


def _display_name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise ServiceError("INVALID_VALUE", f"displayName is required, at most {MAX_DISPLAY_NAME} characters")
    return name


def _member_ids(ids: Iterable[str]) -> list[str]:
    unique = list(dict.fromkeys(i for i in ids))
    if any(not i for i in unique):
        raise ServiceError("INVALID_VALUE", "member ids must not be empty")
    if len(unique) > MAX_MEMBERS_PER_CALL:
        raise ServiceError("INVALID_VALUE", f"at most {MAX_MEMBERS_PER_CALL} members per request")
    return unique


def _extension_values(group_type: ResourceType, body_json: str) -> dict[str, Any]:
    """The extension values of a SCIM Group body (JSON); none for ""."""
    if not body_json:
        return {}
    return group_extension_values(group_type, parse_json_object(body_json, "scim_attributes_json"))


def _changed_extensions(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{urn: the value before} of each extension whose values changed."""
    return {urn: before.get(urn) for urn in sorted(before.keys() | after.keys()) if before.get(urn) != after.get(urn)}


_SCIM_NAMES = {"display_name": "displayName", "external_id": "externalId"}


class GroupRpcs:
    """Mixed into DirectoryServicer, which provides _db, _stream and _project_id."""

    _schema: str
    _db: Callable[[Tenant], OrganizationScope]
    _extensions: ExtensionRegistry

    def _group_event(self, tenant: Tenant, event_type: str, action: str, group: group_pb2.Group,
                     member_ids: Iterable[str] = (), previous: dict[str, Any] | None = None) -> QueuedEvent:
        event = new_event(event_type, action, project_id=self._project_id, organization_id=tenant.organization_id)
        event.group_changed.group.CopyFrom(group)
        event.group_changed.member_ids.extend(member_ids)
        if previous:
            event.group_changed.previous_attributes_json = orjson.dumps(previous).decode()
        return QueuedEvent(self._stream, self._schema, event)

    async def _check_members(self, conn, tenant: Tenant, member_ids: list[str]) -> None:
        unknown = await repository.unknown_members(conn, tenant.organization_id, tenant.connection_id, member_ids)
        if unknown:
            raise ServiceError("INVALID_VALUE", f"unknown member ids: {', '.join(unknown[:5])}")

    def _membership_events(self, tenant: Tenant, group: group_pb2.Group, added: list[str],
                           removed: list[str]) -> list[QueuedEvent]:
        events = []
        if added:
            events.append(self._group_event(tenant, GROUP_MEMBER_ADD, "UPDATE", group, added))
        if removed:
            events.append(self._group_event(tenant, GROUP_MEMBER_DELETE, "UPDATE", group, removed))
        return events

    async def CreateGroup(self, request: pb.CreateGroupRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        if not tenant.connection_id:
            raise ServiceError("PERMISSION_DENIED", "groups are created on behalf of a SCIM connection")
        member_ids = _member_ids(request.member_ids)
        group_type = await self._extensions.group_type()
        values = {
            "group_id": new_id("group"),
            "organization_id": tenant.organization_id,
            "connection_id": tenant.connection_id,
            "display_name": _display_name(request.group.display_name),
            "external_id": request.group.external_id or None,
            "created_at": datetime.now(timezone.utc),
            "scim_attributes": _extension_values(group_type, request.group.scim_attributes_json),
        }
        claims = unique_values(group_type, values["scim_attributes"])

        async def create(entry: AuditEntry) -> group_pb2.Group:
            async with self._db(tenant).acquire() as conn, conn.transaction():
                await self._check_members(conn, tenant, member_ids)
                await claim_unique_values(conn, tenant.organization_id, tenant.connection_id, values["group_id"],
                                          claims, "Group")
                try:
                    row = await repository.insert_group(conn, values)
                except repository.DisplayNameTaken:
                    raise ServiceError("UNIQUENESS", f"displayName {values['display_name']!r} is already in use") from None
                added = (await repository.add_members(conn, tenant.organization_id, row["group_id"], member_ids)
                         if member_ids else [])
                if added:
                    row = await repository.set_initial_member_count(conn, tenant.organization_id, row["group_id"], len(added))
                group = group_from_row(row)
                await enqueue_all(conn, [
                    self._group_event(tenant, GROUP_CREATE, "CREATE", group),
                    *self._membership_events(tenant, group, added, []),
                ])
                await entry.record(conn)
            return group

        changed = ["displayName", *(["externalId"] if values["external_id"] else []), *(["members"] if member_ids else []),
                   *values["scim_attributes"]]
        group = await audited(self._db(tenant), AuditEntry(tenant, "create", "Group", values["group_id"], changed), create)
        return pb.CreateGroupResponse(group=group)

    async def GetGroup(self, request: pb.GetGroupRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        row = await repository.get_group(self._db(tenant), tenant.organization_id, tenant.connection_id, request.group_id)
        if row is None:
            raise ServiceError("NOT_FOUND", f"group {request.group_id!r} not found")
        return pb.GetGroupResponse(group=group_from_row(row))

    async def ListGroups(self, request: pb.ListGroupsRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        if request.skip < 0:
            raise ServiceError("INVALID_VALUE", "skip must not be negative")
        params = SqlParams(start=repository.SCOPE_PARAMETERS)
        group_type = await self._extensions.group_type()
        try:
            filter_sql = (compile_group_filter(parse_filter(request.filter, group_type), params, group_type)
                          if request.filter.strip() else "")
            filter_params = tuple(params.values)
            order_sql = group_sort_expression(request.order_by, params, group_type) if request.order_by else ""
        except FilterError as error:
            raise ServiceError("INVALID_FILTER", str(error)) from None
        limit = page_size(request.page_size)
        query = repository.GroupQuery(
            organization_id=tenant.organization_id, connection_id=tenant.connection_id, filter_sql=filter_sql,
            filter_params=filter_params, order_sql=order_sql, order_params=tuple(params.values[len(filter_params):]),
            descending=request.descending,
            after=position_of(request.page_token, sorted_by=bool(order_sql)), offset=request.skip, limit=limit + 1,
        )
        rows, total = await repository.list_groups(self._db(tenant), query, total_only=request.total_size_only)
        page = _within_member_budget(rows[:limit], request.member_budget)
        more = len(rows) > len(page)
        next_token = ""
        if more and not request.skip:
            last = page[-1]
            next_token = Position(last["created_at"], last["group_id"], bool(order_sql),
                                  last["sort_key"] if order_sql else None).token()
        return pb.ListGroupsResponse(groups=[group_from_row(r) for r in page], total_size=total,
                                     next_page_token=next_token)

    async def ListGroupMembers(self, request: pb.ListGroupMembersRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        if await repository.get_group(self._db(tenant), tenant.organization_id, tenant.connection_id, request.group_id) is None:
            raise ServiceError("NOT_FOUND", f"group {request.group_id!r} not found")
        if request.page_size < 0:
            raise ServiceError("INVALID_VALUE", "page_size must not be negative")
        limit = min(request.page_size or MEMBER_PAGE_DEFAULT, MEMBER_PAGE_MAX)
        key = decode_page_token(request.page_token, 1)
        rows = await repository.list_group_members(self._db(tenant), tenant.organization_id, request.group_id, limit + 1, str(key[0]) if key else "")
        page, more = rows[:limit], len(rows) > limit
        return pb.ListGroupMembersResponse(
            members=[group_pb2.GroupMember(member_id=r["member_id"], display=r["display"]) for r in page],
            next_page_token=encode_page_token([page[-1]["member_id"]]) if more else "",
        )

    async def _apply_plan(self, context, operation: str, group_id: str, etag: str, plan: GroupPatchPlan,
                          extensions: dict[str, Any] | None = None) -> group_pb2.Group:
        """`extensions`, when given, replaces the group's extension values (a PUT)."""
        tenant = tenant_of(context)
        group_type = await self._extensions.group_type()
        return await audited(
            self._db(tenant), AuditEntry(tenant, operation, "Group", group_id),
            lambda entry: self._apply_plan_audited(tenant, group_id, etag, plan, extensions, group_type, entry),
        )

    async def _apply_plan_audited(self, tenant: Tenant, group_id: str, etag: str, plan: GroupPatchPlan,
                                  extensions: dict[str, Any] | None, group_type: ResourceType,
                                  entry: AuditEntry) -> group_pb2.Group:
        """Applies attribute changes and membership steps in one transaction,
        under the group's row lock."""
        async with self._db(tenant).acquire() as conn, conn.transaction():
            row = await repository.get_group(conn, tenant.organization_id, tenant.connection_id, group_id, lock=True)
            if row is None:
                raise ServiceError("NOT_FOUND", f"group {group_id!r} not found")
            if etag and etag != str(row["version"]):
                raise ServiceError("ETAG_MISMATCH", "the group has changed since the given version")
            stored = row["scim_attributes"]
            new_extensions = extensions if extensions is not None else apply_extension_operations(plan, stored, group_type)
            changed_extensions = _changed_extensions(stored, new_extensions)
            if changed_extensions:
                held = set(unique_values(group_type, stored))
                await claim_unique_values(conn, tenant.organization_id, tenant.connection_id, group_id,
                                          [v for v in unique_values(group_type, new_extensions) if v not in held], "Group")
            incoming = [i for step in plan.steps if step.kind in ("add", "replace") for i in step.member_ids]
            if incoming:
                await self._check_members(conn, tenant, _member_ids(incoming))
            added: list[str] = []
            removed: list[str] = []
            for step in plan.steps:
                step_added, step_removed = await self._run_step(conn, tenant.organization_id, group_id, step)
                added += step_added
                removed += step_removed
            display_name = row["display_name"] if plan.display_name is UNCHANGED else _display_name(plan.display_name)
            external_id = row["external_id"] if plan.external_id is UNCHANGED else (plan.external_id or None)
            previous = {
                key: row[column] for key, column, new in (
                    ("display_name", "display_name", display_name), ("external_id", "external_id", external_id),
                ) if row[column] != new
            }
            if changed_extensions:
                previous["scim_attributes"] = changed_extensions
            if not (added or removed or previous):
                return group_from_row(row)
            delta = len(added) - len(removed)
            values = {
                **dict(row), "display_name": display_name, "external_id": external_id,
                "member_count": row["member_count"] + delta, "version": row["version"] + 1,
                "updated_at": datetime.now(timezone.utc), "scim_attributes": new_extensions,
            }
            group = group_from_row(values)
            events = self._membership_events(tenant, group, added, removed)
            if previous:
                events.insert(0, self._group_event(tenant, GROUP_UPDATE, "UPDATE", group, previous=previous))
            try:
                await repository.update_group_queueing(conn, values, delta, events)
            except repository.DisplayNameTaken:
                raise ServiceError("UNIQUENESS", f"displayName {display_name!r} is already in use") from None
            entry.changed_attributes = ([_SCIM_NAMES[key] for key in previous if key in _SCIM_NAMES] + [*changed_extensions]
                                        + (["members"] if added or removed else []))
            await entry.record(conn)
        return group

    @staticmethod
    async def _run_step(conn, organization_id: str, group_id: str,
                        step: MembershipStep) -> tuple[list[str], list[str]]:
        ids = list(step.member_ids)
        if step.kind == "add":
            return await repository.add_members(conn, organization_id, group_id, ids), []
        if step.kind == "remove":
            return [], await repository.remove_members(conn, organization_id, group_id, ids)
        if step.kind == "clear":
            return [], await repository.remove_members(conn, organization_id, group_id, None)
        return await repository.replace_members(conn, organization_id, group_id, ids)

    async def UpdateGroup(self, request: pb.UpdateGroupRequest, context: grpc.aio.ServicerContext):
        plan = GroupPatchPlan(
            display_name=request.display_name, external_id=request.external_id or None,
            steps=(MembershipStep("replace", tuple(_member_ids(request.member_ids))),),
        )
        extensions = None
        if request.HasField("scim_attributes_json"):
            extensions = _extension_values(await self._extensions.group_type(), request.scim_attributes_json)
        return pb.UpdateGroupResponse(group=await self._apply_plan(
            context, "replace", request.group_id, request.etag, plan, extensions))

    async def PatchGroup(self, request: pb.PatchGroupRequest, context: grpc.aio.ServicerContext):
        group_type = await self._extensions.group_type()
        plan = plan_group_patch(parse_json_object(request.patch_json or "{}", "patch_json"), group_type)
        return pb.PatchGroupResponse(group=await self._apply_plan(context, "patch", request.group_id, request.etag, plan))

    async def AddGroupMembers(self, request: pb.AddGroupMembersRequest, context: grpc.aio.ServicerContext):
        plan = GroupPatchPlan(steps=(MembershipStep("add", tuple(_member_ids(request.member_ids))),))
        return pb.AddGroupMembersResponse(group=await self._apply_plan(context, "add_members", request.group_id, "", plan))

    async def RemoveGroupMembers(self, request: pb.RemoveGroupMembersRequest, context: grpc.aio.ServicerContext):
        plan = GroupPatchPlan(steps=(MembershipStep("remove", tuple(_member_ids(request.member_ids))),))
        return pb.RemoveGroupMembersResponse(group=await self._apply_plan(context, "remove_members", request.group_id, "", plan))

    async def DeleteGroup(self, request: pb.DeleteGroupRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)

        async def delete(entry: AuditEntry) -> None:
            async with self._db(tenant).acquire() as conn, conn.transaction():
                row = await repository.get_group(conn, tenant.organization_id, tenant.connection_id, request.group_id, lock=True)
                if row is None:
                    raise ServiceError("NOT_FOUND", f"group {request.group_id!r} not found")
                if request.etag and request.etag != str(row["version"]):
                    raise ServiceError("ETAG_MISMATCH", "the group has changed since the given version")
                removed = await repository.remove_members(conn, tenant.organization_id, request.group_id, None)
                updated = await repository.update_group(
                    conn, tenant.organization_id, request.group_id, display_name=row["display_name"], external_id=row["external_id"],
                    member_delta=-len(removed), status="deleted",
                )
                await enqueue_all(conn, [self._group_event(tenant, GROUP_DELETE, "DELETE", group_from_row(updated))])
                await entry.record(conn)

        await audited(self._db(tenant), AuditEntry(tenant, "delete", "Group", request.group_id), delete)
        return pb.DeleteGroupResponse()


def _within_member_budget(rows: list, budget: int) -> list:
    """The first rows whose members fit the budget (at least one); all of them without a budget."""
    if not budget:
        return rows
    kept, members = [], 0
    for row in rows:
        members += row["member_count"]
        if kept and members > budget:
            break
        kept.append(row)
    return kept
