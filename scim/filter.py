"""SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): a small tokenizer,
one recursive-descent parser, validation against the schemas, and in-memory
evaluation. Pure logic, no I/O; values are only ever compared, never run."""

from __future__ import annotations

import json
import math
import operator
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from scim.schema import (
    Attribute,
    AttributePath,
    PathError,
    ResolvedPath,
    ResourceType,
    parse_attribute_path,
    resolve,
)

MAX_LENGTH = 4096
MAX_DEPTH = 50
# Comparisons (and `pr` tests) in one filter: IdPs send one to three; the bound
# keeps a filter's cost in the database bounded too (issue 16).
MAX_TERMS = 20

COMPARE_OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
ORDER_OPERATORS = frozenset({"gt", "ge", "lt", "le"})
SUBSTRING_OPERATORS = frozenset({"co", "sw", "ew"})

# Every resource has `schemas` (RFC 7643 §3), though the schema definitions leave it out.
SCHEMAS_ATTRIBUTE = Attribute("schemas", "reference", multi_valued=True, reference_types=("uri",))


class FilterError(ValueError):
    """The filter or path is malformed or unsupported; the message is user-facing."""


@dataclass(frozen=True)
class Comparison:
    path: AttributePath
    op: str  # lower-case: eq ne co sw ew gt ge lt le
    value: str | int | float | bool | None


@dataclass(frozen=True)
class Present:
    path: AttributePath


@dataclass(frozen=True)
class And:
    left: "Filter"
    right: "Filter"


@dataclass(frozen=True)
class Or:
    left: "Filter"
    right: "Filter"


@dataclass(frozen=True)
class Not:
    operand: "Filter"


@dataclass(frozen=True)
class ValuePath:
    """`emails[type eq "work"]`: the inner filter's paths name sub-attributes.
    `emails[type eq "work"].value eq "x"` is read as `emails[type eq "work" and value eq "x"]`."""

    path: AttributePath
    filter: "Filter"


Filter = Comparison | Present | And | Or | Not | ValuePath


def filter_terms(node: Filter) -> int:
    """How many comparisons and `pr` tests the filter holds (what evaluating it costs)."""
    count, pending = 0, [node]
    while pending:
        item = pending.pop()
        if isinstance(item, (And, Or)):
            pending += (item.left, item.right)
        elif isinstance(item, Not):
            pending.append(item.operand)
        elif isinstance(item, ValuePath):
            pending.append(item.filter)
        else:
            count += 1
    return count


@dataclass(frozen=True)
class PatchPath:
    """RFC 7644 §3.5.2 PATH = attrPath / valuePath [subAttr]."""

    attribute: AttributePath
    value_filter: Filter | None
    sub_attribute: str  # after `[...]`; "" if none (for name.familyName see attribute.sub_attribute)


# ------------------------------------------------------------------ tokenizer

@dataclass(frozen=True)
class _Token:
    kind: str  # ( ) [ ] string word
    text: str
    start: int
    end: int


_TOKEN = re.compile(r'(?P<punct>[()\[\]])|(?P<string>"(?:[^"\\]|\\.)*")|(?P<word>[^\s()\[\]"]+)')
_SPACE = re.compile(r"\s*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?P<real>(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)")
_LITERALS = {"true": True, "false": False, "null": None}
_OPERATOR_WORDS = COMPARE_OPERATORS | {"pr"}


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    position = _SPACE.match(text).end()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # only an unterminated string gets here
            raise FilterError(f"unterminated string at position {position + 1}")
        kind = match.lastgroup if match.lastgroup != "punct" else match.group()
        tokens.append(_Token(kind, match.group(), match.start(), match.end()))
        position = _SPACE.match(text, match.end()).end()
    return tokens


def _string(token: _Token) -> str:
    try:
        value = json.loads(token.text)
        value.encode("utf-8")  # lone surrogates from \ud800-style escapes
    except (ValueError, UnicodeEncodeError):
        raise FilterError(f"malformed string at position {token.start + 1}") from None
    if "\x00" in value:
        raise FilterError("strings may not contain NUL characters")
    return value


def _number(text: str) -> int | float:
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise ValueError(text)
    value = float(text) if match["real"] else int(text)
    if isinstance(value, float) and math.isinf(value):
        raise ValueError(text)
    return value


# --------------------------------------------------------------------- parser

