"""SCIM PATCH on Groups (RFC 7644 §3.5.2) as a plan of set operations.

Pure: `plan_group_patch` reads a PATCH body and never needs the group's
current members, so a group of 10,000 members is never loaded or rewritten
whole. The plan says what changes: a new displayName and/or externalId, and
membership steps — add these ids, remove these ids, replace the whole set,
clear it — that the caller runs in order under the group's lock.
`apply_steps` is the executable definition of what the steps mean.

The plan is the net effect of the request, so it is small and exact: either
one absolute step (`replace` with the final set, or `clear`), or at most a
`remove` then an `add` of disjoint sets. "remove a, then add a" ends with `a`
a member and plans just `add a`; "add a, then remove a" plans `remove a`
(it may have been a member before); a member added and removed in one request
is never checked to exist, as it ends up absent either way.

The rules, and the dialect decisions they take:

- Envelope (§3.5.2), as `scim.patch`: member names match without case
  (`Operations`, `op`, `path`, `value`); `schemas`, when it lists URNs, must
  list `urn:ietf:params:scim:api:messages:2.0:PatchOp`; `Operations` is a
  non-empty array of at most MAX_OPERATIONS objects; `op` is add, remove or
  replace in any case (Entra sends "Add"). All INVALID_SYNTAX.
- Paths: `displayName`, `externalId`, `members`, `members[filter]`, each
  optionally prefixed with the Group schema's URN. A path that does not
  parse or names no Group attribute (including `schemas`) is INVALID_PATH.
  `id`, `meta` and their sub-attributes are read-only: MUTABILITY.
- members (RFC 7643 §4.2): a value is an array of objects (Entra may send a
  single object) each with a non-empty string `value`, the member's id;
  other sub-attributes (`display`, `type`, `$ref`) are ignored. Anything
  else is INVALID_VALUE.
  * `add` adds the listed ids; `add` with `null` or `[]` adds nothing.
  * `replace` replaces the whole set (§3.5.2.3); with `null` or `[]` it
    clears it (Okta's "remove every member"), never a 400.
  * `remove` (§3.5.2.2) without `value` (or `value: null`) clears the set;
    with a `value` (Entra's `{"op": "Remove", "path": "members", "value":
    [{"value": "a"}]}`) it removes only the listed ids — `[]` removes none,
    never the whole group.
  * `remove` with a value filter removes the members it selects. The planner
    has no member list, so the filter must name ids: `value eq "x"`, joined
    with `or` (a union) or `and` (an intersection). A conjunct on another
    sub-attribute that is an `eq` comparison or `pr` (`members[value eq "x"
    and type eq "User"]`) is read as describing the member the id names, not
    as a further condition. Any other filter (`display co "a"`, `not (…)`,
    `value ne "x"`) is INVALID_FILTER; one that does not parse is
    INVALID_PATH, as in `scim.patch`.
  * A member's sub-attributes are immutable (`value`, `type`, `$ref`) or
    read-only (`display`), and members are added and removed whole: any
    operation on `members.sub` or `members[filter].sub`, and add/replace on
    `members[filter]`, is MUTABILITY.
- displayName is required (RFC 7643 §4.2): removing it, or setting it to
  `null` or a blank string, is MUTABILITY (§3.5.2: "If an attribute is
  removed or becomes unassigned and is defined as a required attribute …");
  a value that is not a string is INVALID_VALUE.
- externalId: `remove`, `null` or `""` clears it (the plan holds None); a
  value that is not a string is INVALID_VALUE.
- The vendor's extensions of Group (the `group_type` given): an operation
  whose path names an extension (its bare URN) or an attribute of one
  (`urn:…:Group:costCenter`, Entra's flattened form), and a path-less
  value's keys naming them (Okta's nested extension object), are not planned
  here but passed on whole, in order, as `extension_operations`: the caller
  applies them to the stored extension values with `scim.patch.apply_patch`,
  under the same rules as a User's extensions.
- No path (§3.5.2.1, §3.5.2.3): `value` is an object whose keys are applied
  as paths (`{"members": […], "displayName": …}`; add adds members, replace
  replaces them). As in a POST, keys naming read-only attributes (Okta
  repeats `id`), `schemas` and unknown attributes are ignored; a key holding
  a value filter is an explicit path. `remove` without a path is NO_TARGET.
  `add`/`replace` with a path and no `value` is INVALID_VALUE.
- Size: at most MAX_MEMBER_IDS distinct member ids may be named in one
  request (listed in values or in filters, for any op); more is
  INVALID_VALUE, checked before the rest of the list is read.
- Errors name the failing operation (`Operations[2]: …`); the plan is all or
  nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Iterable

from scim.errors import ScimError
from scim.filter import And, Comparison, Filter, FilterError, Or, Present, parse_patch_path
from scim.patch import apply_patch
from scim.patch_request import MAX_OPERATIONS, PatchOperation, lower_keys, patch_operations
from scim.schema import GROUP, Attribute, PathError, ResourceType, resolve
from scim.users import check_required_extension_attributes, names_extension

__all__ = [
    "MAX_MEMBER_IDS",
    "MAX_OPERATIONS",
    "UNCHANGED",
    "GroupPatchPlan",
    "apply_extension_operations",
    "MembershipStep",
    "apply_steps",
    "plan_group_patch",
]

MAX_MEMBER_IDS = 10_000

STEP_KINDS = ("add", "remove", "replace", "clear")


class _Unchanged(enum.Enum):
    """The type of UNCHANGED (an enum, so it stays one object when copied or pickled)."""

    UNCHANGED = "UNCHANGED"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged.UNCHANGED


@dataclass(frozen=True)
class MembershipStep:
    kind: str  # "add" | "remove" | "replace" | "clear"
    member_ids: tuple[str, ...] = ()  # deduplicated, in first-seen order; empty for "clear"

    def __post_init__(self) -> None:
        if self.kind not in STEP_KINDS:
            raise ValueError(f"unknown membership step {self.kind!r}")
        if self.kind == "clear" and self.member_ids:
            raise ValueError("a clear step names no member ids")


@dataclass(frozen=True)
class GroupPatchPlan:
    display_name: str | _Unchanged = UNCHANGED  # a new non-blank displayName
    external_id: str | None | _Unchanged = UNCHANGED  # None: cleared
    steps: tuple[MembershipStep, ...] = ()  # in order
    # (index in the request, PATCH operation {"op", "path"?, "value"?}) on the
    # extension values, in order; see apply_extension_operations.
    extension_operations: tuple[tuple[int, dict[str, Any]], ...] = ()

    @property
    def changes_members(self) -> bool:
        return bool(self.steps)


def apply_steps(current: Iterable[str], steps: Iterable[MembershipStep]) -> set[str]:
    """The member set after `steps` (a new set; `current` is not changed)."""
    members = set(current)
    for step in steps:
        if step.kind == "add":
            members |= set(step.member_ids)
        elif step.kind == "remove":
            members -= set(step.member_ids)
        elif step.kind == "replace":
            members = set(step.member_ids)
        elif step.kind == "clear":
            members = set()
        else:
            raise ValueError(f"unknown membership step {step.kind!r}")
    return members


def plan_group_patch(body: dict[str, Any], group_type: ResourceType = GROUP) -> GroupPatchPlan:
    """The plan for a Group PATCH `body` (RFC 7644 §3.5.2); see the module
    docstring for the rules. `group_type` is Group with the vendor's
    extensions. Raises ScimError."""
    planner = _Planner(group_type)
    for index, operation in enumerate(patch_operations(body)):
        planner.index = index
        try:
            planner.operation(operation)
        except ScimError as error:
            raise ScimError(error.scim_type, f"Operations[{index}]: {error.message}") from None
    return planner.plan()


def apply_extension_operations(plan: GroupPatchPlan, stored: dict[str, Any],
                               group_type: ResourceType) -> dict[str, Any]:
    """The group's extension values (`{urn: {…}}`, canonical) after the plan's
    extension operations, each applied as `scim.patch` applies a User's. Raises
    ScimError naming the request's operation; `stored` is not changed."""
    values = stored
    for index, operation in plan.extension_operations:
        try:
            values = apply_patch(values, {"Operations": [operation]}, group_type).attributes
        except ScimError as error:
            raise ScimError(error.scim_type, f"Operations[{index}]{error.message.removeprefix('Operations[0]')}") from None
    check_required_extension_attributes(group_type, values)
    return values


