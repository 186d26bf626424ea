"""Organization snapshots (issue 17 §2): a snapshot at Events API cursor C,
plus the organization's events after C folded by the documented rules, is
the live state — under concurrent SCIM writes and role-mapping changes.

Checked two ways for every snapshot taken while the writes run:
- snapshot i + the events in (C_i, C_i+1] = snapshot i+1, field for field
  (a gap or an overlap at either cursor breaks it: a missed or doubled
  membership, an older member version);
- snapshot i + every event after C_i = the live state read back from the
  management and SCIM APIs once the writes are done."""

from __future__ import annotations

import asyncio
import random
import time
import uuid

import aiohttp
import asyncpg
import orjson
import pytest

from runtime.paging import decode_page_token
from tests.gateway.management_client import ManagementClient
from tests.gateway.scim_client import ScimClient
from tests.support import create_connection, create_organization, scim_user

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
WRITERS = 4
OPERATIONS_PER_WRITER = 30
SNAPSHOTS = 5
SETTLE_DEADLINE_S = 30


class State:
    """What a consumer holds, folded from a snapshot and then events by the README's rules."""

    def __init__(self) -> None:
        self.members: dict[str, dict] = {}
        self.roles: dict[str, list] = {}
        self.groups: dict[str, dict] = {}
        self.memberships: set[tuple[str, str]] = set()

    @classmethod
    def from_snapshot(cls, lines: list[dict]) -> "State":
        state = cls()
        for line in lines:
            record = {k: v for k, v in line.items() if k != "object"}
            if line["object"] == "member":
                state.roles[record["member_id"]] = record.pop("roles")
                state.members[record["member_id"]] = record
            elif line["object"] == "idp_group":
                state.groups[record["group_id"]] = record
            elif line["object"] == "membership":
                state.memberships.add((record["group_id"], record["member_id"]))
        return state

    def apply(self, event: dict) -> None:
        data, kind = event["data"], event["type"]
        if data.get("object_type") == "member":
            member = dict(data["member"])
            if "roles" in member:  # rbac's report: only the roles count
                self.roles[member["member_id"]] = member["roles"]
            elif kind == "scim.member.delete":
                self.members.pop(member["member_id"], None)
            else:
                self.members[member["member_id"]] = member
        elif data.get("object_type") == "idp_group":
            group = data["idp_group"]
            if kind == "scim.idp_group.delete":
                self.groups.pop(group["group_id"], None)
                self.memberships = {m for m in self.memberships if m[0] != group["group_id"]}
                return
            self.groups[group["group_id"]] = group
            for member_id in data.get("member_ids", ()):
                if kind == "scim.idp_group.member_add":
                    self.memberships.add((group["group_id"], member_id))
                elif kind == "scim.idp_group.member_delete":
                    self.memberships.discard((group["group_id"], member_id))

    def view(self) -> dict:
        """Everything, for comparing two consumers' states field for field."""
        return {"members": {i: {**m, "roles": self.roles.get(i, [])} for i, m in self.members.items()},
                "groups": self.groups, "memberships": self.memberships}

    def summary(self) -> dict:
        """What the live APIs show too: versions, status, role ids, group names, memberships."""
        return {"members": {i: (m["etag"], m["status"], sorted(r["role_id"] for r in self.roles.get(i, [])))
                            for i, m in self.members.items()},
                "groups": {i: g["group_name"] for i, g in self.groups.items()},
                "memberships": self.memberships}


async def read_snapshot(http: aiohttp.ClientSession, gateway, organization_id: str) -> tuple[str, list[dict]]:
    async with http.get(f"{gateway.url}/v1/b2b/organizations/{organization_id}/snapshot",
                        headers=gateway.auth) as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "application/x-ndjson"
        lines = [orjson.loads(line) for line in (await response.read()).splitlines()]
    assert lines[0]["object"] == "snapshot" and lines[-1]["object"] == "end", (lines[0], lines[-1])
    records = lines[1:-1]
    assert lines[-1]["members"] == sum(1 for r in records if r["object"] == "member")
    return lines[0]["events_cursor"], records


