"""SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's stored attributes.

Pure: `apply_patch` takes the stored canonical attributes (as `scim.users`
produces them) and a PATCH body, and returns new attributes and the names of
the top-level attributes that changed (an extension's URN for changes inside
it). It never mutates its input and is atomic: the first failing operation
raises ScimError and nothing is applied. The caller validates the result
again (`normalize_user`) and derives events from `changed`.

The rules, with the dialect decisions they take (Okta, Microsoft Entra ID,
Google, OneLogin, JumpCloud and Rippling send what is accepted here):

- Envelope (§3.5.2): member names match without case (`Operations`,
  `operations`; `op`, `Op`). `schemas` may be missing (or null or empty),
  but when it lists URNs one must be
  `urn:ietf:params:scim:api:messages:2.0:PatchOp`. `Operations`
  must be a non-empty array of at most MAX_USER_OPERATIONS objects (which,
  with at most MAX_MULTI_VALUES values in any list, bounds a PATCH's work;
  a group's membership PATCH, scim.group_patch, takes more). `op` is `add`,
  `remove` or `replace` in any case (Entra sends "Add", "Replace",
  "Remove"). All of these are INVALID_SYNTAX.
- Paths (§3.5.2, §3.10): `attr`, `attr.sub`, URN-qualified
  `urn:…:enterprise:2.0:User:manager`, value-filter paths
  `emails[type eq "work"].value`, and an extension's bare URN for the whole
  extension object. A path that does not parse, whose filter does not parse
  (scim.filter's FilterError), or that names no attribute is INVALID_PATH —
  invalidFilter is left to the `filter` query parameter, as §3.5.2 lists
  invalidPath for a PATCH path "that is invalid or not supported". Except:
  given the member's undeclared attributes, a well-formed plain path that no
  schema declares applies to them (kept as sent, as a POST keeps them), and
  a path-less value's unknown keys too; a strict connection refuses both.
- Mutability (RFC 7643 §2.2, RFC 7644 §3.5.2): an explicit path to a
  read-only attribute or sub-attribute (`id`, `meta`, `groups`,
  `manager.displayName`) is MUTABILITY. A write-only one (`password`) is
  accepted and dropped: scimd never stores passwords. An immutable attribute
  may be added when unassigned but never changed (MUTABILITY).
- No path (§3.5.2.1, §3.5.2.3): `value` is an object whose keys are applied
  as if each were an operation with that key as its path. Keys may be
  attribute names and, as Entra sends them, sub-attribute paths
  (`name.givenName`), URN-qualified paths and value-filter paths. As in a
  POST, keys naming read-only attributes (Okta repeats `id`), `schemas`, and
  unknown attributes or URNs are ignored; a key holding a value filter is an
  explicit path, so a bad one is INVALID_PATH. `remove` without a path is
  NO_TARGET (§3.5.2.2).
- Values are normalized as in a POST (`scim.users.normalize_value`): names
  canonicalized, Entra's "True"/"False" coerced, a bare string for `manager`
  becomes `{"value": …}`, types checked (INVALID_VALUE). `null`, `""`, `[]`
  or `{}` with `add`/`replace` clears the target (RFC 7643 §2.5). `add` or
  `replace` without `value` is INVALID_VALUE.
- `add` (§3.5.2.1): on a single-valued attribute it replaces the value; on a
  complex one it merges the given sub-attributes; on a multi-valued one it
  appends the elements not already present. `replace` (§3.5.2.3): on a
  complex attribute (or a whole extension) it merges too ("sub-attributes
  that are not specified … are left unchanged"); on a multi-valued attribute
  without a filter it replaces the whole array.
- Value filters: the matching elements are changed (`.sub` sets that
  sub-attribute on each; no sub-attribute replaces, for `add` merges, each
  element). When nothing matches:
  * `add` creates the element the filter describes, when the filter is made
    of `eq` comparisons joined by `and`: `emails[type eq "work"].value` adds
    `{"type": "work", "value": …}` (Entra sends this for a new work email);
    other filters are NO_TARGET.
  * `replace` is NO_TARGET (§3.5.2.3) — except on `emails`, where Entra
    replaces `emails[type eq "work"].value` of users that have no work email,
    and it creates the element like `add`.
  * `remove` is a no-op success: removing what is not there leaves the
    resource as asked (the RFC's noTarget is for a missing path), and IdPs
    retry removals. So is `add`/`replace` with `null`/`""` (a clear).
  `remove` of a multi-valued attribute with a `value` array (Entra's
  `{"op": "Remove", "path": "members", "value": [{"value": "…"}]}`) removes
  just the listed elements; without `value` it removes the attribute.
- Multi-valued results (RFC 7643 §2.4): exact duplicates are kept once;
  setting `primary: true` on an element clears it on the others (§3.5.2);
  elements left without their `value` (or with only `type`/`primary`) are
  dropped, and an attribute left with no element is unassigned.
- Required attributes (§3.5.2): removing one, or clearing it with `null`/`""`
  (`userName` for Users), is MUTABILITY — "If an attribute is removed or
  becomes unassigned and is defined as a required attribute …". So is
  `active`, though optional in RFC 7643: scimd holds every user active or
  deactivated, and has no unassigned state to give it (to deactivate, replace
  it with false). Read-only attributes (`id`, `meta`, `groups`) are
  MUTABILITY (above); `schemas` is not a PATCH path (INVALID_PATH).
"""

