"""SCIM PATCH on Users (RFC 7644 §3.5.2) — pure logic, no I/O, with the
bodies Okta and Microsoft Entra ID really send."""

import copy

import pytest

from scim.errors import ScimError
from scim.patch import MAX_USER_OPERATIONS, apply_patch
from scim.schema import ENTERPRISE_USER, GROUP, PATCH_OP, USER
from scim.users import normalize_user

STORED = normalize_user({
    "userName": "ada@acme.com",
    "externalId": "00u1",
    "name": {"givenName": "Ada", "familyName": "Lovelace"},
    "displayName": "Ada Lovelace",
    "emails": [{"value": "ada@acme.com", "type": "work", "primary": True}],
    "addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "London"}],
    "active": True,
    ENTERPRISE_USER: {"department": "R&D", "employeeNumber": "42"},
}).attributes


def patch(*operations, attributes=None, schemas=(PATCH_OP,)):
    body = {"schemas": list(schemas), "Operations": list(operations)}
    return apply_patch(copy.deepcopy(STORED if attributes is None else attributes), body, USER)


def fails(*operations, reason, attributes=None):
    with pytest.raises(ScimError) as caught:
        patch(*operations, attributes=attributes)
    assert caught.value.scim_type == reason, caught.value.message
    return caught.value


def revalidated(result):
    """What the directory service stores: the PATCH result normalized again."""
    return normalize_user(result.attributes, for_replace=True).attributes


# ------------------------------------------------------------------ the IdPs' bodies

def test_okta_deactivate():
    """Okta ("SCIM 2.0 reference", Deactivate the user): a path-less replace of active (RFC 7644 §3.5.2.3)."""
    body = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]}
    result = apply_patch(STORED, body, USER)
    assert result.attributes == {**STORED, "active": False}
    assert result.changed == {"active"}


def test_okta_reactivate_repeating_the_id():
    """Okta may repeat the read-only id in the value object: ignored, not rejected."""
    result = patch({"op": "replace", "value": {"id": "other", "active": True}},
                   attributes={**STORED, "active": False})
    assert result.attributes["active"] is True
    assert "id" not in result.attributes


def test_entra_replace_work_email_and_family_name():
    """Entra (SCIM tutorial, Update User [Multi-valued properties]): a value-filter path and a sub-attribute path."""
    body = {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        ],
    }
    result = apply_patch(STORED, body, USER)
    assert result.attributes["emails"] == [{"value": "updatedEmail@microsoft.com", "type": "work", "primary": True}]
    assert result.attributes["name"] == {"givenName": "Ada", "familyName": "updatedFamilyName"}
    assert result.changed == {"emails", "name"}


def test_entra_add_manager_as_a_bare_id():
    """Entra (SCIM tutorial, Update User [Add Manager]): the manager's id as a string (RFC 7643 §4.3)."""
    body = {
        "schemas": [PATCH_OP],
        "Operations": [{
            "op": "Add",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "value": "2819c223-7f76-453a-919d-413861904646",
        }],
    }
    result = apply_patch(STORED, body, USER)
    assert result.attributes[ENTERPRISE_USER] == {
        "department": "R&D", "employeeNumber": "42", "manager": {"value": "2819c223-7f76-453a-919d-413861904646"},
    }
    assert result.changed == {ENTERPRISE_USER}


def test_entra_add_manager_as_a_one_element_array():
    """Entra's older form (SCIM tutorial, Update User [Add Manager]): an array with $ref null."""
    body = {
        "schemas": [PATCH_OP],
        "Operations": [{
            "op": "Add",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "value": [{"$ref": None, "value": "2819c223-7f76-453a-919d-413861904646"}],
        }],
    }
    result = apply_patch(STORED, body, USER)
    assert result.attributes[ENTERPRISE_USER]["manager"] == {"value": "2819c223-7f76-453a-919d-413861904646"}
    two = {"op": "Add", "path": f"{ENTERPRISE_USER}:manager", "value": [{"value": "a"}, {"value": "b"}]}
    fails(two, reason="invalidValue")


