"""Attribute mapping's rules (services/directory/attribute_mapping.py): custom
field and mapping definitions, source paths resolved against what a member
holds, transforms, casts, first value wins, and defaults."""

from __future__ import annotations

import time

import pytest

from scim.extensions import parse_extension, with_extensions
from scim.schema import ENTERPRISE_USER, USER
from services.directory.attribute_mapping import (
    MAX_REGEX_INPUT_LENGTH,
    CustomField,
    Evaluator,
    MappingError,
    cast,
    changed_values,
    check_field,
    parse_mapping,
    raw_value,
)

ACME = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
USER_TYPE = with_extensions(USER, [parse_extension("User", {
    "id": ACME, "attributes": [{"name": "costCenter"}, {"name": "badges", "multiValued": True}]})])
FIELDS = {key: CustomField(key, kind) for key, kind in (
    ("department", "string"), ("level", "number"), ("contractor", "boolean"), ("badges", "string_list"),
    ("region", "string"), ("email", "string"), ("emails", "string_list"))}
MEMBER = {
    "userName": "ada@acme.test",
    "title": "  Senior Engineer ",
    "name": {"givenName": "Ada", "familyName": "Lovelace"},
    "emails": [{"value": "ada@home.test", "type": "home"}, {"value": "ada@acme.test", "primary": True}],
    ENTERPRISE_USER: {"department": "R&D-Engines", "employeeNumber": "1815", "manager": {"value": "m-1"}},
    ACME: {"costCenter": "CC-0042", "badges": ["gold", "early"]},
}
UNDECLARED = {
    "favoriteColor": "Blue",
    "Shoe": {"size": 44},
    "urn:example:x:1.0:User": {"contractor": "yes", "site": [{"code": "ber"}, {"code": "muc", "primary": True}]},
    f"{ACME}:tier": "gold",
}


def computed(definition: list, attributes=None, undeclared=None, user_type=USER_TYPE) -> dict:
    evaluator = Evaluator(parse_mapping(definition, FIELDS), FIELDS, user_type)
    return evaluator.compute(MEMBER if attributes is None else attributes,
                             UNDECLARED if undeclared is None else undeclared)


@pytest.mark.parametrize("path, expected", [
    ("title", "  Senior Engineer "),
    ("name.givenName", "Ada"),
    ("NAME.GIVENNAME", "Ada"),  # attribute names match without case (RFC 7643 §2.1)
    ("emails.value", "ada@acme.test"),  # the primary element's
    (f"{ENTERPRISE_USER}:department", "R&D-Engines"),
    (f"{ENTERPRISE_USER}:manager.value", "m-1"),
    (f"{ENTERPRISE_USER}:manager", "m-1"),  # a complex value stands for its value
    (f"{ACME}:costCenter", "CC-0042"),
    ("favoriteColor", "Blue"),
    ("favoritecolor", "Blue"),
    ("Shoe.size", "44"),
    ("urn:example:x:1.0:User:site.code", "muc"),
    (f"{ACME}:tier", "gold"),
    ("nickName", None),
    ("noSuchThing", None),
])
def test_a_source_path_names_what_the_seen_attributes_list_shows(path, expected):
    got = computed([{"field": "department", "sources": [path]}])
    assert got.get("department") == expected


def test_multi_valued_sources_without_primary_give_the_first_element():
    member = {**MEMBER, "emails": [{"value": "first@acme.test"}, {"value": "second@acme.test"}]}
    assert computed([{"field": "email", "sources": ["emails.value"]}], member) == {"email": "first@acme.test"}


def test_a_string_list_takes_every_element_primary_first():
    assert computed([{"field": "emails", "sources": ["emails.value"]}]) == {
        "emails": ["ada@acme.test", "ada@home.test"]}
    assert computed([{"field": "badges", "sources": [f"{ACME}:badges"]}]) == {"badges": ["gold", "early"]}
    assert computed([{"field": "badges", "sources": ["urn:example:x:1.0:User:site.code"]}]) == {
        "badges": ["muc", "ber"]}
    assert computed([{"field": "badges", "sources": ["favoriteColor"]}]) == {"badges": ["Blue"]}