class EventReader:
    """The organization's events after a cursor, through the Events API."""

    def __init__(self, vendor: ManagementClient, organization_id: str, cursor: str) -> None:
        self.vendor, self.organization_id, self.cursor = vendor, organization_id, cursor

    async def page(self, limit: int = 1000) -> list[dict]:
        status, body = await self.vendor.request("GET", "/v1/events", params={
            "organization_id": self.organization_id, "limit": str(limit), "after": self.cursor})
        assert status == 200, body
        self.cursor = body["next_cursor"]
        return body["events"]

    async def fold_through(self, state: State, through_cursor: str) -> None:
        """Applies the events up to and including `through_cursor`'s position, one at a time."""
        through = decode_page_token(through_cursor, 1)[0]
        for _ in range(100_000):  # bounded
            before = self.cursor
            events = await self.page(limit=1)
            if not events:
                return
            if decode_page_token(self.cursor, 1)[0] > through:
                self.cursor = before
                return
            state.apply(events[0])

    async def fold_all(self, state: State) -> None:
        for _ in range(1000):  # bounded: pages of 1000
            events = await self.page()
            for event in events:
                state.apply(event)
            if len(events) < 1000:
                return


async def live_state(vendor: ManagementClient, scim: ScimClient, organization_id: str) -> dict:
    members, cursor = {}, ""
    for _ in range(100):  # bounded: pages of 1000
        status, body = await vendor.request("GET", f"/v1/b2b/organizations/{organization_id}/members",
                                            params={"limit": "1000", **({"cursor": cursor} if cursor else {})})
        assert status == 200, body
        members.update((m["member_id"], (m["etag"], m["status"], sorted(r["role_id"] for r in m["roles"])))
                       for m in body["members"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    reply = await scim.request("GET", "/Groups", params={"count": "1000"})
    assert reply.status == 200, reply.body
    groups = {g["id"]: g["displayName"] for g in reply.body["Resources"]}
    memberships = {(g["id"], m["value"]) for g in reply.body["Resources"] for m in g.get("members", ())}
    return {"members": members, "groups": groups, "memberships": memberships}


class Writers:
    """Random SCIM writes (users and groups: create, change, deactivate,
    delete, join, leave) and group → role mappings, from a seed."""

    def __init__(self, scim: ScimClient, vendor: ManagementClient, organization_id: str, connection_id: str,
                 role_ids: list[str], seed: int) -> None:
        self.scim, self.vendor = scim, vendor
        self.organization_id, self.connection_id, self.role_ids = organization_id, connection_id, role_ids
        self.random = random.Random(seed)
        self.users: list[str] = []
        self.groups: list[str] = []

    async def run(self, operations: int) -> None:
        for _ in range(operations):
            await self.random.choice(self._operations())()

    def _operations(self):
        operations = [self._create_user, self._create_user, self._create_group]
        if self.users:
            operations += [self._rename_user, self._deactivate_user, self._delete_user]
        if self.users and self.groups:
            operations += [self._join, self._join, self._leave, self._map_roles]
        if self.groups:
            operations += [self._delete_group]
        return operations

    async def _create_user(self) -> None:
        self.users.append((await self.scim.create_user(scim_user(f"snap-{uuid.uuid4().hex[:10]}@example.com")))["id"])

    async def _create_group(self) -> None:
        members = self.random.sample(self.users, min(len(self.users), self.random.randint(0, 3)))
        reply = await self.scim.request("POST", "/Groups", {"schemas": [GROUP], "displayName": f"G-{uuid.uuid4().hex[:8]}",
                                                            "members": [{"value": m} for m in members]})
        assert reply.status == 201, reply.body
        self.groups.append(reply.body["id"])

    async def _rename_user(self) -> None:
        user = self.random.choice(self.users)
        reply = await self.scim.patch(f"/Users/{user}", {"op": "replace", "path": "displayName",
                                                         "value": f"N{self.random.randint(0, 10**6)}"})
        assert reply.status in (200, 404), reply.body  # 404: another writer deleted it

    async def _deactivate_user(self) -> None:
        reply = await self.scim.patch(f"/Users/{self.random.choice(self.users)}",
                                      {"op": "replace", "value": {"active": False}})
        assert reply.status in (200, 404), reply.body

    async def _delete_user(self) -> None:
        user = self.users.pop(self.random.randrange(len(self.users)))
        assert (await self.scim.request("DELETE", f"/Users/{user}")).status in (204, 404)

    async def _join(self) -> None:
        reply = await self.scim.patch(f"/Groups/{self.random.choice(self.groups)}",
                                      {"op": "add", "path": "members", "value": [{"value": self.random.choice(self.users)}]})
        assert reply.status in (200, 204, 400, 404), reply.body  # 400: the user is gone

    async def _leave(self) -> None:
        reply = await self.scim.patch(f"/Groups/{self.random.choice(self.groups)}",
                                      {"op": "remove", "path": f'members[value eq "{self.random.choice(self.users)}"]'})
        assert reply.status in (200, 204, 404), reply.body

    async def _delete_group(self) -> None:
        group = self.groups.pop(self.random.randrange(len(self.groups)))
        assert (await self.scim.request("DELETE", f"/Groups/{group}")).status in (204, 404)

    async def _map_roles(self) -> None:
        pairs = [(g, self.random.choice(self.role_ids)) for g in self.random.sample(self.groups, min(2, len(self.groups)))]
        status, body = await self.vendor.map_groups(self.organization_id, self.connection_id, pairs)
        assert status in (200, 400), body  # 400: another writer deleted a group


@pytest.mark.parametrize("seed", [17, 2026])
async def test_snapshot_plus_the_events_after_its_cursor_is_the_live_state(http, gateway, seed):
    vendor = ManagementClient(http, gateway)
    organization_id = (await create_organization(http, gateway, "snapshot"))["organization_id"]
    connection = await create_connection(http, gateway, organization_id)
    scim = ScimClient(http, connection["base_url"], connection["bearer_token"])
    role_ids = [await vendor.create_role(f"snap{n}") for n in range(2)]

    writers = [Writers(scim, vendor, organization_id, connection["connection_id"], role_ids, seed * 100 + n)
               for n in range(WRITERS)]
    writing = asyncio.gather(*(w.run(OPERATIONS_PER_WRITER) for w in writers))
    snapshots = [await read_snapshot(http, gateway, organization_id)]
    schedule = random.Random(seed)
    while not writing.done() and len(snapshots) < SNAPSHOTS:
        await asyncio.sleep(schedule.uniform(0.05, 0.4))  # snapshots at random moments of the writes
        snapshots.append(await read_snapshot(http, gateway, organization_id))
    await writing

    for (cursor, records), (next_cursor, next_records) in zip(snapshots, snapshots[1:]):
        state = State.from_snapshot(records)
        await EventReader(vendor, organization_id, cursor).fold_through(state, next_cursor)
        assert state.view() == State.from_snapshot(next_records).view()

    deadline = time.monotonic() + SETTLE_DEADLINE_S
    states = [(State.from_snapshot(records), EventReader(vendor, organization_id, cursor))
              for cursor, records in snapshots]
    while True:  # the events of the last writes reach the Events API within moments
        live = await live_state(vendor, scim, organization_id)
        for state, reader in states:
            await reader.fold_all(state)
        if all(state.summary() == live for state, _ in states) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)  # polling for the pipeline to drain, with a deadline
    for state, _ in states:
        assert state.summary() == live
    assert len(live["members"]) >= WRITERS and live["memberships"], "too little was written to prove anything"


async def test_an_unknown_organization_is_404(http, gateway):
    async with http.get(f"{gateway.url}/v1/b2b/organizations/organization-{uuid.uuid4()}/snapshot",
                        headers=gateway.auth) as response:
        assert response.status == 404
        assert (await response.json())["error_type"] == "not_found"


async def test_a_new_organization_has_an_empty_snapshot_at_once(http, gateway):
    organization_id = (await create_organization(http, gateway, "fresh"))["organization_id"]
    cursor, records = await read_snapshot(http, gateway, organization_id)  # whether or not its first event is in
    assert records == [] and cursor


async def test_an_organization_older_than_snapshots_is_409(http, gateway):
    organization_id = (await create_organization(http, gateway, "older"))["organization_id"]
    conn = await asyncpg.connect(gateway.settings.database_url)
    try:  # as if snapshots had begun after the organization was created
        await conn.execute("UPDATE webhooks.snapshot_epoch SET started_at = started_at + interval '100 years'")
        try:
            for _ in range(100):  # bounded: organization.create reaches the webhooks service within moments
                if await conn.execute("DELETE FROM webhooks.snapshot_organizations WHERE organization_id = $1",
                                      organization_id) == "DELETE 1":
                    break
                await asyncio.sleep(0.1)
            async with http.get(f"{gateway.url}/v1/b2b/organizations/{organization_id}/snapshot",
                                headers=gateway.auth) as response:
                status, body = response.status, await response.json()
        finally:
            await conn.execute("UPDATE webhooks.snapshot_epoch SET started_at = started_at - interval '100 years'")
    finally:
        await conn.close()
    assert status == 409, body
    assert body["error_type"] == "conflict" and "reconcile" in body["error_message"]
