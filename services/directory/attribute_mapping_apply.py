"""A connection's members brought to its attribute mapping after a change,
in the background, and the preview of a change before it is made.

The apply walks the connection's live members whose custom attributes an
older mapping computed, BATCH at a time, each batch one transaction: the
members locked, their values computed, those whose values change written
with a new version and their scim.member.update event (source API, with
previous_attributes.custom_attributes), the others only stamped with the
mapping's version. One process applies a connection's mapping at a time (a
lease on its row, renewed with every batch); when it dies, another takes
over once the lease ends, and resumes where it was, since what is done is
stamped. A mapping changed meanwhile supersedes the apply, which starts over
with the new one.

Other processes may write members with the older mapping for up to
REFRESH_SECONDS after the change (custom_attributes.py), so the apply walks
again until none is older and that time has passed."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import asyncpg
import orjson
from scimd.directory.v1 import member_pb2

from runtime.context import Tenant, deadline_var
from runtime.event_catalog import MEMBER_UPDATE
from runtime.ids import new_id
from runtime.outbox import QueuedEvent, enqueue_all
from runtime.tenant_scope import TenantPool
from services.directory import attribute_mapping_repository as mappings
from services.directory.attribute_mapping import Evaluator, changed_values, stored_mapping
from services.directory.custom_attributes import REFRESH_SECONDS, CustomAttributes
from services.directory.mapping import member_from_row

log = logging.getLogger(__name__)

BATCH = 500
PREVIEW_BATCH = 1000
LEASE_SECONDS = 30.0
# Past this, no process computes with the mapping before the change (plus a
# margin for a write that read the older mapping just before).
SETTLE_SECONDS = REFRESH_SECONDS + 1.0
# Walks of one version; more only while other processes keep writing with an older mapping.
MAX_PASSES = 20
# Versions one run applies in a row (a newer mapping supersedes the one being applied).
MAX_ROUNDS = 10

# (tenant, event type, action, member, previous_attributes JSON) → the event to queue.
QueueEvent = Callable[[Tenant, str, str, member_pb2.Member, str], QueuedEvent]


class Superseded(Exception):
    """The mapping changed, or another process took the apply over."""


@dataclass(frozen=True)
class Change:
    member_id: str
    user_name: str
    previous: dict[str, Any]
    current: dict[str, Any]


@dataclass(frozen=True)
class Preview:
    changes: list[Change]
    changed_count: int
    member_count: int


async def preview(pool: TenantPool, tenant: Tenant, evaluator: Evaluator, limit: int) -> Preview:
    """What `evaluator`'s mapping would change: the first `limit` members whose
    values differ from those stored (creation order), how many differ, of how many."""
    db = pool.of(tenant.organization_id)
    changes: list[Change] = []
    changed = compared = 0
    after = None
    while True:
        rows = await mappings.live_members(db, tenant.organization_id, tenant.connection_id, after, PREVIEW_BATCH)
        for row in rows:
            stored = row["custom_attributes"]
            computed = evaluator.compute(row["scim_attributes"], row["undeclared_attributes"])
            previous = changed_values(stored, computed)
            if previous:
                changed += 1
                if len(changes) < limit:
                    changes.append(Change(row["member_id"], row["user_name"], previous,
                                          {key: computed.get(key) for key in previous}))
        compared += len(rows)
        if len(rows) < PREVIEW_BATCH:
            return Preview(changes, changed, compared)
        after = (rows[-1]["created_at"], rows[-1]["member_id"])


class MappingApplier:
    def __init__(self, pool: TenantPool, custom: CustomAttributes, queued: QueueEvent):
        self._pool = pool
        self._custom = custom
        self._queued = queued
        self._owner = new_id("mapping-apply")
        self._tasks: dict[tuple[str, str], asyncio.Task] = {}

    def start(self, tenant: Tenant) -> None:
        """Applies the connection's mapping in the background, unless this process already is."""
        key = (tenant.organization_id, tenant.connection_id)
        if key in self._tasks:
            return
        # It outlives the call that starts it: its request id (on the events), not its deadline.
        context = contextvars.copy_context()
        context.run(deadline_var.set, None)
        task = asyncio.create_task(self.run(tenant), name=f"mapping-apply-{tenant.connection_id}", context=context)
        self._tasks[key] = task
        task.add_done_callback(lambda _: self._tasks.pop(key, None))

    async def resume_due(self) -> None:
        """Starts the applies that are due: never finished, and no process's now."""
        for due in await mappings.due(self._pool.shared):
            self.start(Tenant(due["organization_id"], due["connection_id"]))

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def run(self, tenant: Tenant) -> None:
        db = self._pool.of(tenant.organization_id)
        try:
            for _ in range(MAX_ROUNDS):
                claimed = await mappings.claim(db, tenant.organization_id, tenant.connection_id, self._owner,
                                               LEASE_SECONDS)
                if claimed is None:
                    return  # done, or another process's
                try:
                    await self._apply(tenant, claimed)
                except Superseded:
                    continue
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):  # another process may take over at once
                await asyncio.wait_for(mappings.release(db, tenant.organization_id, tenant.connection_id,
                                                        self._owner), 2)
            raise
        except Exception as error:
            # The lease ends; the next resume_due (here or elsewhere) starts over where this stopped.
            log.warning("attribute mapping apply failed; will resume", extra={"error": repr(error)})

    async def _apply(self, tenant: Tenant, claimed: asyncpg.Record) -> None:
        organization_id, connection_id, version = tenant.organization_id, tenant.connection_id, claimed["version"]
        db = self._pool.of(organization_id)
        evaluator = await self._custom.compiled(stored_mapping(claimed["definition"], await self._custom.fields()),
                                                version)
        if claimed["apply_total"] is None:
            total = await mappings.count_stale(db, organization_id, connection_id, version)
            await mappings.start_counting(db, organization_id, connection_id, version, total)
        for _ in range(MAX_PASSES):
            walked = await self._walk(tenant, evaluator)
            wait = await mappings.settle_wait(db, organization_id, connection_id, version, self._owner,
                                              SETTLE_SECONDS)
            if wait is None:
                raise Superseded()
            if not walked and wait == 0:
                if await mappings.finish(db, organization_id, connection_id, version, self._owner):
                    return
                raise Superseded()
            await asyncio.sleep(min(wait, SETTLE_SECONDS))  # until other processes compute with this version
        raise Superseded()  # still older members after every pass: start over

    async def _walk(self, tenant: Tenant, evaluator: Evaluator) -> int:
        """One walk over the members an older mapping computed; how many it brought up to date."""
        walked, after = 0, None
        while True:
            rows = await self._batch(tenant, evaluator, after)
            if not rows:
                return walked
            walked += len(rows)
            after = (rows[-1]["created_at"], rows[-1]["member_id"])

    async def _batch(self, tenant: Tenant, evaluator: Evaluator, after) -> list[asyncpg.Record]:
        organization_id, connection_id, version = tenant.organization_id, tenant.connection_id, evaluator.version
        async with self._pool.of(organization_id).acquire() as conn, conn.transaction():
            rows = await mappings.lock_stale_members(conn, organization_id, connection_id, version, after, BATCH)
            if not rows:
                return rows
            now = datetime.now(timezone.utc)
            unchanged: list[str] = []
            changed: dict[str, dict[str, Any]] = {}
            events = []
            for row in rows:
                computed = evaluator.compute(row["scim_attributes"], row["undeclared_attributes"])
                previous = changed_values(row["custom_attributes"], computed)
                if not previous:
                    unchanged.append(row["member_id"])
                    continue
                changed[row["member_id"]] = computed
                values = {**dict(row), "custom_attributes": computed, "custom_attributes_version": version,
                          "version": row["version"] + 1, "updated_at": now}
                queued = self._queued(tenant, MEMBER_UPDATE, "UPDATE", member_from_row(values),
                                      orjson.dumps({"custom_attributes": previous}).decode())
                queued.event.source = "API"
                events.append(queued)
            await mappings.write_custom_attributes(conn, organization_id, version, unchanged, changed, now)
            await enqueue_all(conn, events)
            if not await mappings.record_progress(conn, organization_id, connection_id, version, self._owner,
                                                  len(rows), len(changed), LEASE_SECONDS):
                raise Superseded()  # rolls the batch back
        return rows