def test_values_sent_before_their_extension_was_declared_are_found_where_they_were_kept():
    undeclared = {"urn:example:late:1.0:User": {"office": "HQ"}}
    late = with_extensions(USER_TYPE, [parse_extension("User", {
        "id": "urn:example:late:1.0:User", "attributes": [{"name": "office"}]})])
    got = computed([{"field": "region", "sources": ["urn:example:late:1.0:User:office"]}], MEMBER, undeclared, late)
    assert got == {"region": "HQ"}


@pytest.mark.parametrize("transforms, expected", [
    ([{"type": "trim"}], "Senior Engineer"),
    ([{"type": "trim"}, {"type": "lower"}], "senior engineer"),
    ([{"type": "upper"}], "  SENIOR ENGINEER "),
    ([{"type": "trim"}, {"type": "split", "separator": " ", "index": 0}], "Senior"),
    ([{"type": "trim"}, {"type": "split", "separator": " ", "index": -1}], "Engineer"),
    ([{"type": "split", "separator": "/", "index": 3}], None),  # no such part
    ([{"type": "regex", "pattern": r"(\w+)\s+(\w+)", "group": 2}], "Engineer"),
    ([{"type": "regex", "pattern": r"Senior", "group": 0}], "Senior"),
    ([{"type": "regex", "pattern": r"^Junior (\w+)"}], None),  # no match
    ([{"type": "regex", "pattern": r"(x)?Senior"}], None),  # the group took part in no match
])
def test_transforms_apply_in_order(transforms, expected):
    got = computed([{"field": "department", "sources": ["title"], "transforms": transforms}])
    assert got.get("department") == expected


def test_the_first_source_that_gives_a_value_wins_else_the_default():
    definition = [{"field": "department", "sources": ["nickName", f"{ENTERPRISE_USER}:department", "title"],
                   "transforms": [{"type": "split", "separator": "-", "index": 1}], "default": "none"}]
    assert computed(definition) == {"department": "Engines"}
    # The department has no second part: the title is next; it has none either: the default.
    member = {**MEMBER, ENTERPRISE_USER: {"department": "Sales"}}
    assert computed(definition, member) == {"department": "none"}
    assert computed([{"field": "department", "sources": ["nickName"]}]) == {}


@pytest.mark.parametrize("field, source, expected", [
    ("level", f"{ENTERPRISE_USER}:employeeNumber", 1815),
    ("level", "Shoe.size", 44),
    ("level", "title", None),  # not a number: absent, never an error
    ("contractor", "urn:example:x:1.0:User:contractor", True),
    ("contractor", "favoriteColor", None),
    ("department", "Shoe.size", "44"),
])
def test_values_are_cast_to_the_field_type_or_absent(field, source, expected):
    assert computed([{"field": field, "sources": [source]}]).get(field) == expected


@pytest.mark.parametrize("value, field_type, expected", [
    (" 2.50 ", "number", 2.5), ("-7", "number", -7), ("nan", "number", None), (True, "number", None),
    ("TRUE", "boolean", True), ("no", "boolean", False), (0, "boolean", False), ("maybe", "boolean", None),
    (3, "string", "3"), (False, "string", "false"), ({"value": "x"}, "string", "x"), ({"other": 1}, "string", None),
    (["", "b"], "string", "b"), ([], "string", None), ("a", "string_list", ["a"]), ([1, "", "b"], "string_list",
                                                                                   ["1", "b"]),
])
def test_casts(value, field_type, expected):
    assert cast(value, field_type) == expected


def test_a_regular_expression_cannot_stall_the_service():
    """RE2 has no backtracking: the classic catastrophic pattern answers at once."""
    definition = [{"field": "department", "sources": ["favoriteColor"],
                   "transforms": [{"type": "regex", "pattern": r"^(a+)+$", "group": 1}]}]
    started = time.perf_counter()
    got = computed(definition, MEMBER, {"favoriteColor": "a" * (MAX_REGEX_INPUT_LENGTH - 1) + "!"})
    assert got == {} and time.perf_counter() - started < 0.5
    assert computed(definition, MEMBER, {"favoriteColor": "a" * (MAX_REGEX_INPUT_LENGTH + 1)}) == {}  # too long
    assert computed(definition, MEMBER, {"favoriteColor": "aaa"}) == {"department": "aaa"}


