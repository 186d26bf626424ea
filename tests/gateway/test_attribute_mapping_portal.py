"""The Admin Portal's attribute mapping page (issue 21 §3): the customer's
admin maps what their IdP has sent to the vendor's fields, previews whose
values change, and saves; the members are then updated in the background."""

from __future__ import annotations

import html
import re
import uuid

import orjson
import pytest

from tests.gateway.attribute_mapping_vendor import Vendor, mapping_vendor
from tests.gateway.scim_client import ScimClient
from tests.gateway.test_admin_portal import CSRF, open_portal, portal_link
from tests.support import create_connection, create_organization, scim_user

FIELDS = re.compile(r'name="fields" value="([^"]*)"')
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
async def vendor(http, gateway):
    async for made in mapping_vendor(http, gateway):
        yield made


async def _organization_with_users(http, gateway, departments: list[str]) -> tuple[dict, dict, list[dict]]:
    organization = await create_organization(http, gateway, "portal-attributes")
    connection = await create_connection(http, gateway, organization["organization_id"])
    scim = ScimClient(http, connection["base_url"], connection["bearer_token"])
    users = [await scim.create_user(scim_user(f"p{n}-{uuid.uuid4().hex[:6]}@acme.test", title=" Analyst ",
                                              **{ENTERPRISE: {"department": department}}))
             for n, department in enumerate(departments)]
    return organization, connection, users


async def test_the_admin_maps_a_seen_attribute_previews_and_saves(http, gateway, vendor: Vendor):
    department, role = await vendor.field("department"), await vendor.field("job")
    organization, connection, users = await _organization_with_users(http, gateway, ["Sales", "Research"])
    client, _ = await open_portal(await portal_link(vendor, organization["organization_id"]))
    try:
        async with client.get(gateway.url + "/portal/attributes") as response:
            page = await response.text()
        assert response.status == 200 and department in page and role in page
        # The paths the IdP has sent are the choices, with how many members carry each.
        assert f'<option value="{ENTERPRISE}:department">{ENTERPRISE}:department (2 members)</option>' in page
        csrf = CSRF.search(page).group(1)

        form = {"csrf_token": csrf, f"source:{department}": f"{ENTERPRISE}:department",
                f"clean_up:{department}": "upper", f"source:{role}": "nickName", f"fallback:{role}": "title",
                f"clean_up:{role}": "trim", f"default:{role}": "Staff"}
        async with client.post(gateway.url + "/portal/attributes/preview", data=form) as response:
            preview = await response.text()
        assert response.status == 200, preview
        assert 'data-testid="changed-count">2 of 2 members would change' in preview
        assert "SALES" in preview and "RESEARCH" in preview and "Analyst" in preview and "(none)" in preview
        # Previewing changed nothing.
        status, stored = await vendor.request("GET", vendor.mapping_path(organization, connection))
        assert stored["attribute_mapping"]["version"] == 0

        saved = {"csrf_token": csrf, "fields": html.unescape(FIELDS.search(preview).group(1))}
        async with client.post(gateway.url + "/portal/attributes/apply", data=saved) as response:
            assert response.status == 200 and "/portal/attributes" in str(response.url)
        vendor.mapped.append(vendor.mapping_path(organization, connection))
        applied = await vendor.applied(organization, connection)
        assert [f["field"] for f in applied["fields"]] == [department, role]
        member = await vendor.member(organization["organization_id"], users[1]["id"])
        assert member["custom_attributes"] == {department: "RESEARCH", role: "Analyst"}

        async with client.get(gateway.url + "/portal/attributes") as response:
            page = await response.text()
        assert "Every member is up to date with this mapping." in page
        assert f'<option value="{ENTERPRISE}:department" selected>' in page
        assert 'value="Staff"' in page
    finally:
        await client.close()


async def test_a_mapping_the_vendor_made_keeps_its_transforms_and_forms_need_the_csrf_token(
        http, gateway, vendor: Vendor):
    department = await vendor.field("department")
    organization, connection, users = await _organization_with_users(http, gateway, ["R&D-Engines"])
    await vendor.map(organization, connection, [{
        "field": department, "sources": [f"{ENTERPRISE}:department"],
        "transforms": [{"type": "split", "separator": "-", "index": 1}]}])
    await vendor.applied(organization, connection)
    client, page = await open_portal(await portal_link(vendor, organization["organization_id"]))
    try:
        async with client.get(gateway.url + "/portal/attributes") as response:
            page = await response.text()
        assert 'selected>as set up: split at "-", part 1</option>' in html.unescape(page)
        form = {f"source:{department}": f"{ENTERPRISE}:department", f"clean_up:{department}": "keep"}
        async with client.post(gateway.url + "/portal/attributes/preview",
                               data={**form, "csrf_token": "forged"}) as response:
            assert response.status == 403
        async with client.post(gateway.url + "/portal/attributes/apply",
                               data={"fields": "[]", "csrf_token": "forged"}) as response:
            assert response.status == 403
        csrf = CSRF.search(page).group(1)
        async with client.post(gateway.url + "/portal/attributes/preview",
                               data={**form, "csrf_token": csrf}) as response:
            preview = await response.text()
        assert "0 of 1 member would change" in preview
        proposed = orjson.loads(html.unescape(FIELDS.search(preview).group(1)))
        assert proposed[0]["transforms"] == [{"type": "split", "separator": "-", "index": 1}]
        async with client.post(gateway.url + "/portal/attributes/preview",
                               data={**form, f"default:{department}": "", "csrf_token": csrf,
                                     f"source:{department}": ""}) as response:
            assert "0 of 1 member" not in await response.text()  # unmapped: its value would go
    finally:
        await client.close()
    member = await vendor.member(organization["organization_id"], users[0]["id"])
    assert member["custom_attributes"] == {department: "Engines"}
