"""SCIM User filters and sortBy (RFC 7644 §3.4.2.2, §3.4.2.3) as parameterised
SQL over the `members` table.

Every value and every JSON key travels as a parameter: the SQL text holds only
fixed fragments and $n placeholders. JSON values are read only when their JSON
type suits the comparison, and each comparison is two-valued (COALESCE(…, false),
or IS NOT NULL for nullable columns; bare for NOT NULL columns, so indexes apply),
so a filter either compiles to SQL that cannot fail at runtime or raises
FilterError, and `not (…)` stays two-valued (a user without a title matches
`not (title eq "x")`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from scim.filter import (
    ORDER_OPERATORS,
    SCHEMAS_ATTRIBUTE,
    And,
    Comparison,
    Filter,
    FilterError,
    Not,
    Or,
    Present,
    ValuePath,
    compared_attribute,
    element_attribute,
    parse_datetime,
    resolve_path,
    resolve_sub_attribute,
    validate_filter,
)
from scim.schema import (
    CORE_USER,
    USER,
    Attribute,
    AttributePath,
    PathError,
    ResolvedPath,
    ResourceType,
    parse_attribute_path,
)


class SqlParams:
    """Collects parameter values; `add` returns the placeholder of each."""

    def __init__(self, start: int = 0):
        self.start = start
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${self.start + len(self.values)}"


@dataclass(frozen=True)
class Column:
    sql: str | None  # None: complex, never compared
    present: str  # the SQL of `pr`
    nullable: bool = False
    # A column holding lower(sql), for a case-insensitive attribute. Compared
    # bare, it stays an index condition under row-level security, where
    # lower(sql) (not leakproof) may only be checked after the policy.
    folded: str | None = None


# Attributes kept in columns, by (attribute, sub-attribute).
_COLUMNS = {
    ("id", ""): Column("member_id", "member_id <> ''"),
    ("externalId", ""): Column("external_id", "COALESCE(external_id <> '', false)", nullable=True),
    ("userName", ""): Column("user_name", "user_name <> ''", folded="user_name_lower"),
    ("active", ""): Column("(status = 'active')", "true"),
    ("meta", ""): Column(None, "true"),
    ("meta", "created"): Column("created_at", "true"),
    ("meta", "lastModified"): Column("updated_at", "true"),
    ("meta", "resourceType"): Column("'User'::text", "true"),
}

_SYMBOLS = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_STRING_TYPES = ("string", "reference", "binary")
# JSON scalars other than strings: the JSON type to require, the SQL type to cast to.
_JSON_SCALARS = {"boolean": ("boolean", "boolean"), "integer": ("number", "numeric"), "decimal": ("number", "numeric")}


def compile_filter(node: Filter, params: SqlParams, user_type: ResourceType = USER) -> str:
    """A SQL boolean expression over `members` true exactly for the users that
    match; `user_type` is User with the vendor's extensions."""
    return SqlCompiler(params, user_type=user_type).filter(validate_filter(node, user_type))


def sort_expression(path: str, params: SqlParams, user_type: ResourceType = USER,
                    compiler: "SqlCompiler | None" = None) -> str:
    """The SQL to order by for sortBy=`path`; for a multi-valued attribute, its
    primary element's value, else its first (RFC 7644 §3.4.2.3). `compiler`
    says where attributes live (the User compiler by default)."""
    try:
        parsed = parse_attribute_path(path)
    except PathError:
        raise FilterError(f"{path!r} is not an attribute path") from None
    compiler = compiler or SqlCompiler(params, user_type=user_type)
    resolved, column, json = compiler.source(parsed)
    target = compared_attribute(resolved)
    if target is None or (column is not None and column.sql is None):
        raise FilterError(f"cannot sort by {parsed}: it is complex")
    if column is not None:
        return _lower(column.sql, target) if target.type in _STRING_TYPES else column.sql
    if not resolved.attribute.multi_valued:
        return compiler.sortable(compiler.member(json, resolved.sub_attribute), target)
    element = compiler.element_value(resolved, compare=True)
    primary = resolved.attribute.sub_attribute("primary")
    order = f"COALESCE({compiler.member('e', primary)} = 'true', false) DESC, " if primary else ""
    return (
        f"(SELECT {compiler.sortable(element, target)} FROM {_elements(resolved, json)}"
        f" WITH ORDINALITY AS t(e, i) ORDER BY {order}i LIMIT 1)"
    )


