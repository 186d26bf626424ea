"""SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2): parsing,
validation against the schemas (RFC 7643) and in-memory evaluation."""

import pytest

from scim.filter import (
    MAX_DEPTH,
    MAX_LENGTH,
    And,
    Comparison,
    FilterError,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
    matches,
    matches_element,
    parse_filter,
    parse_patch_path,
)
from scim.schema import ENTERPRISE_USER, GROUP, USER, AttributePath, parse_attribute_path

ENT = ENTERPRISE_USER


def p(text: str) -> AttributePath:
    return parse_attribute_path(text)


def eq(path: str, value) -> Comparison:
    return Comparison(p(path), "eq", value)


def pr(path: str) -> Present:
    return Present(p(path))


# The filter examples of RFC 7644 §3.4.2.2, in order.
RFC_EXAMPLES = [
    'userName eq "bjensen"',
    "name.familyName co \"O'Malley\"",
    'userName sw "J"',
    'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"',
    "title pr",
    'meta.lastModified gt "2011-05-13T04:42:34Z"',
    'meta.lastModified ge "2011-05-13T04:42:34Z"',
    'meta.lastModified lt "2011-05-13T04:42:34Z"',
    'meta.lastModified le "2011-05-13T04:42:34Z"',
    'title pr and userType eq "Employee"',
    'title pr or userType eq "Intern"',
    'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"',
    'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
    'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
    'userType eq "Employee" and (emails.type eq "work")',
    'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
    'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
]


# ------------------------------------------------------------------- parsing

@pytest.mark.parametrize("text", RFC_EXAMPLES)
def test_every_rfc_example_parses_and_validates_against_the_user_schema(text):
    """RFC 7644 §3.4.2.2: the example filters."""
    assert parse_filter(text) is not None
    assert parse_filter(text, USER) is not None


def test_rfc_examples_parse_to_the_expected_trees():
    """RFC 7644 §3.4.2.2: attribute operators, sub-attributes, URN-qualified paths, value paths, not."""
    assert parse_filter(RFC_EXAMPLES[0]) == eq("userName", "bjensen")
    assert parse_filter(RFC_EXAMPLES[1]) == Comparison(AttributePath("", "name", "familyName"), "co", "O'Malley")
    assert parse_filter(RFC_EXAMPLES[3]) == Comparison(
        AttributePath("urn:ietf:params:scim:schemas:core:2.0:User", "userName"), "sw", "J"
    )
    assert parse_filter(RFC_EXAMPLES[4]) == pr("title")
    assert parse_filter(RFC_EXAMPLES[13]) == And(
        Comparison(p("userType"), "ne", "Employee"),
        Not(Or(Comparison(p("emails"), "co", "example.com"), Comparison(p("emails.value"), "co", "example.org"))),
    )
    assert parse_filter(RFC_EXAMPLES[16]) == Or(
        ValuePath(p("emails"), And(eq("type", "work"), Comparison(p("value"), "co", "@example.com"))),
        ValuePath(p("ims"), And(eq("type", "xmpp"), Comparison(p("value"), "co", "@foo.com"))),
    )


def test_and_binds_tighter_than_or():
    """RFC 7644 §3.4.2.2: "not" over "and" over "or"; parentheses group."""
    a, b, c = pr("a"), pr("b"), pr("c")
    assert parse_filter("a pr or b pr and c pr") == Or(a, And(b, c))
    assert parse_filter("a pr and b pr or c pr") == Or(And(a, b), c)
    assert parse_filter("(a pr or b pr) and c pr") == And(Or(a, b), c)
    assert parse_filter("not (a pr) and b pr") == And(Not(a), b)
    assert parse_filter("a pr and b pr and c pr") == And(And(a, b), c)


def test_not_may_touch_its_parenthesis():
    """RFC 7644 errata 7319: `not(` without a space."""
    assert parse_filter("not(title pr)") == Not(pr("title"))


