"""The SessionService over real gRPC, for internal services: an expired JWT
is refreshed through its live session with the member's current roles, and
never through a revoked one."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import timedelta, timezone

import grpc
import pytest
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.directory.v1.directory_service_pb2_grpc import DirectoryServiceStub
from scimd.rbac.v1 import session_service_pb2 as pb
from scimd.rbac.v1.session_service_pb2_grpc import SessionServiceStub

from runtime.context import Tenant
from runtime.db import create_pool
from runtime.sealing import SecretBox
from services.rbac.session_jwt import SessionJwts
from services.rbac.signing_keys import KeyRing
from tests.support import registration


@pytest.fixture
async def stubs(running_services):
    async with grpc.aio.insecure_channel(running_services.services.rbac) as rbac_channel, \
            grpc.aio.insecure_channel(running_services.services.directory) as directory_channel:
        yield SessionServiceStub(rbac_channel), DirectoryServiceStub(directory_channel)


@pytest.fixture
async def expired_jwts(running_services):
    """Mints JWTs that expired a minute ago, with the service's own keys."""
    pool = await create_pool(running_services.database_url, "rbac", max_size=1)
    keys = KeyRing(pool.shared, SecretBox(running_services.encryption_key), timedelta(minutes=5))
    await keys.load()
    yield SessionJwts(keys, issuer=running_services.public_url, project_id=running_services.project_id,
                      lifetime=timedelta(minutes=-1))
    await pool.close()


async def _session(sessions, directory) -> tuple[Tenant, pb.CreateSessionResponse]:
    tenant = Tenant(f"organization-{uuid.uuid4()}", f"scim-connection-{uuid.uuid4()}")
    member = (await directory.CreateMember(
        directory_pb.CreateMemberRequest(scim_registration=registration(f"{uuid.uuid4().hex}@example.com")),
        metadata=tenant.metadata(),
    )).member
    created = await sessions.CreateSession(pb.CreateSessionRequest(
        organization_id=tenant.organization_id, member_id=member.member_id, session_duration_minutes=30,
    ))
    return tenant, created


def _expired_copy(expired_jwts: SessionJwts, created: pb.CreateSessionResponse) -> str:
    session = created.session
    token, _ = expired_jwts.mint(
        member_id=session.member_id, organization_id=session.organization_id, session_id=session.session_id,
        started_at=session.started_at.ToDatetime(tzinfo=timezone.utc), last_accessed_at=session.started_at.ToDatetime(tzinfo=timezone.utc),
        expires_at=session.expires_at.ToDatetime(tzinfo=timezone.utc), roles=[],
    )
    return token


async def test_an_expired_jwt_is_refreshed_through_its_session(stubs, expired_jwts):
    sessions, directory = stubs
    _, created = await _session(sessions, directory)
    expired = _expired_copy(expired_jwts, created)
    answer = await sessions.AuthenticateSession(pb.AuthenticateSessionRequest(session_jwt=expired))
    assert answer.session_jwt and answer.session_jwt != expired
    assert answer.session.session_id == created.session.session_id
    assert answer.member.member_id == created.session.member_id
    # The new one is valid: answered as given.
    again = await sessions.AuthenticateSession(pb.AuthenticateSessionRequest(session_jwt=answer.session_jwt))
    assert again.session_jwt == answer.session_jwt


async def test_an_expired_jwt_of_a_revoked_session_is_refused(stubs, expired_jwts):
    sessions, directory = stubs
    tenant, created = await _session(sessions, directory)
    await sessions.RevokeSessions(pb.RevokeSessionsRequest(
        organization_id=tenant.organization_id, session_id=created.session.session_id,
    ))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await sessions.AuthenticateSession(pb.AuthenticateSessionRequest(session_jwt=_expired_copy(expired_jwts, created)))
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_deleted_member_loses_its_sessions(stubs):
    sessions, directory = stubs
    tenant, created = await _session(sessions, directory)
    await directory.DeleteMember(directory_pb.DeleteMemberRequest(member_id=created.session.member_id),
                                 metadata=tenant.metadata())
    for request in (pb.AuthenticateSessionRequest(session_token=created.session_token),
                    pb.AuthenticateSessionRequest(session_jwt=created.session_jwt)):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await sessions.AuthenticateSession(request)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_jwks_lists_the_signing_key(stubs):
    sessions, directory = stubs
    _, created = await _session(sessions, directory)
    keys = (await sessions.GetJwks(pb.GetJwksRequest())).keys
    assert keys and all(k.kty == "EC" and k.crv == "P-256" and k.alg == "ES256" and k.x and k.y for k in keys)


async def test_a_retired_key_stays_published_until_its_jwts_have_expired(fresh_database):
    """Rotation: the new key signs at once; the old one verifies until every
    JWT it signed has expired (JWT lifetime plus a clock margin), then goes."""
    import asyncpg

    from runtime.db import migrate
    from services.rbac.server import MIGRATIONS

    database_url = await fresh_database()
    await migrate(database_url, "rbac", MIGRATIONS)
    pool = await create_pool(database_url, "rbac", max_size=2)
    box = SecretBox(base64.b64encode(os.urandom(32)).decode())
    try:
        keys = KeyRing(pool.shared, box, timedelta(minutes=5))
        await keys.start()
        first = keys.signing_key()
        second = await keys.rotate()
        assert second.kid != first.kid and keys.signing_key().kid == second.kid
        assert [jwk["kid"] for jwk in keys.published()] == [second.kid, first.kid]
        assert (await keys.verifying_key(first.kid)) is not None

        owner = await asyncpg.connect(database_url)
        try:
            await owner.execute(
                "UPDATE rbac.signing_keys SET retired_at = now() - interval '5 minutes 58 seconds' WHERE kid = $1",
                first.kid,
            )
            await keys.load()
            assert first.kid in [jwk["kid"] for jwk in keys.published()]  # 5 min + 60 s margin not yet over
            await owner.execute(
                "UPDATE rbac.signing_keys SET retired_at = now() - interval '6 minutes 2 seconds' WHERE kid = $1",
                first.kid,
            )
        finally:
            await owner.close()
        await keys.load()
        assert [jwk["kid"] for jwk in keys.published()] == [second.kid]
        # Another replica starting now finds the signing key, and creates none.
        again = KeyRing(pool.shared, box, timedelta(minutes=5))
        await again.start()
        assert again.signing_key().kid == second.kid
    finally:
        await pool.close()
