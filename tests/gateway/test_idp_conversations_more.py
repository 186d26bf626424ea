"""Recorded IdP conversations, continued: what Google Workspace, OneLogin,
JumpCloud and Rippling send when they provision users and groups, replayed
request by request against the running gateway, and what each step must
answer. The Okta and Entra conversations are in test_idp_conversations.py.

The request shapes are reconstructed from each vendor's integration guides
and from service providers' notes on them (each test's docstring names its
sources), not captured from live traffic; where the sources disagree, both
dialects are sent.
"""

import uuid

from tests.gateway.scim_client import SCIM, new_client

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"


def _resource(reply, status: int = 200) -> dict:
    """The resource in a reply, checked the way every IdP reads it: the status,
    application/scim+json, the ETag header equal to meta.version (RFC 7644
    §3.14) and, on 201, Location equal to meta.location (§3.3)."""
    assert reply.status == status, reply.body
    assert reply.content_type == SCIM
    body = reply.body
    assert reply.headers["ETag"] == body["meta"]["version"]
    if status == 201:
        assert reply.headers["Location"] == body["meta"]["location"]
    return body


async def _lookup(scim, endpoint: str, scim_filter: str) -> list[dict]:
    """RFC 7644 §3.4.2.2: the IdP's "does it exist yet?" filter query."""
    reply = await scim.request("GET", f"/{endpoint}", params={"filter": scim_filter})
    assert reply.status == 200, reply.body
    assert reply.body["schemas"] == [LIST_RESPONSE]
    assert reply.body["totalResults"] == len(reply.body["Resources"])
    return reply.body["Resources"]


async def _member_ids(scim, group_id: str) -> set[str]:
    return {m["value"] for m in _resource(await scim.request("GET", f"/Groups/{group_id}")).get("members", [])}


async def _group_ids_of(scim, user_id: str) -> set[str]:
    return {g["value"] for g in _resource(await scim.request("GET", f"/Users/{user_id}")).get("groups", [])}


async def _assert_gone(scim, path: str) -> None:
    """RFC 7644 §3.6: a deleted resource is 404 from then on, as a SCIM error (§3.12)."""
    reply = await scim.request("GET", path)
    assert reply.status == 404
    assert reply.body["schemas"] == [ERROR] and reply.body["status"] == "404"


async def test_google_workspace_user_lifecycle(http, gateway):
    """Google Workspace automated user provisioning.

    Sources: Google's "About automated user provisioning"
    (support.google.com/a/answer/7681608: it syncs active, suspended and
    deleted users); authn.sh's "SCIM 2.0 with Google Workspace" guide
    (authn-sh-docs.pages.dev/guides/scim/google-workspace/: the connection
    probe is GET /Users?count=1; groups and organizational units only choose
    who is in scope, so this conversation has no /Groups) and its
    attribute-mapping notes (Google identifies users by userName). The PATCH
    dialect (one `replace` per changed attribute; suspension and
    reinstatement as a `replace` of `active`) is not in those pages: it is
    the dialect our integration notes give for Google, unverified against
    live traffic. Deletion is a DELETE.
    """
    scim = await new_client(http, gateway, "google-workspace")
    probe = await scim.request("GET", "/Users", params={"count": "1"})
    assert probe.status == 200 and probe.body["schemas"] == [LIST_RESPONSE]
    assert probe.body["totalResults"] == 0 and probe.body["Resources"] == []

    email = f"ada.{uuid.uuid4().hex[:8]}@workspace.example"
    assert await _lookup(scim, "Users", f'userName eq "{email}"') == []
    user = _resource(await scim.request("POST", "/Users", {
        "schemas": [CORE],
        "userName": email,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "displayName": "Ada Lovelace",
        "emails": [{"value": email, "type": "work", "primary": True}],
        "active": True,
    }), 201)
    assert user["schemas"] == [CORE] and user["userName"] == email and user["active"] is True
    assert user["emails"] == [{"value": email, "type": "work", "primary": True}]
    assert "groups" not in user and user["meta"]["resourceType"] == "User"
    assert user["meta"]["location"].endswith(f"/Users/{user['id']}")
    assert _resource(await scim.request("GET", f"/Users/{user['id']}")) == user

    # RFC 7644 §3.4.2.2: userName is caseExact false, so Google's lookup matches in any case.
    [found] = await _lookup(scim, "Users", f'userName eq "{email.upper()}"')
    assert found["id"] == user["id"]

    renamed = _resource(await scim.patch(
        f"/Users/{user['id']}",
        {"op": "replace", "path": "name.familyName", "value": "King"},
        {"op": "replace", "path": "displayName", "value": "Ada King"},
    ))
    assert renamed["name"] == {"givenName": "Ada", "familyName": "King"} and renamed["displayName"] == "Ada King"
    assert renamed["meta"]["version"] != user["meta"]["version"]
    assert renamed["meta"]["created"] == user["meta"]["created"]
    assert renamed["meta"]["lastModified"] >= user["meta"]["lastModified"]
    assert renamed["emails"] == user["emails"]  # §3.5.2: what a PATCH does not name is left alone

    # Suspended in the Admin console: RFC 7644 §3.5.2.3 replace of `active`.
    suspended = _resource(await scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "active", "value": False}))
    assert suspended["active"] is False and suspended["userName"] == email
    [listed] = await _lookup(scim, "Users", f'userName eq "{email}"')
    assert listed["active"] is False  # a suspended user is still found, so the next sync does not re-create it

    reinstated = _resource(await scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "active", "value": True}))
    assert reinstated["active"] is True

    deleted = await scim.request("DELETE", f"/Users/{user['id']}")
    assert deleted.status == 204 and deleted.body is None
    await _assert_gone(scim, f"/Users/{user['id']}")
    assert await _lookup(scim, "Users", f'userName eq "{email}"') == []