def test_entra_remove_manager():
    """Entra (SCIM tutorial, Update User [Remove Manager]): remove by path, no value."""
    stored = {**STORED, ENTERPRISE_USER: {"manager": {"value": "m1"}}}
    body = {"schemas": [PATCH_OP], "Operations": [
        {"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"},
    ]}
    result = apply_patch(stored, body, USER)
    assert ENTERPRISE_USER not in result.attributes
    assert result.changed == {ENTERPRISE_USER}


def test_entra_disable_with_a_string_boolean():
    """Entra (SCIM tutorial, Disable User): "value": "False" is a boolean."""
    body = {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
    assert apply_patch(STORED, body, USER).attributes["active"] is False


def test_entra_path_less_replace_with_paths_as_keys():
    """Entra sends sub-attribute and URN-qualified paths as keys of a path-less value (RFC 7644 §3.5.2.3)."""
    result = patch({"op": "Replace", "value": {
        "displayName": "x",
        "name.givenName": "y",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "z",
        'emails[type eq "work"].value': "new@acme.com",
    }})
    assert result.attributes["displayName"] == "x"
    assert result.attributes["name"] == {"givenName": "y", "familyName": "Lovelace"}
    assert result.attributes[ENTERPRISE_USER] == {"department": "z", "employeeNumber": "42"}
    assert result.attributes["emails"][0]["value"] == "new@acme.com"
    assert result.changed == {"displayName", "name", ENTERPRISE_USER, "emails"}


def test_removal_with_a_null_value():
    """RFC 7643 §2.5: replace with null unassigns; Entra clears attributes this way."""
    result = patch(
        {"op": "Replace", "path": "displayName", "value": None},
        {"op": "Replace", "path": "name.givenName", "value": ""},
        {"op": "Replace", "path": f"{ENTERPRISE_USER}:department", "value": None},
    )
    assert "displayName" not in result.attributes
    assert result.attributes["name"] == {"familyName": "Lovelace"}
    assert result.attributes[ENTERPRISE_USER] == {"employeeNumber": "42"}


def test_entra_adds_a_work_email_that_does_not_exist():
    """Entra adds or replaces emails[type eq "work"].value for users with no work email: the element is created."""
    stored = {k: v for k, v in STORED.items() if k != "emails"}
    for op in ("Add", "Replace"):
        result = patch({"op": op, "path": 'emails[type eq "work"].value', "value": "new@acme.com"}, attributes=stored)
        assert result.attributes["emails"] == [{"type": "work", "value": "new@acme.com"}]
        assert result.changed == {"emails"}


def test_entra_sets_a_new_phone_number_and_address_line():
    result = patch(
        {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+44 20 7946 0000"},
        {"op": "Add", "path": 'addresses[type eq "home"].locality', "value": "Paris"},
        {"op": "Replace", "path": 'addresses[type eq "work"].streetAddress', "value": "2 High St"},
    )
    assert result.attributes["phoneNumbers"] == [{"type": "mobile", "value": "+44 20 7946 0000"}]
    assert result.attributes["addresses"] == [
        {"type": "work", "streetAddress": "2 High St", "locality": "London"},
        {"type": "home", "locality": "Paris"},
    ]


def test_entra_group_style_remove_by_value():
    """Entra removes listed values: {"op": "Remove", "path": "members", "value": [{"value": id}]}."""
    group = {"displayName": "Eng", "members": [{"value": "u1"}, {"value": "u2"}]}
    body = {"schemas": [PATCH_OP], "Operations": [{"op": "Remove", "path": "members", "value": [{"value": "u1"}]}]}
    result = apply_patch(group, body, GROUP)
    assert result.attributes["members"] == [{"value": "u2"}]
    assert result.changed == {"members"}


# ------------------------------------------------------------------ envelope

def test_schemas_may_be_missing_but_must_name_patch_op_when_present():
    """RFC 7644 §3.5.2: the body's schemas is the PatchOp URN; some clients omit it."""
    assert patch({"op": "replace", "path": "title", "value": "Eng"}, schemas=()).changed == {"title"}
    body = {"Operations": [{"op": "replace", "path": "title", "value": "Eng"}]}
    assert apply_patch(STORED, body, USER).attributes["title"] == "Eng"
    with pytest.raises(ScimError) as caught:
        patch({"op": "replace", "path": "title", "value": "Eng"}, schemas=["urn:ietf:params:scim:schemas:core:2.0:User"])
    assert caught.value.scim_type == "invalidSyntax"


def test_member_names_match_without_case():
    body = {"Schemas": [PATCH_OP.upper()], "operations": [{"OP": "REPLACE", "Path": "title", "Value": "Eng"}]}
    assert apply_patch(STORED, body, USER).attributes["title"] == "Eng"


@pytest.mark.parametrize("body", [
    {"schemas": [PATCH_OP]},
    {"schemas": [PATCH_OP], "Operations": []},
    {"schemas": [PATCH_OP], "Operations": {"op": "add"}},
    {"schemas": [PATCH_OP], "Operations": ["add"]},
    {"schemas": [PATCH_OP], "Operations": [{"op": "move", "path": "title", "value": "x"}]},
    {"schemas": [PATCH_OP], "Operations": [{"path": "title", "value": "x"}]},
    {"schemas": PATCH_OP, "Operations": [{"op": "add", "path": "title", "value": "x"}]},
    {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "title", "value": "x"}] * (MAX_USER_OPERATIONS + 1)},
    [],
])
def test_malformed_envelopes_are_invalid_syntax(body):
    """RFC 7644 §3.5.2: Operations is a non-empty array of add/remove/replace; §3.12 invalidSyntax."""
    with pytest.raises(ScimError) as caught:
        apply_patch(STORED, body, USER)
    assert caught.value.scim_type == "invalidSyntax"


