"""The Admin Portal in a real browser (headless Chromium driven by
Playwright), through what a customer's IT admin does: open the link, create
the connection, copy the token, watch provisioned people appear, map a group
to a role, rotate the token, read the activity, delete the connection, leave.
A screenshot of each step is written to $SCIMD_TEST_ARTIFACTS/admin-portal."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from tests.gateway.management_client import ManagementClient
from tests.gateway.scim_client import ScimClient
from tests.support import create_organization, scim_user

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("SCIMD_TEST_ARTIFACTS", "test-artifacts")) / "admin-portal"

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("the browser tests need Debian's chromium (apt-get install chromium); `make test` installs it")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
async def browser_page():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                   args=["--no-sandbox", "--disable-gpu"])
        context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = await context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        yield page, errors
        await browser.close()


async def test_an_it_admin_sets_up_scim_in_the_portal(http, gateway, browser_page):
    page, console_errors = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = iter(range(1, 100))

    async def screenshot(name: str) -> None:
        await page.screenshot(path=str(ARTIFACTS / f"{next(shots):02d}-{name}.png"), full_page=True)

    vendor = ManagementClient(http, gateway)
    organization = await create_organization(http, gateway, "browser")
    organization_id = organization["organization_id"]
    editor = await vendor.create_role("editor")
    webhook_url = f"https://hooks.scimd.test/browser-{uuid.uuid4().hex}"
    status, body = await vendor.request("POST", "/v1/webhooks/endpoints", {
        "url": webhook_url, "organization_ids": [organization_id], "event_types": ["organization.delete"],
    })
    assert status == 201
    endpoint_id = body["endpoint"]["endpoint_id"]
    status, link = await vendor.request("POST", "/v1/b2b/admin_portal/links", {"organization_id": organization_id})
    assert status == 201

    # The link only asks (loading it again changes nothing); its button opens the
    # portal, and the address bar no longer holds the link.
    await page.goto(link["url"])
    await page.reload()
    await page.get_by_role("heading", name="Open the Admin Portal").wait_for()
    assert [c for c in await page.context.cookies() if c["name"] == "scimd_portal"] == []
    await screenshot("link-opened")
    await page.get_by_role("button", name="Open the Admin Portal").click()
    await page.get_by_role("heading", name="Set up SCIM").wait_for()
    assert page.url == gateway.url + "/portal"
    await screenshot("portal-opened")

    # Create the connection and copy the token with the copy button.
    await page.get_by_label("Your identity provider").select_option("okta")
    await page.get_by_role("button", name="Create SCIM connection").click()
    await page.get_by_role("heading", name="Your SCIM connection is ready").wait_for()
    assert await page.get_by_role("alert").is_visible()  # shown once: copy it now
    await page.locator('button[data-copy="bearer-token"]').click()
    token = await page.evaluate("navigator.clipboard.readText()")
    assert token == (await page.locator("#bearer-token").inner_text()).strip() and token.startswith("scimd_")
    base_url = (await page.locator("#base-url").inner_text()).strip()
    await screenshot("token-shown-once")

    # The tests' SCIM client plays the IdP with what the admin copied.
    scim = ScimClient(http, base_url, token)
    ada = await scim.create_user(scim_user("ada@browser.test"))
    reply = await scim.request("POST", "/Groups", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Editors",
        "members": [{"value": ada["id"]}],
    })
    assert reply.status == 201

    await page.get_by_role("link", name="I have copied the token").click()
    await page.get_by_role("link", name="Members").click()
    await page.get_by_role("cell", name="ada@browser.test").first.wait_for()
    await page.get_by_label("Search by user name or email").fill("nobody")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_text("No members match").wait_for()
    await page.get_by_label("Search by user name or email").fill("ada")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("cell", name="ada@browser.test").first.wait_for()
    await screenshot("provisioned-member")

    # Map the group to a role: the preview shows who gains it, then apply.
    await page.get_by_role("link", name="Groups & roles").click()
    await page.get_by_label("Role of Editors").select_option(editor)
    await page.get_by_role("button", name="Preview changes").click()
    await page.get_by_role("heading", name="Preview role changes").wait_for()
    assert await page.get_by_role("row", name=f"ada@browser.test {editor}").count() == 1
    await screenshot("mapping-preview")
    await page.get_by_role("button", name="Apply").click()
    await page.get_by_role("heading", name="Groups and roles").wait_for()
    assert await vendor.role_ids(organization_id, ada["id"]) == [editor]

    # Rotate: the new token works beside the old one until completion.
    await page.get_by_role("link", name="Connection").click()
    await page.get_by_role("button", name="Start rotation").click()
    await page.get_by_role("heading", name="Your new bearer token").wait_for()
    new_token = (await page.locator("#bearer-token").inner_text()).strip()
    await screenshot("rotation-started")
    for each in (token, new_token):
        assert (await ScimClient(http, base_url, each).request("GET", "/Users")).status == 200
    await page.get_by_role("link", name="I have copied the token").click()
    assert await page.get_by_test_id("next-token-last-four").inner_text() == new_token[-4:]
    await page.get_by_role("button", name="Complete rotation").click()
    await page.get_by_test_id("token-last-four").wait_for()
    assert await page.get_by_test_id("token-last-four").inner_text() == new_token[-4:]
    assert (await ScimClient(http, base_url, token).request("GET", "/Users")).status == 401
    await screenshot("rotation-completed")

    # Activity: webhook delivery shows by endpoint id, never the vendor's URL.
    await page.get_by_role("link", name="Activity").click()
    await page.get_by_role("cell", name=ada["id"]).first.wait_for()
    await page.get_by_role("cell", name=endpoint_id).wait_for()
    assert webhook_url not in await page.content()
    await screenshot("activity")

    # Delete, after a confirmation.
    await page.get_by_role("link", name="Connection").click()
    await page.get_by_role("link", name="Delete this connection…").click()
    await page.get_by_role("heading", name="Delete the SCIM connection?").wait_for()
    await screenshot("delete-confirmation")
    await page.get_by_role("button", name="Delete the connection").click()
    await page.get_by_role("heading", name="Set up SCIM").wait_for()
    assert (await ScimClient(http, base_url, new_token).request("GET", "/Users")).status == 401
    await screenshot("connection-deleted")
    assert console_errors == []  # nothing blocked by the Content-Security-Policy, no script errors

    # Leave ends the session: its cookie, put back, opens nothing (a 401 page).
    (session_cookie,) = [c for c in await page.context.cookies() if c["name"] == "scimd_portal"]
    await page.get_by_role("button", name="Leave").click()
    await page.get_by_role("heading", name="You have left the Admin Portal").wait_for()
    await page.context.add_cookies([session_cookie])
    await page.goto(gateway.url + "/portal")
    await page.get_by_role("heading", name="Your portal session has ended").wait_for()
    await screenshot("left")
    await vendor.request("DELETE", f"/v1/webhooks/endpoints/{endpoint_id}")


async def test_an_it_admin_maps_what_the_idp_sends_to_the_apps_fields(http, gateway, browser_page):
    """The Attributes page: a path the IdP has sent, chosen for the vendor's field, previewed, saved."""
    from tests.gateway.attribute_mapping_vendor import mapping_vendor
    from tests.support import create_connection

    page, console_errors = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    async for vendor in mapping_vendor(http, gateway):
        department = await vendor.field("department")
        organization = await create_organization(http, gateway, "browser-attributes")
        connection = await create_connection(http, gateway, organization["organization_id"])
        scim = ScimClient(http, connection["base_url"], connection["bearer_token"])
        ada = await scim.create_user(scim_user("ada@attributes.test", **{enterprise: {"department": "Sales"}}))
        status, link = await vendor.request("POST", "/v1/b2b/admin_portal/links",
                                            {"organization_id": organization["organization_id"]})
        assert status == 201
        await page.goto(link["url"])
        await page.get_by_role("button", name="Open the Admin Portal").click()
        await page.get_by_role("link", name="Attributes").click()
        await page.get_by_role("heading", name="Attributes").wait_for()
        await page.get_by_label(f"Source of {department}").select_option(f"{enterprise}:department")
        await page.get_by_label(f"Clean-up of {department}").select_option("lower")
        await page.screenshot(path=str(ARTIFACTS / "attributes-mapped.png"), full_page=True)
        await page.get_by_role("button", name="Preview changes").click()
        await page.get_by_role("heading", name="Preview attribute changes").wait_for()
        assert await page.get_by_role("row", name=f"ada@attributes.test {department} (none) sales").count() == 1
        await page.screenshot(path=str(ARTIFACTS / "attributes-preview.png"), full_page=True)
        await page.get_by_role("button", name="Save and update members").click()
        await page.get_by_role("heading", name="Attributes").wait_for()
        vendor.mapped.append(vendor.mapping_path(organization, connection))
        await vendor.applied(organization, connection)
        assert (await vendor.member(organization["organization_id"], ada["id"]))["custom_attributes"] == {
            department: "sales"}
        await page.reload()
        await page.get_by_text("Every member is up to date with this mapping.").wait_for()
        await page.screenshot(path=str(ARTIFACTS / "attributes-saved.png"), full_page=True)
    assert console_errors == []