from __future__ import annotations

import copy
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from scim.errors import ScimError
from scim.filter import And, Comparison, FilterError, filter_terms, matches_element, parse_patch_path
from scim.patch_request import MAX_OPERATIONS, PatchOperation, patch_operations
from scim.schema import Attribute, AttributePath, PathError, ResourceType, Schema, parse_attribute_path, resolve
from scim.users import (
    MAX_UNDECLARED_NAME,
    UNASSIGNED,
    element_key,
    extension_schema,
    is_hollow,
    normalize_value,
    settle_primary,
    unique,
)

__all__ = ["MAX_OPERATIONS", "MAX_USER_OPERATIONS", "PatchResult", "apply_patch"]

# Real IdPs send a handful; a hundred, over lists of at most MAX_MULTI_VALUES, stays cheap.
MAX_USER_OPERATIONS = 100
# Filter comparisons a PATCH may evaluate in all (each value filter once per
# element of its list): real PATCHes need tens; this is about 40 ms of CPU.
MAX_FILTER_WORK = 10_000
_filter_work: ContextVar[list[int]] = ContextVar("patch_filter_work")


# Attributes no operation may leave unassigned, though RFC 7643 makes them
# optional: a stored user without `active` is an active one, so unassigning it
# reactivated a deactivated user, or changed nothing while answering 200.
_STAY_ASSIGNED = {"active": "replace it with false to deactivate the user, or with true to reactivate"}

# Multi-valued attributes where `replace` through a value filter that matches
# nothing creates the element (Entra's dialect) instead of failing noTarget.
_REPLACE_CREATES = frozenset({"emails"})


@dataclass(frozen=True)
class PatchResult:
    attributes: dict[str, Any]
    changed: frozenset[str]
    # The undeclared attributes after the PATCH, when they were given (see apply_patch).
    undeclared: dict[str, Any] | None = None


@dataclass
class _Undeclared:
    """Where operations on attributes no schema declares land: kept as sent,
    or refused (a strict connection)."""

    values: dict[str, Any]
    refuse: bool


@dataclass(frozen=True)
class _Target:
    """Where an operation lands: an attribute of the core schema (`scope`
    None) or of an extension, or a whole extension (`attribute` None)."""

    text: str
    scope: Schema | None
    attribute: Attribute | None = None
    value_filter: Any = None
    sub: Attribute | None = None

    def definitions(self) -> tuple[Attribute, ...]:
        return tuple(d for d in (self.attribute, self.sub) if d is not None)


_RESOURCE = object()  # a path naming the core schema itself: the resource