def test_the_operation_count_is_bounded_but_the_limit_accepted():
    body = {"Operations": [{"op": "add", "path": "title", "value": "x"}] * MAX_USER_OPERATIONS}
    assert apply_patch(STORED, body, USER).attributes["title"] == "x"


def test_a_list_may_not_grow_past_its_bound():
    """Issue 16 §2: a PATCH's work is bounded by operations × list length, so both are bounded."""
    from scim.schema import MAX_MULTI_VALUES

    full = {"Operations": [{"op": "add", "path": "emails",
                            "value": [{"value": f"e{i}@example.com"} for i in range(MAX_MULTI_VALUES)]}]}
    without = {k: v for k, v in STORED.items() if k != "emails"}
    grown = apply_patch(without, full, USER).attributes
    more = {"Operations": [{"op": "add", "path": "emails", "value": [{"value": "one-more@example.com"}]}]}
    with pytest.raises(ScimError) as caught:
        apply_patch(grown, more, USER)
    assert caught.value.scim_type == "invalidValue" and "at most" in caught.value.message


# ------------------------------------------------------------------ paths

@pytest.mark.parametrize("path", [
    "madeUp", "name.madeUp", "urn:example:unknown:2.0:User:department", 'emails[type eq "work"].madeUp',
    'emails[madeUp eq "x"].value', 'emails[type eq "work"', "emails[type eq]", 'name[givenName eq "A"]',
    "not a path", 'emails[type eq "work"].value.extra', "schemas",
])
def test_bad_paths_are_invalid_path(path):
    """RFC 7644 §3.5.2: invalidPath for a path that is invalid or not supported (value filters included)."""
    fails({"op": "replace", "path": path, "value": "x"}, reason="invalidPath")


def test_path_must_be_a_string():
    fails({"op": "replace", "path": 5, "value": "x"}, reason="invalidPath")


def test_path_to_a_whole_extension():
    """RFC 7644 §3.5.2.3: the extension object's attributes are merged."""
    result = patch({"op": "replace", "path": ENTERPRISE_USER, "value": {"Department": "Ops", "costCenter": "7"}})
    assert result.attributes[ENTERPRISE_USER] == {"department": "Ops", "employeeNumber": "42", "costCenter": "7"}
    removed = patch({"op": "remove", "path": ENTERPRISE_USER})
    assert ENTERPRISE_USER not in removed.attributes
    assert removed.changed == {ENTERPRISE_USER}


