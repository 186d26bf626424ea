"""Roles a SCIM connection grants on a member's SCIM attributes: pure rules.

Two kinds, each a role source of its own:
- a value of the member's `roles` or `entitlements` (Entra sends the app roles
  assigned to a user as `roles`), matched on the elements' `value` without case;
- a rule: a SCIM filter over the member's attributes (the User type with the
  project's extensions), e.g. `…:enterprise:2.0:User:department eq "Finance"`.

A rule is checked when it is saved; one that can no longer be evaluated (an
extension it names was removed since) matches no member, and is never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from scim.filter import And, Comparison, Filter, FilterError, Not, Or, Present, ValuePath, matches, parse_filter
from scim.schema import CORE_USER, ResourceType

ATTRIBUTES = ("roles", "entitlements")
MAX_VALUE_LENGTH = 256
# Every rule is evaluated on every recomputation of the connection's members.
MAX_RULES = 100

# Attributes a filter may name but a member's stored SCIM attributes never
# hold, so a rule naming them would silently match nobody (or everybody).
_NOT_STORED = {
    "id": "it is scimd's, not the identity provider's",
    "meta": "it is scimd's, not the identity provider's",
    "password": "it is never stored",
    "schemas": "it is not stored",
    "groups": "map the group to the role instead",
}


@dataclass(frozen=True, order=True)
class AttributeAssignment:
    attribute: str
    value: str
    role_id: str

    def is_held_by(self, scim_attributes: Mapping[str, Any]) -> bool:
        elements = scim_attributes.get(self.attribute)
        wanted = self.value.lower()
        return isinstance(elements, list) and any(
            isinstance(e, dict) and isinstance(e.get("value"), str) and e["value"].lower() == wanted for e in elements
        )


@dataclass(frozen=True, order=True)
class RuleAssignment:
    filter: str
    role_id: str


@dataclass(frozen=True)
class CompiledRule:
    assignment: RuleAssignment
    node: Filter | None  # None: the rule cannot be evaluated any more
    user_type: ResourceType

    def matches(self, scim_attributes: Mapping[str, Any]) -> bool:
        if self.node is None:
            return False
        try:
            return matches(self.node, dict(scim_attributes), self.user_type)
        except (ValueError, TypeError):
            return False


def attribute_assignment(attribute: str, value: str, role_id: str) -> AttributeAssignment:
    """The assignment with the attribute's canonical name; ValueError says what is wrong."""
    canonical = next((name for name in ATTRIBUTES if name == attribute.lower()), None)
    if canonical is None:
        raise ValueError(f"attribute must be one of {', '.join(ATTRIBUTES)}, not {attribute!r}")
    if not value or len(value) > MAX_VALUE_LENGTH:
        raise ValueError(f"each attribute assignment needs a value of 1-{MAX_VALUE_LENGTH} characters")
    if not role_id:
        raise ValueError("each attribute assignment needs a role_id")
    return AttributeAssignment(canonical, value, role_id)


def distinct_attribute_assignments(assignments: Iterable[AttributeAssignment]) -> list[AttributeAssignment]:
    """Sorted, one per (attribute, value without case, role): the first spelling given is kept."""
    kept: dict[tuple[str, str, str], AttributeAssignment] = {}
    for assignment in assignments:
        kept.setdefault((assignment.attribute, assignment.value.lower(), assignment.role_id), assignment)
    return sorted(kept.values())


def check_rule(text: str, user_type: ResourceType) -> None:
    """Raises FilterError, with the parser's message, unless `text` is a filter
    a rule can use: valid for the User type and naming only stored attributes."""
    node = parse_filter(text, user_type)
    for path in _attribute_paths(node):
        reason = _NOT_STORED.get(path.attribute.lower()) if path.urn in ("", CORE_USER) else None
        if reason:
            raise FilterError(f"a rule cannot name {path.attribute}: {reason}")


def compile_rules(rules: Iterable[RuleAssignment], user_type: ResourceType) -> tuple[CompiledRule, ...]:
    compiled = []
    for rule in sorted(rules):
        try:
            node: Filter | None = parse_filter(rule.filter, user_type)
        except FilterError:
            node = None
        compiled.append(CompiledRule(rule, node, user_type))
    return tuple(compiled)


def _attribute_paths(node: Filter):
    """The paths a filter names at the top level (a value path's inner filter names sub-attributes)."""
    match node:
        case And(left, right) | Or(left, right):
            yield from _attribute_paths(left)
            yield from _attribute_paths(right)
        case Not(operand):
            yield from _attribute_paths(operand)
        case Comparison(path, _, _) | Present(path) | ValuePath(path, _):
            yield path