class _Parser:
    def __init__(self, text: str):
        if not isinstance(text, str):
            raise FilterError("the filter must be a string")
        if len(text) > MAX_LENGTH:
            raise FilterError(f"the filter is longer than {MAX_LENGTH} characters")
        self.tokens = _tokenize(text)
        self.position = 0
        self.depth = 0
        self.terms = 0

    def peek(self, kind: str | None = None) -> _Token | None:
        token = self.tokens[self.position] if self.position < len(self.tokens) else None
        return token if token is not None and (kind is None or token.kind == kind) else None

    def take(self, expected: str) -> _Token:
        token = self.peek()
        if token is None:
            raise FilterError(f"{expected} expected, but the text ended")
        self.position += 1
        return token

    def at_keyword(self, keyword: str) -> bool:
        token = self.peek("word")
        return token is not None and token.text.lower() == keyword

    def finish(self) -> None:
        token = self.peek()
        if token is None:
            return
        raise _error(token, f"unexpected {token.text!r}")

    def filter(self, relative: bool) -> Filter:
        terms = [self.conjunction(relative)]
        while self.at_keyword("or"):
            self.position += 1
            terms.append(self.conjunction(relative))
        return _balanced(Or, terms)

    def conjunction(self, relative: bool) -> Filter:
        terms = [self.term(relative)]
        while self.at_keyword("and"):
            self.position += 1
            terms.append(self.term(relative))
        return _balanced(And, terms)

    def term(self, relative: bool) -> Filter:
        token = self.take("an attribute or '('")
        if token.kind == "(":
            return self.group(relative, ")")
        if token.kind == "word" and token.text.lower() == "not" and self.peek("("):
            self.position += 1
            return Not(self.group(relative, ")"))
        if token.kind != "word":
            raise _error(token, f"an attribute expected, not {token.text!r}")
        following = self.peek("word")
        if token.text.lower() == "not" and following and following.text.lower() not in _OPERATOR_WORDS:
            raise _error(token, "'not' needs parentheses: not (...)")
        path = self.path(token, relative)
        self.count_term()
        if not self.peek("["):
            return self.condition(path, token, path)
        if relative:
            raise _error(token, "value paths cannot nest")
        if path.sub_attribute:
            raise _error(token, f"{path}[...] must name an attribute without a sub-attribute")
        self.position += 1
        value_filter = self.group(True, "]")
        sub_token = self.adjacent_sub_attribute()
        if sub_token is None:
            return ValuePath(path, value_filter)
        # `emails[type eq "work"].value eq "x"`: outside RFC 7644's filter grammar, but Entra sends it
        # (email as the matching attribute), and Microsoft's reference SCIM code is reported to accept
        # it. Both tests hold for the same element, which is what a value path says.
        sub = AttributePath("", _sub_attribute_name(sub_token))
        self.count_term()
        condition = self.condition(sub, sub_token, AttributePath("", path.attribute, sub.attribute))
        return ValuePath(path, And(value_filter, condition))

    def count_term(self) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise FilterError(f"the filter has more than {MAX_TERMS} comparisons")

    def condition(self, path: AttributePath, token: _Token, shown: AttributePath) -> Comparison | Present:
        """The `pr` or comparison after `path` (`shown` in messages)."""
        op_token = self.take(f"an operator after {token.text!r}")
        op = op_token.text.lower()
        if op_token.kind == "word" and op == "pr":
            return Present(path)
        if op_token.kind != "word" or op not in COMPARE_OPERATORS:
            raise _error(op_token, f"unknown operator {op_token.text!r}")
        value = self.value()
        _check_operands(shown, op, value)
        return Comparison(path, op, value)

    def adjacent_sub_attribute(self) -> _Token | None:
        """The `.sub` written right after a `]` just taken (no space between), if any."""
        closer, sub = self.tokens[self.position - 1], self.peek("word")
        if sub is None or sub.start != closer.end or not sub.text.startswith("."):
            return None
        self.position += 1
        return sub

    def group(self, relative: bool, closer: str) -> Filter:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(f"the filter nests deeper than {MAX_DEPTH} levels")
        inner = self.filter(relative)
        token = self.take(f"{closer!r}")
        if token.kind != closer:
            raise _error(token, f"{closer!r} expected, not {token.text!r}")
        self.depth -= 1
        return inner

    def path(self, token: _Token, relative: bool) -> AttributePath:
        try:
            path = _attribute_path(token.text)
        except PathError:
            raise _error(token, f"{token.text!r} is not an attribute path") from None
        if relative and (path.urn or path.sub_attribute):
            raise _error(token, f"inside [...] name a sub-attribute, not {token.text!r}")
        return path

    def value(self) -> str | int | float | bool | None:
        token = self.take("a value")
        if token.kind == "string":
            return _string(token)
        if token.kind == "word":
            lowered = token.text.lower()
            if lowered in _LITERALS:
                return _LITERALS[lowered]
            try:
                return _number(token.text)
            except ValueError:
                pass
        raise _error(token, f"a value (a quoted string, number, true, false or null) expected, not {token.text!r}")