def test_path_less_value_with_the_extension_urn_as_a_key():
    result = patch({"op": "add", "value": {ENTERPRISE_USER: {"division": "West", "manager": "m1"}}})
    assert result.attributes[ENTERPRISE_USER] == {
        "department": "R&D", "employeeNumber": "42", "division": "West", "manager": {"value": "m1"},
    }


def test_paths_match_without_case():
    result = patch({"op": "replace", "path": 'EMAILS[TYPE eq "WORK"].VALUE', "value": "x@acme.com"},
                   {"op": "replace", "path": "NAME.GIVENNAME", "value": "A"})
    assert result.attributes["emails"][0]["value"] == "x@acme.com"
    assert result.attributes["name"]["givenName"] == "A"


# ------------------------------------------------------------------ add

def test_add_to_a_single_valued_attribute_replaces_it():
    """RFC 7644 §3.5.2.1: "If the target location specifies a single-valued attribute, the existing value is replaced"."""
    assert patch({"op": "add", "path": "displayName", "value": "A. L."}).attributes["displayName"] == "A. L."


def test_add_to_a_complex_attribute_merges_sub_attributes():
    result = patch({"op": "add", "path": "name", "value": {"middleName": "King", "GivenName": "Augusta"}})
    assert result.attributes["name"] == {"givenName": "Augusta", "familyName": "Lovelace", "middleName": "King"}


def test_add_to_a_multi_valued_attribute_appends_and_skips_duplicates():
    """RFC 7644 §3.5.2.1: values are added; "If the target location already contains the value specified,
    no changes SHOULD be made"."""
    result = patch({"op": "add", "path": "emails", "value": [
        {"value": "ada@acme.com", "type": "work", "primary": True}, {"value": "ada@home.org", "type": "home"},
    ]})
    assert result.attributes["emails"] == [
        {"value": "ada@acme.com", "type": "work", "primary": True}, {"value": "ada@home.org", "type": "home"},
    ]
    same = patch({"op": "add", "path": "emails", "value": [{"value": "ada@acme.com", "type": "work", "primary": True}]})
    assert same.changed == frozenset()
    assert same.attributes == STORED


def test_adding_a_primary_value_clears_the_other_primary():
    """RFC 7644 §3.5.2: setting primary to true makes the server set primary false on the other values."""
    result = patch({"op": "add", "path": "emails", "value": {"value": "ada@home.org", "primary": "True"}})
    assert result.attributes["emails"] == [
        {"value": "ada@acme.com", "type": "work", "primary": False}, {"value": "ada@home.org", "primary": True},
    ]
    via_filter = patch(
        {"op": "add", "path": "emails", "value": [{"value": "ada@home.org", "type": "home"}]},
        {"op": "replace", "path": 'emails[type eq "home"].primary', "value": True},
    )
    assert [e.get("primary") for e in via_filter.attributes["emails"]] == [False, True]


def test_path_less_add_appends_to_multi_valued_attributes():
    """Entra: {"op": "Add", "value": {"emails": [...]}} (RFC 7644 §3.5.2.1 without a path)."""
    result = patch({"op": "Add", "value": {"emails": [{"value": "x@acme.com", "type": "other"}], "title": "Eng"}})
    assert len(result.attributes["emails"]) == 2
    assert result.attributes["title"] == "Eng"


def test_add_through_a_filter_that_cannot_describe_an_element_is_no_target():
    fails({"op": "add", "path": 'emails[type eq "home" or type eq "other"].value', "value": "x@y.z"},
          reason="noTarget")
    fails({"op": "add", "path": 'emails[value co "@home"].type', "value": "home"}, reason="noTarget")


def test_add_or_replace_without_a_value_is_invalid():
    fails({"op": "add", "path": "title"}, reason="invalidValue")
    fails({"op": "replace"}, reason="invalidValue")
    fails({"op": "replace", "value": "Eng"}, reason="invalidValue")


# ------------------------------------------------------------------ replace

def test_replace_a_multi_valued_attribute_replaces_the_array():
    """RFC 7644 §3.5.2.3: "If the target location is a multi-valued attribute and no filter is specified,
    the attribute and all values are replaced"."""
    result = patch({"op": "replace", "path": "emails", "value": [{"value": "new@acme.com", "type": "work"}]})
    assert result.attributes["emails"] == [{"value": "new@acme.com", "type": "work"}]


