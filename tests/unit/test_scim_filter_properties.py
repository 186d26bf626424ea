"""Properties of the SCIM filter parser (RFC 7644 §3.4.2.2) and its SQL compiler,
checked on generated input with Hypothesis."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from scim.filter import (
    And,
    Comparison,
    Filter,
    FilterError,
    Not,
    Or,
    Present,
    ValuePath,
    matches,
    parse_filter,
    parse_patch_path,
)
from scim.schema import ENTERPRISE_USER, USER, AttributePath, parse_attribute_path
from services.directory.filter_sql import SqlParams, compile_filter, sort_expression

ENT = ENTERPRISE_USER
SETTINGS = settings(max_examples=200, deadline=None)

# ---------------------------------------------------------- arbitrary text

FRAGMENTS = [
    "userName", "emails", "emails.value", "name.familyName", f"{ENT}:manager.value", "title", "value", "type",
    "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "and", "or", "not", "AND", "Not",
    "(", ")", "[", "]", '"x"', '"', "\\", "true", "null", "1", "-0.5e3", "01", ".", ":", "urn:", "$ref", "\x00",
]
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(FRAGMENTS), max_size=30).map(" ".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join),
)


@SETTINGS
@given(texts)
def test_any_text_is_a_filter_or_a_filter_error(text):
    """RFC 7644 §3.4.2.2: whatever the client sends, the answer is a filter or invalidFilter, never a crash."""
    for resource_type in (None, USER):
        try:
            node = parse_filter(text, resource_type)
        except FilterError:
            continue
        assert isinstance(node, (Comparison, Present, And, Or, Not, ValuePath))


@SETTINGS
@given(texts)
def test_any_text_is_a_patch_path_or_a_filter_error(text):
    """RFC 7644 §3.5.2: malformed paths are invalidPath, never a crash."""
    for resource_type in (None, USER):
        try:
            parse_patch_path(text, resource_type)
        except FilterError:
            pass


# ------------------------------------------------------ generated filters

# String values carry a marker that no SQL the compiler writes contains.
MARK = "\u00a7"
strings = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12).map(
    lambda s: MARK + s
)
datetimes = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]),
).map(datetime.isoformat)

STRING_PATHS = [
    "userName", "id", "externalId", "title", "displayName", "name.familyName", "emails", "emails.value",
    "emails.type", "photos.value", "groups.value", "meta.resourceType", "schemas", f"{ENT}:department",
    f"{ENT}:manager.value",
]
BOOLEAN_PATHS = ["active", "emails.primary", "addresses.primary"]
DATETIME_PATHS = ["meta.created", "meta.lastModified"]
ALL_PATHS = STRING_PATHS + BOOLEAN_PATHS + DATETIME_PATHS + ["name", "meta", "addresses", f"{ENT}:manager"]


def _comparisons(paths, ops, values):
    return st.builds(Comparison, st.sampled_from(paths).map(parse_attribute_path), st.sampled_from(ops), values)


def _leaves(strings_paths, boolean_paths, datetime_paths, all_paths):
    return st.one_of(
        _comparisons(strings_paths, ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"], strings),
        _comparisons(boolean_paths, ["eq", "ne"], st.booleans()) if boolean_paths else st.nothing(),
        _comparisons(datetime_paths, ["eq", "ne", "gt", "ge", "lt", "le"], datetimes) if datetime_paths else st.nothing(),
        _comparisons(all_paths, ["eq", "ne"], st.none()),
        st.sampled_from(all_paths).map(lambda path: Present(parse_attribute_path(path))),
    )


def _trees(leaves, max_leaves=6):
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.builds(And, children, children), st.builds(Or, children, children), st.builds(Not, children)
        ),
        max_leaves=max_leaves,
    )


def _value_paths(attribute: str, subs: list[str], booleans: list[str]):
    inner = _trees(_leaves(subs, booleans, [], subs + booleans), max_leaves=3)
    return st.builds(ValuePath, st.just(AttributePath("", attribute)), inner)


filters = _trees(
    st.one_of(
        _leaves(STRING_PATHS, BOOLEAN_PATHS, DATETIME_PATHS, ALL_PATHS),
        _value_paths("emails", ["value", "type", "display"], ["primary"]),
        _value_paths("ims", ["value", "type"], []),
        _value_paths("addresses", ["locality", "type"], ["primary"]),
    )
)


def render(node: Filter, shout: bool) -> str:
    """The filter as text, every operand parenthesised, names upper-cased when `shout`."""

    def name(path: AttributePath) -> str:
        return str(path).upper() if shout else str(path)

    match node:
        case And(left, right):
            return f"({render(left, shout)}) and ({render(right, shout)})"
        case Or(left, right):
            return f"({render(left, shout)}) OR ({render(right, shout)})"
        case Not(operand):
            return f"not ({render(operand, shout)})"
        case Present(path):
            return f"{name(path)} pr"
        case Comparison(path, op, value):
            return f"{name(path)} {op.upper() if shout else op} {json.dumps(value, ensure_ascii=shout)}"
        case ValuePath(path, inner):
            return f"{name(path)}[{render(inner, shout)}]"
    raise AssertionError(node)


@SETTINGS
@given(filters, st.booleans())
def test_rendered_filters_parse_back(node, shout):
    """RFC 7644 §3.4.2.2: names and operators are case insensitive; values are JSON."""
    assert parse_filter(render(node, shout), USER) == node


# A value path, and a test of a sub-attribute of the same attribute.
value_paths_and_tests = st.one_of(
    st.tuples(_value_paths("emails", ["value", "type", "display"], ["primary"]),
              _leaves(["value", "type", "display"], ["primary"], [], ["value", "type", "display", "primary"])),
    st.tuples(_value_paths("addresses", ["locality", "type"], ["primary"]),
              _leaves(["locality", "type"], ["primary"], [], ["locality", "type", "primary"])),
)


@SETTINGS
@given(value_paths_and_tests, st.booleans())
def test_a_sub_attribute_after_a_value_filter_is_one_value_path(value_path_and_test, shout):
    """Entra's `attr[filter].sub op value` (outside RFC 7644 §3.4.2.2's grammar) is `attr[(filter) and sub op value]`."""
    value_path, condition = value_path_and_test
    text = f"{render(value_path, shout)}.{render(condition, shout)}"
    assert parse_filter(text, USER) == ValuePath(value_path.path, And(value_path.filter, condition))


SQL_TOKEN = re.compile(r"""\s+|(?P<param>\$\d+)|(?P<literal>'[^']*')|(?P<quoted>"[^"]*")|(?P<word>[A-Za-z_]\w*)|"""
                       r"""(?P<number>[01]\b)|(?P<punct>::|->|#>>|\|\||<>|>=|<=|[(),=<>])""")