def apply_patch(attributes: dict[str, Any], body: dict[str, Any], resource_type: ResourceType,
                undeclared: dict[str, Any] | None = None, *, refuse_undeclared: bool = False) -> PatchResult:
    """`attributes` with the PATCH `body` applied (RFC 7644 §3.5.2); see the
    module docstring for the rules. Raises ScimError; applies nothing then.

    With `undeclared` (a member's attributes no schema declares, as sent),
    operations on attributes no schema declares apply to a copy of it, which
    the result holds: a plain path names its key (`favoriteColor`,
    `urn:acme:1.0:User:costCenter`, inside the `urn:acme:1.0:User` object when
    one is kept), and a path-less value's unknown keys are kept as a POST keeps
    them. `refuse_undeclared` makes them an error instead (a strict connection)."""
    operations = patch_operations(body, MAX_USER_OPERATIONS)
    _filter_work.set([MAX_FILTER_WORK])
    before = _canonical(resource_type, attributes)
    state = copy.deepcopy(before)
    raw = None
    if undeclared is not None or refuse_undeclared:
        raw = _Undeclared(copy.deepcopy(undeclared or {}), refuse_undeclared)
    for index, operation in enumerate(operations):
        try:
            _apply_operation(state, operation, resource_type, raw)
            _check_bounds(state, resource_type)  # after each one: no operation works on an unbounded list
        except ScimError as error:
            raise ScimError(error.scim_type, f"Operations[{index}]: {error.message}") from None
    _tidy(state, resource_type)
    for attribute in resource_type.schema.attributes:
        if attribute.required and attribute.name in before and attribute.name not in state:
            raise ScimError("mutability", f"{attribute.name} is required and cannot be removed")
    changed = frozenset(key for key in attributes.keys() | state.keys() if attributes.get(key) != state.get(key))
    return PatchResult(attributes=state, changed=changed, undeclared=raw.values if raw is not None else None)


# ---------------------------------------------------------------- envelope

# ---------------------------------------------------------------- operations

def _apply_operation(state: dict[str, Any], operation: PatchOperation, resource_type: ResourceType,
                     raw: _Undeclared | None) -> None:
    if raw is not None and operation.path is not None and _is_undeclared(resource_type, operation.path):
        if operation.op != "remove" and not operation.has_value:
            raise ScimError("invalidValue", f"{operation.op} needs a value")
        _apply_undeclared(raw, operation.op, operation.path.strip(), operation.value)
        return
    target = _RESOURCE if operation.path is None else _target(resource_type, operation.path)
    if target is _RESOURCE:
        if operation.op == "remove":
            raise ScimError("noTarget", "remove needs a path naming an attribute, not the whole resource "
                                        "(RFC 7644 §3.5.2.2)")
        if not isinstance(operation.value, dict):
            raise ScimError("invalidValue", "without a path, value must be an object of attributes")
        _apply_resource_value(state, operation.op, operation.value, resource_type, raw)
        return
    definitions = target.definitions()
    if any(d.mutability == "readOnly" for d in definitions):
        raise ScimError("mutability", f"{target.text} is read-only")
    if any(d.mutability == "writeOnly" for d in definitions):
        return  # password: accepted, never stored
    if operation.op != "remove" and not operation.has_value:
        raise ScimError("invalidValue", f"{operation.op} needs a value")
    _apply_target(state, operation.op, target, operation.value, operation.has_value)


def _apply_resource_value(state: dict[str, Any], op: str, value: dict[str, Any], resource_type: ResourceType,
                          raw: _Undeclared | None) -> None:
    """A path-less add/replace: each key of `value` as an operation's path."""
    for key, item in value.items():
        if not isinstance(key, str):
            continue
        try:
            target = _target(resource_type, key)
        except ScimError:
            if "[" in key:
                raise
            if raw is not None and key.lower() != "schemas" and _is_undeclared(resource_type, key):
                _apply_undeclared(raw, op, key.strip(), item)
            continue  # otherwise ignored, as in a POST
        if target is _RESOURCE:
            if isinstance(item, dict):
                _apply_resource_value(state, op, item, resource_type, raw)
            continue
        if any(d.mutability in ("readOnly", "writeOnly") for d in target.definitions()):
            continue
        _apply_target(state, op, target, item, True)


