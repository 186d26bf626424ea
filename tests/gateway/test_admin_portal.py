"""The Admin Portal over HTTP: one-time links, the session cookie, CSRF on
every form, the Content-Security-Policy, and one organization per session.
(tests/e2e/test_admin_portal_browser.py walks it in a real browser.)"""

from __future__ import annotations

import html
import re
import uuid

import aiohttp
import pytest

from tests.gateway.management_client import ManagementClient
from tests.support import create_organization

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
EXTERNAL_REFERENCE = re.compile(r'(?:src|href|action)\s*=\s*["\']?(?:https?:)?//', re.IGNORECASE)
TOKEN = re.compile(r'<code id="bearer-token">([^<]+)</code>')
LINK_FIELD = re.compile(r'name="link" value="([^"]+)"')


@pytest.fixture
async def vendor(http, gateway) -> ManagementClient:
    return ManagementClient(http, gateway)


async def portal_link(vendor: ManagementClient, organization_id: str, **extra) -> str:
    status, body = await vendor.request("POST", "/v1/b2b/admin_portal/links", {"organization_id": organization_id, **extra})
    assert status == 201, body
    assert body["url"].startswith(vendor.gateway.url + "/portal/enter?link=scimd_portal_")
    return body["url"]


def browser() -> aiohttp.ClientSession:
    """A browser-like client: its own cookie jar."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def session_cookie(client: aiohttp.ClientSession) -> str | None:
    return next((c.value for c in client.cookie_jar if c.key == "scimd_portal"), None)


async def entry_form(client: aiohttp.ClientSession, url: str) -> dict[str, str]:
    """Opens the link: a page asking to open the portal. Answers its form's fields."""
    async with client.get(url, allow_redirects=False) as response:
        assert response.status == 200
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        page = await response.text()
    return {"csrf_token": CSRF.search(page).group(1), "link": html.unescape(LINK_FIELD.search(page).group(1))}


async def submit_entry(client: aiohttp.ClientSession, url: str, form: dict[str, str]) -> aiohttp.ClientResponse:
    async with client.post(url.split("?")[0], data=form, allow_redirects=False) as response:
        await response.read()
        return response


async def open_portal(url: str) -> tuple[aiohttp.ClientSession, str]:
    """A browser that opened the link and pressed its button; and the portal's first page."""
    client = browser()
    response = await submit_entry(client, url, await entry_form(client, url))
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
        again = await submit_entry(client, url, await entry_form(client, url))
        assert again.status == 401  # used up
    finally:
        await client.close()
    forged_url = url.replace("scimd_portal_", "scimd_portal_0")
    async with browser() as other:
        assert (await submit_entry(other, forged_url, await entry_form(other, forged_url))).status == 401
    async with http.get(gateway.url + "/portal/enter", allow_redirects=False) as no_link:
        assert no_link.status == 401


async def test_opening_a_link_only_asks(http, gateway, vendor):
    """A GET of the link (a mail scanner, an image another site embeds) neither
    uses the link nor opens a session; only the page's own form does, in the
    browser that showed it."""
    organization = await create_organization(http, gateway, "portal")
    url = await portal_link(vendor, organization["organization_id"])
    async with browser() as client:
        await entry_form(client, url)
        form = await entry_form(client, url)
        assert session_cookie(client) is None

        # Another site can post the link, but not the page's token nor its cookie.
        assert (await submit_entry(http, url, form)).status == 403
        assert (await submit_entry(client, url, {**form, "csrf_token": "not-the-token"})).status == 403
        assert session_cookie(client) is None

        response = await submit_entry(client, url, form)
        assert response.status == 303 and response.headers["Location"] == "/portal"
        assert session_cookie(client) is not None
        async with client.get(gateway.url + "/portal") as portal:
            assert portal.status == 200 and organization["organization_name"] in await portal.text()


async def test_leaving_ends_the_session_for_its_old_cookie_too(http, gateway, vendor):
    """Leave ends the session on the server: a copy of the cookie kept from
    before (by any replica) opens nothing after."""
    organization = await create_organization(http, gateway, "portal")
    client, page = await open_portal(await portal_link(vendor, organization["organization_id"]))
    old = {"Cookie": f"scimd_portal={session_cookie(client)}"}
    csrf = CSRF.search(page).group(1)
    try:
        async with client.post(gateway.url + "/portal/logout", data={"csrf_token": csrf}) as response:
            assert response.status == 200 and "You have left the Admin Portal" in await response.text()
        assert session_cookie(client) is None
    finally:
        await client.close()
    async with http.get(gateway.url + "/portal", headers=old) as response:
        assert response.status == 401
    async with http.post(gateway.url + "/portal/connection", headers=old,
                         data={"identity_provider": "okta", "csrf_token": csrf}) as response:
        assert response.status == 401
    assert (await vendor.request("GET", f"/v1/b2b/scim/{organization['organization_id']}/connection"))[0] == 404


