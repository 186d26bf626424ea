"""Wiring of the rbac service: roles and sessions APIs, and the follower of directory events."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

from scimd.rbac.v1 import rbac_service_pb2, rbac_service_pb2_grpc, session_service_pb2, session_service_pb2_grpc

from runtime.db import FOR_ANY_ORGANIZATION, open_database
from runtime.events import EventStream
from runtime.grpc_client import open_channel
from runtime.grpc_server import Registration
from runtime.metrics import ACTIVE_SESSIONS
from runtime.outbox import start_relay
from runtime.periodic import run_periodically
from runtime.sealing import SecretBox
from runtime.settings import Settings
from services.rbac.directory_reader import DirectoryReader
from services.rbac.follower import DirectoryFollower
from services.rbac.propagation import SCHEMA, RolePropagator
from services.rbac.service import RbacServicer
from services.rbac.session_jwt import SessionJwts
from services.rbac.session_revocation import RevokedSessions, SessionRevoker
from services.rbac.sessions import SessionServicer
from services.rbac.signing_keys import RELOAD_SECONDS, KeyRing

MIGRATIONS = Path(__file__).parent / "migrations"
SESSION_GAUGE_SECONDS = 15.0


async def setup(settings: Settings, stack: AsyncExitStack) -> list[Registration]:
    pool = await open_database(stack, settings.database_url, SCHEMA, MIGRATIONS, migrate_mode=settings.migrate,
                               plan_cache_mode=FOR_ANY_ORGANIZATION)
    stream = EventStream(settings.nats_prefix, settings.nats_replicas)
    await start_relay(stack, pool.shared, SCHEMA, stream, settings.nats_url)
    channel = open_channel(settings.services.of("directory"))
    stack.push_async_callback(channel.close)
    directory = DirectoryReader(channel)
    jwt_lifetime = timedelta(seconds=settings.session_jwt_seconds)
    revoker = SessionRevoker(stream, settings.project_id, jwt_lifetime)
    propagator = RolePropagator(directory, stream, settings.project_id, revoker)
    consumer = DirectoryFollower(pool, propagator, revoker).consumer(stream, settings.nats_url)
    await consumer.start()
    stack.push_async_callback(consumer.stop)

    keys = KeyRing(pool.shared, SecretBox(settings.encryption_key), jwt_lifetime)
    await keys.start()
    await run_periodically(stack, "signing-keys", RELOAD_SECONDS, keys.load)
    revoked = RevokedSessions(jwt_lifetime)
    revocations = revoked.follow(stream, settings.nats_url)
    await revocations.start()
    stack.push_async_callback(revocations.stop)
    jwts = SessionJwts(keys, issuer=settings.public_url, project_id=settings.project_id, lifetime=jwt_lifetime)

    async def count_live_sessions() -> None:
        ACTIVE_SESSIONS.set(await pool.shared.fetchval("SELECT live_session_count()"))

    await run_periodically(stack, "session-gauge", SESSION_GAUGE_SECONDS, count_live_sessions)
    return [
        Registration(
            RbacServicer(pool, directory, propagator),
            rbac_service_pb2_grpc.add_RbacServiceServicer_to_server,
            rbac_service_pb2.DESCRIPTOR.services_by_name["RbacService"].full_name,
        ),
        Registration(
            SessionServicer(pool, directory, keys, jwts, revoker, revoked),
            session_service_pb2_grpc.add_SessionServiceServicer_to_server,
            session_service_pb2.DESCRIPTOR.services_by_name["SessionService"].full_name,
        ),
    ]