def _is_undeclared(resource_type: ResourceType, text: str) -> bool:
    """Whether `text` is a well-formed plain path (no value filter) that no schema declares."""
    if "[" in text or text.strip().lower() == "schemas":
        return False
    try:
        path = parse_attribute_path(text)
    except PathError:
        return False
    if extension_schema(resource_type, text) is not None or text.strip().lower() == resource_type.schema.id.lower():
        return False
    try:
        resolve(resource_type, path)
    except PathError:
        return True
    return False


def _apply_undeclared(raw: _Undeclared, op: str, key: str, value: Any) -> None:
    """One operation on a kept undeclared attribute: set, merged (add of an
    object onto an object) or removed (remove, or a value meaning unassigned)."""
    if raw.refuse:
        raise ScimError("invalidPath", f"no schema declares {key[:200]!r} (this connection refuses undeclared attributes)")
    if len(key) > MAX_UNDECLARED_NAME:
        raise ScimError("invalidPath", f"a path no schema declares is at most {MAX_UNDECLARED_NAME} characters")
    container, name = raw.values, key
    urn, _, attribute = key.rpartition(":")
    for kept in raw.values:
        if urn and kept.lower() == urn.lower() and isinstance(raw.values[kept], dict):
            container, name = raw.values[kept], attribute  # inside an undeclared extension kept as an object
    existing = next((k for k in container if k.lower() == name.lower()), name)
    if op == "remove" or _is_unassigned(value):
        container.pop(existing, None)
    elif op == "add" and isinstance(value, dict) and isinstance(container.get(existing), dict):
        container[existing] = {**container[existing], **value}
    else:
        container[existing] = value


def _target(resource_type: ResourceType, text: str) -> Any:
    """The _Target a path names (or _RESOURCE); INVALID_PATH when none."""
    text = text.strip()
    if text.lower() == resource_type.schema.id.lower():
        return _RESOURCE
    extension = extension_schema(resource_type, text)
    if extension is not None:
        return _Target(text, extension)
    try:
        patch_path = parse_patch_path(text, resource_type)
        resolved = resolve(resource_type, patch_path.attribute)
    except (FilterError, PathError) as error:
        raise ScimError("invalidPath", f"invalid path {text!r}: {error}") from None
    scope = resolved.schema if resolved.is_extension else None
    attribute = resolved.attribute
    if patch_path.value_filter is None:
        return _Target(text, scope, attribute, sub=resolved.sub_attribute)
    if resolved.sub_attribute is not None or not attribute.multi_valued or attribute.type != "complex":
        raise ScimError("invalidPath", f"invalid path {text!r}: a value filter needs a multi-valued complex attribute")
    sub = None
    if patch_path.sub_attribute:
        sub = attribute.sub_attribute(patch_path.sub_attribute)
        if sub is None:
            raise ScimError("invalidPath", f"{attribute.name} has no sub-attribute {patch_path.sub_attribute!r}")
    return _Target(text, scope, attribute, patch_path.value_filter, sub)


def _apply_target(state: dict[str, Any], op: str, target: _Target, value: Any, has_value: bool) -> None:
    if target.attribute is None:
        _apply_extension(state, op, target, value)
        return
    if target.scope is None:
        container = state
    else:
        stored = state.get(target.scope.id)
        container = dict(stored) if isinstance(stored, dict) else {}
    attribute = target.attribute
    current = container.get(attribute.name)
    if target.value_filter is not None or (target.sub is not None and attribute.multi_valued):
        new = _apply_elements(current, op, target, value)
    elif target.sub is not None:
        new = _apply_sub_attribute(current, op, target, value)
    else:
        new = _apply_whole(current, op, target, value, has_value)
    if new is UNASSIGNED and target.scope is None and attribute.name in _STAY_ASSIGNED:
        raise ScimError("mutability", f"{attribute.name} cannot be removed or cleared:"
                                      f" {_STAY_ASSIGNED[attribute.name]}")
    _check_immutable(attribute, current, new, target.text)
    _store(container, attribute.name, new)
    if target.scope is not None:
        _store(state, target.scope.id, container or UNASSIGNED)