SQL_WORDS = {
    "AND", "OR", "NOT", "EXISTS", "SELECT", "FROM", "AS", "WHERE", "CASE", "WHEN", "THEN", "ELSE", "END", "IN", "IS", "NULL",
    "COALESCE", "COLLATE", "WITH", "ORDINALITY", "ORDER", "BY", "DESC", "LIMIT", "false", "true", "lower", "strpos",
    "starts_with", "right", "length", "jsonb_array_elements", "jsonb_typeof", "jsonb_build_array", "text", "boolean",
    "numeric", "timestamptz", "member_id", "external_id", "user_name", "user_name_lower", "status", "created_at", "updated_at",
    "scim_attributes", "e", "t", "i", "scim_text", "scim_folded_text",
}
SQL_LITERALS = {"''", "'active'", "'User'", "'array'", "'string'", "'boolean'", "'number'", "'object'", "'[]'", "'{}'",
                "'null'", "'\"\"'", "'true'"}


def assert_only_placeholders(sql: str, params: SqlParams) -> None:
    """The SQL is made of fixed words, fixed literals and $n placeholders, one per parameter."""
    assert MARK not in sql
    position, placeholders = 0, set()
    while position < len(sql):
        match = SQL_TOKEN.match(sql, position)
        assert match is not None, f"unexpected SQL at {sql[position:position + 40]!r}"
        position = match.end()
        if match["param"]:
            placeholders.add(int(match["param"][1:]))
        elif match["literal"]:
            assert match["literal"] in SQL_LITERALS
        elif match["quoted"]:
            assert match["quoted"] == '"C"'
        elif match["word"]:
            assert match["word"] in SQL_WORDS, match["word"]
    assert placeholders == set(range(params.start + 1, params.start + len(params.values) + 1))


@SETTINGS
@given(filters, st.integers(min_value=0, max_value=5))
def test_compiled_sql_holds_no_value_and_only_placeholders(node, start):
    """RFC 7644 §7.4 spirit: client input never becomes SQL text; values and JSON keys are parameters."""
    params = SqlParams(start)
    sql = compile_filter(parse_filter(render(node, False), USER), params)
    assert_only_placeholders(sql, params)


@SETTINGS
@given(st.sampled_from(STRING_PATHS + BOOLEAN_PATHS + DATETIME_PATHS + ["roles", "entitlements.value"]), st.booleans())
def test_sort_expressions_hold_only_placeholders(path, shout):
    """RFC 7644 §3.4.2.3: sortBy names an attribute; it too is compiled with parameters only."""
    params = SqlParams(2)
    assert_only_placeholders(sort_expression(path.upper() if shout else path, params), params)


# Resources with arbitrary JSON under the attribute names a filter reads.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.sampled_from(["work", "x", ""]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["value", "type", "primary", "familyName", "department", "locality"]), children, max_size=3
    ),
    max_leaves=8,
)
resources = st.dictionaries(
    st.sampled_from(["userName", "id", "title", "name", "emails", "ims", "addresses", "active", "meta", "schemas", ENT]),
    json_values,
    max_size=6,
)


@SETTINGS
@given(filters, resources)
def test_matches_is_total_on_odd_resources(node, resource):
    """RFC 7644 §3.4.2.2: evaluation never fails on values of unexpected types; they just do not match."""
    assert matches(node, resource, USER) in (True, False)