async def test_the_activity_page_does_not_show_webhook_urls(http, gateway, vendor):
    """Webhook endpoints are the vendor's: the customer's admin sees how
    delivery goes, by endpoint id, but not where events go."""
    organization = await create_organization(http, gateway, "portal")
    url = f"https://hooks.scimd.test/portal-{uuid.uuid4().hex}"
    status, body = await vendor.request("POST", "/v1/webhooks/endpoints", {
        "url": url, "organization_ids": [organization["organization_id"]], "event_types": ["organization.delete"],
    })
    assert status == 201, body
    endpoint_id = body["endpoint"]["endpoint_id"]
    client, _ = await open_portal(await portal_link(vendor, organization["organization_id"]))
    try:
        async with client.get(gateway.url + "/portal/activity") as response:
            page = await response.text()
        assert response.status == 200 and endpoint_id in page
        assert url not in page and "hooks.scimd.test" not in page
    finally:
        await client.close()
        await vendor.request("DELETE", f"/v1/webhooks/endpoints/{endpoint_id}")


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
                # Nothing loaded or sent elsewhere.
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


async def test_held_deprovisions_show_as_a_banner_the_admin_can_approve(http, gateway, vendor):
    """The mass-deprovision guard's banner: what is held, and the admin's approve button."""
    from tests.gateway.test_deprovision_guard import OKTA_DEACTIVATE, _guarded_connection, _scim, _status, _users

    organization_id, connection, _ = await _guarded_connection(
        http, gateway, vendor, {"enabled": True, "max_count": 1, "window_seconds": 3600})
    members = await _users(http, gateway, connection, 3)
    for member_id in members[:2]:
        assert (await _scim(http, gateway, connection, "PATCH", f"/Users/{member_id}", OKTA_DEACTIVATE))[0] == 200
    client, page = await open_portal(await portal_link(vendor, organization_id))
    try:
        assert 'data-testid="held-deprovisions"' in page and "1 deprovisioning on hold" in page
        csrf = CSRF.search(page).group(1)
        async with client.post(gateway.url + "/portal/held_deprovisions/approve", data={"csrf_token": "forged"},
                               allow_redirects=False) as response:
            assert response.status in (400, 403)
        assert await _status(vendor, organization_id, members[1]) == "active"
        async with client.post(gateway.url + "/portal/held_deprovisions/approve", data={"csrf_token": csrf}) as response:
            assert response.status == 200
            assert "held-deprovisions" not in await response.text()
    finally:
        await client.close()
    assert await _status(vendor, organization_id, members[1]) == "deactivated"


async def test_the_requests_page_shows_what_the_idp_sent_redacted_with_hints(http, gateway, vendor):
    from tests.gateway.test_request_log import _log
    from tests.support import bearer, create_connection, scim_user

    organization_id = (await create_organization(http, gateway, "portal"))["organization_id"]
    connection = await create_connection(http, gateway, organization_id)
    base = f"{gateway.url}/scim/v2/{connection['connection_id']}"
    async with http.post(f"{base}/Users", headers=bearer(connection),
                         json=scim_user("portal-log@example.com", password="Hunter2!")) as response:
        assert response.status == 201
    async with http.post(f"{base}/Users", headers=bearer(connection),
                         json=scim_user("portal-log@example.com")) as response:
        assert response.status == 409
    await _log(vendor, f"/v1/b2b/scim/{organization_id}/connection/{connection['connection_id']}", 2)
    client, _ = await open_portal(await portal_link(vendor, organization_id))
    try:
        async with client.get(gateway.url + "/portal/requests") as response:
            page = await response.text()
        assert response.status == 200 and "POST /Users" in page and "409" in page
        assert "already exists in this connection" in page  # the hint
        assert "Hunter2!" not in page and "[redacted]" in page
        assert "never sent groups" in page  # the health
        async with client.get(gateway.url + "/portal/requests", params={"status": "4xx,5xx"}) as response:
            failed_only = await response.text()
        assert "409" in failed_only and "201" not in failed_only
    finally:
        await client.close()
