"""SCIM User write rules (RFC 7643 §4.1, §4.3) — pure logic, no I/O."""

import copy

import pytest

from scim.errors import ScimError
from scim.schema import CORE_USER, ENTERPRISE_USER
from scim.users import MAX_USER_NAME_LENGTH, UserWrite, normalize_user

# The body Okta sends to create a user (Okta "SCIM 2.0 reference", Create the user).
OKTA_CREATE = {
    "schemas": [CORE_USER],
    "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": True,
}

# The body Microsoft Entra ID sends ("Tutorial: Develop and plan provisioning for a SCIM endpoint", Create User).
ENTRA_CREATE = {
    "schemas": [CORE_USER, ENTERPRISE_USER],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
    "active": True,
    "emails": [{"primary": True, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
    "meta": {"resourceType": "User"},
    "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
    "roles": [],
}


def invalid(body: dict, reason: str = "invalidValue") -> ScimError:
    with pytest.raises(ScimError) as caught:
        normalize_user(body)
    assert caught.value.scim_type == reason, caught.value.message
    return caught.value


# ------------------------------------------------------------------ userName, externalId

def test_username_is_required():
    """RFC 7643 §4.1.1: userName is REQUIRED."""
    invalid({"schemas": [CORE_USER], "name": {"givenName": "A"}})


@pytest.mark.parametrize("user_name", ["", "   ", 7, None, ["a"], {"value": "a"}, True])
def test_username_must_be_a_non_empty_string(user_name):
    invalid({"userName": user_name})


def test_username_is_stored_stripped_and_bounded():
    """RFC 7643 §4.1.1; scimd bounds userName to 512 characters."""
    assert normalize_user({"userName": "  ada@x.com "}).attributes["userName"] == "ada@x.com"
    assert normalize_user({"userName": "a" * MAX_USER_NAME_LENGTH}).user_name == "a" * MAX_USER_NAME_LENGTH
    invalid({"userName": "a" * (MAX_USER_NAME_LENGTH + 1)})


def test_external_id_must_be_a_string():
    """RFC 7643 §3.1: externalId is a string."""
    invalid({"userName": "a", "externalId": 42})
    assert normalize_user({"userName": "a"}).external_id == ""
    assert normalize_user({"userName": "a", "externalId": None}).external_id == ""


def test_a_body_must_be_an_object():
    invalid(["userName"], "invalidSyntax")  # type: ignore[arg-type]


# ------------------------------------------------------------------ names

def test_attribute_names_are_case_insensitive():
    """RFC 7643 §2.1: attribute names are case insensitive."""
    write = normalize_user({"USERNAME": "ada@x.com", "DisplayName": "Ada", "EXTERNALID": "00u1"})
    assert write.user_name == "ada@x.com"
    assert write.external_id == "00u1"
    assert write.attributes["displayName"] == "Ada"


def test_names_are_canonical_at_every_level():
    """RFC 7643 §2.1: names are stored in the schema's spelling, sub-attributes and extension included."""
    write = normalize_user({
        "username": "a",
        "NAME": {"GIVENNAME": "Ada", "familyname": "Lovelace"},
        "Emails": [{"VALUE": "a@x.com", "Type": "work", "PRIMARY": True}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"DEPARTMENT": "R&D", "Manager": {"VALUE": "m1"}},
    })
    assert write.attributes == {
        "userName": "a",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": "a@x.com", "type": "work", "primary": True}],
        ENTERPRISE_USER: {"department": "R&D", "manager": {"value": "m1"}},
    }


def test_urn_qualified_attribute_keys_are_accepted():
    """RFC 7644 §3.10: an attribute may be named by its schema URN."""
    write = normalize_user({"userName": "a", f"{ENTERPRISE_USER}:department": "R&D", f"{CORE_USER}:title": "Eng"})
    assert write.attributes == {"userName": "a", "title": "Eng", ENTERPRISE_USER: {"department": "R&D"}}


# ------------------------------------------------------------------ what is ignored

def test_read_only_and_write_only_attributes_are_not_stored():
    """RFC 7643 §3.1, §4.1.3: id, meta and groups are read-only; password is never returned."""
    write = normalize_user(
        {"userName": "a@x.com", "id": "mine", "meta": {"version": "1"}, "groups": [], "password": "hunter2"}
    )
    assert set(write.attributes) == {"userName"}


def test_read_only_sub_attributes_and_unknown_sub_attributes_are_ignored():
    """RFC 7644 §3.5.1: read-only values "SHALL be ignored"; manager.displayName is read-only (RFC 7643 §4.3)."""
    write = normalize_user({
        "userName": "a",
        ENTERPRISE_USER: {"manager": {"value": "m1", "displayName": "Boss"}, "madeUp": 1},
        "emails": [{"value": "a@x.com", "madeUp": "x"}],
    })
    assert write.attributes[ENTERPRISE_USER] == {"manager": {"value": "m1"}}
    assert write.attributes["emails"] == [{"value": "a@x.com"}]


def test_enterprise_extension_is_kept_and_unknown_urns_ignored():
    write = normalize_user(
        {
            "userName": "a",
            ENTERPRISE_USER: {"department": "R&D"},
            "urn:example:unknown:2.0:User": {"x": 1},
            "madeUpAttribute": 3,
        }
    )
    assert write.attributes == {"userName": "a", ENTERPRISE_USER: {"department": "R&D"}}


def test_okta_create_body():
    """Okta's POST /Users: groups and password are dropped, the rest stored."""
    write = normalize_user(copy.deepcopy(OKTA_CREATE))
    assert write == UserWrite(
        user_name="test.user@okta.local",
        external_id="00ujl29u0le5T6Aj10h7",
        attributes={
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "active": True,
        },
    )


def test_entra_create_body():
    """Entra's POST /Users: meta is ignored and the empty roles array is unassigned (RFC 7643 §2.5)."""
    write = normalize_user(copy.deepcopy(ENTRA_CREATE))
    assert set(write.attributes) == {"externalId", "userName", "active", "emails", "name"}
    assert write.external_id == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"


def test_input_is_not_mutated():
    body = copy.deepcopy(ENTRA_CREATE)
    normalize_user(body)
    assert body == ENTRA_CREATE


@pytest.mark.parametrize("body", [OKTA_CREATE, ENTRA_CREATE])
def test_normalized_attributes_are_a_fixed_point(body):
    """Stored attributes (and PATCH results) are validated again with the same function."""
    first = normalize_user(copy.deepcopy(body))
    again = normalize_user(first.attributes, for_replace=True)
    assert again == first


# ------------------------------------------------------------------ values

def test_entra_string_booleans_are_accepted():
    assert normalize_user({"userName": "a", "active": "False"}).attributes["active"] is False
    assert normalize_user({"userName": "a", "active": "True"}).attributes["active"] is True


def test_string_booleans_are_accepted_in_sub_attributes():
    """Entra sends every boolean as "True"/"False", emails[].primary included."""
    write = normalize_user({"userName": "a", "emails": [{"value": "a@x.com", "primary": "true"}]})
    assert write.attributes["emails"] == [{"value": "a@x.com", "primary": True}]


def test_non_boolean_active_is_invalid():
    error = invalid({"userName": "a", "active": "maybe"})
    assert "active" in error.message
    invalid({"userName": "a", "emails": [{"value": "a@x.com", "primary": 1}]})


@pytest.mark.parametrize("empty", [None, ""])
def test_null_and_empty_values_mean_absent(empty):
    """RFC 7643 §2.5: null is unassigned (and "", which IdPs send to clear a value)."""
    write = normalize_user({
        "userName": "a", "displayName": empty, "emails": empty, "name": {"givenName": "A", "familyName": empty},
        ENTERPRISE_USER: {"department": empty}, "active": empty,
    })
    assert write.attributes == {"userName": "a", "name": {"givenName": "A"}}


@pytest.mark.parametrize("empty", [[], {}])
def test_an_empty_array_or_object_is_absent_where_it_fits(empty):
    """An empty array for a multi-valued or complex attribute, an empty object for a complex one."""
    write = normalize_user({"userName": "a", "emails": empty, "name": empty, "addresses": [empty],
                            ENTERPRISE_USER: {"manager": empty}})
    assert write.attributes == {"userName": "a"}


@pytest.mark.parametrize("attribute", ["displayName", "active", "title", "name.familyName", "emails.value",
                                       "emails.primary", f"{ENTERPRISE_USER}:department"])
@pytest.mark.parametrize("empty", [[], {}])
def test_an_empty_array_or_object_for_a_simple_attribute_is_invalid(attribute, empty):
    """Type confusion is refused, not read as "absent": `"active": []` is no boolean."""
    body: dict = {"userName": "a"}
    if attribute.startswith(ENTERPRISE_USER):
        body[ENTERPRISE_USER] = {attribute.rsplit(":", 1)[1]: empty}
    elif attribute.startswith("emails."):
        body["emails"] = [{"value": "a@x.com", attribute.split(".")[1]: empty}]
    elif "." in attribute:
        body["name"] = {"givenName": "A", attribute.split(".")[1]: empty}
    else:
        body[attribute] = empty
    invalid(body)


@pytest.mark.parametrize("schemas", [True, 1, "urn:ietf:params:scim:schemas:core:2.0:User", {}, [1], [None], [[]]])
def test_schemas_when_given_is_an_array_of_urns(schemas):
    with pytest.raises(ScimError) as caught:
        normalize_user({"userName": "a", "schemas": schemas})
    assert caught.value.scim_type == "invalidSyntax"


def test_manager_as_a_bare_id_becomes_an_object():
    """Entra sends the enterprise manager as the manager's id (RFC 7643 §4.3 defines a complex)."""
    write = normalize_user({"userName": "a", ENTERPRISE_USER: {"manager": "2819c223-7f76-453a-919d-413861904646"}})
    assert write.attributes[ENTERPRISE_USER] == {"manager": {"value": "2819c223-7f76-453a-919d-413861904646"}}


def test_a_one_element_array_for_a_single_valued_complex_attribute_is_its_element():
    write = normalize_user({"userName": "a", ENTERPRISE_USER: {"manager": [{"$ref": None, "value": "m1"}]}})
    assert write.attributes[ENTERPRISE_USER] == {"manager": {"value": "m1"}}
    invalid({"userName": "a", ENTERPRISE_USER: {"manager": [{"value": "m1"}, {"value": "m2"}]}})
    invalid({"userName": "a", "displayName": ["A"]})


def test_multi_valued_attributes_must_be_arrays():
    with pytest.raises(ScimError):
        normalize_user({"userName": "a", "emails": "a@x.com"})


def test_a_single_object_for_a_multi_valued_attribute_is_wrapped():
    write = normalize_user({"userName": "a", "emails": {"value": "a@x.com", "type": "work"}})
    assert write.attributes["emails"] == [{"value": "a@x.com", "type": "work"}]


@pytest.mark.parametrize("body", [
    {"displayName": 5},
    {"name": "Ada Lovelace"},
    {"name": {"givenName": ["Ada"]}},
    {"emails": [{"value": 5}]},
    {"emails": ["a@x.com"]},
    {ENTERPRISE_USER: "R&D"},
    {ENTERPRISE_USER: {"department": {"name": "R&D"}}},
])
def test_types_are_checked(body):
    """RFC 7643 §2.3: values must suit their attribute's type; RFC 7644 §3.12 invalidValue."""
    invalid({"userName": "a", **body})


def test_at_most_one_primary_the_first_wins():
    """RFC 7643 §2.4: the primary attribute value "true" MUST appear no more than once."""
    write = normalize_user({"userName": "a", "emails": [
        {"value": "a@x.com", "primary": True}, {"value": "b@x.com", "primary": "True"}, {"value": "c@x.com"},
    ]})
    assert write.attributes["emails"] == [
        {"value": "a@x.com", "primary": True}, {"value": "b@x.com", "primary": False}, {"value": "c@x.com"},
    ]


def test_duplicate_and_hollow_elements_are_dropped():
    """RFC 7643 §2.4: an element is its value; one without a value carries nothing."""
    write = normalize_user({"userName": "a", "emails": [
        {"value": "a@x.com", "type": "work"}, {"type": "work", "primary": True}, {"value": "a@x.com", "type": "work"},
        None,
    ], "addresses": [{"type": "work"}, {"type": "home", "locality": "Paris"}]})
    assert write.attributes["emails"] == [{"value": "a@x.com", "type": "work"}]
    assert write.attributes["addresses"] == [{"type": "home", "locality": "Paris"}]


def test_for_replace_applies_the_same_rules():
    """RFC 7644 §3.5.1: PUT replaces all attributes; read-only values are ignored as in POST."""
    body = {"userName": "a", "id": "x", "active": "False", "emails": {"value": "a@x.com"}}
    assert normalize_user(body, for_replace=True) == normalize_user(body)
