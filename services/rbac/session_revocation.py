"""Ending sessions before their time, and knowing which have ended.

Revocations are written in the caller's transaction together with one
session.revoked event per member (through the rbac outbox). Every replica
keeps the ids of recently revoked sessions in memory, fed by those events
(replayed from one JWT lifetime back when it starts), so that a JWT that is
still valid by its signature is refused as soon as its session has ended.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import asyncpg
from scimd.events.v1 import event_pb2

from runtime.event_catalog import SESSION_REVOKED
from runtime.events import EventStream
from runtime.live_events import LiveEvents
from runtime.outbox import QueuedEvent, enqueue_all, new_event
from services.rbac import session_repository

SCHEMA = "rbac"
# Why sessions end (SessionsRevoked.reason).
REVOKED = "revoked"
MEMBER_INACTIVE = "member_inactive"
ROLES_LOST = "roles_lost"


class RevokedSessions:
    """Ids of sessions revoked while JWTs of theirs may still be valid."""

    def __init__(self, jwt_lifetime: timedelta):
        self._remember_seconds = jwt_lifetime.total_seconds() + 60
        self._until: dict[str, float] = {}
        self._next_prune = 0.0

    def add(self, session_ids) -> None:
        now = time.monotonic()
        for session_id in session_ids:
            self._until[session_id] = now + self._remember_seconds
        if now >= self._next_prune:
            self._until = {s: until for s, until in self._until.items() if until > now}
            self._next_prune = now + 60

    def __contains__(self, session_id: str) -> bool:
        until = self._until.get(session_id)
        return until is not None and until > time.monotonic()

    def follow(self, stream: EventStream, nats_url: str) -> LiveEvents:
        def remember(event: event_pb2.Event) -> None:
            if event.WhichOneof("payload") == "sessions_revoked":
                self.add(event.sessions_revoked.session_ids)

        return LiveEvents(stream, nats_url, SESSION_REVOKED, remember, name="revoked-sessions",
                          since=timedelta(seconds=self._remember_seconds))


class SessionRevoker:
    def __init__(self, stream: EventStream, project_id: str, jwt_lifetime: timedelta):
        self._stream = stream
        self._project_id = project_id
        self._jwt_lifetime = jwt_lifetime

    async def revoke(self, conn: asyncpg.Connection, organization_id: str, reason: str, *,
                     member_ids: list[str] | None = None, session_id: str | None = None,
                     whole_organization: bool = False) -> list[str]:
        """Revokes inside the caller's transaction; answers the session ids."""
        if whole_organization:
            rows = await session_repository.revoke_organization(conn, organization_id, reason)
        elif member_ids is not None and not member_ids:
            return []
        else:
            rows = await session_repository.revoke(
                conn, organization_id, reason, member_ids=member_ids, session_id=session_id
            )
        by_member: dict[str, list[str]] = {}
        for row in rows:
            by_member.setdefault(row["member_id"], []).append(row["session_id"])
        expire_by = datetime.now(timezone.utc) + self._jwt_lifetime
        events = []
        for member_id, session_ids in sorted(by_member.items()):
            event = new_event(SESSION_REVOKED, "DELETE", project_id=self._project_id, organization_id=organization_id)
            event.source = "API" if reason == REVOKED else "SCIM"
            event.sessions_revoked.member_id = member_id
            event.sessions_revoked.session_ids.extend(session_ids)
            event.sessions_revoked.reason = reason
            event.sessions_revoked.jwts_expire_by.FromDatetime(expire_by)
            events.append(QueuedEvent(self._stream, SCHEMA, event))
        await enqueue_all(conn, events)
        return [row["session_id"] for row in rows]