def _elements(resolved: ResolvedPath, json: str) -> str:
    """The elements of a multi-valued attribute's JSON; none unless it is an array."""
    if resolved.attribute is SCHEMAS_ATTRIBUTE:  # always built as an array
        return f"jsonb_array_elements({json})"
    return f"jsonb_array_elements(CASE WHEN jsonb_typeof({json}) = 'array' THEN {json} ELSE '[]' END)"


def _lower(sql: str, attribute: Attribute) -> str:
    return sql if attribute.case_exact else f"lower({sql})"


class SqlCompiler:
    def __init__(self, params: SqlParams, element_of: Attribute | None = None, user_type: ResourceType = USER):
        self.params = params
        self.element_of = element_of  # inside `attr[...]`: paths name its sub-attributes, of element `e`
        self.user_type = user_type

    def key(self, name: str) -> str:
        return f"{self.params.add(name)}::text"

    def filter(self, node: Filter) -> str:
        match node:
            case And(left, right):
                return f"({self.filter(left)} AND {self.filter(right)})"
            case Or(left, right):
                return f"({self.filter(left)} OR {self.filter(right)})"
            case Not(operand):
                return f"(NOT {self.filter(operand)})"
            case Present(path):
                return self.present(path)
            case Comparison(path, op, None):  # eq null: not present; ne null: present
                present = self.present(path)
                return present if op == "ne" else f"(NOT {present})"
            case Comparison(path, op, value):
                return self.compare(path, op, value)
            case ValuePath(path, inner):
                resolved, _, json = self.source(path)
                condition = SqlCompiler(self.params, element_attribute(resolved, path), self.user_type).filter(inner)
                # Only objects are values of a complex attribute, whatever the filter says.
                return (
                    f"EXISTS (SELECT 1 FROM {_elements(resolved, json)} AS e"
                    f" WHERE jsonb_typeof(e) = 'object' AND {condition})"
                )
        raise FilterError(f"not a filter: {node!r}")

    def source(self, path: AttributePath) -> tuple[ResolvedPath, Column | None, str | None]:
        """What the path names, and where it lives: a column, or a JSON value."""
        if self.element_of is not None:
            resolved = resolve_sub_attribute(self.element_of, path)
            return resolved, None, f"(e -> {self.key(resolved.attribute.name)})"
        resolved = resolve_path(self.user_type, path)
        if resolved.attribute is SCHEMAS_ATTRIBUTE:
            return resolved, None, self.schemas()
        if not resolved.is_extension:
            column = _COLUMNS.get((resolved.attribute.name, resolved.sub_attribute.name if resolved.sub_attribute else ""))
            if column is not None:
                return resolved, column, None
            if resolved.schema is None:
                raise FilterError(f"filtering or sorting on {path} is not supported")
        base = f"(scim_attributes -> {self.key(resolved.schema.id)})" if resolved.is_extension else "scim_attributes"
        return resolved, None, f"({base} -> {self.key(resolved.attribute.name)})"

    def schemas(self) -> str:
        # As the gateway renders them: core, plus each extension whose object is present.
        parts = [f"jsonb_build_array({self.key(CORE_USER)})"]
        for urn in self.user_type.schema_urns[1:]:
            extension = f"(scim_attributes -> {self.key(urn)})"
            parts.append(f"CASE WHEN {_json_present(extension)} THEN jsonb_build_array({self.key(urn)}) ELSE '[]' END")
        return f"({' || '.join(parts)})"

    def member(self, json: str, sub: Attribute | None) -> str:
        return f"({json} -> {self.key(sub.name)})" if sub is not None else json

    def element_value(self, resolved: ResolvedPath, *, compare: bool) -> str:
        """The JSON an element `e` of a multi-valued attribute contributes."""
        sub = resolved.sub_attribute
        if sub is None and compare and resolved.attribute.type == "complex":
            sub = resolved.attribute.sub_attribute("value")
        return self.member("e", sub)

    def any_value(self, resolved: ResolvedPath, json: str, compare: bool, test: Callable[[str], str]) -> str:
        """`test` of the JSON a path names; of any element, for a multi-valued attribute."""
        if not resolved.attribute.multi_valued:
            return test(self.member(json, resolved.sub_attribute))
        element = self.element_value(resolved, compare=compare)
        return f"EXISTS (SELECT 1 FROM {_elements(resolved, json)} AS e WHERE {test(element)})"

    def present(self, path: AttributePath) -> str:
        resolved, column, json = self.source(path)
        if column is not None:
            return column.present
        return self.any_value(resolved, json, False, _json_present)

    def compare(self, path: AttributePath, op: str, value: Any) -> str:
        # source() adds parameters: call it once, as PostgreSQL rejects unused ones.
        resolved, column, json = self.source(path)
        target = compared_attribute(resolved)
        if column is not None:
            # Two-valued without COALESCE, so that indexes on these columns serve the filter.
            if column.folded is not None:
                comparison = self.comparison(column.folded, target, op, value, folded=True)
            else:
                comparison = self.comparison(column.sql, target, op, value)
            return f"({column.sql} IS NOT NULL AND {comparison})" if column.nullable else comparison
        compared = self.any_value(
            resolved, json, True,
            lambda element: f"COALESCE({self.comparison(self.typed(element, target), target, op, value)}, false)",
        )
        probe = self.index_probe(resolved, target, op, value)
        return f"({probe} AND {compared})" if probe else compared

    def index_probe(self, resolved: ResolvedPath, target: Attribute, op: str, value: Any) -> str:
        """For `eq` on a single-valued string attribute of an extension, the
        same test in the form an index on scim_text / scim_folded_text (see
        migration 0012) can serve under row-level security; "" otherwise. The
        exact comparison stays beside it, so the result is the same either way."""
        if (op != "eq" or not isinstance(value, str) or self.element_of is not None or not resolved.is_extension
                or resolved.attribute.multi_valued or resolved.sub_attribute is not None
                or target.type not in ("string", "reference")):
            return ""
        function = "scim_text" if target.case_exact else "scim_folded_text"
        parameter = _lower(f"{self.params.add(value)}::text", target)
        return (f"({function}(scim_attributes, {self.key(resolved.schema.id)}, {self.key(resolved.attribute.name)})"
                f" = {parameter})")

    def typed(self, json: str, target: Attribute) -> str:
        """The JSON value as SQL of the attribute's type; NULL when its JSON type differs."""
        if target.type in _STRING_TYPES:
            return f"(CASE WHEN jsonb_typeof({json}) = 'string' THEN {json} #>> '{{}}' END)"
        if target.type in _JSON_SCALARS:
            json_type, sql_type = _JSON_SCALARS[target.type]
            return f"(CASE WHEN jsonb_typeof({json}) = '{json_type}' THEN ({json})::{sql_type} END)"
        raise FilterError(f"filtering or sorting on {target.name} ({target.type}) is not supported")

    def sortable(self, json: str, target: Attribute) -> str:
        typed = self.typed(json, target)
        return _lower(typed, target) if target.type in _STRING_TYPES else typed

    def comparison(self, sql: str, target: Attribute, op: str, value: Any, *, folded: bool = False) -> str:
        symbol = _SYMBOLS.get(op)
        if target.type in _JSON_SCALARS:
            return f"({sql} {symbol} {self.params.add(value)}::{_JSON_SCALARS[target.type][1]})"
        if target.type == "dateTime":
            return f"({sql} {symbol} {self.params.add(parse_datetime(value))}::timestamptz)"
        parameter = _lower(f"{self.params.add(value)}::text", target)
        sql = sql if folded else _lower(sql, target)
        if op == "co":
            return f"(strpos({sql}, {parameter}) > 0)"
        if op == "sw":
            return f"starts_with({sql}, {parameter})"
        if op == "ew":
            return f"(right({sql}, length({parameter})) = {parameter})"
        if op in ORDER_OPERATORS:  # lexical: by code point, whatever the database's collation
            return f'({sql} COLLATE "C" {symbol} {parameter} COLLATE "C")'
        return f"({sql} {symbol} {parameter})"


def _json_present(json: str) -> str:
    # RFC 7644 §3.4.2.2 pr: a non-empty value, or a non-empty node for complex attributes.
    return f"COALESCE({json} NOT IN ('null', '\"\"', '[]', '{{}}'), false)"