@pytest.mark.parametrize("definition, fragment", [
    ({"department": {}}, "list"),
    ([{"field": "nope", "sources": ["title"]}], "no custom field"),
    ([{"field": "department"}], "sources"),
    ([{"field": "department", "sources": []}], "sources"),
    ([{"field": "department", "sources": ["a"] * 6}], "sources"),
    ([{"field": "department", "sources": [7]}], "sources[0]"),
    ([{"field": "department", "sources": ["title\n"]}], "sources[0]"),
    ([{"field": "department", "sources": ["title"], "colour": 1}], "colour"),
    ([{"field": "department", "sources": ["title"], "transforms": [{"type": "reverse"}]}], "type"),
    ([{"field": "department", "sources": ["title"], "transforms": [{"type": "trim", "x": 1}]}], "'x'"),
    ([{"field": "department", "sources": ["title"], "transforms": [{"type": "split"}]}], "separator"),
    ([{"field": "department", "sources": ["title"], "transforms": [
        {"type": "split", "separator": "-", "index": 1.5}]}], "index"),
    ([{"field": "department", "sources": ["title"], "transforms": [{"type": "regex", "pattern": "(a"}]}],
     "RE2"),
    ([{"field": "department", "sources": ["title"], "transforms": [{"type": "regex", "pattern": r"(a)\1"}]}],
     "RE2"),
    ([{"field": "department", "sources": ["title"], "transforms": [{"type": "regex", "pattern": "a" * 201}]}],
     "pattern"),
    ([{"field": "department", "sources": ["title"], "transforms": [{"type": "regex", "pattern": "(a)",
                                                                     "group": 2}]}], "group"),
    ([{"field": "level", "sources": ["title"], "default": "3"}], "default"),
    ([{"field": "contractor", "sources": ["title"], "default": 1}], "default"),
    ([{"field": "badges", "sources": ["title"], "default": "a"}], "default"),
    ([{"field": "department", "sources": ["title"]}, {"field": "department", "sources": ["nickName"]}], "twice"),
])
def test_an_invalid_mapping_is_refused_saying_where(definition, fragment):
    with pytest.raises(MappingError, match=None) as raised:
        parse_mapping(definition, FIELDS)
    assert fragment in str(raised.value)


def test_the_canonical_definition_round_trips():
    definition = [{"field": "level", "sources": ["Shoe.size"], "transforms": [{"type": "trim"}], "default": 0},
                  {"field": "department", "sources": ["title"],
                   "transforms": [{"type": "regex", "pattern": "(x)"}, {"type": "split", "separator": "-"}]}]
    canonical = parse_mapping(definition, FIELDS).json()
    assert canonical[1]["transforms"] == [{"type": "regex", "pattern": "(x)", "group": 1},
                                          {"type": "split", "separator": "-", "index": 0}]
    assert parse_mapping(canonical, FIELDS).json() == canonical


def test_an_entry_whose_field_was_deleted_since_is_skipped():
    evaluator = Evaluator(parse_mapping([{"field": "department", "sources": ["title"]}], FIELDS),
                          {"level": FIELDS["level"]}, USER_TYPE)
    assert evaluator.compute(MEMBER, UNDECLARED) == {}


@pytest.mark.parametrize("key, kind", [("Department", "string"), ("1st", "string"), ("a-b", "string"),
                                       ("a" * 65, "string"), ("ok", "float"), ("ok", None)])
def test_a_custom_field_has_a_plain_key_and_a_known_type(key, kind):
    with pytest.raises(MappingError):
        check_field(key, kind)


def test_changed_values_name_what_changed_with_its_value_before():
    assert changed_values({"a": 1, "b": "x"}, {"a": 1, "b": "y", "c": True}) == {"b": "x", "c": None}


def test_raw_paths_go_no_deeper_than_the_seen_list_does():
    deep = {"a": {"b": {"c": {"d": 1}}}}
    assert raw_value(deep, "a:b:c:d") is None
    assert raw_value({"urn:x:User": {"k": 1}}, "urn:x:User:k") == 1