def test_names_operators_and_keywords_are_case_insensitive():
    """RFC 7644 §3.4.2.2: "Attribute names and attribute operators used in filters are case insensitive"."""
    assert parse_filter('USERNAME EQ "x" AND Title PR OR NOT (userType Sw "a")', USER) == parse_filter(
        'userName eq "x" and title pr or not (userType sw "a")'
    )
    assert parse_filter(f'{ENT.upper()}:MANAGER.VALUE eq "x"', USER) == eq(f"{ENT}:manager.value", "x")
    assert parse_filter('EMAILS[TYPE eq "work"]', USER) == ValuePath(p("emails"), eq("type", "work"))


def test_values_are_json():
    """RFC 7644 §3.4.2.2: compValue = false / null / true / number / string (RFC 7159)."""
    assert parse_filter(r'a eq "q\"b\\s\/\u00e9\n"').value == 'q"b\\s/é\n'
    assert parse_filter("a eq 42").value == 42
    assert parse_filter("a eq -1.5e3").value == -1500.0
    assert parse_filter("a eq 0").value == 0
    assert parse_filter("a eq true").value is True
    assert parse_filter("a eq false").value is False
    assert parse_filter("a eq null").value is None
    assert parse_filter('a eq "and or not pr ) ( ] ["').value == "and or not pr ) ( ] ["


def test_attribute_names_may_start_with_a_keyword():
    assert parse_filter("notes pr and android pr or order pr") == Or(And(pr("notes"), pr("android")), pr("order"))


@pytest.mark.parametrize(
    "text",
    [
        "", "   ", "title", "title eq", "title eq bjensen", "title pr and", "and title pr", "title pr title pr",
        "(title pr", "title pr)", "((title pr)", "not title pr", "not (title pr", "title xx \"a\"", 'title eq "a',
        'title eq "\\x"', 'title eq "\\ud800"', 'title eq "nul\\u0000"', 'title eq "tab\there"', "title eq 01",
        "title eq 1.", "title eq .5", "title eq +1", "title eq NaN", "title eq Infinity", "title eq 1e999",
        'emails[type eq "work"', 'emails[type eq "work"]]', 'emails[]',
        'emails[types[value pr]]', 'emails[name.givenName pr]', f'emails[{ENT}:department pr]',
        'name.givenName[value pr]', 'title gt null', "emails.primary gt false", "name. pr", 'title co null', "title co 5", "active gt true",
        "1title pr", "na$me pr", "name..givenName pr", "name.givenName.x pr", "urn:x: pr", 'title eq "a" "b"',
        "title pr [", "[title pr]", '"title" pr', "title eq (", "title pr and or title pr",
    ],
)
def test_malformed_filters_are_filter_errors(text):
    """RFC 7644 §3.4.2.2: a malformed filter is invalidFilter."""
    with pytest.raises(FilterError):
        parse_filter(text)


@pytest.mark.parametrize(
    "text",
    [
        'emails[type eq "work"].value', 'emails[type eq "work"] .value eq "x"', 'emails[type eq "work"].value.display eq "x"',
        'emails[type eq "work"].value[type pr]', 'emails[type eq "work"].value co null', 'emails[type eq "work"].$x eq "y"',
        'emails[type eq "work"]. eq "x"', 'emails[type eq "work"].. eq "x"', f'emails[type eq "work"].{ENT}:department eq "x"',
        'emails[type eq "work"].value eq "x" "y"', 'emails[type eq "work"].value xx "x"', 'emails[type eq "work"].value.',
        'emails[type eq "work"].value eq', 'name.givenName[value pr].value eq "x"', 'emails[ims[value pr].value eq "x"]',
    ],
)
def test_malformed_sub_attributes_after_a_value_filter_are_filter_errors(text):
    """Entra's `attr[filter].sub op value`: the sub-attribute touches the `]` and is followed by a test."""
    with pytest.raises(FilterError):
        parse_filter(text)


def test_error_messages_say_where():
    with pytest.raises(FilterError, match="position 7"):
        parse_filter("title xx 5")