def _onelogin_user(user_name: str, given: str, family: str, *, title: str = "", department: str = "",
                   active: bool = True) -> dict:
    """OneLogin's "SCIM Provisioner with SAML (SCIM v2 Enterprise)" JSON
    template, filled in: parameters with no value arrive as empty strings,
    and an unset manager as an empty value with a blank display name."""
    return {
        "schemas": [CORE, ENTERPRISE],
        "userName": user_name,
        "name": {"familyName": family, "givenName": given, "formatted": f"{given} {family}"},
        "title": title,
        "userType": "",
        "timezone": "",
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "addresses": [{"locality": "", "region": "", "country": ""}],
        "active": active,
        ENTERPRISE: {"organization": "", "division": "", "department": department,
                     "manager": {"value": "", "displayName": " "}},
    }


async def test_onelogin_user_and_group_lifecycle(http, gateway):
    """OneLogin SCIM Provisioner (SCIM v2 Enterprise).

    Sources: OneLogin's "Define Your SCIM User Schema"
    (developers.onelogin.com/scim/define-user-schema) and the SCIM v2
    Enterprise JSON template as published in Living Security's "Configuring
    SCIM for OneLogin" (livingsecurity.com/migration/support/configuring-scim-for-onelogin);
    django-scim2's adapters.py (github.com/15five/django-scim2: "OneLogin
    sends a dict despite the spec" for emails). The template is what OneLogin
    sends, filled in, with unset parameters as empty strings (RFC 7643 §2.5:
    unassigned). That updates are a PUT of it, and that groups (OneLogin
    roles) are found by displayName, created, and changed with PATCH
    `members` operations (RFC 7644 §3.5.2.1, §3.5.2.2), is from our
    integration notes.
    """
    scim = await new_client(http, gateway, "onelogin")
    email = f"grace.{uuid.uuid4().hex[:8]}@onelogin.example"
    assert await _lookup(scim, "Users", f'userName eq "{email}"') == []
    user = _resource(await scim.request("POST", "/Users", _onelogin_user(email, "Grace", "Hopper")), 201)
    assert user["schemas"] == [CORE] and user["userName"] == email and user["active"] is True
    assert user["name"] == {"familyName": "Hopper", "givenName": "Grace", "formatted": "Grace Hopper"}
    # Empty template parameters are unassigned: neither stored nor returned.
    for absent in ("title", "userType", "timezone", "addresses", ENTERPRISE):
        assert absent not in user, absent
    assert _resource(await scim.request("GET", f"/Users/{user['id']}")) == user

    # OneLogin's documented Enterprise User template sends `emails` as one object,
    # not an array (django-scim2's SCIMUser.parse_emails notes the same); it is
    # stored as the one-element array RFC 7643 §4.1.2 describes.
    legacy_name = f"legacy.{uuid.uuid4().hex[:8]}@onelogin.example"
    legacy = _resource(await scim.request("POST", "/Users", {
        "schemas": [CORE], "userName": legacy_name,
        "name": {"familyName": "Lamarr", "givenName": "Hedy", "formatted": "Hedy Lamarr"},
        "emails": {"value": legacy_name, "type": "work", "primary": True}, "title": ""}), 201)
    assert legacy["emails"] == [{"value": legacy_name, "type": "work", "primary": True}] and "title" not in legacy
    assert (await scim.request("DELETE", f"/Users/{legacy['id']}")).status == 204

    # RFC 7644 §3.5.1: OneLogin's update is a PUT of the complete template.
    updated = _resource(await scim.request("PUT", f"/Users/{user['id']}", _onelogin_user(
        email, "Grace", "Hopper", title="Rear Admiral", department="Navy")))
    assert updated["id"] == user["id"] and updated["title"] == "Rear Admiral"
    assert updated["schemas"] == [CORE, ENTERPRISE] and updated[ENTERPRISE] == {"department": "Navy"}
    assert updated["meta"]["created"] == user["meta"]["created"]
    assert updated["meta"]["version"] != user["meta"]["version"]

    role = f"Engineering {uuid.uuid4().hex[:6]}"
    assert await _lookup(scim, "Groups", f'displayName eq "{role}"') == []
    group = _resource(await scim.request(
        "POST", "/Groups", {"schemas": [CORE_GROUP], "displayName": role, "members": []}), 201)
    assert group["schemas"] == [CORE_GROUP] and group["displayName"] == role and group["members"] == []
    assert group["meta"]["resourceType"] == "Group" and group["meta"]["location"].endswith(f"/Groups/{group['id']}")
    [found] = await _lookup(scim, "Groups", f'displayName eq "{role}"')
    assert found["id"] == group["id"]

    added = _resource(await scim.patch(
        f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": user["id"]}]}))
    assert added["members"] == [
        {"value": user["id"], "display": email, "type": "User", "$ref": user["meta"]["location"]}]
    assert added["meta"]["version"] != group["meta"]["version"]
    member_view = _resource(await scim.request("GET", f"/Users/{user['id']}"))
    assert member_view["groups"] == [{"value": group["id"], "display": role, "type": "direct",
                                      "$ref": group["meta"]["location"]}]

    removed = _resource(await scim.patch(
        f"/Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{user["id"]}"]'}))
    assert removed["members"] == []
    assert await _group_ids_of(scim, user["id"]) == set()

    # Re-assigned, then the user is deprovisioned: OneLogin PUTs the template with active false.
    await scim.patch(f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": user["id"]}]})
    suspended = _resource(await scim.request("PUT", f"/Users/{user['id']}", _onelogin_user(
        email, "Grace", "Hopper", title="Rear Admiral", department="Navy", active=False)))
    assert suspended["active"] is False and suspended["title"] == "Rear Admiral"
    assert await _member_ids(scim, group["id"]) == {user["id"]}  # deactivating keeps memberships

    assert (await scim.request("DELETE", f"/Users/{user['id']}")).status == 204
    await _assert_gone(scim, f"/Users/{user['id']}")
    assert await _member_ids(scim, group["id"]) == set()  # a deleted user leaves its groups
    assert (await scim.request("DELETE", f"/Groups/{group['id']}")).status == 204
    await _assert_gone(scim, f"/Groups/{group['id']}")


def _jumpcloud_user(user_name: str, given: str, family: str, *, active: bool = True) -> dict:
    return {
        "schemas": [CORE],
        "userName": user_name,
        "externalId": f"5f{uuid.uuid4().hex[:22]}",
        "name": {"givenName": given, "familyName": family},
        "displayName": f"{given} {family}",
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "active": active,
    }


async def test_jumpcloud_user_and_group_lifecycle(http, gateway):
    """JumpCloud Custom SCIM Identity Management.

    Sources: JumpCloud's "Identity Management using a Custom SCIM
    Integration" (jumpcloud.com/support/provision-and-manage-users-and-groups-
    in-apps-using-custom-scim-identity-management-integration):
    activation creates a test user and a test group and deletes both; empty
    groups are not created (a group arrives with its members); groups may be
    renamed; managed groups deleted in JumpCloud are deleted. Unimoni's
    JumpCloud setup notes (app.uni-moni.com/en/kb/sso-setup-jumpcloud): group
    members are removed Entra-style, `path: members` with a `value` list and
    no filter. The filter form (`members[value eq "…"]`, RFC 7644 §3.5.2.2)
    is sent too, as our integration notes give it, as is the PUT of the full
    user for updates and deactivation (§3.5.1).
    """
    scim = await new_client(http, gateway, "jumpcloud")
    # "Test Connection" / "Activate": a list, then a throwaway user and group, deleted again.
    assert (await scim.request("GET", "/Users")).body["totalResults"] == 0
    probe_user = _resource(await scim.request("POST", "/Users", _jumpcloud_user(
        f"jctest.{uuid.uuid4().hex[:8]}@jumpcloud.example", "Test", "User")), 201)
    probe_group = _resource(await scim.request("POST", "/Groups", {
        "schemas": [CORE_GROUP], "displayName": f"JumpCloud Test Group {uuid.uuid4().hex[:6]}"}), 201)
    assert (await scim.request("DELETE", f"/Groups/{probe_group['id']}")).status == 204
    assert (await scim.request("DELETE", f"/Users/{probe_user['id']}")).status == 204
    assert (await scim.request("GET", "/Users")).body["totalResults"] == 0

    alice_name = f"alice.{uuid.uuid4().hex[:8]}@jumpcloud.example"
    bob_name = f"bob.{uuid.uuid4().hex[:8]}@jumpcloud.example"
    assert await _lookup(scim, "Users", f'userName eq "{alice_name}"') == []
    alice_body = _jumpcloud_user(alice_name, "Alice", "Liddell")
    alice = _resource(await scim.request("POST", "/Users", alice_body), 201)
    assert alice["externalId"] == alice_body["externalId"] and alice["displayName"] == "Alice Liddell"
    bob = _resource(await scim.request("POST", "/Users", _jumpcloud_user(bob_name, "Bob", "Builder")), 201)

    # A JumpCloud update is a PUT of the whole user, changed fields included.
    renamed = _resource(await scim.request("PUT", f"/Users/{alice['id']}", {
        **alice_body, "name": {"givenName": "Alice", "familyName": "Hargreaves"}, "displayName": "Alice Hargreaves"}))
    assert renamed["name"] == {"givenName": "Alice", "familyName": "Hargreaves"}
    assert renamed["externalId"] == alice_body["externalId"] and renamed["meta"]["version"] != alice["meta"]["version"]

    team = f"jc-team-{uuid.uuid4().hex[:6]}"
    assert await _lookup(scim, "Groups", f'displayName eq "{team}"') == []
    group = _resource(await scim.request("POST", "/Groups", {
        "schemas": [CORE_GROUP], "displayName": team, "members": [{"value": alice["id"]}]}), 201)
    assert [m["value"] for m in group["members"]] == [alice["id"]]
    assert group["members"][0]["display"] == "Alice Hargreaves"

    # Minimal member objects: just `value`.
    added = _resource(await scim.patch(
        f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": bob["id"]}]}))
    assert {m["value"] for m in added["members"]} == {alice["id"], bob["id"]}
    assert await _group_ids_of(scim, bob["id"]) == {group["id"]}

    # Remove with a value list and no filter: only the listed member goes, never the whole group.
    removed = _resource(await scim.patch(
        f"/Groups/{group['id']}", {"op": "remove", "path": "members", "value": [{"value": bob["id"]}]}))
    assert [m["value"] for m in removed["members"]] == [alice["id"]]
    await scim.patch(f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": bob["id"]}]})
    filtered = _resource(await scim.patch(
        f"/Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{bob["id"]}"]'}))
    assert [m["value"] for m in filtered["members"]] == [alice["id"]]
    assert await _group_ids_of(scim, bob["id"]) == set()

    # Renamed in JumpCloud.
    new_name = f"{team}-renamed"
    rename = _resource(await scim.patch(
        f"/Groups/{group['id']}", {"op": "replace", "path": "displayName", "value": new_name}))
    assert rename["displayName"] == new_name and [m["value"] for m in rename["members"]] == [alice["id"]]
    assert await _lookup(scim, "Groups", f'displayName eq "{team}"') == []
    [alice_groups] = _resource(await scim.request("GET", f"/Users/{alice['id']}"))["groups"]
    assert alice_groups["display"] == new_name

    deactivated = _resource(await scim.request("PUT", f"/Users/{alice['id']}", {
        **alice_body, "name": {"givenName": "Alice", "familyName": "Hargreaves"}, "displayName": "Alice Hargreaves",
        "active": False}))
    assert deactivated["active"] is False and deactivated["userName"] == alice_name

    assert (await scim.request("DELETE", f"/Groups/{group['id']}")).status == 204
    await _assert_gone(scim, f"/Groups/{group['id']}")
    assert await _group_ids_of(scim, alice["id"]) == set()
    for user in (alice, bob):
        assert (await scim.request("DELETE", f"/Users/{user['id']}")).status == 204
    assert (await scim.request("GET", "/Users")).body["totalResults"] == 0


def _rippling_user(user_name: str, external_id: str, employee_number: str, department: str, manager_id: str,
                   *, title: str, active: bool = True) -> dict:
    return {
        "schemas": [CORE, ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "name": {"givenName": "Katherine", "familyName": "Johnson"},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "title": title,
        "active": active,
        ENTERPRISE: {"employeeNumber": employee_number, "department": department, "manager": {"value": manager_id}},
    }


async def test_rippling_user_and_group_lifecycle(http, gateway):
    """Rippling SCIM (custom app, SCIM 2.0).

    Sources: WorkOS's "Rippling SCIM" guide
    (workos.com/docs/integrations/rippling-scim: supported attributes
    externalId, emails.primary, name.givenName, name.familyName; features
    groups, pagination, delete groups, PATCH groups); Kombo's "Rippling SCIM"
    help (help.kombo.dev/hc/en-us/articles/35612530773521: employeeNumber as a
    supported attribute); authn.sh's "SCIM 2.0 with Rippling"
    (authn-sh-docs.pages.dev/guides/scim/rippling/: "Test connection" probes
    GET /ServiceProviderConfig). Users carry the enterprise extension
    (RFC 7643 §4.3: employeeNumber, department, manager); groups are edited
    with PATCH. That users are updated and terminated with a full PUT is from
    our integration notes, not from those pages.
    """
    scim = await new_client(http, gateway, "rippling")
    config = await scim.request("GET", "/ServiceProviderConfig")
    assert config.status == 200 and config.body["schemas"] == [SERVICE_PROVIDER_CONFIG]
    assert config.body["patch"]["supported"] and config.body["filter"]["supported"] and config.body["etag"]["supported"]

    managers = [_resource(await scim.request("POST", "/Users", {
        "schemas": [CORE], "userName": f"manager{i}.{uuid.uuid4().hex[:8]}@rippling.example",
        "externalId": f"rippling-mgr-{i}-{uuid.uuid4().hex[:8]}", "active": True}), 201) for i in range(2)]

    email = f"katherine.{uuid.uuid4().hex[:8]}@rippling.example"
    external_id = f"6{uuid.uuid4().hex[:23]}"
    assert await _lookup(scim, "Users", f'externalId eq "{external_id}"') == []
    assert await _lookup(scim, "Users", f'userName eq "{email}"') == []
    user = _resource(await scim.request("POST", "/Users", _rippling_user(
        email, external_id, "1962", "Flight Research", managers[0]["id"], title="Mathematician")), 201)
    assert user["schemas"] == [CORE, ENTERPRISE] and user["externalId"] == external_id
    assert user[ENTERPRISE]["employeeNumber"] == "1962" and user[ENTERPRISE]["department"] == "Flight Research"
    assert user[ENTERPRISE]["manager"] == {"value": managers[0]["id"], "$ref": managers[0]["meta"]["location"]}
    [by_external_id] = await _lookup(scim, "Users", f'externalId eq "{external_id}"')
    assert by_external_id == user
    [by_employee_number] = await _lookup(scim, "Users", f'{ENTERPRISE}:employeeNumber eq "1962"')
    assert by_employee_number["id"] == user["id"]

    # A transfer: new department, title and manager, in a full PUT (RFC 7644 §3.5.1).
    moved = _resource(await scim.request("PUT", f"/Users/{user['id']}", _rippling_user(
        email, external_id, "1962", "Space Task Group", managers[1]["id"], title="Aerospace Technologist")))
    assert moved["title"] == "Aerospace Technologist" and moved[ENTERPRISE]["department"] == "Space Task Group"
    assert moved[ENTERPRISE]["manager"]["value"] == managers[1]["id"]
    assert moved["meta"]["version"] != user["meta"]["version"]

    team = f"Rippling Engineering {uuid.uuid4().hex[:6]}"
    assert await _lookup(scim, "Groups", f'displayName eq "{team}"') == []
    group = _resource(await scim.request("POST", "/Groups", {
        "schemas": [CORE_GROUP], "displayName": team, "members": [{"value": user["id"], "display": email}]}), 201)
    assert [m["value"] for m in group["members"]] == [user["id"]]
    added = _resource(await scim.patch(f"/Groups/{group['id']}", {
        "op": "add", "path": "members", "value": [{"value": m["id"]} for m in managers]}))
    assert {m["value"] for m in added["members"]} == {user["id"], managers[0]["id"], managers[1]["id"]}
    replaced = _resource(await scim.patch(f"/Groups/{group['id']}", {
        "op": "replace", "path": "members", "value": [{"value": user["id"]}, {"value": managers[1]["id"]}]}))
    assert {m["value"] for m in replaced["members"]} == {user["id"], managers[1]["id"]}
    assert await _group_ids_of(scim, managers[0]["id"]) == set()

    # Pagination (RFC 7644 §3.4.2.4): Rippling pages through /Users with startIndex and count.
    collected, start = [], 1
    for _ in range(10):
        page = await scim.request("GET", "/Users", params={"startIndex": str(start), "count": "2"})
        assert page.status == 200 and page.body["startIndex"] == start
        collected += page.body["Resources"]
        start += page.body["itemsPerPage"]
        if start > page.body["totalResults"] or not page.body["itemsPerPage"]:
            break
    assert sorted(u["id"] for u in collected) == sorted([user["id"], managers[0]["id"], managers[1]["id"]])

    # Termination: the full user again, with active false.
    terminated = _resource(await scim.request("PUT", f"/Users/{user['id']}", _rippling_user(
        email, external_id, "1962", "Space Task Group", managers[1]["id"], title="Aerospace Technologist",
        active=False)))
    assert terminated["active"] is False and terminated[ENTERPRISE]["employeeNumber"] == "1962"

    assert (await scim.request("DELETE", f"/Groups/{group['id']}")).status == 204
    await _assert_gone(scim, f"/Groups/{group['id']}")
    assert await _group_ids_of(scim, user["id"]) == set()
    assert (await scim.request("DELETE", f"/Users/{user['id']}")).status == 204
    await _assert_gone(scim, f"/Users/{user['id']}")


async def test_entra_matches_users_by_work_email(http, gateway):
    """Microsoft Entra ID with email as the matching attribute.

    Entra looks a user up by its work email before creating it, with a sub-attribute after the value
    filter: `GET /Users?filter=emails[type eq "work"].value eq "…"`. RFC 7644 §3.4.2.2's grammar has no
    such form (it is a PATCH path, §3.5.2), but Entra sends it (source: the interoperability issue
    that reported it; Microsoft's reference SCIM code is reported to accept it). scimd answered 400
    invalidFilter, so Entra could never find the user it had created. It means: one element of
    `emails` is a work email and its value is the address.
    """
    scim = await new_client(http, gateway, "microsoft-entra")
    email = f"ada.{uuid.uuid4().hex[:8]}@acme.com"
    lookup = f'emails[type eq "work"].value eq "{email}"'
    assert await _lookup(scim, "Users", lookup) == []  # not there yet: Entra creates it

    user = _resource(await scim.request("POST", "/Users", {
        "schemas": [CORE, ENTERPRISE], "externalId": str(uuid.uuid4()), "userName": f"ada.{uuid.uuid4().hex[:8]}",
        "active": True, "emails": [{"primary": True, "type": "work", "value": email}],
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
    }), 201)
    [found] = await _lookup(scim, "Users", lookup)
    assert found == user
    [found] = await _lookup(scim, "Users", f'emails[type eq "work"].value eq "{email.upper()}"')  # caseExact false
    assert found["id"] == user["id"]

    # Work email and address on the same element: a home email with that address is not a match.
    other = _resource(await scim.request("POST", "/Users", {
        "schemas": [CORE], "userName": f"grace.{uuid.uuid4().hex[:8]}", "active": True,
        "emails": [{"type": "work", "value": f"grace.{uuid.uuid4().hex[:8]}@acme.com"},
                   {"type": "home", "value": email}],
    }), 201)

    async def found_ids(scim_filter: str) -> set[str]:
        return {u["id"] for u in await _lookup(scim, "Users", scim_filter)}

    assert await found_ids(f'emails.value eq "{email}"') == {user["id"], other["id"]}
    assert await found_ids(lookup) == {user["id"]}
    assert await found_ids(f'emails[type eq "home"].value eq "{email}"') == {other["id"]}
    # The other operators, and/or/not around it.
    assert await found_ids('emails[type eq "work"].value ew "@acme.com" and not (emails[type eq "home"].value pr)') == {
        user["id"]}
    assert await found_ids('emails[type eq "work"].value sw "ada." or emails[type eq "home"].value co "ada."') == {
        user["id"], other["id"]}

    malformed = await scim.request("GET", "/Users", params={"filter": 'emails[type eq "work"].nope eq "x"'})
    assert malformed.status == 400 and malformed.body["scimType"] == "invalidFilter"


async def test_remove_of_active_is_refused_not_ignored(http, gateway):
    """PATCH `{"op": "remove", "path": "active"}` on a User.

    RFC 7644 §3.5.2.2: remove makes the attribute unassigned. scimd holds every user either active or
    deactivated, so `active` cannot be unassigned. The request answered 200 and changed nothing on an
    active user, and reactivated a deactivated one (a stored user without `active` is active). It is
    now a 400 `mutability` that says how to deactivate (replace with false), and nothing changes.
    """
    scim = await new_client(http, gateway, "microsoft-entra")
    user = _resource(await scim.request("POST", "/Users", {
        "schemas": [CORE], "userName": f"ada.{uuid.uuid4().hex[:8]}@acme.com", "active": True}), 201)
    for active in (True, False):
        if not active:
            user = _resource(await scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "active", "value": False}))
        refused = await scim.patch(f"/Users/{user['id']}", {"op": "remove", "path": "active"})
        assert refused.status == 400 and refused.content_type == SCIM, refused.body
        assert refused.body["schemas"] == [ERROR] and refused.body["status"] == "400"
        assert refused.body["scimType"] == "mutability" and "replace" in refused.body["detail"]
        assert _resource(await scim.request("GET", f"/Users/{user['id']}")) == user  # nothing applied

    # The rest of the class: read-only and required attributes are refused too, never a silent 200.
    for path, scim_type in [("id", "mutability"), ("meta", "mutability"), ("userName", "mutability"),
                            ("schemas", "invalidPath")]:
        reply = await scim.patch(f"/Users/{user['id']}", {"op": "remove", "path": path})
        assert reply.status == 400 and reply.body["scimType"] == scim_type, (path, reply.body)
    group = _resource(await scim.request("POST", "/Groups", {
        "schemas": [CORE_GROUP], "displayName": f"Team {uuid.uuid4().hex[:6]}"}), 201)
    for path, scim_type in [("displayName", "mutability"), ("id", "mutability"), ("schemas", "invalidPath")]:
        reply = await scim.patch(f"/Groups/{group['id']}", {"op": "remove", "path": path})
        assert reply.status == 400 and reply.body["scimType"] == scim_type, (path, reply.body)
    assert _resource(await scim.request("GET", f"/Users/{user['id']}")) == user
