"""A tiny SCIM client for the tests: one connection's base URL and token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict

SCIM = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@dataclass
class Reply:
    status: int
    body: Any
    headers: CIMultiDict
    content_type: str


@dataclass
class ScimClient:
    http: aiohttp.ClientSession
    base_url: str
    token: str

    async def request(self, method: str, path: str, body: Any = None, *, headers: dict | None = None,
                      params: dict | None = None) -> Reply:
        all_headers = {"Authorization": f"Bearer {self.token}", "Content-Type": SCIM, "Accept": SCIM, **(headers or {})}
        data = orjson.dumps(body) if body is not None else None
        url = self.base_url.split("?")[0] + path
        async with self.http.request(method, url, data=data, headers=all_headers, params=params) as response:
            raw = await response.read()
            parsed = orjson.loads(raw) if raw else None
            return Reply(response.status, parsed, CIMultiDict(response.headers), response.content_type)

    async def create_user(self, user: dict) -> dict:
        reply = await self.request("POST", "/Users", user)
        assert reply.status == 201, reply.body
        return reply.body

    async def patch(self, path: str, *operations: dict, headers: dict | None = None) -> Reply:
        return await self.request("PATCH", path, {"schemas": [PATCH_OP], "Operations": list(operations)}, headers=headers)


async def new_client(http, gateway, identity_provider: str = "okta") -> ScimClient:
    from tests.support import create_connection, create_organization

    organization = await create_organization(http, gateway, "scim")
    connection = await create_connection(http, gateway, organization["organization_id"], identity_provider)
    return ScimClient(http, connection["base_url"], connection["bearer_token"])