# ---------------------------------------------------------------- envelope

# ---------------------------------------------------------------- paths

@dataclass(frozen=True)
class _Target:
    text: str
    attribute: Attribute
    sub: Attribute | None = None
    value_filter: Filter | None = None

    @property
    def read_only(self) -> bool:
        return any(d is not None and d.mutability == "readOnly" for d in (self.attribute, self.sub))


_RESOURCE = object()  # a path naming the Group schema itself: like no path


def _target(text: str) -> _Target | object:
    """What a path names; INVALID_PATH when it names no Group attribute."""
    text = text.strip()
    if text.lower() == GROUP.schema.id.lower():
        return _RESOURCE
    try:
        patch_path = parse_patch_path(text, GROUP)
        resolved = resolve(GROUP, patch_path.attribute)
    except (FilterError, PathError) as error:
        raise ScimError("invalidPath", f"invalid path {text!r}: {error}") from None
    sub = resolved.sub_attribute
    if patch_path.sub_attribute:  # members[...].sub: checked by parse_patch_path
        sub = resolved.attribute.sub_attribute(patch_path.sub_attribute)
    return _Target(text, resolved.attribute, sub, patch_path.value_filter)


def _unfiltered(path: str) -> str:
    """A path without its value filter and what follows it: the attribute it is on."""
    return path.split("[", 1)[0].strip()


