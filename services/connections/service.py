"""The ConnectionsService RPCs: validation, then the repository."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

import asyncpg
import grpc
from scimd.connections.v1 import connections_service_pb2 as pb
from scimd.connections.v1 import connections_service_pb2_grpc as pb_grpc

from services.common.errors import ServiceError
from services.common.ids import new_id
from services.common.paging import decode_time_keyset, page_size, time_keyset_token
from services.common.settings import Settings
from services.common.timestamps import to_timestamp
from services.connections import repository, tokens
from services.connections.mapping import connection_from_row, organization_from_row

IDENTITY_PROVIDERS = (
    "okta", "microsoft-entra", "google-workspace", "onelogin", "jumpcloud",
    "pingfederate", "rippling", "cyberark", "generic",
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._~-]{1,127}$")
_MAX_NAME = 128


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


class ConnectionsServicer(pb_grpc.ConnectionsServiceServicer):
    def __init__(self, pool: asyncpg.Pool, settings: Settings):
        self._pool = pool
        self._token_ttl = timedelta(days=settings.bearer_token_ttl_days)

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
                row = await repository.insert_organization(self._pool, new_id("organization"), name, slug)
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

    async def CreateConnection(self, request: pb.CreateConnectionRequest, context: grpc.aio.ServicerContext):
        identity_provider = _identity_provider(request.identity_provider) or "generic"
        display_name = _display_name(request.display_name) or "SCIM connection"
        if await repository.get_organization(self._pool, request.organization_id) is None:
            raise ServiceError("NOT_FOUND", "organization not found")
        token = tokens.issue()
        try:
            row = await repository.insert_connection(
                self._pool,
                connection_id=new_id("scim-connection"),
                organization_id=request.organization_id,
                display_name=display_name,
                identity_provider=identity_provider,
                token_id=token.token_id,
                secret_hash=token.secret_hash,
                last_four=token.last_four,
                expires_at=datetime.now(timezone.utc) + self._token_ttl,
            )
        except repository.UniqueViolation:
            raise ServiceError("UNIQUENESS", "the organization already has a SCIM connection") from None
        except asyncpg.ForeignKeyViolationError:
            raise ServiceError("NOT_FOUND", "organization not found") from None
        return pb.CreateConnectionResponse(connection=connection_from_row(row), bearer_token=token.plaintext)

    async def UpdateConnection(self, request: pb.UpdateConnectionRequest, context: grpc.aio.ServicerContext):
        row = await repository.update_connection(
            self._pool, request.organization_id, request.connection_id,
            _display_name(request.display_name), _identity_provider(request.identity_provider),
        )
        if row is None:
            raise ServiceError("NOT_FOUND", "connection not found")
        return pb.UpdateConnectionResponse(connection=connection_from_row(row))

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

    async def AuthenticateToken(self, request: pb.AuthenticateTokenRequest, context: grpc.aio.ServicerContext):
        invalid = ServiceError("INVALID_TOKEN", "the bearer token is invalid, expired or revoked")
        parsed = tokens.parse(request.bearer_token)
        if parsed is None:
            raise invalid
        token_id, secret = parsed
        row = await repository.find_token(self._pool, token_id)
        if row is None or not tokens.secret_matches(secret, row["secret_hash"]):
            raise invalid
        if row["presented_expires_at"] <= datetime.now(timezone.utc) or row["status"] != "active":
            raise invalid
        return pb.AuthenticateTokenResponse(
            connection=connection_from_row(row), token_id=token_id, expire_time=to_timestamp(row["presented_expires_at"])
        )
