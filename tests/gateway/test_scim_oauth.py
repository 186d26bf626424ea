"""OAuth 2.0 for SCIM connections (issue 18 §1): client credentials with a
rotating secret, secretless JWT client assertions (RFC 7523) against a JWKS
served on 127.0.0.1, the RFC 6749 §5.2 errors, and access tokens that
authenticate SCIM like the bearer token and die with what issued them."""

from __future__ import annotations

import base64
import time
import uuid

import jwt
import orjson
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from cli.processes import free_port
from tests.gateway.management_client import ManagementClient
from tests.support import create_connection, create_organization, scim_user

FORM = "application/x-www-form-urlencoded"
ISSUER = "https://login.example.test/tenant/v2.0"
SUBJECT = "workload-identity-1"
AUDIENCE = "api://scimd"


class Tenant:
    def __init__(self, http, gateway, organization_id: str, connection: dict) -> None:
        self.http, self.gateway = http, gateway
        self.organization_id, self.connection = organization_id, connection
        self.connection_id = connection["connection_id"]
        self.scim_base = connection["base_url"].split("?")[0]
        self.path = f"/v1/b2b/scim/{organization_id}/connection/{self.connection_id}"

    async def token(self, form: dict, headers: dict | None = None) -> tuple[int, dict, dict]:
        async with self.http.post(f"{self.scim_base}/oauth2/token", data=form,
                                  headers={"Content-Type": FORM, **(headers or {})}) as response:
            return response.status, await response.json(content_type=None), dict(response.headers)

    async def scim_status(self, token: str) -> int:
        async with self.http.get(f"{self.scim_base}/Users", params={"count": "1"},
                                 headers={"Authorization": f"Bearer {token}"}) as response:
            return response.status


async def new_tenant(http, gateway) -> Tenant:
    organization_id = (await create_organization(http, gateway, "oauth"))["organization_id"]
    return Tenant(http, gateway, organization_id, await create_connection(http, gateway, organization_id))


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
def vendor(http, gateway) -> ManagementClient:
    return ManagementClient(http, gateway)


async def test_client_credentials_issue_tokens_that_authenticate_scim_and_only_for_their_connection(
        http, gateway, vendor):
    tenant, other = await new_tenant(http, gateway), await new_tenant(http, gateway)
    status, body = await vendor.request("POST", tenant.path + "/oauth_client")
    assert status == 201, body
    client_id, secret = body["client_id"], body["client_secret"]
    assert client_id == tenant.connection_id and secret.startswith("scimd_client_")
    assert body["connection"]["oauth_client"]["client_secret_last_four"] == secret[-4:]
    assert (await vendor.request("POST", tenant.path + "/oauth_client"))[0] == 409

    status, issued, headers = await tenant.token({"grant_type": "client_credentials"}, basic(client_id, secret))
    assert status == 200, issued
    assert issued["token_type"] == "Bearer" and issued["expires_in"] == 3600 and headers["Cache-Control"] == "no-store"
    assert await tenant.scim_status(issued["access_token"]) == 200
    assert await other.scim_status(issued["access_token"]) == 401  # connection A's token on connection B

    status, by_form, _ = await tenant.token({"grant_type": "client_credentials", "client_id": client_id,
                                             "client_secret": secret})
    assert status == 200 and await tenant.scim_status(by_form["access_token"]) == 200

    # Every audited use names the credential: the OAuth client's secret (by its id) and the token.
    async with http.post(f"{tenant.scim_base}/Users", json=scim_user(f"oauth-{uuid.uuid4().hex[:8]}@example.com"),
                         headers={"Authorization": f"Bearer {issued['access_token']}"}) as response:
        assert response.status == 201
    status, audit = await vendor.request("GET", f"/v1/b2b/organizations/{tenant.organization_id}/audit_log")
    secret_id = secret.removeprefix("scimd_client_").split("_")[0]
    assert audit["entries"][0]["token_id"].startswith(f"oauth-client-secret-{secret_id}."), audit["entries"][0]

    # RFC 6749 §5.2.
    status, error, headers = await tenant.token({"grant_type": "client_credentials"}, basic(client_id, secret + "x"))
    assert (status, error["error"]) == (401, "invalid_client") and headers["WWW-Authenticate"].startswith("Basic")
    status, error, _ = await other.token({"grant_type": "client_credentials"}, basic(client_id, secret))
    assert (status, error["error"]) == (401, "invalid_client")  # A's secret at B's endpoint
    status, error, _ = await tenant.token({"grant_type": "password"}, basic(client_id, secret))
    assert (status, error["error"]) == (400, "unsupported_grant_type")
    status, error, _ = await tenant.token({"grant_type": "client_credentials"})
    assert (status, error["error"]) == (401, "invalid_client")
    async with http.post(f"{tenant.scim_base}/oauth2/token", json={"grant_type": "client_credentials"}) as response:
        assert (response.status, (await response.json())["error"]) == (400, "invalid_request")


