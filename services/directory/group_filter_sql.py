"""SCIM Group filters and sortBy as parameterised SQL over the `groups`
table; `members` lives in `group_members`, the vendor's extension values in
`groups.scim_attributes` (as a member's). Shares the comparison rules of the
User compiler in filter_sql.py."""

from __future__ import annotations

from scim.filter import Comparison, Filter, FilterError, Present, ValuePath, resolve_path, validate_filter
from scim.schema import GROUP, AttributePath, ResolvedPath, ResourceType
from services.directory.filter_sql import Column, SqlCompiler, SqlParams, sort_expression

_COLUMNS = {
    ("id", ""): Column("group_id", "group_id <> ''"),
    ("externalId", ""): Column("external_id", "COALESCE(external_id <> '', false)", nullable=True),
    ("displayName", ""): Column("display_name", "display_name <> ''", folded="display_name_lower"),
    ("meta", ""): Column(None, "true"),
    ("meta", "created"): Column("created_at", "true"),
    ("meta", "lastModified"): Column("updated_at", "true"),
    ("meta", "resourceType"): Column("'Group'::text", "true"),
}
# A member element's sub-attributes, as columns of group_members `gm`.
_MEMBER_COLUMNS = {"value": Column("gm.member_id", "true"), "type": Column("'User'::text", "true")}


def compile_group_filter(node: Filter, params: SqlParams, group_type: ResourceType = GROUP) -> str:
    """A SQL boolean expression over `groups` true exactly for the matching
    groups; `group_type` is Group with the vendor's extensions."""
    return _GroupCompiler(params, user_type=group_type).filter(validate_filter(node, group_type))


def group_sort_expression(path: str, params: SqlParams, group_type: ResourceType = GROUP) -> str:
    return sort_expression(path, params, group_type, _GroupCompiler(params, user_type=group_type))


def _key(resolved: ResolvedPath) -> tuple[str, str]:
    return resolved.attribute.name, resolved.sub_attribute.name if resolved.sub_attribute else ""


def _members_exists(condition: str) -> str:
    return (f"EXISTS (SELECT 1 FROM group_members gm WHERE gm.organization_id = groups.organization_id"
            f" AND gm.group_id = groups.group_id AND {condition})")


class _GroupCompiler(SqlCompiler):
    def filter(self, node: Filter) -> str:
        match node:
            case ValuePath(path, inner) if self._is_members(path):
                return _members_exists(_MemberCompiler(self.params).filter(inner))
            case Present(path) if self._is_members(path):
                return _members_exists("true")
            case Comparison(path, op, None) if self._is_members(path):
                # `eq null` is "not present" (RFC 7644 §3.4.2.2), of the list as a whole: no member at all.
                # (A member element always has its value and type, so `members.value` reads the same.)
                return _members_exists("true") if op == "ne" else f"(NOT {_members_exists('true')})"
            case Comparison(path, _op, _value) if self._is_members(path):
                sub = path.sub_attribute or "value"
                element = Comparison(AttributePath("", sub), node.op, node.value)
                return _members_exists(_MemberCompiler(self.params).filter(element))
        return super().filter(node)

    def _is_members(self, path: AttributePath) -> bool:
        resolved = resolve_path(self.user_type, path)
        return not resolved.is_extension and resolved.attribute.name == "members"

    def source(self, path: AttributePath) -> tuple[ResolvedPath, Column | None, str | None]:
        resolved = resolve_path(self.user_type, path)
        if resolved.is_extension:
            return super().source(path)  # groups.scim_attributes, as members.scim_attributes
        column = _COLUMNS.get(_key(resolved))
        if column is None:
            raise FilterError(f"filtering groups on {path} is not supported")
        return resolved, column, None


class _MemberCompiler(SqlCompiler):
    """Inside `members[...]`: paths name a member element's sub-attributes."""

    def source(self, path: AttributePath) -> tuple[ResolvedPath, Column | None, str | None]:
        members = GROUP.schema.attribute("members")
        sub = members.sub_attribute(path.attribute)
        column = _MEMBER_COLUMNS.get(sub.name) if sub is not None else None
        if column is None:
            raise FilterError(f"filtering group members on {path} is not supported (value and type are)")
        return ResolvedPath(GROUP.schema, members, sub), column, None
