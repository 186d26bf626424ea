"""The Admin Portal over HTTP: one-time links, the session cookie, CSRF on
every form, the Content-Security-Policy, and one organization per session.
(tests/e2e/test_admin_portal_browser.py walks it in a real browser.)"""

from __future__ import annotations

import re

import aiohttp
import pytest

from tests.gateway.management_client import ManagementClient
from tests.support import create_organization

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
EXTERNAL_REFERENCE = re.compile(r'(?:src|href|action)\s*=\s*["\']?(?:https?:)?//', re.IGNORECASE)
TOKEN = re.compile(r'<code id="bearer-token">([^<]+)</code>')


@pytest.fixture
async def vendor(http, gateway) -> ManagementClient:
    return ManagementClient(http, gateway)


async def portal_link(vendor: ManagementClient, organization_id: str, **extra) -> str:
    status, body = await vendor.request("POST", "/v1/b2b/admin_portal/links", {"organization_id": organization_id, **extra})
    assert status == 201, body
    assert body["url"].startswith(vendor.gateway.url + "/portal/enter?link=scimd_portal_")
    return body["url"]


async def open_portal(url: str) -> tuple[aiohttp.ClientSession, str]:
    """A browser-like client (its own cookie jar) that opened the link; and the portal's first page."""
    client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with client.get(url, allow_redirects=False) as response:
        assert response.status == 303 and response.headers["Location"] == "/portal"
    async with client.get(url.split("/portal/")[0] + "/portal") as response:
        assert response.status == 200
        return client, await response.text()


async def test_a_link_opens_the_portal_once(http, gateway, vendor):
    organization = await create_organization(http, gateway, "portal")
    url = await portal_link(vendor, organization["organization_id"])
    client, page = await open_portal(url)
    try:
        assert organization["organization_name"] in page and "Set up SCIM" in page
        async with client.get(url, allow_redirects=False) as again:
            assert again.status == 401  # used up
    finally:
        await client.close()
    async with http.get(url.replace("scimd_portal_", "scimd_portal_0"), allow_redirects=False) as forged:
        assert forged.status == 401


async def test_every_page_is_locked_down(http, gateway, vendor):
    organization = await create_organization(http, gateway, "portal")
    client, _ = await open_portal(await portal_link(vendor, organization["organization_id"]))
    try:
        for path in ("/portal", "/portal/members", "/portal/groups", "/portal/activity"):
            async with client.get(gateway.url + path) as response:
                assert response.status == 200, path
                policy = response.headers["Content-Security-Policy"]
                assert "default-src 'none'" in policy and "script-src 'self'" in policy
                assert "frame-ancestors 'none'" in policy
                assert response.headers["Referrer-Policy"] == "no-referrer"
                html = await response.text()
                # Nothing loaded or sent elsewhere (text such as a webhook URL may show).
                assert not EXTERNAL_REFERENCE.search(html), EXTERNAL_REFERENCE.search(html)
        cookie = next(c for c in client.cookie_jar if c.key == "scimd_portal")
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
    finally:
        await client.close()
    async with http.get(gateway.url + "/portal") as response:
        assert response.status == 401  # no session
    async with http.get(gateway.url + "/portal", headers={"Cookie": "scimd_portal=forged.cookie.value"}) as response:
        assert response.status == 401


async def test_forms_need_the_session_csrf_token(http, gateway, vendor):
    organization = await create_organization(http, gateway, "portal")
    client, page = await open_portal(await portal_link(vendor, organization["organization_id"]))
    try:
        for token in ("", "not-the-token"):
            async with client.post(gateway.url + "/portal/connection",
                                   data={"identity_provider": "okta", "csrf_token": token}) as response:
                assert response.status == 403
        assert (await vendor.request("GET", f"/v1/b2b/scim/{organization['organization_id']}/connection"))[0] == 404

        csrf = CSRF.search(page).group(1)
        async with client.post(gateway.url + "/portal/connection",
                               data={"identity_provider": "okta", "csrf_token": csrf}) as response:
            assert response.status == 200
            token = TOKEN.search(await response.text()).group(1)
        assert token.startswith("scimd_")
        status, body = await vendor.request("GET", f"/v1/b2b/scim/{organization['organization_id']}/connection")
        assert status == 200 and body["connection"]["bearer_token_last_four"] == token[-4:]
    finally:
        await client.close()


async def test_a_session_sees_only_its_own_organization(http, gateway, vendor):
    """Nothing in the portal's URLs names an organization: each session works
    on the one its link was made for, whatever the page is asked."""
    mine = await create_organization(http, gateway, "mine")
    theirs = await create_organization(http, gateway, "theirs")
    client, page = await open_portal(await portal_link(vendor, mine["organization_id"]))
    try:
        async with client.get(gateway.url + "/portal", params={"organization_id": theirs["organization_id"]}) as response:
            html = await response.text()
        assert mine["organization_name"] in html and theirs["organization_name"] not in html
    finally:
        await client.close()


@pytest.mark.parametrize("body", [
    {},
    {"organization_id": "organization-unknown"},
    {"organization_id": "x", "expires_in_minutes": 0},
    {"organization_id": "x", "expires_in_minutes": 61},
])
async def test_invalid_link_requests(vendor, body):
    status, answer = await vendor.request("POST", "/v1/b2b/admin_portal/links", body)
    assert status in (400, 404), answer
