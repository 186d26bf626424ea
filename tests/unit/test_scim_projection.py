"""Attribute projection (RFC 7644 §3.4.2.5, §3.9; `returned`, RFC 7643 §7) — pure logic, no I/O."""

import copy

import pytest

from scim.projection import parse_attribute_list, project
from scim.schema import CORE_GROUP, CORE_USER, ENTERPRISE_USER, GROUP, USER

USER_RESOURCE = {
    "schemas": [CORE_USER, ENTERPRISE_USER],
    "id": "member-1",
    "externalId": "00u1",
    "userName": "ada@acme.test",
    "name": {"givenName": "Ada", "familyName": "Lovelace"},
    "password": "hunter2",
    "emails": [{"value": "ada@acme.test", "type": "work", "primary": True}],
    "active": True,
    ENTERPRISE_USER: {"department": "Engines", "manager": {"value": "member-0", "displayName": "Babbage"}},
    "meta": {"resourceType": "User", "lastModified": "2025-01-01T00:00:00Z", "version": 'W/"1"'},
}

GROUP_RESOURCE = {
    "schemas": [CORE_GROUP],
    "id": "group-1",
    "displayName": "Engineers",
    "members": [{"value": "member-1", "display": "Ada"}],
    "meta": {"resourceType": "Group"},
}


def user(**kwargs):
    return project(copy.deepcopy(USER_RESOURCE), USER, **kwargs)


def test_parse_attribute_list():
    """RFC 7644 §3.9: the parameters are comma-separated lists of attribute names."""
    assert parse_attribute_list(None) == []
    assert parse_attribute_list("") == []
    assert parse_attribute_list(" userName, name.givenName ,,emails ") == ["userName", "name.givenName", "emails"]


def test_no_parameters_return_the_default_set_without_password():
    """RFC 7644 §3.4: by default, "always" and "default" attributes are returned; RFC 7643 §7: never "never"."""
    result = user()
    assert "password" not in result
    assert {key: value for key, value in result.items()} == {
        key: value for key, value in USER_RESOURCE.items() if key != "password"
    }


def test_id_is_always_returned():
    """RFC 7643 §7: "always" attributes (id) are returned whatever `attributes` says, and
    RFC 7644 §3.4.2.5: excludedAttributes has no effect on them."""
    assert user(attributes=["displayName"])["id"] == "member-1"
    assert user(excluded=["id"])["id"] == "member-1"


def test_password_is_never_returned():
    """RFC 7643 §7: "never" attributes are never returned, even when named."""
    assert "password" not in user(attributes=["password"])
    assert "password" not in user()


def test_attributes_user_name_returns_the_minimum_set_and_user_name():
    """RFC 7644 §3.9 example: ?attributes=userName → schemas, id, userName; meta is "default", so dropped."""
    assert user(attributes=["userName"]) == {"schemas": [CORE_USER], "id": "member-1", "userName": "ada@acme.test"}


def test_attributes_as_one_comma_separated_string():
    assert list(user(attributes="userName,active")) == ["schemas", "id", "userName", "active"]


def test_excluded_attributes_removes_from_the_default_set():
    """RFC 7644 §3.4.2.5: excludedAttributes removes names from the default set."""
    result = user(excluded=["emails"])
    assert "emails" not in result
    assert result["userName"] == "ada@acme.test" and "meta" in result and ENTERPRISE_USER in result


def test_sub_attributes():
    """RFC 7644 §3.10: attributes may name sub-attributes, e.g. name.givenName, emails.value."""
    result = user(attributes=["name.givenName", "emails.value", "meta.lastModified"])
    assert result["name"] == {"givenName": "Ada"}
    assert result["emails"] == [{"value": "ada@acme.test"}]
    assert result["meta"] == {"lastModified": "2025-01-01T00:00:00Z"}
    assert user(excluded=["name.familyName", "emails.type"])["name"] == {"givenName": "Ada"}
    assert user(excluded=["emails.type"])["emails"] == [{"value": "ada@acme.test", "primary": True}]


def test_a_complex_value_emptied_by_projection_is_dropped():
    assert "name" not in user(attributes=["name.middleName"])