def test_input_is_bounded():
    """RFC 7644 §3.4.2.2 sets no limits; ours keep parsing and evaluation cheap."""
    assert parse_filter("(" * MAX_DEPTH + "title pr" + ")" * MAX_DEPTH) == pr("title")
    with pytest.raises(FilterError, match="nests deeper"):
        parse_filter("(" * (MAX_DEPTH + 1) + "title pr" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(FilterError, match="nests deeper"):
        parse_filter("not (" * (MAX_DEPTH + 1) + "title pr" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(FilterError, match="longer than"):
        parse_filter('title eq "' + "x" * MAX_LENGTH + '"')


def test_the_longest_chain_allowed_evaluates():
    from scim.filter import MAX_TERMS

    text = " or ".join(["title pr"] * (MAX_TERMS - 1) + ['userName eq "ada"'])
    assert len(text) <= MAX_LENGTH
    assert matches(parse_filter(text, USER), {"userName": "ADA"}, USER)


def test_a_sub_attribute_after_a_value_filter_tests_the_same_element():
    """Entra (email as the matching attribute) sends `emails[type eq "work"].value eq "…"`: outside RFC 7644
    §3.4.2.2's grammar, where `[...].sub` is a PATCH path (§3.5.2). It reads as one value path."""
    assert parse_filter('emails[type eq "work"].value eq "ada@acme.com"', USER) == ValuePath(
        p("emails"), And(eq("type", "work"), eq("value", "ada@acme.com")))
    assert parse_filter('EMAILS[TYPE eq "work" or primary eq true].VALUE PR', USER) == ValuePath(
        p("emails"), And(Or(eq("type", "work"), eq("primary", True)), pr("value")))
    assert parse_filter('not (emails[type eq "work"].value sw "a") and title pr') == And(
        Not(ValuePath(p("emails"), And(eq("type", "work"), Comparison(p("value"), "sw", "a")))), pr("title"))
    assert parse_filter('members[type eq "User"].value eq "u-1"', GROUP) == ValuePath(
        p("members"), And(eq("type", "User"), eq("value", "u-1")))


def test_a_sub_attribute_after_a_value_filter_counts_as_one_more_comparison():
    """Issue 16's bound: `emails[type eq "work"].value eq "x"` is three terms (the path, two tests)."""
    from scim.filter import MAX_TERMS, filter_terms

    clause = 'emails[type eq "work"].value eq "x"'
    assert filter_terms(parse_filter(clause)) == 2
    parse_filter(" or ".join([clause] * (MAX_TERMS // 3)))
    with pytest.raises(FilterError, match="comparisons"):
        parse_filter(" or ".join([clause] * (MAX_TERMS // 3 + 1)))


def test_not_a_string_is_a_filter_error():
    with pytest.raises(FilterError):
        parse_filter(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize(
    "text",
    [
        'nope eq "x"', 'name.nope eq "x"', 'department eq "x"', 'urn:x:y:User:userName eq "x"',
        f'{ENT}:userName eq "x"', 'emails[nope eq "x"]', 'name[givenName eq "x"]', 'title[value pr]',
        'active eq "true"', 'active co "t"', 'meta.created co "2011"',
        'meta.created eq "2011-05-13"', 'meta.created eq "2011-05-13T04:42:34"', 'meta.created eq "yesterday"',
        'meta.created eq "2011-02-30T00:00:00Z"', 'meta.created gt 5', "userName eq 5", "userName eq true",
        'name eq "x"', 'meta eq "x"', 'addresses eq "x"', f'{ENT}:manager eq "x"', 'emails[primary eq "yes"]',
        'emails[type eq "work"].nope eq "x"', 'emails[type eq "work"].primary eq "yes"', 'emails[type eq "work"].value gt 5',
        'emails[nope eq "x"].value pr', 'name[givenName pr].familyName pr', 'emails[type eq "work"].primary co "t"',
    ],
)
def test_filters_must_suit_the_schema(text):
    """RFC 7644 §3.4.2.2 and §3.12: unknown attributes and values unfit for the attribute's type are invalidFilter."""
    parse_filter(text)  # well-formed …
    with pytest.raises(FilterError):
        parse_filter(text, USER)  # … but not a User filter


@pytest.mark.parametrize(
    "text",
    [
        'meta.created eq "2011-05-13T04:42:34.123456789+05:30"', "emails.primary eq true", "active ne false",
        "title eq null", "name ne null", "emails eq null", f'{ENT}:manager.value eq "x"', 'emails eq "a@b.c"',
        'id eq "x" and externalId eq "y" and meta.resourceType eq "User"', 'photos.value sw "https://"',
    ],
)
def test_filters_that_suit_the_schema(text):
    """RFC 7643 §2.3: value types; RFC 7644 §3.4.2.2: eq/ne null."""
    parse_filter(text, USER)


def test_validation_writes_paths_canonically():
    node = parse_filter(f'{ENT.lower()}:DEPARTMENT eq "x" and NAME.givenname pr', USER)
    assert node == And(eq(f"{ENT}:department", "x"), pr("name.givenName"))


# ---------------------------------------------------------------- evaluation

ADA = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "externalId": "00uAda",
    "userName": "Ada@Example.com",
    "name": {"givenName": "Ada", "familyName": "Lovelace"},
    "title": "Countess",
    "active": True,
    "emails": [
        {"value": "ada@example.com", "type": "work", "primary": True},
        {"value": "ada@home.org", "type": "home"},
    ],
    ENT: {"department": "R&D", "manager": {"value": "m-1"}},
    "meta": {"resourceType": "User", "created": "2011-05-13T04:42:34Z", "lastModified": "2011-05-13T04:42:34.500Z"},
}


@pytest.mark.parametrize(
    "text, expected",
    [
        ('userName eq "ada@example.COM"', True),  # userName: caseExact false (RFC 7643 §4.1.1)
        ('id eq "2819C223-7F76-453A-919D-413861904646"', False),  # id: caseExact (RFC 7643 §3.1)
        ('externalId eq "00uada"', False),
        ('externalId eq "00uAda"', True),
        ('title co "TESS"', True),
        ('title sw "count"', True),
        ('title ew "ESS"', True),
        ('title gt "apple"', True),
        ('title lt "COUNTESS"', False),
        ('title le "COUNTESS"', True),
        ('name.familyName eq "lovelace"', True),
        ('emails eq "ADA@home.org"', True),  # a complex multi-valued attribute compares its "value"
        ('emails.value ew "@home.org"', True),
        ('emails.type eq "home" and emails.primary eq true', True),  # different elements may match each part …
        ('emails[type eq "home" and primary eq true]', False),  # … but not inside a value path
        ('emails[type eq "work" and primary eq true]', True),
        ('emails[not (type eq "work")]', True),
        ('emails.value ne "ada@example.com"', True),
        ("emails pr", True),
        ("active eq true", True),
        ("active ne true", False),
        ('nickName eq "x"', False),  # a missing attribute matches no comparison …
        ('nickName ne "x"', False),
        ('not (nickName eq "x")', True),  # … so `not` makes it match
        ("nickName pr", False),
        ("nickName eq null", True),
        ("title eq null", False),
        ("title ne null", True),
        (f'{ENT}:department eq "r&d"', True),
        (f"{ENT}:manager.value pr", True),
        (f'{ENT}:manager.value eq "M-1"', True),
        ('urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "a"', True),
        (f'schemas eq "{ENT}"', True),
        ('meta.lastModified gt "2011-05-13T04:42:34Z"', True),  # chronological, not lexical
        ('meta.created eq "2011-05-13T06:42:34+02:00"', True),
        ('meta.created lt "2011-05-13T04:42:34.000001Z"', True),
        ('meta.resourceType eq "user"', False),  # resourceType is caseExact
        ('groups.value eq "g"', False),
    ],
)
def test_matches(text, expected):
    """RFC 7644 §3.4.2.2: operators by attribute type and caseExact; any element of a multi-valued attribute."""
    assert matches(parse_filter(text, USER), ADA, USER) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ('emails[type eq "work"].value eq "ADA@example.com"', True),  # emails.value: caseExact false
        ('emails[type eq "home"].value eq "ada@example.com"', False),  # both tests on the same element
        ('emails[type eq "work"].value ne "ada@example.com"', False),
        ('emails[type eq "home"].value ne "ada@example.com"', True),
        ('emails[type eq "work"].value co "@EXAMPLE"', True),
        ('emails[type eq "home"].value co "@example"', False),
        ('emails[type eq "work"].value sw "ada@"', True),
        ('emails[type eq "work"].value ew ".org"', False),
        ('emails[type eq "home"].value ew ".org"', True),
        ('emails[type eq "work"].value gt "ada@e"', True),
        ('emails[type eq "work"].value ge "ada@example.com"', True),
        ('emails[type eq "work"].value lt "ada@example.com"', False),
        ('emails[type eq "home"].value le "ada@home.org"', True),
        ('emails[type eq "work"].value pr', True),
        ('emails[type eq "other"].value pr', False),
        ('emails[type eq "home"].primary pr', False),
        ('emails[type eq "work"].primary eq true', True),
        ('emails[type eq "home"].primary eq true', False),
        ('emails[type eq "home"].primary eq null', True),  # the home email has no primary
        ('emails[type eq "work"].display eq null', True),
        ('emails[type eq "other"].display eq null', False),  # no element to test
        ('emails[type eq "work" or type eq "home"].value ew ".org"', True),
        ('emails[not (type eq "work")].value co "example"', False),
        ('not (emails[type eq "work"].value eq "ada@example.com")', False),
        ('emails[type eq "work"].value eq "ada@example.com" and userName sw "ada"', True),
        ('emails[type eq "home"].value eq "ada@example.com" or title eq "Countess"', True),
        ('ims[type eq "xmpp"].value pr', False),
    ],
)
def test_matches_a_sub_attribute_after_a_value_filter(text, expected):
    """`attr[filter].sub op value`: some element of attr passes the filter and the test, every operator."""
    node = parse_filter(text, USER)
    assert matches(node, ADA, USER) is expected


@pytest.mark.parametrize(
    "value, present",
    [("x", True), ("", False), (None, False), ([], False), ({}, False), (False, True), ([{}], True), (0, True)],
)
def test_pr_needs_a_non_empty_value(value, present):
    """RFC 7644 §3.4.2.2 pr: "If the attribute has a non-empty value, or if it contains a non-empty node for
    complex attributes, there is a match"."""
    assert matches(parse_filter("title pr"), {"title": value}, USER) is present


def test_values_of_the_wrong_type_never_match():
    resource = {"title": 42, "emails": "a@b.c", "active": "true", "name": "Ada", "meta": {"created": "soon"}}
    for text in ['title eq "42"', 'emails eq "a@b.c"', "active eq true", 'name.givenName eq "Ada"',
                 'meta.created lt "2100-01-01T00:00:00Z"', 'emails[value pr]']:
        assert not matches(parse_filter(text, USER), resource, USER), text


def test_attribute_names_in_the_resource_match_without_case():
    """RFC 7643 §2.1: attribute names are case insensitive."""
    assert matches(parse_filter('userName eq "a" and emails[TYPE eq "work"]', USER),
                   {"USERNAME": "A", "Emails": [{"Type": "Work"}]}, USER)


def test_group_members():
    """RFC 7643 §4.2: a Group's members, filtered by value."""
    group = {"displayName": "Admins", "members": [{"value": "u-1", "display": "Ada"}, {"value": "u-2"}]}
    assert matches(parse_filter('members[value eq "u-2"]', GROUP), group, GROUP)
    assert not matches(parse_filter('members[value eq "u-3"] or displayName eq "x"', GROUP), group, GROUP)
    assert matches(parse_filter('members[display pr].value eq "u-1"', GROUP), group, GROUP)
    assert not matches(parse_filter('members[display pr].value eq "u-2"', GROUP), group, GROUP)


def test_matches_element_honours_the_sub_attributes_case_exactness():
    """RFC 7643 §2.4, §4.1.2: emails.value is caseExact false, photos.value (a reference) is caseExact."""
    emails, photos = USER.schema.attribute("emails"), USER.schema.attribute("photos")
    node = parse_filter('value eq "HTTPS://X/A" and not (type eq "thumbnail")')
    assert matches_element(node, {"value": "https://x/a", "type": "photo"}, emails)
    assert not matches_element(node, {"value": "https://x/a", "type": "photo"}, photos)
    assert matches_element(node, {"value": "HTTPS://X/A"}, photos)
    assert not matches_element(node, "HTTPS://X/A", photos)  # type: ignore[arg-type]


def test_matches_rejects_paths_the_resource_type_lacks():
    with pytest.raises(FilterError):
        matches(parse_filter('nope eq "x"'), {"nope": "x"}, USER)
    with pytest.raises(FilterError):
        matches_element(parse_filter('nope eq "x"'), {"nope": "x"}, USER.schema.attribute("emails"))


# ---------------------------------------------------------------- PATCH paths

@pytest.mark.parametrize(
    "text, resource_type, expected",
    [
        ("members", GROUP, PatchPath(p("members"), None, "")),
        ("name.familyName", USER, PatchPath(AttributePath("", "name", "familyName"), None, "")),
        ('addresses[type eq "work"]', USER, PatchPath(p("addresses"), eq("type", "work"), "")),
        (
            'members[value eq "2819c223-7f76-453a-919d-413861904646"]', GROUP,
            PatchPath(p("members"), eq("value", "2819c223-7f76-453a-919d-413861904646"), ""),
        ),
        # The RFC names the sub-attribute displayName; RFC 7643 §4.2 calls it display, so no schema here.
        (
            'members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName', None,
            PatchPath(p("members"), eq("value", "2819c223-7f76-453a-919d-413861904646"), "displayName"),
        ),
        (
            'emails[type eq "work" and value ew "example.com"]', USER,
            PatchPath(p("emails"), And(eq("type", "work"), Comparison(p("value"), "ew", "example.com")), ""),
        ),
        ('addresses[type eq "work"].streetAddress', USER, PatchPath(p("addresses"), eq("type", "work"), "streetAddress")),
        (f"{ENT}:manager", USER, PatchPath(AttributePath(ENT, "manager"), None, "")),
        (f"{ENT}:manager.value", USER, PatchPath(AttributePath(ENT, "manager", "value"), None, "")),
        ('EMAILS[TYPE eq "work"].VALUE', USER, PatchPath(p("emails"), eq("type", "work"), "value")),
    ],
)
def test_patch_paths(text, resource_type, expected):
    """RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr], with the RFC's examples (§3.5.2.1-3)."""
    assert parse_patch_path(text, resource_type) == expected


@pytest.mark.parametrize(
    "text",
    [
        "", 'emails[type eq "work"].value.display', 'emails[type eq "work"] .value', 'emails[type eq "work"]value',
        'name.familyName[type eq "work"]', 'emails[type eq "work"]]', "emails[", "emails[]", "emails pr",
        'emails[type eq "work"].', 'emails[type eq "work"].value.', 'emails[type eq "work"].$x', "name.", 'emails[type eq "work"] and title pr',
    ],
)
def test_malformed_patch_paths_are_filter_errors(text):
    """RFC 7644 §3.5.2: a malformed path is invalidPath."""
    with pytest.raises(FilterError):
        parse_patch_path(text)


@pytest.mark.parametrize(
    "text",
    ["nope", "name.nope", 'emails[nope eq "x"]', 'emails[type eq "work"].nope', 'name[givenName eq "x"]',
     'title[value pr]', f"{ENT}:nope", 'emails[primary eq "x"]', "schemas", "SCHEMAS"],
)
def test_patch_paths_must_name_attributes_of_the_resource_type(text):
    """RFC 7644 §3.5.2: paths name attributes of the resource's schemas."""
    parse_patch_path(text)
    with pytest.raises(FilterError):
        parse_patch_path(text, USER)


def test_a_filter_has_a_bounded_number_of_comparisons():
    """Issue 16 §2: 149 `emails[value co …]` clauses kept the database busy; at most MAX_TERMS now."""
    from scim.filter import MAX_TERMS

    many = " or ".join(f'emails[value co "x{i}"]' for i in range(MAX_TERMS + 1))
    with pytest.raises(FilterError, match="comparisons"):
        parse_filter(many)
    parse_filter(" or ".join(f'userName eq "u{i}"' for i in range(MAX_TERMS)))