# ---------------------------------------------------------------- planning

class _Planner:
    def __init__(self, group_type: ResourceType) -> None:
        self.group_type = group_type
        self.index = 0  # of the operation being planned
        self.extension_operations: list[tuple[int, dict[str, Any]]] = []
        self.display_name: str | _Unchanged = UNCHANGED
        self.external_id: str | None | _Unchanged = UNCHANGED
        # Once a replace or clear fixed the whole set, `fate` lists the ids
        # that are members (True) or not (False) and absent ids are not
        # members; before that, absent ids are left as they are. Python
        # dicts keep first-insertion order, hence first-seen order.
        self.absolute = False
        self.fate: dict[str, bool] = {}
        self.named: set[str] = set()  # every id the request names, for MAX_MEMBER_IDS

    def plan(self) -> GroupPatchPlan:
        if self.absolute:
            kept = tuple(i for i, member in self.fate.items() if member)
            steps = (MembershipStep("replace", kept) if kept else MembershipStep("clear"),)
        else:
            removed = tuple(i for i, member in self.fate.items() if not member)
            added = tuple(i for i, member in self.fate.items() if member)
            steps = tuple(MembershipStep(kind, ids) for kind, ids in (("remove", removed), ("add", added)) if ids)
        return GroupPatchPlan(self.display_name, self.external_id, steps, tuple(self.extension_operations))

    # membership, as set operations on the net effect

    def add(self, ids: Iterable[str]) -> None:
        for member_id in ids:
            self.fate[member_id] = True

    def remove(self, ids: Iterable[str]) -> None:
        for member_id in ids:
            self.fate[member_id] = False

    def replace(self, ids: Iterable[str]) -> None:
        self.absolute = True
        self.fate = dict.fromkeys(ids, True)

    def name(self, member_id: str) -> str:
        self.named.add(member_id)
        if len(self.named) > MAX_MEMBER_IDS:
            raise ScimError(
                "invalidValue",
                f"a PATCH may name at most {MAX_MEMBER_IDS} distinct member ids; send the change in several requests",
            )
        return member_id

    # operations

    def operation(self, operation: PatchOperation) -> None:
        if operation.path is not None and names_extension(self.group_type, _unfiltered(operation.path)):
            self.extension_operations.append((self.index, {
                "op": operation.op, "path": operation.path, **({"value": operation.value} if operation.has_value else {}),
            }))
            return
        target = _RESOURCE if operation.path is None else _target(operation.path)
        if target is _RESOURCE:
            if operation.op == "remove":
                raise ScimError("noTarget", "remove needs a path naming an attribute, not the whole resource "
                                            "(RFC 7644 §3.5.2.2)")
            if not isinstance(operation.value, dict):
                raise ScimError("invalidValue", "without a path, value must be an object of attributes")
            self.resource_value(operation.op, operation.value)
            return
        assert isinstance(target, _Target)
        if target.read_only:
            raise ScimError("mutability", f"{target.text} is read-only")
        if operation.op != "remove" and not operation.has_value:
            raise ScimError("invalidValue", f"{operation.op} needs a value")
        self.target(operation.op, target, operation.value, operation.has_value)

    def resource_value(self, op: str, value: dict[Any, Any]) -> None:
        """A path-less add/replace: each key of `value` as a path."""
        extension_values = {}
        for key, item in value.items():
            if not isinstance(key, str):
                continue
            if names_extension(self.group_type, _unfiltered(key)):
                extension_values[key] = item
                continue
            try:
                target = _target(key)
            except ScimError:
                if "[" in key:
                    raise
                continue  # unknown attributes and `schemas` are ignored, as in a POST
            if target is _RESOURCE:
                if isinstance(item, dict):
                    self.resource_value(op, item)
                continue
            assert isinstance(target, _Target)
            if not target.read_only:  # Okta repeats `id`: ignored
                self.target(op, target, item, True)
        if extension_values:
            self.extension_operations.append((self.index, {"op": op, "value": extension_values}))

    def target(self, op: str, target: _Target, value: Any, has_value: bool) -> None:
        name = target.attribute.name
        if name == "members":
            self.members(op, target, value, has_value)
        elif target.sub is not None:  # displayName and externalId are simple: parse_patch_path lets none through
            raise ScimError("invalidPath", f"{name} has no sub-attributes")
        elif name == "displayName":
            if op == "remove" or value is None or (isinstance(value, str) and not value.strip()):
                raise ScimError("mutability", "displayName is required and cannot be removed or cleared")
            if not isinstance(value, str):
                raise ScimError("invalidValue", "displayName must be a string")
            self.display_name = value
        elif name == "externalId":
            if op == "remove" or value is None or value == "":
                self.external_id = None
            elif isinstance(value, str):
                self.external_id = value
            else:
                raise ScimError("invalidValue", "externalId must be a string")
        else:
            raise ScimError("invalidPath", f"{target.text} cannot be changed by PATCH")

    def members(self, op: str, target: _Target, value: Any, has_value: bool) -> None:
        if target.sub is not None:
            raise ScimError(
                "mutability",
                f"{target.text}: a member's {target.sub.name} cannot be changed; add or remove whole members",
            )
        if target.value_filter is not None:
            if op != "remove":
                raise ScimError(
                    "mutability",
                    f"{op} on {target.text}: members cannot be changed in place; add or remove whole members",
                )
            ids = _filter_ids(target.value_filter)
            if ids is None:
                raise ScimError(
                    "invalidFilter",
                    f"{target.text}: a members filter must name member ids with 'value eq \"…\"' "
                    "(joined by or/and); other filters are not supported in PATCH",
                )
            self.remove(self.name(i) for i in ids)
            return
        if op == "remove":
            if not has_value or value is None:
                self.replace(())  # §3.5.2.2: no value, remove every member
            else:
                self.remove(self.member_values(value, target.text))
        elif op == "add":
            if value is not None:
                self.add(self.member_values(value, target.text))
        elif value is None or value == []:
            self.replace(())
        else:
            self.replace(self.member_values(value, target.text))

    def member_values(self, value: Any, where: str) -> list[str]:
        """The ids a members value lists: an array of {"value": id} objects, or one such object."""
        elements = value if isinstance(value, list) else [value]
        ids = []
        for position, element in enumerate(elements):
            member_id = lower_keys(element).get("value") if isinstance(element, dict) else None
            if not isinstance(member_id, str) or not member_id.strip():
                raise ScimError(
                    "invalidValue",
                    f"{where}: member {position} must be an object whose \"value\" is a member id (a non-empty string)",
                )
            ids.append(self.name(member_id))
        return ids


def _filter_ids(node: Filter) -> list[str] | None:
    """The ids of the members a (validated) members value filter selects,
    in first-seen order, or None when the filter does not name them."""
    match node:
        case Comparison(path, "eq", str() as member_id) if path.attribute == "value":
            return [member_id]
        case Or(left, right):
            left_ids, right_ids = _filter_ids(left), _filter_ids(right)
            if left_ids is None or right_ids is None:
                return None
            return list(dict.fromkeys(left_ids + right_ids))
        case And(left, right):
            left_ids, right_ids = _filter_ids(left), _filter_ids(right)
            if left_ids is not None and right_ids is not None:
                both = set(right_ids)
                return [i for i in left_ids if i in both]
            if left_ids is not None and _describes_member(right):
                return left_ids
            if right_ids is not None and _describes_member(left):
                return right_ids
    return None


def _describes_member(node: Filter) -> bool:
    """`type eq "User"`, `$ref pr`, …: an `eq` or `pr` on a sub-attribute
    other than `value`, or several joined by `and`."""
    match node:
        case And(left, right):
            return _describes_member(left) and _describes_member(right)
        case Comparison(path, "eq", _) | Present(path):
            return path.attribute != "value"
    return False