def test_replace_a_complex_attribute_leaves_other_sub_attributes():
    """RFC 7644 §3.5.2.3: "Sub-attributes that are not specified in the value parameter are left unchanged"."""
    result = patch({"op": "replace", "path": "name", "value": {"givenName": "Augusta", "familyName": None}})
    assert result.attributes["name"] == {"givenName": "Augusta"}


def test_replace_matched_elements_through_a_filter():
    """RFC 7644 §3.5.2.3: all matching record values are replaced."""
    result = patch({"op": "replace", "path": 'addresses[type eq "work"]',
                    "value": {"type": "work", "locality": "Paris"}})
    assert result.attributes["addresses"] == [{"type": "work", "locality": "Paris"}]


def test_replace_through_a_filter_matching_nothing_is_no_target():
    """RFC 7644 §3.5.2.3: a valuePath filter with no match fails with noTarget (emails excepted, see above)."""
    fails({"op": "replace", "path": 'phoneNumbers[type eq "work"].value', "value": "+1"}, reason="noTarget")
    fails({"op": "replace", "path": 'addresses[type eq "home"].locality', "value": "Paris"}, reason="noTarget")


def test_replace_with_null_through_a_filter_removes_the_value_and_its_element():
    """RFC 7643 §2.4: an element without its value carries nothing and is dropped."""
    result = patch({"op": "Replace", "path": 'emails[type eq "work"].value', "value": None})
    assert "emails" not in result.attributes
    assert result.changed == {"emails"}


# ------------------------------------------------------------------ remove

def test_remove_without_a_path_is_no_target():
    """RFC 7644 §3.5.2.2: "If path is unspecified, the operation fails with ... noTarget"."""
    fails({"op": "remove", "value": {"title": "x"}}, reason="noTarget")


def test_remove_single_valued_and_sub_attributes():
    """RFC 7644 §3.5.2.2: the attribute is removed and "SHALL be considered unassigned"."""
    result = patch({"op": "remove", "path": "displayName"}, {"op": "remove", "path": "name.givenName"},
                   {"op": "remove", "path": f"{ENTERPRISE_USER}:employeeNumber"})
    assert "displayName" not in result.attributes
    assert result.attributes["name"] == {"familyName": "Lovelace"}
    assert result.attributes[ENTERPRISE_USER] == {"department": "R&D"}


def test_remove_through_a_filter_removes_only_the_matches():
    """RFC 7644 §3.5.2.2: the matching records are removed; none left → unassigned."""
    stored = {**STORED, "emails": [{"value": "a@acme.com", "type": "work"}, {"value": "a@home.org", "type": "home"}]}
    result = patch({"op": "remove", "path": 'emails[type eq "work"]'}, attributes=stored)
    assert result.attributes["emails"] == [{"value": "a@home.org", "type": "home"}]
    result = patch({"op": "remove", "path": 'emails[type eq "work" or type eq "home"]'}, attributes=stored)
    assert "emails" not in result.attributes


def test_remove_a_sub_attribute_through_a_filter():
    result = patch({"op": "remove", "path": 'addresses[type eq "work"].locality'})
    assert result.attributes["addresses"] == [{"type": "work", "streetAddress": "1 Main St"}]


def test_removing_what_is_not_there_succeeds_without_change():
    """Removal is idempotent: IdPs retry, and the RFC's noTarget is for a missing path (§3.5.2.2)."""
    result = patch({"op": "remove", "path": 'emails[value eq "nobody@acme.com"]'}, {"op": "remove", "path": "title"},
                   {"op": "remove", "path": 'phoneNumbers[type eq "work"].value'})
    assert result.attributes == STORED
    assert result.changed == frozenset()
    cleared = patch({"op": "Replace", "path": 'phoneNumbers[type eq "work"].value', "value": None})
    assert cleared.changed == frozenset()


# ------------------------------------------------------------------ mutability

@pytest.mark.parametrize("path", ["id", "meta", "meta.version", "groups", f"{ENTERPRISE_USER}:manager.displayName"])
def test_an_explicit_path_to_a_read_only_attribute_is_mutability(path):
    """RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has mutability readOnly"."""
    fails({"op": "replace", "path": path, "value": "x"}, reason="mutability")


