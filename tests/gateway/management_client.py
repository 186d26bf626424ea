"""The vendor's side in the tests: management API calls with project credentials."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import aiohttp

POLL_ATTEMPTS = 400
POLL_PAUSE_SECONDS = 0.05


@dataclass
class ManagementClient:
    http: aiohttp.ClientSession
    gateway: Any

    async def request(self, method: str, path: str, body: Any = None, *, headers: dict | None = None,
                      params: dict | None = None) -> tuple[int, dict]:
        async with self.http.request(
            method, self.gateway.url + path, json=body, headers={**self.gateway.auth, **(headers or {})}, params=params
        ) as response:
            return response.status, await response.json(content_type=None)

    async def create_role(self, prefix: str, permissions: list[dict] | None = None) -> str:
        role_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
        status, body = await self.request("POST", "/v1/rbac/roles", {
            "role_id": role_id, "description": prefix, "permissions": permissions or [],
        })
        assert status == 201, body
        return role_id

    async def member(self, organization_id: str, member_id: str) -> dict:
        status, body = await self.request("GET", f"/v1/b2b/organizations/{organization_id}/members/{member_id}")
        assert status == 200, body
        return body["member"]

    async def role_ids(self, organization_id: str, member_id: str) -> list[str]:
        return [r["role_id"] for r in (await self.member(organization_id, member_id))["roles"]]

    async def wait_for_member(self, organization_id: str, member_id: str, condition: Callable[[dict], bool]) -> dict:
        """The member once `condition` holds: roles follow directory events
        asynchronously. Bounded; fails with the last state seen."""
        member: dict = {}
        for _ in range(POLL_ATTEMPTS):
            member = await self.member(organization_id, member_id)
            if condition(member):
                return member
            await asyncio.sleep(POLL_PAUSE_SECONDS)
        raise AssertionError(f"condition never held; last seen: {member}")

    async def wait_for_roles(self, organization_id: str, member_id: str, role_ids: list[str]) -> dict:
        return await self.wait_for_member(
            organization_id, member_id, lambda m: sorted(r["role_id"] for r in m["roles"]) == sorted(role_ids)
        )

    async def map_groups(self, organization_id: str, connection_id: str, pairs: list[tuple[str, str]],
                         **params) -> tuple[int, dict]:
        return await self.request(
            "PUT", f"/v1/b2b/scim/{organization_id}/connection/{connection_id}",
            {"scim_group_implicit_role_assignments": [{"group_id": g, "role_id": r} for g, r in pairs]},
            params=params or None,
        )