def _apply_extension(state: dict[str, Any], op: str, target: _Target, value: Any) -> None:
    """A path naming a whole extension: its attributes merged (replace on a
    complex target leaves unnamed sub-attributes unchanged, §3.5.2.3)."""
    schema = target.scope
    assert schema is not None
    if op == "remove" or _is_unassigned(value):
        state.pop(schema.id, None)
        return
    if not isinstance(value, dict):
        raise ScimError("invalidValue", f"{schema.id} must be an object")
    for key, item in value.items():
        attribute = schema.attribute(key) if isinstance(key, str) else None
        if attribute is None or attribute.mutability in ("readOnly", "writeOnly"):
            continue
        _apply_target(state, op, _Target(f"{schema.id}:{attribute.name}", schema, attribute), item, True)


def _apply_whole(current: Any, op: str, target: _Target, value: Any, has_value: bool) -> Any:
    """add/replace/remove of a whole attribute (no sub-attribute, no filter)."""
    attribute = target.attribute
    assert attribute is not None
    if op == "remove":
        if has_value and attribute.multi_valued and attribute.type == "complex" and not _is_unassigned(value):
            return _remove_listed(current, attribute, value, target.text)
        return UNASSIGNED
    normalized = normalize_value(attribute, value, where=target.text)
    if attribute.multi_valued:
        if op == "replace":
            return normalized
        elements = list(current) if isinstance(current, list) else []
        if normalized is UNASSIGNED:
            return elements or UNASSIGNED
        present = {element_key(e) for e in elements}
        added = [e for e in normalized if element_key(e) not in present]
        winner = next((len(elements) + i for i, e in enumerate(added) if _is_primary(e)), None)
        elements.extend(added)
        settle_primary(elements, winner)
        return elements
    if attribute.type == "complex" and isinstance(normalized, dict):
        base = dict(current) if isinstance(current, dict) else {}
        for name in _cleared_sub_attributes(attribute, value):
            base.pop(name, None)
        for name, item in normalized.items():
            sub = attribute.sub_attribute(name)
            if sub is not None:
                _check_immutable(sub, base.get(name), item, f"{target.text}.{name}")
            base[name] = item
        return base or UNASSIGNED
    return normalized


def _apply_sub_attribute(current: Any, op: str, target: _Target, value: Any) -> Any:
    """add/replace/remove of `attr.sub` on a single-valued complex attribute."""
    sub = target.sub
    assert sub is not None
    base = dict(current) if isinstance(current, dict) else {}
    if op == "remove":
        base.pop(sub.name, None)
    else:
        normalized = normalize_value(sub, value, where=target.text)
        _check_immutable(sub, base.get(sub.name), normalized, target.text)
        _store(base, sub.name, normalized)
    return base or UNASSIGNED


def _apply_elements(current: Any, op: str, target: _Target, value: Any) -> Any:
    """An operation on the elements of a multi-valued attribute a value filter
    selects (all of them for `attr.sub` without a filter)."""
    attribute, sub, value_filter = target.attribute, target.sub, target.value_filter
    assert attribute is not None
    elements = list(current) if isinstance(current, list) else []
    if value_filter is not None:
        _spend_filter_work(len(elements) * filter_terms(value_filter))
    matched = [
        i for i, element in enumerate(elements)
        if isinstance(element, dict) and (value_filter is None or matches_element(value_filter, element, attribute))
    ]
    if op == "remove":
        if sub is None:
            removed = set(matched)
            elements = [e for i, e in enumerate(elements) if i not in removed]
        else:
            for i in matched:
                elements[i] = {k: v for k, v in elements[i].items() if k != sub.name}
        return elements or UNASSIGNED

    if sub is not None:
        normalized = normalize_value(sub, value, where=target.text)
    else:
        normalized = _element(attribute, value, target.text)
    if not matched:
        if normalized is UNASSIGNED:
            return elements or UNASSIGNED  # clearing what is not there, like a remove
        creates = value_filter is not None and (op == "add" or attribute.name in _REPLACE_CREATES)
        template = _template(value_filter, attribute) if creates else None
        if template is None:
            raise ScimError("noTarget", f"no value matches {target.text}")
        created = {**template, **({sub.name: normalized} if sub is not None else normalized)}
        if created not in elements:
            elements.append(created)
        touched = [elements.index(created)]
    else:
        for i in matched:
            old = elements[i]
            if sub is not None:
                _check_immutable(sub, old.get(sub.name), normalized, target.text)
                new = dict(old)
                _store(new, sub.name, normalized)
            elif op == "replace" or normalized is UNASSIGNED:
                new = normalized if normalized is not UNASSIGNED else {}
            else:
                new = {**old, **normalized}
            for definition in attribute.sub_attributes:
                _check_immutable(definition, old.get(definition.name), new.get(definition.name, UNASSIGNED),
                                 f"{target.text}.{definition.name}")
            elements[i] = new
        touched = matched
    winner = next((i for i in touched if _is_primary(elements[i])), None)
    settle_primary(elements, winner)
    return elements


