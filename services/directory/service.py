"""The DirectoryService RPCs. The tenant comes from call metadata only."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

import asyncpg
import grpc
import orjson
from scimd.directory.v1 import directory_service_pb2 as pb
from scimd.directory.v1 import directory_service_pb2_grpc as pb_grpc
from scimd.directory.v1 import member_pb2

from runtime.context import Tenant
from runtime.errors import ServiceError
from runtime.event_catalog import GROUP_MEMBER_DELETE, MEMBER_CREATE, MEMBER_DELETE, MEMBER_UPDATE
from runtime.events import EventStream
from runtime.fairness import TenantSlots
from runtime.grpc_server import tenant_of
from runtime.ids import new_id
from runtime.json_input import parse_json_object
from runtime.outbox import QueuedEvent, enqueue_all, new_event
from runtime.paging import (
    decode_page_token,
    encode_page_token,
    page_size,
)
from runtime.tenant_scope import OrganizationScope, TenantPool
from runtime.timestamps import to_timestamp
from scim.extensions import UniqueValue, unique_values
from scim.filter import FilterError, parse_filter
from scim.patch import apply_patch
from scim.schema import ResourceType
from scim.users import normalize_user
from services.directory import group_repository, repository
from services.directory.attribute_mapping import Evaluator, MappingError, changed_values, containment
from services.directory.attribute_mapping_apply import MappingApplier
from services.directory.attribute_mapping_service import AttributeMappingRpcs
from services.directory.audit import AuditEntry, audited
from services.directory.audit import list_entries as list_audit_entries
from services.directory.custom_attributes import CustomAttributes
from services.directory.custom_fields import CustomFieldRegistry
from services.directory.deprovision_guard import GuardPolicy, StatusChange, status_change
from services.directory.deprovision_service import DeprovisionRpcs
from services.directory.filter_sql import SqlParams, compile_filter, sort_expression
from services.directory.group_service import GroupRpcs, group_from_row
from services.directory.keyset import Position, position_of
from services.directory.mapping import email_address_of, member_from_row, name_of, status_of
from services.directory.reconcile_service import ReconcileRpcs
from services.directory.request_log_service import RequestLogRpcs
from services.directory.schema_extension_service import SchemaExtensionRpcs
from services.directory.schema_extensions import ExtensionRegistry
from services.directory.seen_attributes import SeenAttributeRecorder, seen_paths
from services.directory.uniqueness import claim_unique_values

SCHEMA = "directory"

# A write: the member's new columns (_member_fields) from its stored row.
Change = Callable[[asyncpg.Record], Awaitable[dict[str, Any]]]


def _member_fields(attributes: dict[str, Any], user_type: ResourceType, reject_undeclared: bool) -> dict[str, Any]:
    """The member columns derived from validated SCIM attributes, what no
    schema declares included (or refused)."""
    user = normalize_user(attributes, resource_type=user_type, reject_undeclared=reject_undeclared)
    return {
        "user_name": user.user_name,
        "external_id": user.external_id or None,
        "email_address": email_address_of(user.attributes, user.user_name),
        "name": name_of(user.attributes),
        "status": status_of(user.attributes),
        "scim_attributes": user.attributes,
        "undeclared_attributes": user.undeclared or None,
    }


def _previous_attributes(before: asyncpg.Record, after: dict[str, Any]) -> str:
    """What changed, with the values it had before (WorkOS-style previous_attributes)."""
    old, new = before["scim_attributes"], after["scim_attributes"]
    changed_scim = {key: old.get(key) for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
    previous: dict[str, Any] = {
        field: before[field] for field in ("email_address", "name", "status") if before[field] != after[field]
    }
    if changed_scim:
        previous["scim_attributes"] = changed_scim
    old_undeclared, new_undeclared = before["undeclared_attributes"] or {}, after["undeclared_attributes"] or {}
    changed_undeclared = {key: old_undeclared.get(key) for key in old_undeclared.keys() | new_undeclared.keys()
                          if old_undeclared.get(key) != new_undeclared.get(key)}
    if changed_undeclared:
        previous["undeclared_attributes"] = changed_undeclared
    changed_custom = changed_values(before["custom_attributes"], after["custom_attributes"])
    if changed_custom:
        previous["custom_attributes"] = changed_custom
    return orjson.dumps(previous).decode()


def _attributes_of(registration: member_pb2.ScimRegistration) -> dict[str, Any]:
    attributes = parse_json_object(registration.scim_attributes_json or "{}", "scim_attributes_json")
    if registration.user_name:
        attributes = {k: v for k, v in attributes.items() if k.lower() != "username"} | {"userName": registration.user_name}
    return attributes


def _check_etag(row: asyncpg.Record, etag: str) -> None:
    if etag and etag != str(row["version"]):
        raise ServiceError("ETAG_MISMATCH", "the resource has changed since the given version")


# How many times an unlocked update is retried after losing a race before
# writers line up on the row lock instead.
OPTIMISTIC_ATTEMPTS = 3
BATCH_GET_MAX = 1000


# What `_apply` answers when the write deprovisions a member (or releases a
# held deprovision): that is decided inside a transaction, under the connection's lock.
_NEEDS_TRANSACTION = object()


def _in_transaction(executor: Any) -> bool:
    return isinstance(executor, asyncpg.Connection) and executor.is_in_transaction()


# PATCHes past these bounds are computed off the event loop. apply_patch's cost grows with the
# operations, the size of their values, and the multi-valued items a value filter walks; within
# them it takes microseconds, less than a thread's hand-off.
_CHEAP_PATCH_OPERATIONS = 10
_CHEAP_PATCH_BYTES = 8192
_CHEAP_MULTI_VALUED_ITEMS = 200


def _may_be_costly(patch_json: str, body: dict[str, Any], attributes: dict[str, Any]) -> bool:
    """Whether applying the PATCH to a member with these attributes might take long."""
    operations = next((v for k, v in body.items() if isinstance(k, str) and k.lower() == "operations"), None)
    if not isinstance(operations, list) or len(operations) > _CHEAP_PATCH_OPERATIONS:
        return True
    if len(patch_json) > _CHEAP_PATCH_BYTES:
        return True
    return sum(len(value) for value in attributes.values() if isinstance(value, list)) > _CHEAP_MULTI_VALUED_ITEMS


class DirectoryServicer(GroupRpcs, DeprovisionRpcs, RequestLogRpcs, ReconcileRpcs, SchemaExtensionRpcs,
                        AttributeMappingRpcs, pb_grpc.DirectoryServiceServicer):
    _schema = SCHEMA

    def __init__(self, pool: TenantPool, stream: EventStream, project_id: str,
                 guard_default: GuardPolicy | None = None):
        self._pool = pool
        self._stream = stream
        self._project_id = project_id
        self._guard_default = guard_default or GuardPolicy()
        # One PATCH computation per organization at a time: a tenant's heavy PATCHes
        # queue behind each other instead of taking every thread from the others.
        self._patch_slots = TenantSlots(1)
        self._extensions = ExtensionRegistry(pool.shared)
        self._seen = SeenAttributeRecorder()
        self._custom_fields = CustomFieldRegistry(pool.shared)
        self._custom = CustomAttributes(pool, self._custom_fields, self._extensions)
        self._applier = MappingApplier(pool, self._custom, self._queued)

    def _db(self, tenant: Tenant) -> OrganizationScope:
        """The database as the calling organization sees it (row-level security)."""
        return self._pool.of(tenant.organization_id)

    def _queued(self, tenant: Tenant, event_type: str, action: str, member: member_pb2.Member,
                previous_json: str = "") -> QueuedEvent:
        event = new_event(event_type, action, project_id=self._project_id, organization_id=tenant.organization_id)
        event.member_changed.member.CopyFrom(member)
        event.member_changed.previous_attributes_json = previous_json
        return QueuedEvent(self._stream, SCHEMA, event)

    @property
    def extensions(self) -> ExtensionRegistry:
        """The vendor's schema extensions, as this process has them."""
        return self._extensions

    async def CreateMember(self, request: pb.CreateMemberRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        if not tenant.connection_id:
            raise ServiceError("PERMISSION_DENIED", "members are created on behalf of a SCIM connection")
        now = datetime.now(timezone.utc)
        user_type = await self._extensions.user_type()
        fields = _member_fields(_attributes_of(request.scim_registration), user_type, request.reject_undeclared)
        evaluator = await self._custom.evaluator(tenant.organization_id, tenant.connection_id)
        values = {
            "member_id": new_id("member"),
            "organization_id": tenant.organization_id,
            "connection_id": tenant.connection_id,
            "registration_id": new_id("scim-registration"),
            **fields,
            "custom_attributes": evaluator.compute(fields["scim_attributes"], fields["undeclared_attributes"]),
            "custom_attributes_version": evaluator.version,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        member = member_from_row(values)
        entry = AuditEntry(tenant, "create", "User", values["member_id"], list(values["scim_attributes"]))
        claims = unique_values(user_type, values["scim_attributes"])

        async def create(entry: AuditEntry) -> None:
            queued = self._queued(tenant, MEMBER_CREATE, "CREATE", member)
            try:
                if claims:
                    async with self._db(tenant).acquire() as conn, conn.transaction():
                        await claim_unique_values(conn, tenant.organization_id, tenant.connection_id,
                                                  values["member_id"], claims)
                        await repository.insert_member(conn, values, queued, entry.cte)
                else:
                    await repository.insert_member(self._db(tenant), values, queued, entry.cte)
            except repository.UserNameTaken:
                raise ServiceError("UNIQUENESS", f"userName {values['user_name']!r} is already in use") from None
            entry.written = True

        await audited(self._db(tenant), entry, create)
        await self._record_seen(tenant, user_type, member)
        return pb.CreateMemberResponse(member=member)

    async def _new_unique_values(self, row: asyncpg.Record, fields: dict[str, Any]) -> list[UniqueValue]:
        """The values declared unique that this write gives the member anew."""
        user_type = await self._extensions.user_type()
        before = set(unique_values(user_type, row["scim_attributes"]))
        return [value for value in unique_values(user_type, fields["scim_attributes"]) if value not in before]

    async def _record_seen(self, tenant: Tenant, user_type: ResourceType, member: member_pb2.Member) -> None:
        registration = member.scim_registration
        undeclared = orjson.loads(registration.undeclared_attributes_json or "{}")
        paths = seen_paths(user_type, orjson.loads(registration.scim_attributes_json), undeclared)
        await self._seen.record(self._db(tenant), tenant.organization_id, tenant.connection_id, paths)

    async def GetMember(self, request: pb.GetMemberRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        idp = request.view == pb.MEMBER_VIEW_IDENTITY_PROVIDER
        row = await repository.get_member(self._db(tenant), tenant.organization_id, tenant.connection_id,
                                          request.member_id, repository.IDENTITY_PROVIDER if idp else repository.EFFECTIVE)
        if row is None:
            raise ServiceError("NOT_FOUND", f"member {request.member_id!r} not found")
        return pb.GetMemberResponse(member=member_from_row(row, as_the_idp_sees_it=idp))

    async def BatchGetMembers(self, request: pb.BatchGetMembersRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        if len(request.member_ids) > BATCH_GET_MAX:
            raise ServiceError("INVALID_VALUE", f"at most {BATCH_GET_MAX} member ids per call")
        rows = await repository.get_members(
            self._db(tenant), tenant.organization_id, tenant.connection_id, list(dict.fromkeys(request.member_ids))
        )
        return pb.BatchGetMembersResponse(members=[member_from_row(r) for r in rows])

    async def _change(self, context, operation: str, member_id: str, etag: str, change: Change) -> member_pb2.Member:
        """Applies `change` so that concurrent writers never lose
        an update: an unlocked read and a version-checked write, retried a few
        times, then the same under the row lock."""
        tenant = tenant_of(context)

        idp = repository.IDENTITY_PROVIDER  # SCIM writes see what the IdP wrote
        # Read before any transaction: inside one, a second pooled connection could wait for a pool
        # its peers fill (see _apply).
        evaluator = await self._custom.evaluator(tenant.organization_id, tenant.connection_id)

        async def attempts(entry: AuditEntry) -> member_pb2.Member:
            for _ in range(OPTIMISTIC_ATTEMPTS):
                row = await repository.get_member(self._db(tenant), tenant.organization_id, tenant.connection_id,
                                                  member_id, idp)
                applied = await self._apply(self._db(tenant), tenant, row, member_id, etag, change, entry,
                                            evaluator)
                if applied is _NEEDS_TRANSACTION:
                    break
                if applied is not None:
                    return applied[0]
            async with self._db(tenant).acquire() as conn, conn.transaction():
                row = await repository.lock_member(conn, tenant.organization_id, tenant.connection_id, member_id, idp)
                applied = await self._apply(conn, tenant, row, member_id, etag, change, entry, evaluator)
            if applied is None:  # unreachable while the lock is held
                raise ServiceError("UNAVAILABLE", "the member is being changed concurrently; retry")
            return applied[0]

        return await audited(self._db(tenant), AuditEntry(tenant, operation, "User", member_id), attempts)

    async def _apply(self, executor, tenant: Tenant, row: asyncpg.Record | None, member_id: str, etag: str,
                     change: Change | None, entry: AuditEntry,
                     evaluator: Evaluator | None = None) -> tuple[member_pb2.Member, StatusChange] | Any:
        """One attempt at a change (None: delete): the member as its IdP now
        sees it, and what the write did to its status. None when another
        writer got there first; _NEEDS_TRANSACTION when the write deprovisions
        the member (or releases a held deprovision), or gives it a value
        declared unique, outside a transaction.
        `evaluator` computes a change's custom attributes."""
        if row is None:
            raise ServiceError("NOT_FOUND", f"member {member_id!r} not found")
        _check_etag(row, etag)
        if change is None:
            fields = {key: row[key] for key in ("user_name", "external_id", "email_address", "name", "scim_attributes")}
            fields["status"] = "deleted"
            custom_version = row["custom_attributes_version"]
        else:
            fields = await change(row)
            if evaluator.version < row["custom_attributes_version"] and not _in_transaction(executor):
                # A newer mapping computed the stored values: this process's is stale. (In a
                # transaction the background apply mends what a stale one writes.)
                evaluator = await self._custom.evaluator(row["organization_id"], row["connection_id"],
                                                         at_least=row["custom_attributes_version"])
            fields["custom_attributes"] = evaluator.compute(fields["scim_attributes"], fields["undeclared_attributes"])
            custom_version = evaluator.version
        decision = status_change(row["status"], row["scim_status"], fields["status"])
        claims = await self._new_unique_values(row, fields) if change is not None else []
        if (decision.deprovision or decision.releases_hold or claims) and not _in_transaction(executor):
            return _NEEDS_TRANSACTION
        if claims:
            await claim_unique_values(executor, row["organization_id"], row["connection_id"], member_id, claims)
        events = []
        if decision.deprovision:
            decision, held_event = await self._guarded(executor, tenant, row, decision)
            events += [held_event] if held_event else []
        elif decision.releases_hold:
            await self._release(executor, tenant, row["member_id"])
        fields["status"], fields["scim_status"] = decision.status, decision.scim_status
        if change is not None and all(row[key] == value for key, value in fields.items()):
            return member_from_row(row, as_the_idp_sees_it=True), decision  # nothing changed: same version, no event
        values = {**dict(row), **fields, "custom_attributes_version": custom_version, "version": row["version"] + 1,
                  "updated_at": datetime.now(timezone.utc)}
        if decision.deprovision and decision.scim_status:
            entry.detail = f"held by the deprovision guard ({decision.deprovision})"  # and no member event
        elif decision.status == "deleted":
            events.append(self._queued(tenant, MEMBER_DELETE, "DELETE", member_from_row(values)))
        else:
            events.append(self._queued(tenant, MEMBER_UPDATE, "UPDATE", member_from_row(values),
                                       _previous_attributes(row, fields)))
        before, after = row["scim_attributes"], fields["scim_attributes"]
        entry.changed_attributes = [k for k in before.keys() | after.keys() if before.get(k) != after.get(k)]
        try:
            written = await repository.update_member(executor, values, row["version"], events, entry.cte)
        except repository.UserNameTaken:
            raise ServiceError("UNIQUENESS", f"userName {fields['user_name']!r} is already in use") from None
        entry.written = written is not None
        return (member_from_row(values, as_the_idp_sees_it=True), decision) if written is not None else None

    async def UpdateMember(self, request: pb.UpdateMemberRequest, context: grpc.aio.ServicerContext):
        replacement = _attributes_of(request.scim_registration)
        user_type = await self._extensions.user_type()

        async def replace(_row: asyncpg.Record) -> dict[str, Any]:
            return _member_fields(replacement, user_type, request.reject_undeclared)

        member = await self._change(context, "replace", request.member_id, request.etag, replace)
        await self._record_seen(tenant_of(context), user_type, member)
        return pb.UpdateMemberResponse(member=member)

    async def PatchMember(self, request: pb.PatchMemberRequest, context: grpc.aio.ServicerContext):
        body = parse_json_object(request.patch_json or "{}", "patch_json")

        organization = tenant_of(context).organization_id
        user_type = await self._extensions.user_type()

        async def patched(row: asyncpg.Record) -> dict[str, Any]:
            attributes = dict(row["scim_attributes"])
            patch = functools.partial(apply_patch, attributes, body, user_type,
                                      row["undeclared_attributes"] or {}, refuse_undeclared=request.reject_undeclared)
            if not _may_be_costly(request.patch_json, body, attributes):
                result = patch()  # microseconds: a thread would cost more
            else:
                # Bounded, but up to a tenth of a second of CPU: off the event loop, which serves every tenant.
                async with self._patch_slots.slot(organization):
                    result = await asyncio.to_thread(patch)
            fields = _member_fields(result.attributes, user_type, request.reject_undeclared)
            fields["undeclared_attributes"] = result.undeclared or None
            return fields

        member = await self._change(context, "patch", request.member_id, request.etag, patched)
        return pb.PatchMemberResponse(member=member)

    async def DeleteMember(self, request: pb.DeleteMemberRequest, context: grpc.aio.ServicerContext):
        """Deletes the member and takes it out of every group, in one transaction."""
        tenant = tenant_of(context)

        async def delete(entry: AuditEntry) -> None:
            async with self._db(tenant).acquire() as conn, conn.transaction():
                row = await repository.lock_member(conn, tenant.organization_id, tenant.connection_id,
                                                   request.member_id, repository.IDENTITY_PROVIDER)
                _, decision = await self._apply(conn, tenant, row, request.member_id, request.etag, None, entry)
                if decision.status == "deleted":  # not held
                    await self._leave_every_group(conn, tenant, request.member_id)

        await audited(self._db(tenant), AuditEntry(tenant, "delete", "User", request.member_id), delete)
        return pb.DeleteMemberResponse()

    async def _leave_every_group(self, conn: asyncpg.Connection, tenant: Tenant, member_id: str) -> None:
        """A deleted member leaves its groups, each with its event (inside the deletion's transaction)."""
        groups = await group_repository.remove_member_everywhere(conn, tenant.organization_id, member_id)
        await enqueue_all(conn, [
            self._group_event(tenant, GROUP_MEMBER_DELETE, "UPDATE", group_from_row(g), [member_id])
            for g in groups
        ])

    async def ListMembers(self, request: pb.ListMembersRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        limit = page_size(request.page_size)
        if request.skip < 0:
            raise ServiceError("INVALID_VALUE", "skip must not be negative")
        params = SqlParams(start=repository.SCOPE_PARAMETERS)
        try:
            user_type = await self._extensions.user_type()
            filter_sql = (compile_filter(parse_filter(request.filter, user_type), params, user_type)
                          if request.filter.strip() else "")
            if request.custom_attributes:
                custom_sql = await self._custom_filter(dict(request.custom_attributes), params)
                filter_sql = f"({filter_sql}) AND {custom_sql}" if filter_sql else custom_sql
            filter_params = tuple(params.values)
            order_sql = sort_expression(request.order_by, params, user_type) if request.order_by else ""
        except FilterError as error:
            raise ServiceError("INVALID_FILTER", str(error)) from None
        idp = request.view == pb.MEMBER_VIEW_IDENTITY_PROVIDER
        query = repository.MemberQuery(
            organization_id=tenant.organization_id,
            connection_id=tenant.connection_id,
            show_deleted=request.show_deleted,
            view=repository.IDENTITY_PROVIDER if idp else repository.EFFECTIVE,
            filter_sql=filter_sql,
            filter_params=filter_params,
            order_sql=order_sql,
            order_params=tuple(params.values[len(filter_params):]),
            descending=request.descending,
            after=position_of(request.page_token, sorted_by=bool(order_sql)),
            offset=request.skip,
            limit=limit + 1,
        )
        if request.total_size_only:
            return pb.ListMembersResponse(total_size=await repository.count_members(self._db(tenant), query))
        rows, total = await repository.list_members(self._db(tenant), query)
        page, more = rows[:limit], len(rows) > limit
        next_token = ""
        if more and not request.skip:
            last = page[-1]
            next_token = Position(last["created_at"], last["member_id"], bool(order_sql),
                                  last["sort_key"] if order_sql else None).token()
        return pb.ListMembersResponse(
            members=[member_from_row(r, as_the_idp_sees_it=idp) for r in page], next_page_token=next_token,
            total_size=total,
        )

    async def _custom_filter(self, wanted: dict[str, str], params: SqlParams) -> str:
        """The SQL of ListMembers' filter by custom attributes."""
        try:
            contained = containment(wanted, await self._custom.fields())
        except MappingError as error:
            raise ServiceError("INVALID_VALUE", str(error)) from None
        return f"custom_attributes @> {params.add(contained)}::jsonb"

    async def ListAuditEntries(self, request: pb.ListAuditEntriesRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        limit = page_size(request.page_size)
        key = decode_page_token(request.page_token, 1)
        if key is not None and not isinstance(key[0], int):
            raise ServiceError("INVALID_PAGE_TOKEN", "page_token is not valid")
        rows = await list_audit_entries(self._db(tenant), tenant.organization_id, key[0] if key else None, limit + 1)
        page, more = rows[:limit], len(rows) > limit
        return pb.ListAuditEntriesResponse(
            entries=[
                pb.AuditEntry(
                    audit_id=r["audit_id"], connection_id=r["connection_id"], token_id=r["token_id"],
                    request_id=r["request_id"], operation=r["operation"], resource_type=r["resource_type"],
                    resource_id=r["resource_id"], changed_attributes=r["changed_attributes"], result=r["result"],
                    detail=r["detail"], create_time=to_timestamp(r["created_at"]),
                )
                for r in page
            ],
            next_page_token=encode_page_token([page[-1]["audit_id"]]) if more else "",
        )
