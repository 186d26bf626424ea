"""Sessions whose roles follow the IdP: the app starts a session for a
member, its short-lived JWT carries the member's current roles, and
deprovisioning over SCIM ends it at once."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from contextlib import asynccontextmanager

import nats
import pytest
from jwcrypto import jwk, jwt
from scimd.events.v1 import event_pb2

from tests.gateway.management_client import ManagementClient
from tests.gateway.test_rbac import new_tenant

SESSION_CLAIM = "https://stytch.com/session"
EVENT_WAIT_SECONDS = 10


@pytest.fixture
async def vendor(http, gateway) -> ManagementClient:
    return ManagementClient(http, gateway)


def claims_of(session_jwt: str) -> dict:
    """The payload, read without verifying (verification has its own test)."""
    payload = session_jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header_of(session_jwt: str) -> dict:
    header = session_jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))


async def start_session(vendor: ManagementClient, organization_id: str, member_id: str, minutes: int = 60) -> dict:
    status, body = await vendor.request("POST", "/v1/b2b/sessions", {
        "organization_id": organization_id, "member_id": member_id, "session_duration_minutes": minutes,
    })
    assert status == 200, body
    return body


async def authenticate(vendor: ManagementClient, **credential: str) -> tuple[int, dict]:
    return await vendor.request("POST", "/v1/b2b/sessions/authenticate", credential)


@asynccontextmanager
async def revocation_events(gateway):
    """session.revoked events as they are published, for the duration of the block."""
    connection = await nats.connect(gateway.settings.nats_url)
    events: asyncio.Queue[event_pb2.Event] = asyncio.Queue()

    async def received(message) -> None:
        events.put_nowait(event_pb2.Event.FromString(message.data))

    await connection.subscribe(f"{gateway.settings.nats_prefix}.events.*.session.revoked", cb=received)
    await connection.flush()
    try:
        yield events
    finally:
        await connection.close()


async def next_revocation_of(events: asyncio.Queue, session_id: str) -> event_pb2.Event:
    async def wait() -> event_pb2.Event:
        while True:
            event = await events.get()
            if session_id in event.sessions_revoked.session_ids:
                return event

    return await asyncio.wait_for(wait(), EVENT_WAIT_SECONDS)


async def test_roles_follow_the_idp_and_deactivation_ends_the_session(http, gateway, vendor):
    """The promise end to end: start → authenticate → the IdP adds the member
    to a mapped group → the refreshed JWT carries the role → the IdP
    deactivates the member → authenticate fails at once, and session.revoked
    is published."""
    tenant = await new_tenant(http, gateway)
    editor = await vendor.create_role("editor")
    alice = await tenant.user("alice")
    group_id = await tenant.group("Editors")
    status, body = await vendor.map_groups(tenant.organization_id, tenant.connection_id, [(group_id, editor)])
    assert status == 200, body

    started = await start_session(vendor, tenant.organization_id, alice)
    session_id = started["member_session"]["member_session_id"]
    assert started["session_token"].startswith("scimd_session_")
    assert started["member"]["member_id"] == alice and started["member_session"]["roles"] == []
    first_claims = claims_of(started["session_jwt"])
    assert first_claims["sub"] == alice and first_claims[SESSION_CLAIM]["id"] == session_id
    assert first_claims["https://stytch.com/organization"]["organization_id"] == tenant.organization_id
    assert first_claims["exp"] - first_claims["iat"] == gateway.settings.session_jwt_seconds

    status, body = await authenticate(vendor, session_jwt=started["session_jwt"])
    assert status == 200, body
    assert body["session_jwt"] == started["session_jwt"]  # still valid: checked, not reissued
    assert body["member_session"]["member_session_id"] == session_id

    await tenant.scim.patch(f"/Groups/{group_id}", {"op": "add", "path": "members", "value": [{"value": alice}]})
    await vendor.wait_for_roles(tenant.organization_id, alice, [editor])
    status, body = await authenticate(vendor, session_token=started["session_token"])
    assert status == 200, body
    assert claims_of(body["session_jwt"])[SESSION_CLAIM]["roles"] == [editor]
    assert body["member_session"]["roles"] == [editor]
    refreshed_jwt = body["session_jwt"]

    async with revocation_events(gateway) as events:
        await tenant.scim.patch(f"/Users/{alice}", {"op": "replace", "path": "active", "value": False})
        # No waiting: the member's state is checked on every authentication.
        for credential in ({"session_token": started["session_token"]}, {"session_jwt": refreshed_jwt}):
            status, body = await authenticate(vendor, **credential)
            assert status == 401, body
        event = await next_revocation_of(events, session_id)
    assert event.organization_id == tenant.organization_id
    assert event.sessions_revoked.member_id == alice and event.sessions_revoked.reason == "member_inactive"

    # Reactivation does not bring the session back.
    await tenant.scim.patch(f"/Users/{alice}", {"op": "replace", "path": "active", "value": True})
    await vendor.wait_for_roles(tenant.organization_id, alice, [editor])
    status, _ = await authenticate(vendor, session_token=started["session_token"])
    assert status == 401


async def test_jwks_verifies_session_jwts_with_an_independent_library(http, gateway, vendor, running_services):
    """The published keys verify our JWTs in jwcrypto, and a rotation keeps
    the old key published (its JWTs stay valid) while the new one signs."""
    tenant = await new_tenant(http, gateway)
    alice = await tenant.user("alice")
    before_rotation = await start_session(vendor, tenant.organization_id, alice)

    async def published_keys() -> jwk.JWKSet:
        async with http.get(f"{gateway.url}/v1/b2b/sessions/jwks/{gateway.settings.project_id}") as response:
            assert response.status == 200  # public: no credentials
            return jwk.JWKSet.from_json(await response.text())

    def verified(session_jwt: str, keys: jwk.JWKSet) -> dict:
        token = jwt.JWT(jwt=session_jwt, key=keys, algs=["ES256"], check_claims={
            # The rbac service signs as the public URL it was started with.
            "iss": running_services.public_url, "aud": gateway.settings.project_id, "exp": None,
        })
        return json.loads(token.claims)

    keys = await published_keys()
    claims = verified(before_rotation["session_jwt"], keys)
    assert claims["sub"] == alice

    status, body = await vendor.request("POST", "/v1/b2b/sessions/jwks/rotate")
    assert status == 200, body
    new_kid = body["signing_key"]["kid"]
    assert new_kid != header_of(before_rotation["session_jwt"])["kid"]
    after_rotation = await start_session(vendor, tenant.organization_id, alice)
    assert header_of(after_rotation["session_jwt"])["kid"] == new_kid

    keys = await published_keys()
    kids = {key.get("kid") for key in json.loads(keys.export(private_keys=False))["keys"]}
    assert {new_kid, header_of(before_rotation["session_jwt"])["kid"]} <= kids
    verified(before_rotation["session_jwt"], keys)
    verified(after_rotation["session_jwt"], keys)
    status, _ = await authenticate(vendor, session_jwt=before_rotation["session_jwt"])
    assert status == 200

    async with http.get(f"{gateway.url}/v1/b2b/sessions/jwks/project-someone-else") as response:
        assert response.status == 404


async def test_revoke_one_session_or_all_of_a_member(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    alice = await tenant.user("alice")
    first, second, third = [await start_session(vendor, tenant.organization_id, alice) for _ in range(3)]

    async with revocation_events(gateway) as events:
        status, body = await vendor.request("POST", "/v1/b2b/sessions/revoke", {
            "organization_id": tenant.organization_id,
            "member_session_id": first["member_session"]["member_session_id"],
        })
        assert status == 200 and body["revoked_member_session_ids"] == [first["member_session"]["member_session_id"]]
        for credential in ({"session_token": first["session_token"]}, {"session_jwt": first["session_jwt"]}):
            assert (await authenticate(vendor, **credential))[0] == 401
        assert (await authenticate(vendor, session_token=second["session_token"]))[0] == 200
        event = await next_revocation_of(events, first["member_session"]["member_session_id"])
        assert event.sessions_revoked.reason == "revoked"

    status, body = await vendor.request("POST", "/v1/b2b/sessions/revoke", {
        "organization_id": tenant.organization_id, "member_id": alice,
    })
    assert status == 200
    assert sorted(body["revoked_member_session_ids"]) == sorted(
        s["member_session"]["member_session_id"] for s in (second, third)
    )
    for session in (second, third):
        assert (await authenticate(vendor, session_jwt=session["session_jwt"]))[0] == 401

    # Another organization's ids revoke nothing.
    other = await new_tenant(http, gateway)
    bob = await other.user("bob")
    bobs = await start_session(vendor, other.organization_id, bob)
    status, body = await vendor.request("POST", "/v1/b2b/sessions/revoke", {
        "organization_id": tenant.organization_id, "member_session_id": bobs["member_session"]["member_session_id"],
    })
    assert status == 200 and body["revoked_member_session_ids"] == []
    assert (await authenticate(vendor, session_token=bobs["session_token"]))[0] == 200


async def test_losing_the_last_role_ends_the_session(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    editor = await vendor.create_role("editor")
    alice = await tenant.user("alice")
    group_id = await tenant.group("Editors", alice)
    await vendor.map_groups(tenant.organization_id, tenant.connection_id, [(group_id, editor)])
    await vendor.wait_for_roles(tenant.organization_id, alice, [editor])
    session = await start_session(vendor, tenant.organization_id, alice)
    assert session["member_session"]["roles"] == [editor]

    async with revocation_events(gateway) as events:
        await tenant.scim.patch(f"/Groups/{group_id}", {"op": "Remove", "path": "members", "value": [{"value": alice}]})
        event = await next_revocation_of(events, session["member_session"]["member_session_id"])
    assert event.sessions_revoked.reason == "roles_lost"
    assert (await authenticate(vendor, session_token=session["session_token"]))[0] == 401
    assert (await authenticate(vendor, session_jwt=session["session_jwt"]))[0] == 401


async def test_deleting_the_organization_ends_its_sessions(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    alice = await tenant.user("alice")
    session = await start_session(vendor, tenant.organization_id, alice)
    async with revocation_events(gateway) as events:
        status, _ = await vendor.request("DELETE", f"/v1/b2b/organizations/{tenant.organization_id}")
        assert status == 200
        await next_revocation_of(events, session["member_session"]["member_session_id"])
    assert (await authenticate(vendor, session_token=session["session_token"]))[0] == 401


@pytest.mark.parametrize("body", [
    {},
    {"session_token": "x", "session_jwt": "y"},
    {"session_token": 7},
])
async def test_authenticate_needs_exactly_one_credential(vendor, body):
    status, answer = await vendor.request("POST", "/v1/b2b/sessions/authenticate", body)
    assert status == 400, answer


async def test_forged_and_malformed_credentials_are_refused(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    alice = await tenant.user("alice")
    session = await start_session(vendor, tenant.organization_id, alice)
    header, payload, signature = session["session_jwt"].split(".")
    claims = claims_of(session["session_jwt"])
    claims[SESSION_CLAIM]["roles"] = ["admin"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    unsigned_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    token_id = session["session_token"].split("_")[2]
    for credential in (
        {"session_jwt": f"{header}.{forged_payload}.{signature}"},
        {"session_jwt": f"{unsigned_header}.{payload}."},
        {"session_jwt": "not.a.jwt"},
        {"session_token": "scimd_session_nothing"},
        {"session_token": f"scimd_session_{token_id}_{'A' * 43}"},
    ):
        status, body = await authenticate(vendor, **credential)
        assert status == 401, (credential, body)
        assert body["error_type"]


async def test_sessions_only_for_active_members_of_the_organization(http, gateway, vendor):
    tenant, other = await new_tenant(http, gateway), await new_tenant(http, gateway)
    alice = await tenant.user("alice")
    for body, expected in (
        ({"organization_id": other.organization_id, "member_id": alice}, 404),
        ({"organization_id": tenant.organization_id, "member_id": f"member-{uuid.uuid4()}"}, 404),
        ({"organization_id": tenant.organization_id}, 400),
        ({"organization_id": tenant.organization_id, "member_id": alice, "session_duration_minutes": 0}, 400),
        ({"organization_id": tenant.organization_id, "member_id": alice, "session_duration_minutes": "60"}, 400),
    ):
        status, answer = await vendor.request("POST", "/v1/b2b/sessions", body)
        if body.get("session_duration_minutes") == 0:
            expected = 200  # 0 means the default, as in Stytch
        assert status == expected, (body, answer)
    await tenant.scim.patch(f"/Users/{alice}", {"op": "replace", "path": "active", "value": False})
    status, _ = await vendor.request("POST", "/v1/b2b/sessions", {
        "organization_id": tenant.organization_id, "member_id": alice,
    })
    assert status == 404
    status, _ = await vendor.request("POST", "/v1/b2b/sessions", {}, headers={"Authorization": "Basic eDp5"})
    assert status == 401


async def test_session_revoked_reaches_the_webhook(http, gateway, vendor, webhook_receiver):
    from standardwebhooks import Webhook

    status, body = await vendor.request(
        "POST", "/v1/webhooks/endpoints", {"url": webhook_receiver.url, "event_types": ["session.revoked"]}
    )
    assert status == 201, body
    secret = body["endpoint"]["secret"]
    tenant = await new_tenant(http, gateway)
    alice = await tenant.user("alice")
    session = await start_session(vendor, tenant.organization_id, alice)
    await tenant.scim.request("DELETE", f"/Users/{alice}")
    for _ in range(50):
        delivered = await webhook_receiver.next(timeout=20)
        data = Webhook(secret).verify(delivered.body, delivered.headers)["data"]
        if data["member_id"] == alice:
            break
    assert data["object_type"] == "member_session" and data["reason"] == "member_inactive"
    assert data["member_session_ids"] == [session["member_session"]["member_session_id"]]
    assert data["organization_id"] == tenant.organization_id and data["source"] == "SCIM"
