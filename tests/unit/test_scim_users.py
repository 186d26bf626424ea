"""SCIM User write rules (RFC 7643 §4.1) — pure logic, no I/O."""

import pytest

from gateway.scim.users import ENTERPRISE_USER, user_write
from services.common.errors import ServiceError


def test_username_is_required():
    """RFC 7643 §4.1.1: userName is REQUIRED."""
    with pytest.raises(ServiceError) as caught:
        user_write({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "name": {"givenName": "A"}})
    assert caught.value.reason == "INVALID_VALUE"


@pytest.mark.parametrize("user_name", ["", "   ", 7, None, ["a"]])
def test_username_must_be_a_non_empty_string(user_name):
    with pytest.raises(ServiceError):
        user_write({"userName": user_name})


def test_attribute_names_are_case_insensitive():
    """RFC 7643 §2.1: attribute names are case insensitive."""
    write = user_write({"USERNAME": "ada@x.com", "DisplayName": "Ada", "EXTERNALID": "00u1"})
    assert write.user_name == "ada@x.com"
    assert write.external_id == "00u1"
    assert write.attributes["displayName"] == "Ada"


def test_read_only_and_write_only_attributes_are_not_stored():
    """RFC 7643 §3.1, §4.1.3: id, meta and groups are read-only; password is never returned."""
    write = user_write(
        {"userName": "a@x.com", "id": "mine", "meta": {"version": "1"}, "groups": [], "password": "hunter2"}
    )
    assert set(write.attributes) == {"userName"}


def test_entra_string_booleans_are_accepted():
    assert user_write({"userName": "a", "active": "False"}).attributes["active"] is False
    assert user_write({"userName": "a", "active": "True"}).attributes["active"] is True


def test_non_boolean_active_is_invalid():
    with pytest.raises(ServiceError) as caught:
        user_write({"userName": "a", "active": "maybe"})
    assert caught.value.reason == "INVALID_VALUE"


def test_enterprise_extension_is_kept_and_unknown_urns_ignored():
    write = user_write(
        {
            "userName": "a",
            ENTERPRISE_USER: {"department": "R&D"},
            "urn:example:unknown:2.0:User": {"x": 1},
            "madeUpAttribute": 3,
        }
    )
    assert write.attributes == {"userName": "a", ENTERPRISE_USER: {"department": "R&D"}}


def test_multi_valued_attributes_must_be_arrays():
    with pytest.raises(ServiceError):
        user_write({"userName": "a", "emails": "a@x.com"})
