"""The vendor's side of attribute mapping in the tests: custom fields and
connection mappings made through the management API, undone after."""

from __future__ import annotations

import asyncio
import uuid

from tests.gateway.management_client import POLL_ATTEMPTS, POLL_PAUSE_SECONDS, ManagementClient


class Vendor(ManagementClient):
    """The vendor's side, remembering what to undo: mappings first (a mapped field cannot be deleted)."""

    made_fields: list[str]
    mapped: list[str]

    async def field(self, stem: str, field_type: str = "string") -> str:
        key = f"{stem}_{uuid.uuid4().hex[:8]}"
        status, body = await self.request("PUT", f"/v1/scim/custom_fields/{key}",
                                          {"type": field_type, "description": stem})
        assert status == 201, body
        self.made_fields.append(key)
        return key

    def mapping_path(self, organization: dict, connection: dict) -> str:
        return (f"/v1/b2b/scim/{organization['organization_id']}/connection/{connection['connection_id']}"
                "/attribute_mapping")

    async def map(self, organization: dict, connection: dict, fields: list[dict], **params) -> dict:
        path = self.mapping_path(organization, connection)
        status, body = await self.request("PUT", path, {"fields": fields}, params=params or None)
        assert status == 200, body
        if "dry_run" not in params:
            self.mapped.append(path)
        return body

    async def applied(self, organization: dict, connection: dict) -> dict:
        """The mapping once its background apply is done (bounded; fails with the last state)."""
        body: dict = {}
        for _ in range(POLL_ATTEMPTS):
            status, body = await self.request("GET", self.mapping_path(organization, connection))
            assert status == 200, body
            if body["attribute_mapping"]["apply"]["state"] == "done":
                return body["attribute_mapping"]
            await asyncio.sleep(POLL_PAUSE_SECONDS)
        raise AssertionError(f"the apply never finished: {body}")

    async def undo(self) -> None:
        for path in self.mapped:
            await self.request("PUT", path, {"fields": []})
        for key in self.made_fields:
            status, body = await self.request("DELETE", f"/v1/scim/custom_fields/{key}")
            assert status in (200, 404), body  # 404: the test deleted it


async def mapping_vendor(http, gateway):
    """A Vendor for one test (the body of its fixture)."""
    made = Vendor(http, gateway)
    made.made_fields, made.mapped = [], []
    yield made
    await made.undo()
