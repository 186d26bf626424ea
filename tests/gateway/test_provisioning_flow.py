"""The README flow through the gateway: organization → connection → webhook
endpoint → SCIM user → signed scim.member.create webhook."""

import orjson
from standardwebhooks import Webhook

from tests.support import bearer, create_connection, create_organization, post_json, scim_user

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


async def test_scim_create_reaches_a_signed_webhook(http, gateway, webhook_receiver):
    organization = await create_organization(http, gateway, "flow")
    connection = await create_connection(http, gateway, organization["organization_id"])
    assert connection["base_url"] == f"{gateway.url}/scim/v2/{connection['connection_id']}"
    status, body = await post_json(
        http, f"{gateway.url}/v1/webhooks/endpoints",
        {"url": webhook_receiver.url, "event_types": ["scim.member.create"]}, headers=gateway.auth,
    )
    assert status == 201 and body["endpoint"]["secret"].startswith("whsec_")
    secret = body["endpoint"]["secret"]

    async with http.post(
        f"{connection['base_url']}/Users", data=orjson.dumps(scim_user("ada@acme.test")), headers=bearer(connection)
    ) as response:
        assert response.status == 201
        assert response.content_type == "application/scim+json"
        user = await response.json(content_type=None)
        assert response.headers["Location"] == user["meta"]["location"]
        assert response.headers["ETag"] == user["meta"]["version"]
    assert user["userName"] == "ada@acme.test" and user["active"] is True
    assert "password" not in user

    delivered = None
    for _ in range(100):
        candidate = await webhook_receiver.next()
        if orjson.loads(candidate.body)["data"]["member"]["member_id"] == user["id"]:
            delivered = candidate
            break
    assert delivered is not None
    payload = Webhook(secret).verify(delivered.body, delivered.headers)
    assert payload["type"] == "scim.member.create"
    assert payload["data"]["organization_id"] == organization["organization_id"]
    assert payload["data"]["member"]["email_address"] == "ada@acme.test"
    assert payload["data"]["member"]["name"] == "Ada Lovelace"
    assert payload["data"]["member"]["scim_registration"]["connection_id"] == connection["connection_id"]
    assert delivered.headers["webhook-id"] == payload["data"]["event_id"]

    async with http.get(f"{connection['base_url']}/Users/{user['id']}", headers=bearer(connection)) as response:
        assert response.status == 200
        assert await response.json(content_type=None) == user


async def test_bearer_token_is_shown_once(http, gateway):
    organization = await create_organization(http, gateway, "once")
    connection = await create_connection(http, gateway, organization["organization_id"])
    async with http.get(f"{gateway.url}/v1/b2b/scim/{organization['organization_id']}/connection", headers=gateway.auth) as response:
        body = await response.json()
    assert response.status == 200
    assert "bearer_token" not in body["connection"]
    assert body["connection"]["bearer_token_last_four"] == connection["bearer_token"][-4:]


async def test_entra_base_url_opts_into_rfc_compliant_patch(http, gateway):
    organization = await create_organization(http, gateway, "entra")
    connection = await create_connection(http, gateway, organization["organization_id"], identity_provider="microsoft-entra")
    assert connection["base_url"].endswith("?aadOptscim062020")


async def test_health_endpoints(http, gateway):
    async with http.get(f"{gateway.url}/healthz") as response:
        assert response.status == 200
    async with http.get(f"{gateway.url}/readyz") as response:
        body = await response.json()
    assert response.status == 200
    assert body["services"] == {name: "SERVING" for name in ("connections", "directory", "rbac", "webhooks")}


async def test_request_id_is_echoed(http, gateway):
    async with http.get(f"{gateway.url}/healthz", headers={"X-Request-Id": "trace-123"}) as response:
        assert response.headers["X-Request-Id"] == "trace-123"
