"""The mass-deprovision guard's RPCs, and its decision inside a member write
(a mixin of DirectoryServicer; the rules are in deprovision_guard.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import asyncpg
import grpc
import orjson
from scimd.directory.v1 import directory_service_pb2 as pb

from runtime.context import Tenant
from runtime.errors import ServiceError
from runtime.event_catalog import DEPROVISION_HELD, MEMBER_DELETE, MEMBER_UPDATE
from runtime.grpc_server import tenant_of
from runtime.outbox import QueuedEvent, new_event
from runtime.timestamps import to_timestamp
from services.directory import deprovision_repository as guard_repository
from services.directory import repository
from services.directory.audit import AuditEntry
from services.directory.deprovision_guard import GuardPolicy, StatusChange, held_back
from services.directory.mapping import member_from_row

_TARGET_STATUS = {"deactivate": "deactivated", "delete": "deleted"}


def _guard_message(policy: GuardPolicy) -> pb.DeprovisionGuard:
    return pb.DeprovisionGuard(
        enabled=policy.enabled, percent=policy.percent, max_count=policy.max_count,
        window_seconds=int(policy.window.total_seconds()),
        auto_apply_seconds=int(policy.auto_apply_after.total_seconds()) if policy.auto_apply_after else 0,
        source=policy.source,
    )


def _held_message(row: asyncpg.Record) -> pb.HeldDeprovision:
    return pb.HeldDeprovision(member_id=row["member_id"], change=row["change"], hold_time=to_timestamp(row["created_at"]),
                              user_name=row["user_name"])


def _connection_of(tenant: Tenant) -> str:
    if not tenant.connection_id:
        raise ServiceError("PERMISSION_DENIED", "the deprovision guard belongs to a SCIM connection")
    return tenant.connection_id


class DeprovisionRpcs:
    """Needs `_db`, `_queued`, `_leave_every_group`, `_stream`, `_project_id` and `_guard_default`."""

    async def _policy(self, conn: asyncpg.Connection, organization_id: str, connection_id: str) -> GuardPolicy:
        own = await guard_repository.connection_guard(conn, organization_id, connection_id)
        return own if own is not None else self._guard_default

    async def _guarded(self, conn: asyncpg.Connection, tenant: Tenant, row: asyncpg.Record,
                       decision: StatusChange) -> tuple[StatusChange, QueuedEvent | None]:
        """Inside the write's transaction: lets the deprovision take effect, or
        holds it (and, for the first of an episode, raises the held event)."""
        organization_id, connection_id = row["organization_id"], row["connection_id"]
        policy = await self._policy(conn, organization_id, connection_id)
        if policy.guards:
            await guard_repository.lock_connection(conn, connection_id)
            since = datetime.now(timezone.utc) - policy.window
            applied, held, active = await guard_repository.window_counts(conn, organization_id, connection_id, since)
            allowance = policy.allowance(active, applied)
            if held or applied >= allowance:
                await guard_repository.record(conn, organization_id, connection_id, row["member_id"],
                                              decision.deprovision, "held")
                event = None if held else self._held_event(tenant, connection_id, applied, allowance, row["member_id"],
                                                           decision.deprovision)
                return held_back(decision), event
        await guard_repository.record(conn, organization_id, connection_id, row["member_id"], decision.deprovision,
                                      "applied")
        return decision, None

    async def _release(self, conn: asyncpg.Connection, tenant: Tenant, member_id: str) -> None:
        await guard_repository.release_member(conn, tenant.organization_id, member_id)

    def _held_event(self, tenant: Tenant, connection_id: str, applied: int, allowance: int, member_id: str,
                    change: str) -> QueuedEvent:
        event = new_event(DEPROVISION_HELD, "UPDATE", project_id=self._project_id, organization_id=tenant.organization_id)
        held = event.deprovision_held
        held.connection_id, held.applied_in_window, held.allowance = connection_id, applied, allowance
        held.member_id, held.change = member_id, change
        return QueuedEvent(self._stream, self._schema, event)

    async def GetDeprovisionGuard(self, request: pb.GetDeprovisionGuardRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        async with self._db(tenant).acquire() as conn:
            policy = await self._policy(conn, tenant.organization_id, _connection_of(tenant))
        return pb.GetDeprovisionGuardResponse(guard=_guard_message(policy))

    async def SetDeprovisionGuard(self, request: pb.SetDeprovisionGuardRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        connection_id = _connection_of(tenant)
        wanted = request.guard
        policy = None if request.inherit else GuardPolicy(
            enabled=wanted.enabled, percent=wanted.percent, max_count=wanted.max_count,
            window=timedelta(seconds=wanted.window_seconds or 3600),
            auto_apply_after=timedelta(seconds=wanted.auto_apply_seconds) if wanted.auto_apply_seconds else None,
            source="connection",
        )
        async with self._db(tenant).acquire() as conn:
            await guard_repository.set_connection_guard(conn, tenant.organization_id, connection_id, policy)
            policy = await self._policy(conn, tenant.organization_id, connection_id)
        return pb.SetDeprovisionGuardResponse(guard=_guard_message(policy))

    async def ListHeldDeprovisions(self, request: pb.ListHeldDeprovisionsRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        async with self._db(tenant).acquire() as conn:
            rows = await guard_repository.held(conn, tenant.organization_id, _connection_of(tenant))
        return pb.ListHeldDeprovisionsResponse(held=[_held_message(r) for r in rows])

    async def ResolveHeldDeprovisions(self, request: pb.ResolveHeldDeprovisionsRequest,
                                      context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        rows = await self.resolve_held(tenant, _connection_of(tenant), approve=request.approve)
        return pb.ResolveHeldDeprovisionsResponse(resolved=[_held_message(r) for r in rows])

    async def resolve_held(self, tenant: Tenant, connection_id: str, *, approve: bool) -> list[asyncpg.Record]:
        """Applies (in the order they were held, each with its events) or rejects
        every held deprovision of the connection, in one transaction."""
        organization_id = tenant.organization_id
        async with self._db(tenant).acquire() as conn, conn.transaction():
            await guard_repository.lock_connection(conn, connection_id)
            rows = await guard_repository.held(conn, organization_id, connection_id, lock=True)
            for held in rows:
                entry = AuditEntry(tenant, "approve_deprovision" if approve else "reject_deprovision", "User",
                                   held["member_id"], detail=held["change"])
                if approve:
                    await self._take_effect(conn, tenant, held, entry)
                if not entry.written:
                    await entry.record(conn)
            await guard_repository.resolve(conn, organization_id, [r["deprovision_id"] for r in rows],
                                           "approved" if approve else "rejected")
        return rows

    async def _take_effect(self, conn: asyncpg.Connection, tenant: Tenant, held: asyncpg.Record,
                           entry: AuditEntry) -> None:
        row = await repository.lock_member(conn, tenant.organization_id, "", held["member_id"])
        if row is None:
            return  # deleted meanwhile by an earlier held deletion
        target = _TARGET_STATUS[held["change"]]
        values = {**dict(row), "status": target, "version": row["version"] + 1,
                  "updated_at": datetime.now(timezone.utc),
                  "scim_status": None if row["scim_status"] == target else row["scim_status"]}
        member = member_from_row(values)
        if target == "deleted":
            queued = self._queued(tenant, MEMBER_DELETE, "DELETE", member)
        else:
            previous = orjson.dumps({"status": row["status"]}).decode()
            queued = self._queued(tenant, MEMBER_UPDATE, "UPDATE", member, previous)
        queued.event.source = "API"
        entry.changed_attributes = ["active"]
        await repository.update_member(conn, values, row["version"], [queued], entry.cte)
        entry.written = True
        if target == "deleted":
            await self._leave_every_group(conn, tenant, held["member_id"])

    async def apply_overdue(self, now: datetime) -> int:
        """Approves the held deprovisions of every connection whose guard applies
        them by themselves and whose first was held long enough ago."""
        applied = 0
        for due in await guard_repository.connections_held_since(self._pool.shared, now):
            tenant = Tenant(due["organization_id"], due["connection_id"])
            async with self._db(tenant).acquire() as conn:
                policy = await self._policy(conn, tenant.organization_id, tenant.connection_id)
            if policy.auto_apply_after and due["first_held_at"] <= now - policy.auto_apply_after:
                applied += len(await self.resolve_held(tenant, tenant.connection_id, approve=True))
        return applied