def test_urn_qualified_extension_attributes():
    """RFC 7644 §3.10: extension attributes are named with their schema URN."""
    result = user(attributes=[f"{ENTERPRISE_USER}:department"])
    assert result == {"schemas": [CORE_USER, ENTERPRISE_USER], "id": "member-1", ENTERPRISE_USER: {"department": "Engines"}}
    assert user(attributes=[f"{ENTERPRISE_USER}:manager.value"])[ENTERPRISE_USER] == {"manager": {"value": "member-0"}}
    excluded = user(excluded=[f"{ENTERPRISE_USER}:department"])
    assert excluded[ENTERPRISE_USER] == {"manager": {"value": "member-0", "displayName": "Babbage"}}


def test_urn_qualified_core_attributes():
    """RFC 7644 §3.10: core attributes may carry their schema URN too."""
    assert user(attributes=[f"{CORE_USER}:userName"])["userName"] == "ada@acme.test"


def test_the_bare_extension_urn_names_the_whole_extension():
    result = user(attributes=[ENTERPRISE_USER])
    assert result[ENTERPRISE_USER] == USER_RESOURCE[ENTERPRISE_USER]
    assert result["schemas"] == [CORE_USER, ENTERPRISE_USER]


def test_excluding_the_whole_extension_removes_its_urn_from_schemas():
    """RFC 7643 §3: `schemas` lists the schemas of the attributes present."""
    result = user(excluded=[ENTERPRISE_USER])
    assert ENTERPRISE_USER not in result
    assert result["schemas"] == [CORE_USER]
    assert user(attributes=["userName"])["schemas"] == [CORE_USER]
    emptied = user(excluded=[f"{ENTERPRISE_USER}:department", f"{ENTERPRISE_USER}:manager"])
    assert ENTERPRISE_USER not in emptied and emptied["schemas"] == [CORE_USER]


def test_names_match_without_case():
    """RFC 7643 §2.1: attribute names (and URNs) are case insensitive; keys keep their spelling."""
    result = user(attributes=["USERNAME", "Name.GIVENNAME", ENTERPRISE_USER.upper() + ":DEPARTMENT"])
    assert result["userName"] == "ada@acme.test"
    assert result["name"] == {"givenName": "Ada"}
    assert result[ENTERPRISE_USER] == {"department": "Engines"}


def test_unknown_and_malformed_names_are_ignored():
    """RFC 7644 defines no error for unknown names in attributes/excludedAttributes: they are ignored."""
    assert user(excluded=["nickName", "bogus", "name.bogus", "urn:x:y:z", "a..b"]) == user()
    assert user(attributes=["bogus"]) == {"schemas": [CORE_USER], "id": "member-1"}


def test_attributes_win_over_excluded_attributes():
    """RFC 7644 §3.9 defines no error for both; we are lenient and `attributes` wins."""
    assert user(attributes=["userName"], excluded=["userName"])["userName"] == "ada@acme.test"


def test_empty_lists_mean_no_parameter():
    assert user(attributes=[], excluded=[]) == user()
    assert user(attributes="", excluded=None) == user()


def test_key_order_is_stable():
    scrambled = {key: USER_RESOURCE[key] for key in ("meta", ENTERPRISE_USER, "userName", "externalId", "id", "schemas")}
    assert list(project(scrambled, USER)) == ["schemas", "id", "externalId", "userName", ENTERPRISE_USER, "meta"]


def test_projection_does_not_mutate_its_input():
    resource = copy.deepcopy(USER_RESOURCE)
    project(resource, USER, attributes=["name.givenName"])
    assert resource == USER_RESOURCE


def test_entra_excludes_group_members():
    """Entra ID reads groups with ?excludedAttributes=members (RFC 7644 §3.4.2.5)."""
    result = project(copy.deepcopy(GROUP_RESOURCE), GROUP, excluded=["members"])
    assert result == {"schemas": [CORE_GROUP], "id": "group-1", "displayName": "Engineers", "meta": {"resourceType": "Group"}}


@pytest.mark.parametrize("names", [["meta"], ["META"], [f"{CORE_USER}:meta"]])
def test_meta_may_be_named(names):
    assert user(attributes=names)["meta"] == USER_RESOURCE["meta"]
