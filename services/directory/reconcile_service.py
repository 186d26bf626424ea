"""Reconciliation (a mixin of DirectoryServicer): an app that lost events
says which members it holds in a range of ids, with their etags; the answer
is what differs, and on request the events that bring the app up to date.

Stateless and range-based: the app walks its members in id order (as byte
strings) a page at a time, each page naming the range it covers, so no page
needs the others and a walk may stop and resume anywhere.

Each page reads the organization's live members past `after` and sorts them
(no index orders an organization's members by id: one would compete with the
userName index in the planner): fine for an occasional reconcile; a
directory of millions reconciled often would want one."""

from __future__ import annotations

import grpc
from scimd.directory.v1 import directory_service_pb2 as pb

from runtime.errors import ServiceError
from runtime.event_catalog import MEMBER_DELETE, MEMBER_UPDATE
from runtime.grpc_server import tenant_of
from runtime.outbox import enqueue_all
from services.directory.mapping import member_from_row
from services.directory.repository import READ_COLUMNS

MAX_MEMBERS = 1000
RECONCILE_SOURCE = "RECONCILE"


class ReconcileRpcs:
    """Needs `_db` and `_queued`."""

    async def DiffMembers(self, request: pb.DiffMembersRequest, context: grpc.aio.ServicerContext):
        tenant = tenant_of(context)
        if len(request.members) > MAX_MEMBERS:
            raise ServiceError("INVALID_VALUE", f"at most {MAX_MEMBERS} members per page")
        after, through = request.after, request.through
        if through and through.encode() <= after.encode():
            raise ServiceError("INVALID_VALUE", "through must come after after")
        held = {}
        for member in request.members:
            in_range = member.member_id.encode() > after.encode() and (
                not through or member.member_id.encode() <= through.encode())
            if not in_range:
                raise ServiceError("INVALID_VALUE", f"member {member.member_id!r} is outside the page's range")
            held[member.member_id] = member.etag
        async with self._db(tenant).acquire() as conn, conn.transaction():
            live = await conn.fetch(
                f"SELECT {READ_COLUMNS} FROM members"
                " WHERE organization_id = $1 AND status <> 'deleted' AND (member_id COLLATE \"C\") > $2"
                "   AND ($3 = '' OR (member_id COLLATE \"C\") <= $3)"
                " ORDER BY (member_id COLLATE \"C\") LIMIT $4",
                tenant.organization_id, after, through, MAX_MEMBERS + 1,
            )
            compared_through = through
            if len(live) > MAX_MEMBERS:
                live = live[:MAX_MEMBERS]
                compared_through = live[-1]["member_id"]
                held = {m: e for m, e in held.items() if m.encode() <= compared_through.encode()}
            response = pb.DiffMembersResponse(compared_through=compared_through)
            events = []
            for row in live:
                etag = str(row["version"])
                if row["member_id"] not in held:
                    response.missing.add(member_id=row["member_id"], etag=etag)
                elif held[row["member_id"]] != etag:
                    response.stale.add(member_id=row["member_id"], etag=etag)
                else:
                    continue
                if request.re_emit:
                    events.append(self._reconciled(tenant, MEMBER_UPDATE, "UPDATE", row))
            live_ids = {row["member_id"] for row in live}
            response.extra.extend(sorted(m for m in held if m not in live_ids))
            if request.re_emit and response.extra:
                for row in await conn.fetch(
                    f"SELECT {READ_COLUMNS} FROM members WHERE organization_id = $1 AND member_id = ANY($2::text[])"
                    " AND status = 'deleted'", tenant.organization_id, list(response.extra)):
                    events.append(self._reconciled(tenant, MEMBER_DELETE, "DELETE", row))
            await enqueue_all(conn, events)
            response.re_emitted = len(events)
        return response

    def _reconciled(self, tenant, event_type: str, action: str, row):
        queued = self._queued(tenant, event_type, action, member_from_row(row))
        queued.event.source = RECONCILE_SOURCE
        return queued
