"""The SessionService RPCs: sessions of active members, whose JWTs carry the
roles the IdP gives them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
from scimd.directory.v1 import member_pb2
from scimd.rbac.v1 import session_pb2
from scimd.rbac.v1 import session_service_pb2 as pb
from scimd.rbac.v1 import session_service_pb2_grpc as pb_grpc

from runtime.errors import ServiceError
from runtime.ids import new_id
from runtime.secret_tokens import SESSION_TOKENS, secret_matches
from runtime.tenant_scope import TenantPool
from runtime.timestamps import to_timestamp
from services.rbac import session_repository
from services.rbac.directory_reader import DirectoryReader
from services.rbac.session_jwt import InvalidJwt, SessionClaims, SessionJwts
from services.rbac.session_revocation import REVOKED, RevokedSessions, SessionRevoker
from services.rbac.signing_keys import KeyRing

DEFAULT_SESSION_MINUTES = 60
MAX_SESSION_MINUTES = 527_040  # 366 days


def _session_ended() -> ServiceError:
    # One answer for unknown, revoked and expired sessions and inactive members:
    # a caller learns nothing about sessions that are not its own.
    return ServiceError("SESSION_NOT_FOUND", "the session is unknown, revoked or expired")


def _session_proto(row, roles) -> session_pb2.Session:
    return session_pb2.Session(
        session_id=row["session_id"], organization_id=row["organization_id"], member_id=row["member_id"],
        started_at=to_timestamp(row["started_at"]), last_accessed_at=to_timestamp(row["last_accessed_at"]),
        expires_at=to_timestamp(row["expires_at"]), roles=list(roles),
    )


def _jwk_proto(jwk: dict) -> session_pb2.Jwk:
    return session_pb2.Jwk(**{k: jwk.get(k, "") for k in ("kid", "kty", "alg", "use", "crv", "x", "y")})


class SessionServicer(pb_grpc.SessionServiceServicer):
    def __init__(self, pool: TenantPool, directory: DirectoryReader, keys: KeyRing, jwts: SessionJwts,
                 revoker: SessionRevoker, revoked: RevokedSessions):
        self._pool = pool
        self._directory = directory
        self._keys = keys
        self._jwts = jwts
        self._revoker = revoker
        self._revoked = revoked

    async def _active_member(self, organization_id: str, member_id: str) -> member_pb2.Member | None:
        member = (await self._directory.members(organization_id, [member_id])).get(member_id)
        return member if member is not None and member.status == member_pb2.MEMBER_STATUS_ACTIVE else None

    def _mint(self, row, roles: list[str]) -> tuple[str, datetime]:
        return self._jwts.mint(
            member_id=row["member_id"], organization_id=row["organization_id"], session_id=row["session_id"],
            started_at=row["started_at"], last_accessed_at=row["last_accessed_at"], expires_at=row["expires_at"],
            roles=roles,
        )

    async def CreateSession(self, request: pb.CreateSessionRequest, context: grpc.aio.ServicerContext):
        organization_id, member_id = request.organization_id, request.member_id
        if not organization_id or not member_id:
            raise ServiceError("INVALID_VALUE", "organization_id and member_id are required")
        minutes = request.session_duration_minutes or DEFAULT_SESSION_MINUTES
        if not 1 <= minutes <= MAX_SESSION_MINUTES:
            raise ServiceError("INVALID_VALUE", f"session_duration_minutes must be 1 to {MAX_SESSION_MINUTES}")
        member = await self._active_member(organization_id, member_id)
        if member is None:
            raise ServiceError("NOT_FOUND", f"no active member {member_id!r} in this organization")
        token = SESSION_TOKENS.issue()
        now = datetime.now(timezone.utc)
        row = {
            "session_id": new_id("member-session"), "organization_id": organization_id, "member_id": member_id,
            "started_at": now, "last_accessed_at": now, "expires_at": now + timedelta(minutes=minutes),
        }
        async with self._pool.of(organization_id).acquire() as conn:
            await session_repository.insert_session(
                conn, token_id=token.token_id, secret_hash=token.secret_hash,
                **{k: row[k] for k in ("session_id", "organization_id", "member_id", "started_at", "expires_at")},
            )
            roles = await session_repository.role_ids(conn, organization_id, member_id)
        session_jwt, _ = self._mint(row, roles)
        return pb.CreateSessionResponse(
            session=_session_proto(row, roles), session_token=token.plaintext, session_jwt=session_jwt, member=member
        )

    async def AuthenticateSession(self, request: pb.AuthenticateSessionRequest, context: grpc.aio.ServicerContext):
        credential = request.WhichOneof("credential")
        if credential == "session_token":
            return await self._by_token(request.session_token)
        if credential == "session_jwt":
            return await self._by_jwt(request.session_jwt)
        raise ServiceError("INVALID_VALUE", "session_token or session_jwt is required")

    async def _by_token(self, plaintext: str) -> pb.AuthenticateSessionResponse:
        parsed = SESSION_TOKENS.parse(plaintext)
        if parsed is None:
            raise _session_ended()
        token_id, secret = parsed
        candidates = await session_repository.sessions_by_token_id(self._pool.shared, token_id)
        found = next((row for row in candidates if secret_matches(secret, row["secret_hash"])), None)
        if found is None:
            raise _session_ended()
        return await self._refreshed(found["organization_id"], found["session_id"], found["member_id"])

    async def _refreshed(self, organization_id: str, session_id: str, member_id: str) -> pb.AuthenticateSessionResponse:
        """A new JWT with the member's current roles, if the session and the member are still live."""
        member = await self._active_member(organization_id, member_id)
        if member is None:
            raise _session_ended()  # the rbac follower revokes its sessions as the directory's event arrives
        row = await session_repository.touch_live_session(self._pool.of(organization_id), organization_id, session_id)
        if row is None:
            raise _session_ended()
        session_jwt, issued_at = self._mint(row, list(row["role_ids"]))
        return pb.AuthenticateSessionResponse(
            session=_session_proto(row, row["role_ids"]), session_jwt=session_jwt, member=member,
            session_jwt_issued_at=to_timestamp(issued_at),
        )

    async def _by_jwt(self, token: str) -> pb.AuthenticateSessionResponse:
        try:
            claims, expired = await self._jwts.verify(token)
        except InvalidJwt:
            raise _session_ended() from None
        if claims.session_id in self._revoked:
            raise _session_ended()
        if expired:
            return await self._refreshed(claims.organization_id, claims.session_id, claims.member_id)
        member = await self._active_member(claims.organization_id, claims.member_id)
        if member is None:
            raise _session_ended()
        return pb.AuthenticateSessionResponse(
            session=_claims_session(claims), session_jwt=token, member=member,
            session_jwt_issued_at=to_timestamp(claims.issued_at),
        )

    async def RevokeSessions(self, request: pb.RevokeSessionsRequest, context: grpc.aio.ServicerContext):
        organization_id = request.organization_id
        target = request.WhichOneof("target")
        if not organization_id or target is None or not getattr(request, target):
            raise ServiceError("INVALID_VALUE", "organization_id and one of session_id or member_id are required")
        async with self._pool.of(organization_id).acquire() as conn, conn.transaction():
            if target == "session_id":
                revoked = await self._revoker.revoke(conn, organization_id, REVOKED, session_id=request.session_id)
            else:
                revoked = await self._revoker.revoke(conn, organization_id, REVOKED, member_ids=[request.member_id])
        self._revoked.add(revoked)
        return pb.RevokeSessionsResponse(revoked_session_ids=revoked)

    async def GetJwks(self, request: pb.GetJwksRequest, context: grpc.aio.ServicerContext):
        return pb.GetJwksResponse(keys=[_jwk_proto(jwk) for jwk in self._keys.published()])

    async def RotateSigningKey(self, request: pb.RotateSigningKeyRequest, context: grpc.aio.ServicerContext):
        key = await self._keys.rotate()
        return pb.RotateSigningKeyResponse(signing_key=_jwk_proto(key.public_jwk))


def _claims_session(claims: SessionClaims) -> session_pb2.Session:
    return session_pb2.Session(
        session_id=claims.session_id, organization_id=claims.organization_id, member_id=claims.member_id,
        started_at=to_timestamp(claims.started_at), last_accessed_at=to_timestamp(claims.last_accessed_at),
        expires_at=to_timestamp(claims.expires_at), roles=list(claims.roles),
    )