async def test_a_rotated_or_removed_secret_and_its_tokens_stop_working_at_once(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    _, body = await vendor.request("POST", tenant.path + "/oauth_client")
    client_id, old = body["client_id"], body["client_secret"]
    _, old_token, _ = await tenant.token({"grant_type": "client_credentials"}, basic(client_id, old))
    status, body = await vendor.request("POST", tenant.path + "/oauth_client/rotate/start")
    assert status == 200, body
    new = body["connection"]["next_client_secret"]
    for secret in (old, new):  # both work during the rotation
        assert (await tenant.token({"grant_type": "client_credentials"}, basic(client_id, secret)))[0] == 200
    assert (await vendor.request("POST", tenant.path + "/oauth_client/rotate/complete"))[0] == 200
    assert (await tenant.token({"grant_type": "client_credentials"}, basic(client_id, old)))[0] == 401
    assert await tenant.scim_status(old_token["access_token"]) == 401  # revoked with its secret, at once
    _, new_token, _ = await tenant.token({"grant_type": "client_credentials"}, basic(client_id, new))
    assert await tenant.scim_status(new_token["access_token"]) == 200

    # The bearer token can be turned off once OAuth is set up; it is refused at once.
    bearer = tenant.connection["bearer_token"]
    assert await tenant.scim_status(bearer) == 200
    status, body = await vendor.request("PUT", tenant.path, {"bearer_token_enabled": False})
    assert status == 200 and body["connection"]["bearer_token_enabled"] is False
    assert await tenant.scim_status(bearer) == 401
    assert await tenant.scim_status(new_token["access_token"]) == 200
    # Its own client sees exactly what the connection accepts now.
    async with http.get(f"{tenant.scim_base}/ServiceProviderConfig",
                        headers={"Authorization": f"Bearer {new_token['access_token']}"}) as response:
        schemes = (await response.json(content_type=None))["authenticationSchemes"]
    assert [(s["type"], s["specUri"][-7:], s["primary"]) for s in schemes] == [("oauth2", "rfc6749", True)]
    assert (await vendor.request("DELETE", tenant.path + "/oauth_client"))[0] == 409  # nothing would be left
    assert (await vendor.request("PUT", tenant.path, {"bearer_token_enabled": True}))[0] == 200
    assert (await vendor.request("DELETE", tenant.path + "/oauth_client"))[0] == 200
    assert await tenant.scim_status(new_token["access_token"]) == 401
    bare = await new_tenant(http, gateway)
    assert (await vendor.request("PUT", bare.path, {"bearer_token_enabled": False}))[0] == 409


class Issuer:
    """An identity provider's signing keys, published as a JWKS on 127.0.0.1."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "key-1"
        self.fetches = 0

    def jwks(self) -> dict:
        jwk = orjson.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    async def serve(self, request: web.Request) -> web.Response:
        self.fetches += 1
        return web.json_response(self.jwks())

    def assertion(self, **claims) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "sub": SUBJECT, "aud": AUDIENCE, "iat": now, "exp": now + 300,
                   "jti": uuid.uuid4().hex, **claims}
        kid = payload.pop("kid", self.kid)
        return jwt.encode({k: v for k, v in payload.items() if v is not None}, self.key, algorithm="RS256",
                          headers={"kid": kid})


@pytest.fixture
async def issuer():
    issuer = Issuer()
    app = web.Application()
    app.router.add_get("/keys", issuer.serve)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    issuer.jwks_url = f"http://127.0.0.1:{port}/keys"
    yield issuer
    await runner.cleanup()


async def test_secretless_assertions_are_checked_claim_by_claim_and_once(http, gateway, vendor, issuer):
    tenant = await new_tenant(http, gateway)
    status, body = await vendor.request("PUT", tenant.path + "/assertion_trust", {
        "issuer": ISSUER, "subject": SUBJECT, "audience": AUDIENCE, "jwks_url": issuer.jwks_url})
    assert status == 200, body
    assert body["connection"]["assertion_trust"]["issuer"] == ISSUER

    def client_assertion(assertion: str) -> dict:
        return {"grant_type": "client_credentials", "client_assertion": assertion,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}

    assertion = issuer.assertion()
    status, issued, _ = await tenant.token(client_assertion(assertion))
    assert status == 200, issued
    assert await tenant.scim_status(issued["access_token"]) == 200
    status, error, _ = await tenant.token(client_assertion(assertion))
    assert (status, error["error"]) == (401, "invalid_client") and "already used" in error["error_description"]

    refused = {
        "expired": issuer.assertion(iat=int(time.time()) - 900, exp=int(time.time()) - 600),
        "wrong audience": issuer.assertion(aud="api://someone-else"),
        "wrong issuer": issuer.assertion(iss="https://evil.example.test"),
        "wrong subject": issuer.assertion(sub="someone-else"),
        "lives too long": issuer.assertion(exp=int(time.time()) + 3 * 3600),
        "unknown key": issuer.assertion(kid="key-2"),
        "another key": jwt.encode({"iss": ISSUER, "sub": SUBJECT, "aud": AUDIENCE, "exp": int(time.time()) + 60,
                                   "jti": "x"}, rsa.generate_private_key(public_exponent=65537, key_size=2048),
                                  algorithm="RS256", headers={"kid": issuer.kid}),
        "symmetric": jwt.encode({"iss": ISSUER, "sub": SUBJECT, "aud": AUDIENCE, "exp": int(time.time()) + 60,
                                 "jti": "y"}, "a-shared-secret-of-enough-length-32b", algorithm="HS256"),
        "not a JWT": "not-a-jwt",
    }
    for why, bad in refused.items():
        status, error, _ = await tenant.token(client_assertion(bad))
        assert (status, error["error"]) == (401, "invalid_client"), (why, error)
    status, error, _ = await tenant.token({**client_assertion(issuer.assertion()), "client_id": "someone-else"})
    assert (status, error["error"]) == (401, "invalid_client")
    # Entra's assertions carry no jti: the assertion itself is then what may not come twice.
    without_jti = issuer.assertion(jti=None)
    assert (await tenant.token({**client_assertion(without_jti), "client_id": tenant.connection_id}))[0] == 200
    assert (await tenant.token(client_assertion(without_jti)))[0] == 401
    fetches = issuer.fetches
    await tenant.token(client_assertion(issuer.assertion(kid="key-3")))
    assert issuer.fetches == fetches  # an unknown kid refreshes the keys at most once per 30 s

    # The jwt-bearer grant (RFC 7523 §2.1): its failures are invalid_grant.
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    status, granted, _ = await tenant.token({"grant_type": grant, "assertion": issuer.assertion()})
    assert status == 200 and await tenant.scim_status(granted["access_token"]) == 200
    status, error, _ = await tenant.token({"grant_type": grant, "assertion": issuer.assertion(aud="x")})
    assert (status, error["error"]) == (400, "invalid_grant")

    other = await new_tenant(http, gateway)
    status, error, _ = await other.token(client_assertion(issuer.assertion()))
    assert (status, error["error"]) == (401, "invalid_client")  # B trusts no issuer
    # Entra shows the audience as api://<app>/.default; its tokens say api://<app>.
    status, body = await vendor.request("PUT", other.path + "/assertion_trust", {
        "issuer": ISSUER, "subject": SUBJECT, "audience": AUDIENCE + "/.default", "jwks_url": issuer.jwks_url})
    assert status == 200, body
    assert (await other.token(client_assertion(issuer.assertion())))[0] == 200

    assert (await vendor.request("DELETE", tenant.path + "/assertion_trust"))[0] == 200
    assert await tenant.scim_status(issued["access_token"]) == 401
    assert await tenant.scim_status(granted["access_token"]) == 401


async def test_an_unreachable_or_internal_jwks_url_is_refused_when_saved(http, gateway, vendor):
    tenant = await new_tenant(http, gateway)
    for url in ("http://169.254.169.254/keys", "http://10.0.0.1/keys", "ftp://example.test/keys",
                "https://user:pw@hooks.scimd.test/keys", "https://nowhere.invalid/keys"):
        status, body = await vendor.request("PUT", tenant.path + "/assertion_trust", {
            "issuer": ISSUER, "subject": SUBJECT, "audience": AUDIENCE, "jwks_url": url})
        assert status == 400, (url, body)
