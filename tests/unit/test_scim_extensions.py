"""A vendor's schema extension definitions (RFC 7643 §7): parsed into the same
schema data as the core schemas, refused with a message naming what is wrong."""

import pytest

from scim.errors import ScimError
from scim.extensions import extension_json, parse_extension, with_extensions
from scim.schema import USER, resolve
from scim.users import normalize_user

URN = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"


def test_defaults_are_rfc_7643_s_and_the_canonical_json_is_a_fixed_point():
    extension = parse_extension("User", {"id": URN, "attributes": [
        {"name": "costCenter"}, {"name": "Site", "type": "COMPLEX", "subAttributes": [{"name": "floor", "type": "integer"}]}]})
    cost_center = extension.schema.attribute("costcenter")
    assert (cost_center.type, cost_center.multi_valued, cost_center.required, cost_center.case_exact,
            cost_center.mutability, cost_center.returned, cost_center.uniqueness) == (
        "string", False, False, False, "readWrite", "default", "none")
    assert extension.schema.attribute("site").type == "complex"
    assert extension.schema.name == "User"  # the URN's last part when no name is given
    again = parse_extension("User", extension_json(extension))
    assert again == extension


def test_a_user_type_with_the_extension_resolves_and_validates_its_attributes():
    extension = parse_extension("User", {"id": URN, "attributes": [
        {"name": "level", "type": "integer"}, {"name": "tier", "canonicalValues": ["gold"]},
        {"name": "since", "type": "dateTime"}, {"name": "badge", "required": True}]})
    user_type = with_extensions(USER, [extension])
    assert resolve(user_type, f"{URN}:level").attribute.type == "integer"
    assert normalize_user({"userName": "a", URN: {"level": 3, "tier": "GOLD", "badge": "b"}},
                          resource_type=user_type).attributes[URN] == {"level": 3, "tier": "GOLD", "badge": "b"}
    for value, named in (({"level": "3", "badge": "b"}, "level"), ({"tier": "silver", "badge": "b"}, "tier"),
                         ({"since": "yesterday", "badge": "b"}, "since"), ({"level": 1}, "badge")):
        with pytest.raises(ScimError) as caught:
            normalize_user({"userName": "a", URN: value}, resource_type=user_type)
        assert caught.value.scim_type == "invalidValue" and named in caught.value.message


def test_undeclared_keys_are_collected_not_dropped():
    user = normalize_user({"userName": "a", "shoeSize": 44, "urn:x:1.0:User": {"a": 1},
                           "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R", "b": 2}})
    assert user.undeclared == {"shoeSize": 44, "urn:x:1.0:User": {"a": 1},
                               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:b": 2}
    with pytest.raises(ScimError) as caught:
        normalize_user({"userName": "a", "shoeSize": 44}, reject_undeclared=True)
    assert "shoeSize" in caught.value.message


@pytest.mark.parametrize("body, fragment", [
    ({"id": URN, "attributes": [{"name": "a", "type": "text"}]}, "type"),
    ({"id": URN, "attributes": [{"name": "a", "returned": "sometimes"}]}, "returned"),
    ({"id": URN, "attributes": [{"name": "a", "multiValued": "yes"}]}, "multiValued"),
    ({"id": URN, "attributes": [{"name": "a", "canonicalValues": "gold"}]}, "canonicalValues"),
    ({"id": URN, "attributes": [{"name": "a", "type": "integer", "canonicalValues": ["1"]}]}, "canonicalValues"),
    ({"id": URN, "attributes": [{"name": "a", "subAttributes": [{"name": "b"}]}]}, "subAttributes"),
    ({"id": URN, "attributes": [{"name": "$ref"}]}, "name"),
    ({"id": URN, "attributes": [{"name": "a" * 65}]}, "name"),
    ({"id": URN, "attributes": [{"name": f"a{n}"} for n in range(101)]}, "at most"),
    ({"id": "urn:ietf:params:scim:schemas:core:2.0:Group", "attributes": [{"name": "a"}]}, "id"),
    ({"id": "urn: spaced", "attributes": [{"name": "a"}]}, "id"),
    ({"attributes": [{"name": "a"}]}, "id"),
    ([], "object"),
])
def test_a_bad_definition_names_what_is_wrong(body, fragment):
    with pytest.raises(ScimError) as caught:
        parse_extension("User", body)
    assert caught.value.scim_type == "invalidValue" and fragment in caught.value.message, caught.value.message


def test_the_values_declared_unique_are_the_single_valued_strings_and_integers():
    from scim.extensions import unique_values
    extension = parse_extension("User", {"id": URN, "attributes": [
        {"name": "employeeId", "uniqueness": "server"}, {"name": "badge", "uniqueness": "global", "caseExact": True},
        {"name": "seat", "type": "integer", "uniqueness": "server"}, {"name": "tags", "multiValued": True,
                                                                       "uniqueness": "server"},
        {"name": "ratio", "type": "decimal", "uniqueness": "server"}, {"name": "team"}]})
    user_type = with_extensions(USER, [extension])
    found = unique_values(user_type, {URN: {"employeeId": "E-1", "badge": "Bx", "seat": 7, "tags": ["a"],
                                            "ratio": 0.5, "team": "x"}})
    assert [(u.attribute, u.scope, u.folded) for u in found] == [
        ("badge", "global", "Bx"), ("employeeId", "server", "e-1"), ("seat", "server", "7")]