def _attribute_path(text: str) -> AttributePath:
    if text.endswith("."):  # parse_attribute_path would read "name." as "name"
        raise PathError(text)
    return parse_attribute_path(text)


def _error(token: _Token, message: str) -> FilterError:
    return FilterError(f"{message} at position {token.start + 1}")


def _balanced(kind: type[And] | type[Or], terms: list[Filter]) -> Filter:
    # `a and b and c …` as a balanced tree (same meaning, both are associative),
    # so long chains cannot exhaust the recursion of whoever walks the tree.
    if len(terms) == 1:
        return terms[0]
    middle = (len(terms) + 1) // 2
    return kind(_balanced(kind, terms[:middle]), _balanced(kind, terms[middle:]))


def _check_operands(path: AttributePath, op: str, value: Any) -> None:
    if value is None and op not in ("eq", "ne"):
        raise FilterError(f"{path} {op} null: only eq and ne compare with null")
    if op in SUBSTRING_OPERATORS and not isinstance(value, str):
        raise FilterError(f"{path} {op} needs a string")
    if op in ORDER_OPERATORS and isinstance(value, bool):
        raise FilterError(f"{path} {op} cannot compare booleans")


def parse_filter(text: str, resource_type: ResourceType | None = None) -> Filter:
    """The filter in `text`; checked against the resource type's schemas when given.
    Accepts RFC 7644's grammar and Entra's `attr[filter].sub op value` (see ValuePath)."""
    parser = _Parser(text)
    node = parser.filter(relative=False)
    parser.finish()
    return validate_filter(node, resource_type) if resource_type is not None else node


def parse_patch_path(text: str, resource_type: ResourceType | None = None) -> PatchPath:
    """A PATCH operation's path (RFC 7644 §3.5.2)."""
    parser = _Parser(text)
    token = parser.take("an attribute path")
    if token.kind != "word":
        raise _error(token, f"an attribute path expected, not {token.text!r}")
    path = parser.path(token, relative=False)
    value_filter, sub_attribute = None, ""
    if parser.peek("["):
        if path.sub_attribute:
            raise _error(token, f"{path}[...] must name an attribute without a sub-attribute")
        parser.position += 1
        value_filter = parser.group(True, "]")
        sub = parser.adjacent_sub_attribute()
        if sub is not None:
            sub_attribute = _sub_attribute_name(sub)
    parser.finish()
    patch = PatchPath(path, value_filter, sub_attribute)
    return _validate_patch_path(patch, resource_type) if resource_type is not None else patch


def _sub_attribute_name(token: _Token) -> str:
    try:
        path = _attribute_path(token.text[1:])
    except PathError:
        path = None
    if path is None or path.urn or path.sub_attribute:
        raise _error(token, f"{token.text!r} is not a sub-attribute")
    return path.attribute


# ----------------------------------------------------------------- validation

_Resolver = Callable[[AttributePath], tuple[AttributePath, ResolvedPath]]


def resolve_path(resource_type: ResourceType, path: AttributePath) -> ResolvedPath:
    """What a filter path names (scim.schema.resolve, plus `schemas`); FilterError if nothing."""
    if not path.urn and not path.sub_attribute and path.attribute.lower() == "schemas":
        return ResolvedPath(None, SCHEMAS_ATTRIBUTE)
    try:
        return resolve(resource_type, path)
    except PathError as error:
        raise FilterError(str(error)) from None


def resolve_sub_attribute(attribute: Attribute, path: AttributePath) -> ResolvedPath:
    """What a path inside `attribute[...]` names."""
    sub = None if path.urn or path.sub_attribute else attribute.sub_attribute(path.attribute)
    if sub is None:
        raise FilterError(f"{attribute.name} has no sub-attribute {str(path)!r}")
    return ResolvedPath(None, sub)


