"""OAuth 2.0 for SCIM connections (RFC 6749 §4.4 client credentials, RFC 7523
JWT client assertions): clients, their secret rotation, assertion trusts, and
the issuing of short-lived access tokens, which then authenticate like bearer
tokens (AuthenticateToken) and are revoked with what issued them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Awaitable, Callable
from urllib.parse import urlsplit

import asyncpg
import grpc
from scimd.connections.v1 import connection_pb2
from scimd.connections.v1 import connections_service_pb2 as pb

from runtime.errors import ServiceError
from runtime.secret_tokens import ACCESS_TOKENS, OAUTH_CLIENT_SECRETS, secret_matches
from runtime.ssrf import AllowList, ForbiddenAddress, UnusableURL, check_url
from services.connections import oauth_repository, repository
from services.connections.assertions import KeySets, Trust, verify

ACCESS_TOKEN_SECONDS = 3600
_MAX_TRUST_FIELD = 512


class OAuthRpcs:
    """Mixed into ConnectionsServicer, which provides the pool, the key sets and the connection helpers."""

    _pool: asyncpg.Pool
    _key_sets: KeySets
    _outbound: AllowList
    _connection_for_update: Callable[..., Awaitable[asyncpg.Record]]
    _changed: Callable[..., Awaitable[connection_pb2.Connection]]

    async def EnableClientCredentials(self, request: pb.EnableClientCredentialsRequest, context: grpc.aio.ServicerContext):
        secret = OAUTH_CLIENT_SECRETS.issue()
        async with self._pool.acquire() as conn, conn.transaction():
            await self._connection_for_update(conn, request.organization_id, request.connection_id)
            if await oauth_repository.client_secret_ids(conn, request.connection_id):
                raise ServiceError("CONFLICT", "the connection already has an OAuth client; rotate its secret instead")
            await oauth_repository.insert_client_secret(conn, request.connection_id, request.organization_id,
                                                        "current", secret.token_id, secret.secret_hash,
                                                        secret.last_four)
            connection = await self._changed(conn, request)
        return pb.EnableClientCredentialsResponse(connection=connection, client_secret=secret.plaintext)

    async def DisableClientCredentials(self, request: pb.DisableClientCredentialsRequest,
                                       context: grpc.aio.ServicerContext):
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._connection_for_update(conn, request.organization_id, request.connection_id)
            secrets = await oauth_repository.client_secret_ids(conn, request.connection_id)
            if not secrets:
                raise ServiceError("CONFLICT", "the connection has no OAuth client")
            if not row["bearer_token_enabled"] and row["trust_issuer"] is None:
                raise ServiceError("CONFLICT", "the connection would accept no credential: enable its bearer token"
                                               " or trust an assertion issuer first")
            revoked = await oauth_repository.delete_client_secrets(conn, list(secrets.values()))
            connection = await self._changed(conn, request, revoked)
        return pb.DisableClientCredentialsResponse(connection=connection)

    async def StartClientSecretRotation(self, request: pb.StartClientSecretRotationRequest,
                                        context: grpc.aio.ServicerContext):
        secret = OAUTH_CLIENT_SECRETS.issue()
        async with self._pool.acquire() as conn, conn.transaction():
            await self._connection_for_update(conn, request.organization_id, request.connection_id)
            slots = await oauth_repository.client_secret_ids(conn, request.connection_id)
            if not slots:
                raise ServiceError("CONFLICT", "the connection has no OAuth client")
            if "next" in slots:
                raise ServiceError("CONFLICT", "a client secret rotation is already in progress; complete or cancel it")
            await oauth_repository.insert_client_secret(conn, request.connection_id, request.organization_id, "next",
                                                        secret.token_id, secret.secret_hash, secret.last_four)
            connection = await self._changed(conn, request)
        return pb.StartClientSecretRotationResponse(connection=connection, next_client_secret=secret.plaintext)

    async def _end_secret_rotation(self, request, *, keep: str) -> connection_pb2.Connection:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._connection_for_update(conn, request.organization_id, request.connection_id)
            slots = await oauth_repository.client_secret_ids(conn, request.connection_id)
            if "next" not in slots:
                raise ServiceError("CONFLICT", "no client secret rotation is in progress")
            retired = slots["current"] if keep == "next" else slots["next"]
            revoked = await oauth_repository.delete_client_secrets(conn, [retired])
            if keep == "next":
                await oauth_repository.promote_next_client_secret(conn, request.connection_id)
            return await self._changed(conn, request, revoked)

    async def CompleteClientSecretRotation(self, request: pb.CompleteClientSecretRotationRequest,
                                           context: grpc.aio.ServicerContext):
        return pb.CompleteClientSecretRotationResponse(connection=await self._end_secret_rotation(request, keep="next"))

    async def CancelClientSecretRotation(self, request: pb.CancelClientSecretRotationRequest,
                                         context: grpc.aio.ServicerContext):
        return pb.CancelClientSecretRotationResponse(
            connection=await self._end_secret_rotation(request, keep="current"))

    async def SetAssertionTrust(self, request: pb.SetAssertionTrustRequest, context: grpc.aio.ServicerContext):
        trust = _checked_trust(request.trust)
        try:
            await check_url(trust.jwks_url, self._outbound)
        except (ForbiddenAddress, UnusableURL) as error:
            raise ServiceError("INVALID_VALUE", f"jwks_url: {error}") from None
        async with self._pool.acquire() as conn, conn.transaction():
            await self._connection_for_update(conn, request.organization_id, request.connection_id)
            revoked = await oauth_repository.set_assertion_trust(
                conn, request.connection_id, request.organization_id, trust.issuer, trust.subject, trust.audience,
                trust.jwks_url)
            connection = await self._changed(conn, request, revoked)
        return pb.SetAssertionTrustResponse(connection=connection)

    async def DeleteAssertionTrust(self, request: pb.DeleteAssertionTrustRequest, context: grpc.aio.ServicerContext):
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._connection_for_update(conn, request.organization_id, request.connection_id)
            if not row["bearer_token_enabled"] and row["client_secret_last_four"] is None:
                raise ServiceError("CONFLICT", "the connection would accept no credential: enable its bearer token"
                                               " or its OAuth client first")
            revoked = await oauth_repository.delete_assertion_trust(conn, request.connection_id)
            if revoked is None:
                raise ServiceError("NOT_FOUND", "the connection trusts no assertion issuer")
            connection = await self._changed(conn, request, revoked)
        return pb.DeleteAssertionTrustResponse(connection=connection)

    async def IssueAccessToken(self, request: pb.IssueAccessTokenRequest, context: grpc.aio.ServicerContext):
        kind = request.WhichOneof("credential")
        if kind == "client_secret":
            connection_id, credential = await self._client_secret_credential(request)
        elif kind == "client_assertion":
            connection_id, credential = await self._assertion_credential(request)
        else:
            raise ServiceError("INVALID_CLIENT", "client authentication is required")
        token = ACCESS_TOKENS.issue()
        expires_at = datetime.now(timezone.utc) + timedelta(seconds=ACCESS_TOKEN_SECONDS)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await repository.get_connection_by_id(conn, connection_id)
            if row is None or row["status"] != "active":
                raise ServiceError("INVALID_CLIENT", "the client is not active")
            await oauth_repository.insert_access_token(conn, token.token_id, connection_id, row["organization_id"],
                                                       token.secret_hash, credential, expires_at)
        return pb.IssueAccessTokenResponse(access_token=token.plaintext, expires_in_seconds=ACCESS_TOKEN_SECONDS)

    async def _client_secret_credential(self, request: pb.IssueAccessTokenRequest) -> tuple[str, str]:
        invalid = ServiceError("INVALID_CLIENT", "the client id or secret is not valid")
        parsed = OAUTH_CLIENT_SECRETS.parse(request.client_secret.client_secret)
        if parsed is None:
            raise invalid
        secret_id, secret = parsed
        row = await oauth_repository.find_client_secret(self._pool, secret_id)
        # The client id is the connection id: a secret of connection A on connection B's endpoint is refused.
        if (row is None or not secret_matches(secret, row["secret_hash"])
                or row["connection_id"] != request.client_secret.client_id
                or row["connection_id"] != request.connection_id):
            raise invalid
        return row["connection_id"], f"client_secret:{secret_id}"

    async def _assertion_credential(self, request: pb.IssueAccessTokenRequest) -> tuple[str, str]:
        if request.client_id and request.client_id != request.connection_id:
            raise ServiceError("INVALID_CLIENT", "the client id is not this connection's")
        row = await oauth_repository.assertion_trust(self._pool, request.connection_id)
        if row is None:
            raise ServiceError("INVALID_CLIENT", "the connection accepts no client assertions")
        trust = Trust(row["issuer"], row["subject"], row["audience"], row["jwks_url"])
        verified = await verify(request.client_assertion, trust, self._key_sets)
        async with self._pool.acquire() as conn:
            if not await oauth_repository.use_assertion(conn, trust.issuer, verified.replay_key, verified.expires_at):
                raise ServiceError("INVALID_CLIENT", "the client assertion was already used")
        return request.connection_id, f"assertion:{trust.issuer}"


def _checked_trust(trust: connection_pb2.AssertionTrust) -> Trust:
    fields = {"issuer": trust.issuer, "subject": trust.subject, "audience": trust.audience, "jwks_url": trust.jwks_url}
    for name, value in fields.items():
        if not value.strip() or len(value) > _MAX_TRUST_FIELD:
            raise ServiceError("INVALID_VALUE", f"{name} is required, at most {_MAX_TRUST_FIELD} characters")
    parts = urlsplit(trust.jwks_url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        raise ServiceError("INVALID_VALUE", "jwks_url must be an http(s) URL without credentials")
    return Trust(trust.issuer, trust.subject, trust.audience, trust.jwks_url)