def _element(attribute: Attribute, value: Any, where: str) -> Any:
    """One element of a multi-valued attribute (a one-element array too)."""
    if isinstance(value, list):
        if len(value) > 1:
            raise ScimError("invalidValue", f"{where} takes one element, not {len(value)}")
        value = value[0] if value else None
    if value is not None and not isinstance(value, dict):
        raise ScimError("invalidValue", f"{where} must be an object")
    normalized = normalize_value(attribute, value, where=where)
    return UNASSIGNED if normalized is UNASSIGNED else normalized[0]


def _template(node: Any, attribute: Attribute) -> dict[str, Any] | None:
    """The element a value filter describes when it is made of `eq`
    comparisons on sub-attributes joined by `and`; None otherwise."""
    if isinstance(node, And):
        left, right = _template(node.left, attribute), _template(node.right, attribute)
        if left is None or right is None or any(left[k] != right[k] for k in left.keys() & right.keys()):
            return None
        return {**left, **right}
    if not isinstance(node, Comparison) or node.op != "eq" or node.path.urn or node.path.sub_attribute:
        return None
    sub = attribute.sub_attribute(node.path.attribute)
    if sub is None or sub.mutability in ("readOnly", "writeOnly"):
        return None
    try:
        normalized = normalize_value(sub, node.value)
    except ScimError:
        return None
    return None if normalized is UNASSIGNED else {sub.name: normalized}


def _remove_listed(current: Any, attribute: Attribute, value: Any, where: str) -> Any:
    """Entra's remove-by-value: drop the elements `value` lists (by their
    `value` sub-attribute when given, else by the sub-attributes given)."""
    listed = normalize_value(attribute, value, where=where)
    elements = list(current) if isinstance(current, list) else []
    if listed is UNASSIGNED:
        return elements or UNASSIGNED
    value_definition = attribute.sub_attribute("value")
    by_value = {_fold(value_definition, w["value"]) for w in listed if value_definition is not None and "value" in w}
    by_fields = [w for w in listed if value_definition is None or "value" not in w]

    def identified(element: Any) -> bool:
        if not isinstance(element, dict):
            return False
        if value_definition is not None and "value" in element and _fold(value_definition, element["value"]) in by_value:
            return True
        return any(
            all(_fold(attribute.sub_attribute(k), v) == _fold(attribute.sub_attribute(k), element.get(k))
                for k, v in wanted.items())
            for wanted in by_fields
        )

    kept = [e for e in elements if not identified(e)]
    return kept or UNASSIGNED


def _fold(definition: Attribute | None, value: Any) -> Any:
    """A value as compared: lower-cased for a case-insensitive string (RFC 7643 §2.2 caseExact)."""
    if isinstance(value, str) and definition is not None and not definition.case_exact:
        return ("folded", value.lower())
    return ("exact", element_key(value))


def _cleared_sub_attributes(attribute: Attribute, value: Any) -> list[str]:
    """Sub-attributes a complex value sets to null/"" (to clear them)."""
    if not isinstance(value, dict):
        return []
    names = []
    for key, item in value.items():
        sub = attribute.sub_attribute(key) if isinstance(key, str) else None
        if sub is not None and sub.mutability not in ("readOnly", "writeOnly") and _is_unassigned(item):
            names.append(sub.name)
    return names


def _check_immutable(definition: Attribute, old: Any, new: Any, where: str) -> None:
    """RFC 7644 §3.5.2: an immutable attribute may be added, never changed."""
    if definition.mutability != "immutable" or _is_unassigned(old):
        return
    if new is UNASSIGNED or new != old:
        raise ScimError("mutability", f"{where} is immutable")