def compared_attribute(resolved: ResolvedPath) -> Attribute | None:
    """The attribute whose values a comparison reads: for a multi-valued complex
    attribute named alone, its `value` sub-attribute; None if it has none."""
    target = resolved.target
    if target.type == "complex" and resolved.sub_attribute is None:
        return target.sub_attribute("value") if target.multi_valued else None
    return target


def element_attribute(resolved: ResolvedPath, path: AttributePath) -> Attribute:
    """The attribute a value path `path[...]` filters: it must be multi-valued and complex."""
    attribute = resolved.attribute
    if resolved.sub_attribute is not None or attribute.type != "complex" or not attribute.multi_valued:
        raise FilterError(f"{path}[...] needs a multi-valued complex attribute")
    return attribute


def validate_filter(node: Filter, resource_type: ResourceType) -> Filter:
    """The filter with every path resolved against the resource type (and written
    in canonical case) and every value checked against its attribute's type."""
    return _validate(node, lambda path: _canonical(resource_type, path))


def _canonical(resource_type: ResourceType, path: AttributePath) -> tuple[AttributePath, ResolvedPath]:
    """The path in canonical case, and what it names."""
    resolved = resolve_path(resource_type, path)
    urn = resource_type.schema_by_urn(path.urn).id if path.urn else ""
    sub = resolved.sub_attribute.name if resolved.sub_attribute else ""
    return AttributePath(urn, resolved.attribute.name, sub), resolved


def _within(attribute: Attribute) -> _Resolver:
    def resolver(path: AttributePath) -> tuple[AttributePath, ResolvedPath]:
        resolved = resolve_sub_attribute(attribute, path)
        return AttributePath("", resolved.attribute.name), resolved

    return resolver


def _validate(node: Filter, resolver: _Resolver) -> Filter:
    match node:
        case And(left, right):
            return And(_validate(left, resolver), _validate(right, resolver))
        case Or(left, right):
            return Or(_validate(left, resolver), _validate(right, resolver))
        case Not(operand):
            return Not(_validate(operand, resolver))
        case Present(path):
            return Present(resolver(path)[0])
        case Comparison(path, op, value):
            if op not in COMPARE_OPERATORS:
                raise FilterError(f"unknown operator {op!r}")
            _check_operands(path, op, value)
            canonical, resolved = resolver(path)
            if value is not None:
                _check_value(canonical, compared_attribute(resolved), op, value)
            return Comparison(canonical, op, value)
        case ValuePath(path, inner):
            canonical, resolved = resolver(path)
            return ValuePath(canonical, _validate(inner, _within(element_attribute(resolved, path))))
    raise FilterError(f"not a filter: {node!r}")


def _check_value(path: AttributePath, attribute: Attribute | None, op: str, value: Any) -> None:
    if attribute is None:
        raise FilterError(f"{path} is complex: compare one of its sub-attributes")
    kind = attribute.type
    if kind == "boolean":
        suits = isinstance(value, bool) and op in ("eq", "ne")
    elif kind in ("integer", "decimal"):
        number_types = (int,) if kind == "integer" else (int, float)
        suits = isinstance(value, number_types) and not isinstance(value, bool) and op not in SUBSTRING_OPERATORS
    elif kind == "dateTime":
        suits = isinstance(value, str) and op not in SUBSTRING_OPERATORS
        if suits and parse_datetime(value) is None:
            raise FilterError(f"{path}: {json.dumps(value)} is not an RFC 3339 date-time")
    else:
        suits = isinstance(value, str)
    if not suits:
        raise FilterError(f"{path} is a {kind}: it cannot be compared with {op} {json.dumps(value, default=repr)}")


def _validate_patch_path(patch: PatchPath, resource_type: ResourceType) -> PatchPath:
    attribute, resolved = _canonical(resource_type, patch.attribute)
    if resolved.attribute is SCHEMAS_ATTRIBUTE:
        raise FilterError("schemas cannot be changed: it lists the schemas whose attributes the resource holds")
    value_filter, sub_attribute = patch.value_filter, patch.sub_attribute
    if value_filter is not None:
        element = element_attribute(resolved, patch.attribute)
        value_filter = _validate(value_filter, _within(element))
        if sub_attribute:
            sub_attribute = resolve_sub_attribute(element, AttributePath("", sub_attribute)).attribute.name
    return PatchPath(attribute, value_filter, sub_attribute)


# ----------------------------------------------------------------- evaluation