def test_read_only_keys_in_a_path_less_value_are_ignored():
    result = patch({"op": "replace", "value": {
        "id": "x", "meta": {"version": "1"}, "groups": [{"value": "g"}], "schemas": ["x"], "madeUp": 1, "title": "Eng",
    }})
    assert result.changed == {"title"}


def test_password_is_accepted_and_never_stored():
    """RFC 7643 §4.1.1: password is write-only; scimd never stores it."""
    result = patch({"op": "replace", "path": "password", "value": "hunter2"},
                   {"op": "replace", "value": {"password": "hunter2"}})
    assert result.attributes == STORED
    assert result.changed == frozenset()


def test_user_name_cannot_be_removed():
    """RFC 7644 §3.5.2: a required attribute that is removed or becomes unassigned is mutability."""
    fails({"op": "remove", "path": "userName"}, reason="mutability")
    fails({"op": "replace", "path": "userName", "value": ""}, reason="mutability")
    fails({"op": "replace", "value": {"userName": None}}, reason="mutability")
    assert patch({"op": "replace", "path": "userName", "value": "new@acme.com"}).changed == {"userName"}


@pytest.mark.parametrize("operation", [
    {"op": "remove", "path": "active"},
    {"op": "Remove", "path": "ACTIVE"},
    {"op": "remove", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active"},
    {"op": "replace", "path": "active", "value": None},
    {"op": "replace", "path": "active", "value": ""},
    {"op": "add", "path": "active", "value": None},
    {"op": "replace", "value": {"active": None}},
])
@pytest.mark.parametrize("active", [True, False, None])
def test_active_cannot_be_removed_or_cleared(operation, active):
    """RFC 7644 §3.5.2.2: remove makes an attribute unassigned. A user is active or deactivated and a stored user
    without `active` is active, so unassigning it would reactivate a deactivated user or silently change
    nothing: mutability, saying how to deactivate, whatever `active` was."""
    stored = {k: v for k, v in STORED.items() if k != "active"} | ({} if active is None else {"active": active})
    error = fails(operation, reason="mutability", attributes=stored)
    assert "active cannot be removed" in error.message and "replace it with false" in error.message


def test_active_is_replaced_not_removed():
    """RFC 7644 §3.5.2.3: deactivation is a replace with false; a remove after it still fails, applying nothing."""
    assert patch({"op": "replace", "path": "active", "value": False}).attributes["active"] is False
    fails({"op": "replace", "path": "active", "value": False}, {"op": "remove", "path": "active"}, reason="mutability")


@pytest.mark.parametrize("path, reason", [
    ("id", "mutability"), ("meta", "mutability"), ("meta.lastModified", "mutability"), ("groups", "mutability"),
    ('groups[value eq "g"]', "mutability"), (f"{ENTERPRISE_USER}:manager.displayName", "mutability"),
    ("userName", "mutability"), ("active", "mutability"), ("schemas", "invalidPath"),
    ("urn:ietf:params:scim:schemas:core:2.0:User:schemas", "invalidPath"),
])
def test_no_remove_is_a_silent_no_op(path, reason):
    """RFC 7644 §3.5.2.2: what remove cannot unassign (read-only, required, or `active`) is a 400, never a 200
    that changes nothing; RFC 7643 §4.1.1: userName is required (§3.5.2: mutability)."""
    fails({"op": "remove", "path": path}, reason=reason)


@pytest.mark.parametrize("path", ["displayName", "externalId", "name", "emails", f"{ENTERPRISE_USER}:department",
                                  ENTERPRISE_USER, 'emails[type eq "work"].primary'])
def test_remove_of_an_optional_attribute_unassigns_it(path):
    """RFC 7644 §3.5.2.2: the rest of the class works: the attribute is gone afterwards."""
    result = patch({"op": "remove", "path": path})
    assert result.changed
    assert revalidated(result) == result.attributes


@pytest.mark.parametrize("path, reason", [("displayName", "mutability"), ("id", "mutability"),
                                          ("meta", "mutability"), ("schemas", "invalidPath")])
def test_no_group_remove_is_a_silent_no_op(path, reason):
    """RFC 7643 §4.2: a Group's displayName is required; id and meta are read-only; schemas is no PATCH path."""
    from scim.group_patch import plan_group_patch

    with pytest.raises(ScimError) as caught:
        plan_group_patch({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": path}]})
    assert caught.value.scim_type == reason


def test_immutable_attributes_may_be_added_once_but_not_changed():
    """RFC 7644 §3.5.2: "a client MAY add a value to an immutable attribute if the attribute had no previous
    value". Group members' value is immutable (RFC 7643 §8.7.1)."""
    group = {"displayName": "Eng", "members": [{"value": "u1"}]}

    def group_patch(*operations):
        return apply_patch(group, {"Operations": list(operations)}, GROUP)

    assert group_patch({"op": "add", "path": "members", "value": [{"value": "u2"}]}).attributes["members"] == [
        {"value": "u1"}, {"value": "u2"}]
    with pytest.raises(ScimError) as caught:
        group_patch({"op": "replace", "path": 'members[value eq "u1"].value', "value": "u9"})
    assert caught.value.scim_type == "mutability"


# ------------------------------------------------------------------ values

@pytest.mark.parametrize("operation", [
    {"op": "replace", "path": "active", "value": "maybe"},
    {"op": "replace", "path": "displayName", "value": 5},
    {"op": "replace", "path": "name", "value": 5},
    {"op": "add", "path": "emails", "value": "a@x.com"},
    {"op": "replace", "value": {"title": ["Eng"]}},
    {"op": "replace", "value": "Eng"},
    {"op": "add", "path": 'emails[type eq "work"]', "value": [{"value": "a"}, {"value": "b"}]},
])
def test_bad_values_are_invalid_value(operation):
    """RFC 7644 §3.12 invalidValue: the value is not compatible with the operation or attribute type."""
    fails(operation, reason="invalidValue")


def test_values_are_canonicalized_like_a_post():
    result = patch({"op": "add", "path": "emails", "value": [{"VALUE": "x@acme.com", "Primary": "False"}]})
    assert result.attributes["emails"][-1] == {"value": "x@acme.com", "primary": False}


def test_result_is_a_fixed_point_of_normalize_user():
    """The directory service stores normalize_user(result): PATCH output needs no further change."""
    result = patch(
        {"op": "Add", "path": 'emails[type eq "home"].value', "value": "ada@home.org"},
        {"op": "Replace", "value": {"name.middleName": "King", f"{ENTERPRISE_USER}:manager": "m1"}},
        {"op": "Remove", "path": 'addresses[type eq "work"].streetAddress'},
    )
    assert revalidated(result) == result.attributes


def test_stored_attributes_with_old_spellings_are_matched():
    stored = {"userName": "a", "Emails": [{"Value": "a@x.com", "Type": "work"}]}
    result = patch({"op": "replace", "path": 'emails[type eq "work"].value', "value": "b@x.com"}, attributes=stored)
    assert result.attributes == {"userName": "a", "emails": [{"value": "b@x.com", "type": "work"}]}


# ------------------------------------------------------------------ atomicity

def test_a_failing_operation_applies_nothing():
    """RFC 7644 §3.5.2: "If an error occurs at any point, the request is not applied"
    (the resource is left unchanged; the input is never mutated)."""
    stored = copy.deepcopy(STORED)
    body = {"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "replace", "path": "id", "value": "mine"},
    ]}
    with pytest.raises(ScimError) as caught:
        apply_patch(stored, body, USER)
    assert caught.value.scim_type == "mutability"
    assert "Operations[1]" in caught.value.message
    assert stored == STORED


def test_the_input_is_never_mutated():
    stored = copy.deepcopy(STORED)
    result = apply_patch(stored, {"Operations": [
        {"op": "add", "path": "emails", "value": [{"value": "b@x.com", "primary": True}]},
        {"op": "replace", "path": "name.givenName", "value": "B"},
        {"op": "replace", "path": f"{ENTERPRISE_USER}:department", "value": "Ops"},
    ]}, USER)
    assert stored == STORED
    assert result.attributes != STORED


def test_operations_apply_in_order():
    """RFC 7644 §3.5.2: operations are applied sequentially."""
    result = patch({"op": "replace", "path": "title", "value": "A"}, {"op": "remove", "path": "title"},
                   {"op": "add", "path": "title", "value": "B"})
    assert result.attributes["title"] == "B"
    assert result.changed == {"title"}


def test_a_patch_whose_filters_would_do_too_much_work_is_too_many():
    """Issue 16 §2: operations × list length × filter size is bounded as a whole."""
    from scim.patch import MAX_FILTER_WORK

    emails = {"emails": [{"value": f"e{i}@example.com", "type": "work"} for i in range(100)], "userName": "a"}
    clause = " or ".join(f'value co "x{j}"' for j in range(20))
    ops = [{"op": "remove", "path": f"emails[{clause}]"} for _ in range(MAX_FILTER_WORK // (100 * 20) + 1)]
    with pytest.raises(ScimError) as caught:
        apply_patch(emails, {"Operations": ops}, USER)
    assert caught.value.scim_type == "tooMany"
    assert apply_patch(emails, {"Operations": ops[:-1]}, USER).attributes["emails"] == emails["emails"]


# ------------------------------------------------ attributes no schema declares

def patch_keeping(undeclared, *operations, refuse=False):
    body = {"schemas": [PATCH_OP], "Operations": list(operations)}
    return apply_patch(copy.deepcopy(STORED), body, USER, copy.deepcopy(undeclared), refuse_undeclared=refuse)


def test_an_undeclared_path_is_kept_as_sent_replaced_and_removed():
    kept = {"favoriteColor": "blue", "urn:acme:1.0:User": {"shoeSize": 44}}
    result = patch_keeping(kept,
                           {"op": "replace", "path": "FavoriteColor", "value": "green"},
                           {"op": "add", "path": "urn:acme:1.0:User:shoeSize", "value": 45},
                           {"op": "add", "path": "urn:other:1.0:User:costCenter", "value": "CC-1"})
    assert result.undeclared == {"favoriteColor": "green", "urn:acme:1.0:User": {"shoeSize": 45},
                                 "urn:other:1.0:User:costCenter": "CC-1"}
    assert result.attributes == STORED  # declared attributes untouched
    result = patch_keeping(result.undeclared, {"op": "remove", "path": "favoriteColor"},
                           {"op": "replace", "path": "urn:other:1.0:User:costCenter", "value": None})
    assert result.undeclared == {"urn:acme:1.0:User": {"shoeSize": 45}}


def test_a_pathless_value_keeps_its_unknown_keys_beside_the_declared_ones():
    result = patch_keeping({}, {"op": "add", "value": {"title": "Engineer", "badge": "B7",
                                                       "urn:acme:1.0:User": {"shoeSize": 44}}})
    assert result.attributes["title"] == "Engineer"
    assert result.undeclared == {"badge": "B7", "urn:acme:1.0:User": {"shoeSize": 44}}


def test_a_strict_connection_refuses_undeclared_paths_and_keys():
    for operation in ({"op": "replace", "path": "favoriteColor", "value": "x"},
                      {"op": "add", "value": {"title": "Engineer", "badge": "B7"}}):
        with pytest.raises(ScimError) as caught:
            patch_keeping({}, operation, refuse=True)
        assert "no schema declares" in caught.value.message


def test_value_filters_and_malformed_paths_stay_errors_even_when_keeping_undeclared():
    for path in ('badges[value eq "x"]', "a..b", "name.givenName.more"):
        with pytest.raises(ScimError) as caught:
            patch_keeping({}, {"op": "replace", "path": path, "value": "x"})
        assert caught.value.scim_type == "invalidPath", path


def test_an_overlong_undeclared_name_is_refused_not_kept():
    with pytest.raises(ScimError) as caught:
        patch_keeping({}, {"op": "add", "path": "a" * 9000, "value": "x"})
    assert caught.value.scim_type == "invalidPath"
    with pytest.raises(ScimError):
        normalize_user({"userName": "a", "b" * 300: 1})