# ---------------------------------------------------------------- state

def _canonical(resource_type: ResourceType, attributes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of stored attributes with canonical names (stored data
    written before names were canonicalized still matches)."""
    result: dict[str, Any] = {}
    for key, value in attributes.items():
        extension = extension_schema(resource_type, key) if isinstance(key, str) else None
        if extension is not None:
            if isinstance(value, dict):
                value = {_canonical_name(extension.attribute(k), k): _canonical_value(extension.attribute(k), v)
                         for k, v in value.items()}
            result[extension.id] = copy.deepcopy(value)
            continue
        attribute = _core_attribute(resource_type, key) if isinstance(key, str) else None
        result[_canonical_name(attribute, key)] = copy.deepcopy(_canonical_value(attribute, value))
    return result


def _canonical_name(attribute: Attribute | None, key: Any) -> Any:
    return key if attribute is None else attribute.name


def _canonical_value(attribute: Attribute | None, value: Any) -> Any:
    if attribute is None or attribute.type != "complex":
        return value

    def keys(element: Any) -> Any:
        if not isinstance(element, dict):
            return element
        return {_canonical_name(attribute.sub_attribute(k) if isinstance(k, str) else None, k): v
                for k, v in element.items()}

    return [keys(e) for e in value] if isinstance(value, list) else keys(value)


def _core_attribute(resource_type: ResourceType, key: str) -> Attribute | None:
    try:
        return resolve(resource_type, AttributePath("", key)).attribute
    except PathError:
        return None


def _spend_filter_work(work: int) -> None:
    left = _filter_work.get([MAX_FILTER_WORK])
    left[0] -= work
    if left[0] < 0:
        raise ScimError("tooMany", f"the PATCH's value filters would make more than {MAX_FILTER_WORK} comparisons;"
                                       " send fewer operations or simpler filters")


def _check_bounds(state: dict[str, Any], resource_type: ResourceType) -> None:
    """Refuses a multi-valued attribute grown past its max_values."""
    scopes = [(state, resource_type.schema.attributes)]
    scopes += [(state[e.schema.id], e.schema.attributes) for e in resource_type.extensions
               if isinstance(state.get(e.schema.id), dict)]
    for container, definitions in scopes:
        for attribute in definitions:
            values = container.get(attribute.name) if attribute.multi_valued and attribute.max_values else None
            if isinstance(values, list) and len(values) > attribute.max_values:
                raise ScimError("invalidValue", f"{attribute.name} may hold at most {attribute.max_values} values")


def _tidy(state: dict[str, Any], resource_type: ResourceType) -> None:
    """Drops elements left hollow by sub-attribute removals, and attributes
    left with no element (RFC 7643 §2.4, §2.5)."""
    scopes: list[tuple[dict[str, Any], tuple[Attribute, ...]]] = [
        (state, resource_type.schema.attributes + resource_type.common)
    ]
    for extension in resource_type.extensions:
        stored = state.get(extension.schema.id)
        if isinstance(stored, dict):
            scopes.append((stored, extension.schema.attributes))
    for container, definitions in scopes:
        for attribute in definitions:
            if not (attribute.multi_valued and attribute.type == "complex"):
                continue
            elements = container.get(attribute.name)
            if not isinstance(elements, list):
                continue
            kept = unique(e for e in elements if not (isinstance(e, dict) and (not e or is_hollow(attribute, e))))
            _store(container, attribute.name, kept or UNASSIGNED)
    for extension in resource_type.extensions:
        if state.get(extension.schema.id) == {}:
            del state[extension.schema.id]


def _is_primary(element: Any) -> bool:
    return isinstance(element, dict) and element.get("primary") is True


def _is_unassigned(value: Any) -> bool:
    return value is None or value is UNASSIGNED or (isinstance(value, (str, list, dict)) and len(value) == 0)


def _store(container: dict[str, Any], name: str, value: Any) -> None:
    if value is UNASSIGNED:
        container.pop(name, None)
    else:
        container[name] = value