_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def parse_datetime(text: str) -> datetime | None:
    """An RFC 3339 date-time (offset required) in UTC, to the microsecond; None if `text` is not one."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    date, time, fraction, offset = match.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(f"{date}T{time}{(fraction or '')[:7]}{offset}").astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


# A scope finds what a path names and its raw value: the resource's, or one element's.
_Scope = Callable[[AttributePath], tuple[ResolvedPath, Any]]


def matches(node: Filter, resource: dict, resource_type: ResourceType) -> bool:
    """Whether the SCIM resource (as rendered: `userName`, `emails`, extension
    objects under their URN, `meta`) matches the filter."""

    def scope(path: AttributePath) -> tuple[ResolvedPath, Any]:
        resolved = resolve_path(resource_type, path)
        container = _get(resource, resolved.schema.id) if resolved.is_extension else resource
        return resolved, _get(container, resolved.attribute.name)

    return _evaluate(node, scope)


def matches_element(node: Filter, element: dict, attribute: Attribute) -> bool:
    """Whether one element of the multi-valued complex `attribute` matches a
    value-path filter (whose paths name the attribute's sub-attributes)."""
    return isinstance(element, dict) and _evaluate(node, _element_scope(attribute, element))


def _element_scope(attribute: Attribute, element: dict) -> _Scope:
    def scope(path: AttributePath) -> tuple[ResolvedPath, Any]:
        resolved = resolve_sub_attribute(attribute, path)
        return resolved, _get(element, resolved.attribute.name)

    return scope


def _evaluate(node: Filter, scope: _Scope) -> bool:
    match node:
        case And(left, right):
            return _evaluate(left, scope) and _evaluate(right, scope)
        case Or(left, right):
            return _evaluate(left, scope) or _evaluate(right, scope)
        case Not(operand):
            return not _evaluate(operand, scope)
        case Present(path):
            return any(_is_present(v) for v in _values(*scope(path), compare=False))
        case Comparison(path, op, None):
            present = any(_is_present(v) for v in _values(*scope(path), compare=False))
            return present if op == "ne" else not present
        case Comparison(path, op, value):
            resolved, raw = scope(path)
            target = compared_attribute(resolved)
            return target is not None and any(
                _compare(actual, op, value, target) for actual in _values(resolved, raw, compare=True)
            )
        case ValuePath(path, inner):
            resolved, raw = scope(path)
            attribute = element_attribute(resolved, path)
            items = raw if isinstance(raw, list) else []
            return any(matches_element(inner, item, attribute) for item in items)
    raise FilterError(f"not a filter: {node!r}")


def _get(container: Any, name: str) -> Any:
    """`container[name]` with the name matched without case (RFC 7643 §2.1)."""
    if not isinstance(container, dict):
        return None
    if name in container:
        return container[name]
    lowered = name.lower()
    return next((value for key, value in container.items() if key.lower() == lowered), None)


def _values(resolved: ResolvedPath, raw: Any, *, compare: bool) -> list:
    """The values a path names: for a multi-valued attribute, one per element."""
    attribute, sub = resolved.attribute, resolved.sub_attribute
    if attribute.multi_valued:
        items = raw if isinstance(raw, list) else []
        if sub is None and not (compare and attribute.type == "complex"):
            return items
        return [_get(item, sub.name if sub else "value") for item in items]
    return [_get(raw, sub.name)] if sub is not None else [raw]


def _is_present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


_OPERATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
    "co": lambda actual, expected: expected in actual,
    "sw": lambda actual, expected: actual.startswith(expected),
    "ew": lambda actual, expected: actual.endswith(expected),
}


def _compare(actual: Any, op: str, expected: Any, attribute: Attribute) -> bool:
    kind = attribute.type
    if kind == "boolean":
        comparable = isinstance(actual, bool) and isinstance(expected, bool) and op in ("eq", "ne")
    elif kind in ("integer", "decimal"):
        comparable = _is_number(actual) and _is_number(expected) and op not in SUBSTRING_OPERATORS
    elif kind == "dateTime":
        actual, expected = _as_datetime(actual), _as_datetime(expected)
        comparable = actual is not None and expected is not None and op not in SUBSTRING_OPERATORS
    else:
        comparable = isinstance(actual, str) and isinstance(expected, str)
        if comparable and not attribute.case_exact:
            actual, expected = actual.lower(), expected.lower()
    return comparable and _OPERATIONS[op](actual, expected)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    return parse_datetime(value) if isinstance(value, str) else None
