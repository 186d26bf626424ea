"""The roles part of the load: a group of members mapped to a role (timed as
one management call), then effective-role reads, permission checks and
session authentications over gRPC straight to the rbac service, as the
vendor's internal services make them."""

from __future__ import annotations

import asyncio
import random
import time

import aiohttp
import grpc
import orjson
from scimd.rbac.v1 import rbac_service_pb2 as rbac_pb
from scimd.rbac.v1 import session_service_pb2 as session_pb
from scimd.rbac.v1.rbac_service_pb2_grpc import RbacServiceStub
from scimd.rbac.v1.session_service_pb2_grpc import SessionServiceStub

from bench.raw_http import RawConnection
from bench.target import system_addresses

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP_CORE = "urn:ietf:params:scim:schemas:core:2.0:Group"
MAPPED_MEMBERS = 1_000
SESSIONS = 200
CALLER_CHANNELS = 4


async def run_grpc_scenario(figures_type, name: str, requests: int, concurrency: int, call) -> object:
    """`requests` calls of call(index) by `concurrency` workers."""
    figures = figures_type(name)
    counter = iter(range(requests))

    async def worker() -> None:
        for index in counter:
            started = time.perf_counter()
            ok = await call(index)
            figures.latencies.append(time.perf_counter() - started)
            if not ok:
                figures.errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    figures.elapsed = time.perf_counter() - started
    return figures


async def rbac_scenarios(args, figures_type, management: dict, organization: dict, connection: dict,
                         headers: dict, user_ids: list[str], run: str) -> list:
    rbac_address = args.rbac_addr or system_addresses(args.data_dir)["rbac"]
    base_path = "/" + connection["base_url"].split("/", 3)[3].split("?")[0]
    members = user_ids[:MAPPED_MEMBERS]
    role_id = f"bench-reader-{run}"
    conn = await RawConnection.open(args.url)
    try:
        status, body = await conn.request("POST", f"{base_path}/Groups", headers, orjson.dumps(
            {"schemas": [GROUP_CORE], "displayName": f"Bench readers {run}",
             "members": [{"value": m} for m in members]}))
        group_id = orjson.loads(body)["id"]
    finally:
        await conn.close()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{args.url}/v1/rbac/roles", headers=management, json={
            "role_id": role_id, "permissions": [{"resource_id": "documents", "actions": ["read"]}],
        }) as response:
            assert response.status == 201, await response.text()
        started = time.perf_counter()
        async with http.put(
            f"{args.url}/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}",
            headers=management,
            json={"scim_group_implicit_role_assignments": [{"group_id": group_id, "role_id": role_id}]},
        ) as response:
            answer = await response.json()
        mapping = figures_type(f"map group of {len(members)}")
        mapping.latencies.append(time.perf_counter() - started)
        mapping.elapsed = mapping.latencies[0]
        mapping.errors = 0 if len(answer.get("role_changes", [])) == len(members) else 1

    organization_id = organization["organization_id"]
    # Several callers, each with its own connection, as the vendor's services would be.
    channels = [
        grpc.aio.insecure_channel(rbac_address, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(CALLER_CHANNELS)
    ]
    stubs = [RbacServiceStub(channel) for channel in channels]
    try:
        async def get_roles(index: int) -> bool:
            response = await stubs[index % len(stubs)].GetMemberRoles(rbac_pb.GetMemberRolesRequest(
                organization_id=organization_id, member_id=random.choice(members)))
            return len(response.member_roles.roles) == 1

        async def check(index: int) -> bool:
            response = await stubs[index % len(stubs)].CheckPermission(rbac_pb.CheckPermissionRequest(
                organization_id=organization_id, member_id=random.choice(members),
                resource_id="documents", action="read"))
            return response.allowed

        reads = await run_grpc_scenario(figures_type, "gRPC GetMemberRoles", args.requests * 2, args.concurrency, get_roles)
        checks = await run_grpc_scenario(figures_type, "gRPC CheckPermission", args.requests * 2, args.concurrency, check)

        sessions = [SessionServiceStub(channel) for channel in channels]
        started_sessions = [
            await sessions[0].CreateSession(session_pb.CreateSessionRequest(
                organization_id=organization_id, member_id=member_id, session_duration_minutes=60))
            for member_id in members[:SESSIONS]
        ]

        async def authenticate_jwt(index: int) -> bool:
            session = started_sessions[index % len(started_sessions)]
            response = await sessions[index % len(sessions)].AuthenticateSession(
                session_pb.AuthenticateSessionRequest(session_jwt=session.session_jwt))
            return response.session_jwt == session.session_jwt

        async def authenticate_token(index: int) -> bool:
            session = started_sessions[index % len(started_sessions)]
            response = await sessions[index % len(sessions)].AuthenticateSession(
                session_pb.AuthenticateSessionRequest(session_token=session.session_token))
            return list(response.session.roles) == [role_id]

        by_jwt = await run_grpc_scenario(
            figures_type, "gRPC authenticate, JWT", args.requests, args.concurrency, authenticate_jwt)
        by_token = await run_grpc_scenario(
            figures_type, "gRPC authenticate, token", args.requests, args.concurrency, authenticate_token)
    finally:
        for channel in channels:
            await channel.close()
    return [mapping, reads, checks, by_jwt, by_token]
