"""The ConnectionsService RPCs: validation, then the repository."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

import asyncpg
import grpc
import orjson
from scimd.connections.v1 import connection_pb2
from scimd.connections.v1 import connections_service_pb2 as pb
from scimd.connections.v1 import connections_service_pb2_grpc as pb_grpc
from scimd.events.v1 import event_pb2

from runtime.errors import ServiceError
from runtime.event_catalog import (
    CONNECTION_CREATE,
    CONNECTION_DELETE,
    CONNECTION_UPDATE,
    ORGANIZATION_CREATE,
    ORGANIZATION_DELETE,
    ORGANIZATION_UPDATE,
)
from runtime.events import EventStream
from runtime.ids import new_id
from runtime.outbox import QueuedEvent, enqueue_all, new_event
from runtime.paging import decode_time_keyset, page_size, time_keyset_token
from runtime.secret_tokens import ACCESS_TOKENS, BEARER_TOKENS, PORTAL_LINKS, secret_matches
from runtime.settings import Settings
from runtime.shapes import IDENTITY_PROVIDERS
from runtime.ssrf import AllowList
from runtime.timestamps import to_timestamp
from services.connections import oauth_repository, repository
from services.connections.assertions import KeySets
from services.connections.mapping import connection_from_row, organization_from_row
from services.connections.oauth_service import OAuthRpcs

PORTAL_LINK_DEFAULT_SECONDS = 600
MAX_TOKEN_USES = 10_000
PORTAL_LINK_MAX_SECONDS = 3600

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._~-]{1,127}$")
_MAX_NAME = 128
MAX_RATE_LIMIT = 1_000_000


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:128]


def _identity_provider(value: str) -> str:
    value = value.strip()
    if value and value not in IDENTITY_PROVIDERS:
        raise ServiceError("INVALID_VALUE", f"identity_provider must be one of {', '.join(IDENTITY_PROVIDERS)}")
    return value


def _display_name(value: str) -> str:
    value = value.strip()
    if len(value) > _MAX_NAME:
        raise ServiceError("INVALID_VALUE", f"display_name is at most {_MAX_NAME} characters")
    return value


SCHEMA = "connections"


class ConnectionsServicer(OAuthRpcs, pb_grpc.ConnectionsServiceServicer):
    def __init__(self, pool: asyncpg.Pool, settings: Settings, stream: EventStream, outbound: AllowList):
        self._pool = pool
        # JWKS URLs are fetched through the webhooks' SSRF guard and allow-list.
        self._outbound = outbound
        self._key_sets = KeySets(outbound)
        self._token_ttl = timedelta(days=settings.bearer_token_ttl_days)
        self._stream = stream
        self._project_id = settings.project_id

    def _event(self, event_type: str, action: str, organization_id: str) -> event_pb2.Event:
        event = new_event(event_type, action, project_id=self._project_id, organization_id=organization_id)
        event.source = "API"
        return event

    def _organization_event(self, event_type: str, action: str, row: asyncpg.Record,
                            previous: dict | None = None) -> QueuedEvent:
        event = self._event(event_type, action, row["organization_id"])
        event.organization_changed.organization.CopyFrom(organization_from_row(row))
        if previous:
            event.organization_changed.previous_attributes_json = orjson.dumps(previous).decode()
        return QueuedEvent(self._stream, SCHEMA, event)

    def _connection_event(self, event_type: str, action: str, row: asyncpg.Record,
                          revoked_token_ids: list[str] = ()) -> QueuedEvent:
        event = self._event(event_type, action, row["organization_id"])
        event.connection_changed.connection.CopyFrom(connection_from_row(row))
        event.connection_changed.revoked_token_ids.extend(revoked_token_ids)
        return QueuedEvent(self._stream, SCHEMA, event)

    async def _changed(self, conn, request, revoked: list[str] = ()) -> connection_pb2.Connection:
        """Bumps the connection's version, queues its update event (naming the
        tokens that stopped working) and returns it; in the change's transaction."""
        await repository.touch_connection(conn, request.connection_id)
        row = await repository.get_connection(conn, request.organization_id, request.connection_id)
        await enqueue_all(conn, [self._connection_event(CONNECTION_UPDATE, "UPDATE", row, list(revoked))])
        return connection_from_row(row)

    @staticmethod
    async def _every_token_id(conn, connection_id: str) -> list[str]:
        """The bearer tokens and OAuth access tokens of a connection that is going away."""
        return [*(await repository.token_ids(conn, connection_id)).values(),
                *await oauth_repository.access_token_ids(conn, connection_id)]

    async def _connection_for_update(self, conn, organization_id: str, connection_id: str) -> asyncpg.Record:
        if not organization_id or not connection_id:
            raise ServiceError("INVALID_VALUE", "organization_id and connection_id are required")
        row = await repository.get_connection(conn, organization_id, connection_id, lock=True)
        if row is None:
            raise ServiceError("NOT_FOUND", "connection not found")
        return row

    async def CreateOrganization(self, request: pb.CreateOrganizationRequest, context: grpc.aio.ServicerContext):
        name = request.organization_name.strip()
        if not name or len(name) > _MAX_NAME:
            raise ServiceError("INVALID_VALUE", f"organization_name is required, at most {_MAX_NAME} characters")
        chosen = request.organization_slug.strip()
        if chosen and not _SLUG.match(chosen):
            raise ServiceError(
                "INVALID_VALUE",
                "organization_slug must be 2-128 characters of lowercase letters, digits, '.', '_', '~' or '-'",
            )
        # Without a slug, one is derived from the name, made unique with a suffix if taken.
        candidates = [chosen] if chosen else [_slugify(name), f"{_slugify(name)}-{secrets.token_hex(3)}".lstrip("-")]
        for slug in candidates:
            if not _SLUG.match(slug):
                continue
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    row = await repository.insert_organization(conn, new_id("organization"), name, slug)
                    await enqueue_all(conn, [self._organization_event(ORGANIZATION_CREATE, "CREATE", row)])
            except repository.UniqueViolation:
                continue
            return pb.CreateOrganizationResponse(organization=organization_from_row(row))
        raise ServiceError("UNIQUENESS", f"organization_slug {candidates[0]!r} is already used")

    async def GetOrganization(self, request: pb.GetOrganizationRequest, context: grpc.aio.ServicerContext):
        row = await repository.get_organization(self._pool, request.organization_id)
        if row is None:
            raise ServiceError("NOT_FOUND", "organization not found")
        return pb.GetOrganizationResponse(organization=organization_from_row(row))

    async def ListOrganizations(self, request: pb.ListOrganizationsRequest, context: grpc.aio.ServicerContext):
        limit = page_size(request.page_size)
        rows = await repository.list_organizations(self._pool, limit + 1, decode_time_keyset(request.page_token))
        page, more = rows[:limit], len(rows) > limit
        return pb.ListOrganizationsResponse(
            organizations=[organization_from_row(r) for r in page],
            next_page_token=time_keyset_token(page[-1]["created_at"], page[-1]["organization_id"]) if more else "",
        )

    async def UpdateOrganization(self, request: pb.UpdateOrganizationRequest, context: grpc.aio.ServicerContext):
        name = request.organization_name.strip()
        if len(name) > _MAX_NAME:
            raise ServiceError("INVALID_VALUE", f"organization_name is at most {_MAX_NAME} characters")
        slug = request.organization_slug.strip()
        if slug and not _SLUG.match(slug):
            raise ServiceError(
                "INVALID_VALUE",
                "organization_slug must be 2-128 characters of lowercase letters, digits, '.', '_', '~' or '-'",
            )
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                before = await repository.get_organization(conn, request.organization_id, lock=True)
                if before is None:
                    raise ServiceError("NOT_FOUND", "organization not found")
                row = await repository.update_organization(conn, request.organization_id, name, slug)
                previous = {
                    field: before[field] for field in ("organization_name", "organization_slug")
                    if before[field] != row[field]
                }
                if previous:
                    await enqueue_all(conn, [self._organization_event(ORGANIZATION_UPDATE, "UPDATE", row, previous)])
        except repository.UniqueViolation:
            raise ServiceError("UNIQUENESS", f"organization_slug {slug!r} is already used") from None
        return pb.UpdateOrganizationResponse(organization=organization_from_row(row))

    async def DeleteOrganization(self, request: pb.DeleteOrganizationRequest, context: grpc.aio.ServicerContext):
        async with self._pool.acquire() as conn, conn.transaction():
            organization = await repository.get_organization(conn, request.organization_id, lock=True)
            if organization is None:
                raise ServiceError("NOT_FOUND", "organization not found")
            events = []
            connection = await repository.get_connection(conn, request.organization_id, "", lock=True)
            if connection is not None:
                revoked = await self._every_token_id(conn, connection["connection_id"])
                events.append(self._connection_event(CONNECTION_DELETE, "DELETE", connection, revoked))
            events.append(self._organization_event(ORGANIZATION_DELETE, "DELETE", organization))
            await repository.delete_organization(conn, request.organization_id)
            await enqueue_all(conn, events)
        return pb.DeleteOrganizationResponse()

    async def CreateConnection(self, request: pb.CreateConnectionRequest, context: grpc.aio.ServicerContext):
        identity_provider = _identity_provider(request.identity_provider) or "generic"
        display_name = _display_name(request.display_name) or "SCIM connection"
        if await repository.get_organization(self._pool, request.organization_id) is None:
            raise ServiceError("NOT_FOUND", "organization not found")
        token = BEARER_TOKENS.issue()
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                row = await repository.insert_connection(
                    conn,
                    connection_id=new_id("scim-connection"),
                    organization_id=request.organization_id,
                    display_name=display_name,
                    identity_provider=identity_provider,
                    token_id=token.token_id,
                    secret_hash=token.secret_hash,
                    last_four=token.last_four,
                    expires_at=datetime.now(timezone.utc) + self._token_ttl,
                )
                await enqueue_all(conn, [self._connection_event(CONNECTION_CREATE, "CREATE", row)])
        except repository.UniqueViolation:
            raise ServiceError("UNIQUENESS", "the organization already has a SCIM connection") from None
        except asyncpg.ForeignKeyViolationError:
            raise ServiceError("NOT_FOUND", "organization not found") from None
        return pb.CreateConnectionResponse(connection=connection_from_row(row), bearer_token=token.plaintext)

    async def UpdateConnection(self, request: pb.UpdateConnectionRequest, context: grpc.aio.ServicerContext):
        display_name, identity_provider = _display_name(request.display_name), _identity_provider(request.identity_provider)
        rate_limit = request.rate_limit_per_second if request.HasField("rate_limit_per_second") else None
        if rate_limit is not None and not 0 <= rate_limit <= MAX_RATE_LIMIT:
            raise ServiceError("INVALID_VALUE", f"rate_limit_per_second must be between 0 and {MAX_RATE_LIMIT}")
        bearer_enabled = request.bearer_token_enabled if request.HasField("bearer_token_enabled") else None
        strict = request.strict_attributes if request.HasField("strict_attributes") else None
        async with self._pool.acquire() as conn, conn.transaction():
            current = await self._connection_for_update(conn, request.organization_id, request.connection_id)
            if bearer_enabled is False and current["client_secret_last_four"] is None \
                    and current["trust_issuer"] is None:
                raise ServiceError("CONFLICT", "the connection would accept no credential: enable OAuth client"
                                               " credentials or an assertion trust before disabling the bearer token")
            row = await repository.update_connection(
                conn, request.organization_id, request.connection_id, display_name, identity_provider, rate_limit,
                bearer_enabled, strict,
            )
            # A disabled bearer token is refused at once on every gateway, as a revoked one is.
            revoked = list((await repository.token_ids(conn, request.connection_id)).values()) \
                if bearer_enabled is False else []
            await enqueue_all(conn, [self._connection_event(CONNECTION_UPDATE, "UPDATE", row, revoked)])
        return pb.UpdateConnectionResponse(connection=connection_from_row(row))

    async def DeleteConnection(self, request: pb.DeleteConnectionRequest, context: grpc.aio.ServicerContext):
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._connection_for_update(conn, request.organization_id, request.connection_id)
            revoked = await self._every_token_id(conn, request.connection_id)
            await repository.delete_connection(conn, request.connection_id)
            await enqueue_all(conn, [self._connection_event(CONNECTION_DELETE, "DELETE", row, revoked)])
        return pb.DeleteConnectionResponse()

    async def StartTokenRotation(self, request: pb.StartTokenRotationRequest, context: grpc.aio.ServicerContext):
        token = BEARER_TOKENS.issue()
        async with self._pool.acquire() as conn, conn.transaction():
            await self._connection_for_update(conn, request.organization_id, request.connection_id)
            if "next" in await repository.token_ids(conn, request.connection_id):
                raise ServiceError("CONFLICT", "a token rotation is already in progress; complete or cancel it")
            await repository.insert_token(
                conn, request.connection_id, request.organization_id, "next", token.token_id, token.secret_hash,
                token.last_four, datetime.now(timezone.utc) + self._token_ttl,
            )
            connection = await self._changed(conn, request)
        return pb.StartTokenRotationResponse(connection=connection, next_bearer_token=token.plaintext)

    async def _end_rotation(self, request, *, keep: str) -> connection_pb2.Connection:
        """Ends a rotation keeping the `keep` token ("next" completes, "current" cancels)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await self._connection_for_update(conn, request.organization_id, request.connection_id)
            slots = await repository.token_ids(conn, request.connection_id)
            if "next" not in slots:
                raise ServiceError("CONFLICT", "no token rotation is in progress")
            revoked = slots["current"] if keep == "next" else slots["next"]
            await repository.delete_token(conn, revoked)
            if keep == "next":
                await repository.promote_next_token(conn, request.connection_id)
            return await self._changed(conn, request, [revoked])

    async def CompleteTokenRotation(self, request: pb.CompleteTokenRotationRequest, context: grpc.aio.ServicerContext):
        return pb.CompleteTokenRotationResponse(connection=await self._end_rotation(request, keep="next"))

    async def CancelTokenRotation(self, request: pb.CancelTokenRotationRequest, context: grpc.aio.ServicerContext):
        return pb.CancelTokenRotationResponse(connection=await self._end_rotation(request, keep="current"))

    async def GetConnection(self, request: pb.GetConnectionRequest, context: grpc.aio.ServicerContext):
        if not request.organization_id:
            raise ServiceError("INVALID_VALUE", "organization_id is required")
        row = await repository.get_connection(self._pool, request.organization_id, request.connection_id)
        if row is None:
            raise ServiceError("NOT_FOUND", "connection not found")
        return pb.GetConnectionResponse(connection=connection_from_row(row))

    async def ListConnections(self, request: pb.ListConnectionsRequest, context: grpc.aio.ServicerContext):
        limit = page_size(request.page_size)
        rows = await repository.list_connections(
            self._pool, request.organization_id, limit + 1, decode_time_keyset(request.page_token)
        )
        page, more = rows[:limit], len(rows) > limit
        return pb.ListConnectionsResponse(
            connections=[connection_from_row(r) for r in page],
            next_page_token=time_keyset_token(page[-1]["created_at"], page[-1]["connection_id"]) if more else "",
        )

    async def TouchTokens(self, request: pb.TouchTokensRequest, context: grpc.aio.ServicerContext):
        if len(request.uses) > MAX_TOKEN_USES:
            raise ServiceError("INVALID_VALUE", f"at most {MAX_TOKEN_USES} token uses per call")
        await repository.touch_tokens(self._pool, [
            (use.token_id, use.used_at.ToDatetime(tzinfo=timezone.utc)) for use in request.uses if use.token_id
        ])
        return pb.TouchTokensResponse()

    async def AuthenticateToken(self, request: pb.AuthenticateTokenRequest, context: grpc.aio.ServicerContext):
        """A static bearer token (`scimd_…`), or an OAuth access token (`scimd_at_…`)."""
        invalid = ServiceError("INVALID_TOKEN", "the bearer token is invalid, expired or revoked")
        access = ACCESS_TOKENS.parse(request.bearer_token)
        parsed = access or BEARER_TOKENS.parse(request.bearer_token)
        if parsed is None:
            raise invalid
        token_id, secret = parsed
        if access:
            row = await oauth_repository.find_access_token(self._pool, token_id)
        else:
            row = await repository.find_token(self._pool, token_id)
        if row is None or not secret_matches(secret, row["secret_hash"]):
            raise invalid
        if row["presented_expires_at"] <= datetime.now(timezone.utc) or row["status"] != "active":
            raise invalid
        if not access and not row["bearer_token_enabled"]:
            raise invalid
        return pb.AuthenticateTokenResponse(
            connection=connection_from_row(row), expire_time=to_timestamp(row["presented_expires_at"]),
            token_id=oauth_repository.public_token_id(token_id, row["credential"]) if access else token_id,
        )

    async def CreatePortalLink(self, request: pb.CreatePortalLinkRequest, context: grpc.aio.ServicerContext):
        ttl = request.ttl_seconds or PORTAL_LINK_DEFAULT_SECONDS
        if not 1 <= ttl <= PORTAL_LINK_MAX_SECONDS:
            raise ServiceError("INVALID_VALUE", f"ttl_seconds must be 1 to {PORTAL_LINK_MAX_SECONDS}")
        link = PORTAL_LINKS.issue()
        expires_at = datetime.now(timezone.utc) + timedelta(seconds=ttl)
        if not await repository.insert_portal_link(
            self._pool, link.token_id, request.organization_id, link.secret_hash, expires_at
        ):
            raise ServiceError("NOT_FOUND", f"organization {request.organization_id!r} not found")
        return pb.CreatePortalLinkResponse(link_token=link.plaintext, expire_time=to_timestamp(expires_at))

    async def RedeemPortalLink(self, request: pb.RedeemPortalLinkRequest, context: grpc.aio.ServicerContext):
        invalid = ServiceError("INVALID_TOKEN", "the portal link is invalid, used or expired")
        parsed = PORTAL_LINKS.parse(request.link_token)
        if parsed is None:
            raise invalid
        link_id, secret = parsed
        row = await repository.find_portal_link(self._pool, link_id)
        if row is None or not secret_matches(secret, row["secret_hash"]):
            raise invalid
        if not await repository.use_portal_link(self._pool, link_id):
            raise invalid  # opened by someone else a moment ago
        # A link opens one session, so the link's id names it.
        return pb.RedeemPortalLinkResponse(organization_id=row["organization_id"], session_id=link_id)

    async def GetPortalSession(self, request: pb.GetPortalSessionRequest, context: grpc.aio.ServicerContext):
        row = await repository.find_portal_session(self._pool, request.organization_id, request.session_id)
        if row is None:
            raise ServiceError("NOT_FOUND", "no such portal session")
        response = pb.GetPortalSessionResponse()
        if row["session_ended_at"] is not None:
            response.end_time.CopyFrom(to_timestamp(row["session_ended_at"]))
        return response

    async def EndPortalSession(self, request: pb.EndPortalSessionRequest, context: grpc.aio.ServicerContext):
        if not await repository.end_portal_session(self._pool, request.organization_id, request.session_id):
            raise ServiceError("NOT_FOUND", "no such portal session")
        return pb.EndPortalSessionResponse()
