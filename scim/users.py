"""What a SCIM User write stores (RFC 7643 §4.1, enterprise extension §4.3):
the body of a POST or PUT, normalized against the schema in `scim.schema`.

Pure: `normalize_user` takes a request body and returns a new, canonical
attribute dict; it never mutates its input. Its output is a fixed point
(normalizing it again gives it back), so the directory service can re-validate
stored attributes and the result of a PATCH with the same function.

The rules, with the dialect decisions they take:

- Attribute names match without case at every level (RFC 7643 §2.1) and are
  stored in the schema's spelling: `GIVENNAME` → `givenName`,
  `Emails[].VALUE` → `value`. The enterprise extension is stored under its
  URN, its attributes canonicalized; a URN-qualified top-level key
  (`urn:…:enterprise:2.0:User:department`) is accepted too.
- Never rejected, only ignored: read-only attributes and sub-attributes
  (`id`, `meta`, `groups`, `manager.displayName`; RFC 7643 §2.2 "readOnly",
  RFC 7644 §3.5.1 "any values provided SHALL be ignored"), write-only ones
  (`password`, which scimd never stores), `schemas`, unknown attributes,
  unknown sub-attributes and unknown schema URNs. IdPs send all of these.
  `schemas` itself, when given, must be an array of strings (INVALID_SYNTAX).
- Unassigned (RFC 7643 §2.5): `null` and `""` mean "absent" at every level,
  `[]` where an array fits (multi-valued, or complex: see below) and `{}`
  for a complex attribute; they clear the attribute (PUT) or leave it out
  (POST). An empty array or object for a simple attribute is INVALID_VALUE.
- Booleans: Entra sends the strings "True"/"False"; any boolean attribute or
  sub-attribute accepts `true`/`false` in any case (`active`,
  `emails[].primary`, …). Anything else is INVALID_VALUE.
- Types (RFC 7643 §2.3) are checked: string, reference, binary and dateTime
  attributes must be JSON strings, complex ones objects, multi-valued ones
  arrays. A single object given for a multi-valued complex attribute is
  wrapped into a one-element array (some IdPs send `"emails": {…}`).
  Mismatches are INVALID_VALUE (RFC 7644 §3.12: "not compatible with the
  attribute type").
- A single-valued complex attribute with a `value` sub-attribute given as a
  bare string becomes `{"value": …}`: Entra sends the enterprise `manager` as
  the manager's id. A one-element array for a single-valued complex
  attribute is its element: Entra also sends
  `"manager": [{"$ref": null, "value": "…"}]`. Simple attributes stay strict
  (`"userName": ["a"]` is INVALID_VALUE).
- Multi-valued attributes (RFC 7643 §2.4): exact duplicate elements are kept
  once; an element of an attribute that defines `value` but has none (e.g.
  `{"type": "work"}` after its value was cleared) is dropped, as is an element
  left with nothing but `type`/`primary`; at most one element is primary — the
  first `primary: true` wins and the others are stored with `primary: false`.
- `userName` is required (RFC 7643 §4.1.1): a string, non-empty once
  surrounding whitespace is stripped (it is stored stripped), at most
  512 characters; INVALID_VALUE otherwise. `externalId` must be a string.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from scim.errors import ScimError
from scim.schema import USER, Attribute, PathError, ResourceType, Schema, check_schemas, resolve

__all__ = ["MAX_USER_NAME_LENGTH", "UNASSIGNED", "UserWrite", "normalize_user", "normalize_value"]
# Also used by scim.patch: normalize_resource, normalize_extension, extension_schema, settle_primary,
# is_hollow, unique, element_key.

MAX_USER_NAME_LENGTH = 512
# The longest name of an attribute kept though no schema declares it (the path an IdP sent).
MAX_UNDECLARED_NAME = 256


class _Unassigned:
    """The marker for "this value means absent" (RFC 7643 §2.5)."""

    def __repr__(self) -> str:
        return "UNASSIGNED"


UNASSIGNED: Any = _Unassigned()

# Sub-attributes that only qualify an element of a multi-valued attribute.
_QUALIFIERS = frozenset({"type", "primary"})


@dataclass(frozen=True)
class UserWrite:
    """A validated User: its userName and externalId, and every stored
    attribute (canonical names; no id, meta, groups, password or schemas;
    userName, externalId and active included when set)."""

    user_name: str
    external_id: str
    attributes: dict[str, Any]
    # What the body held that no schema declares, as sent (see normalize_resource).
    undeclared: dict[str, Any] = field(default_factory=dict)


def normalize_user(body: dict[str, Any], *, for_replace: bool = False, resource_type: ResourceType = USER,
                   reject_undeclared: bool = False) -> UserWrite:
    """The User a POST (RFC 7644 §3.3) or PUT (§3.5.1) body describes.

    `for_replace` says the body replaces a stored user (PUT, or the result of
    a PATCH). The rules are the same either way: a replacement is the complete
    new attribute set, so what it leaves out is cleared by the caller storing
    `attributes` whole, and the User schema has no immutable attribute whose
    old value would need comparing. Raises ScimError (invalidSyntax for a
    body that is not an object, invalidValue for a bad value).
    """
    del for_replace  # the same rules; see the docstring
    if not isinstance(body, dict):
        raise ScimError("invalidSyntax", "a User must be a JSON object")
    undeclared: dict[str, Any] = {}
    attributes = normalize_resource(resource_type, body, undeclared)
    if undeclared and reject_undeclared:
        raise ScimError("invalidValue", "no schema declares " + ", ".join(sorted(undeclared))[:500]
                        + " (this connection refuses undeclared attributes)")
    check_required_extension_attributes(resource_type, attributes)

    user_name = attributes.get("userName")
    if not isinstance(user_name, str) or not user_name.strip():
        raise ScimError("invalidValue", "userName is required and must be a non-empty string")
    user_name = user_name.strip()
    if len(user_name) > MAX_USER_NAME_LENGTH:
        raise ScimError("invalidValue", f"userName must be at most {MAX_USER_NAME_LENGTH} characters")
    attributes["userName"] = user_name
    return UserWrite(user_name=user_name, external_id=attributes.get("externalId", ""), attributes=attributes,
                     undeclared=undeclared)


def normalize_resource(resource_type: ResourceType, body: dict[str, Any],
                       undeclared: dict[str, Any] | None = None) -> dict[str, Any]:
    """The canonical, writable attributes of a resource body (no required
    checks): the part of `normalize_user` that holds for any resource type.
    What no schema declares goes to `undeclared` as sent, when given: unknown
    attributes, unknown schema extensions (under their URN) and unknown
    attributes of a known extension (under `<urn>:<name>`)."""
    undeclared = {} if undeclared is None else undeclared
    check_schemas(body)
    attributes: dict[str, Any] = {}
    for key, value in body.items():
        if not isinstance(key, str):
            continue
        extension = extension_schema(resource_type, key)
        if extension is not None:
            _store(attributes, extension.id, normalize_extension(extension, value, undeclared))
            continue
        found = _top_level_attribute(resource_type, key)
        if found is None:
            if key.lower() != "schemas" and not _is_unassigned(value):
                undeclared[_undeclared_name(key)] = value
            continue
        scope, attribute = found
        if attribute.mutability == "readOnly":
            continue
        normalized = normalize_value(attribute, value)
        if attribute.mutability == "writeOnly":
            continue  # checked, never stored (a password)
        if scope is None:
            _store(attributes, attribute.name, normalized)
        else:
            extension_attributes = dict(attributes.get(scope.id) or {})
            _store(extension_attributes, attribute.name, normalized)
            _store(attributes, scope.id, extension_attributes or UNASSIGNED)
    return attributes


def _undeclared_name(name: str) -> str:
    if len(name) > MAX_UNDECLARED_NAME:
        raise ScimError("invalidValue", f"an attribute name no schema declares is at most {MAX_UNDECLARED_NAME} "
                                        f"characters: {name[:40]}…")
    return name


def check_required_extension_attributes(resource_type: ResourceType, attributes: dict[str, Any]) -> None:
    """An extension's required attributes must be there whenever the extension is."""
    for extension in resource_type.extensions:
        values = attributes.get(extension.schema.id)
        if not isinstance(values, dict):
            continue
        missing = [a.name for a in extension.schema.attributes if a.required and a.name not in values]
        if missing:
            raise ScimError("invalidValue", f"{extension.schema.id}:{missing[0]} is required")


def extension_schema(resource_type: ResourceType, key: str) -> Schema | None:
    """The extension schema whose URN `key` is (without case), else None."""
    lowered = key.strip().lower()
    return next((e.schema for e in resource_type.extensions if e.schema.id.lower() == lowered), None)


def names_extension(resource_type: ResourceType, key: str) -> bool:
    """Whether a body key names an extension of `resource_type` or one of its
    attributes (`urn:…:Group:costCenter`, `urn:…:Group:site.city`)."""
    if extension_schema(resource_type, key) is not None:
        return True
    if not key.lower().startswith("urn:"):
        return False
    try:
        return resolve(resource_type, key).is_extension
    except PathError:
        return False


def normalize_extension(schema: Schema, value: Any, undeclared: dict[str, Any] | None = None) -> Any:
    """An extension object (RFC 7643 §3.3) with its attributes normalized;
    UNASSIGNED when it holds nothing writable. Attributes the schema does not
    declare go to `undeclared` (as `<urn>:<name>`) when given."""
    if _is_unassigned(value):
        return UNASSIGNED
    if not isinstance(value, dict):
        raise ScimError("invalidValue", f"{schema.id} must be an object")
    result: dict[str, Any] = {}
    for key, item in value.items():
        attribute = schema.attribute(key) if isinstance(key, str) else None
        if attribute is None and undeclared is not None and isinstance(key, str) and not _is_unassigned(item):
            undeclared[_undeclared_name(f"{schema.id}:{key}")] = item
        if attribute is None or attribute.mutability in ("readOnly", "writeOnly"):
            continue
        _store(result, attribute.name, normalize_value(attribute, item, where=f"{schema.id}:{attribute.name}"))
    return result or UNASSIGNED


def normalize_value(attribute: Attribute, value: Any, *, where: str = "") -> Any:
    """`value` checked and canonicalized against `attribute`'s definition,
    or UNASSIGNED when it means "absent". Read-only and write-only
    sub-attributes inside it are dropped; the caller decides what a read-only
    `attribute` itself means. Raises ScimError("invalidValue")."""
    where = where or attribute.name
    if _is_unassigned_for(attribute, value):
        return UNASSIGNED
    if not attribute.multi_valued:
        if isinstance(value, list) and attribute.type == "complex":
            if len(value) > 1:
                raise ScimError("invalidValue", f"{where} takes a single value")
            value = value[0]  # Entra: "manager": [{"$ref": null, "value": "…"}]
        return _normalize_single(attribute, value, where)
    if isinstance(value, dict) or (not isinstance(value, list) and attribute.type != "complex"):
        value = [value]
    if not isinstance(value, list):
        raise ScimError("invalidValue", f"{where} must be an array")
    if attribute.max_values and len(value) > attribute.max_values:
        raise ScimError("invalidValue", f"{where} may hold at most {attribute.max_values} values")
    elements = unique(e for e in (_normalize_single(attribute, item, where) for item in value) if e is not UNASSIGNED)
    settle_primary(elements)
    return elements or UNASSIGNED


def unique(elements: Iterable[Any]) -> list[Any]:
    """The elements without exact duplicates, first occurrences kept, in
    linear time (a group may have thousands of members)."""
    seen: set[str] = set()
    result = []
    for element in elements:
        key = element_key(element)
        if key not in seen:
            seen.add(key)
            result.append(element)
    return result


def element_key(element: Any) -> str:
    """A hashable identity for a JSON value: equal values, equal keys."""
    return json.dumps(element, sort_keys=True, separators=(",", ":"), default=str)


def settle_primary(elements: list[Any], winner: int | None = None) -> None:
    """At most one element is primary (RFC 7643 §2.4): `winner` if it is
    primary, else the first primary one; the others get `primary: false`.
    Works in place."""
    primaries = [i for i, e in enumerate(elements) if isinstance(e, dict) and e.get("primary") is True]
    if len(primaries) < 2:
        return
    keep = winner if winner in primaries else primaries[0]
    for index in primaries:
        if index != keep:
            elements[index] = {**elements[index], "primary": False}


def is_hollow(attribute: Attribute, element: dict[str, Any]) -> bool:
    """Whether an element of a multi-valued complex attribute carries nothing:
    no `value` when the attribute defines one, or only `type`/`primary`."""
    if attribute.sub_attribute("value") is not None:
        return "value" not in element
    return not (element.keys() - _QUALIFIERS)


def _normalize_single(attribute: Attribute, value: Any, where: str) -> Any:
    if _is_unassigned_for(attribute, value):
        return UNASSIGNED
    if attribute.type == "complex":
        return _normalize_complex(attribute, value, where)
    if attribute.type == "boolean":
        return _boolean(value, where)
    if attribute.type == "integer":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON numbers pass through protobuf Structs as floats
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScimError("invalidValue", f"{where} must be an integer")
        return value
    if attribute.type == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScimError("invalidValue", f"{where} must be a number")
        return value
    # string, reference, binary, dateTime: JSON strings (RFC 7643 §2.3).
    if not isinstance(value, str):
        raise ScimError("invalidValue", f"{where} must be a string")
    if attribute.type == "dateTime" and not _is_datetime(value):
        raise ScimError("invalidValue", f"{where} must be an xsd:dateTime, e.g. 2026-12-02T17:00:00Z")
    if attribute.enforce_canonical and not _is_canonical(attribute, value):
        raise ScimError("invalidValue", f"{where} must be one of {', '.join(attribute.canonical_values)}")
    return value


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value or "t" in value


def _is_canonical(attribute: Attribute, value: str) -> bool:
    if attribute.case_exact:
        return value in attribute.canonical_values
    return value.lower() in (c.lower() for c in attribute.canonical_values)


def _normalize_complex(attribute: Attribute, value: Any, where: str) -> Any:
    if isinstance(value, str) and not attribute.multi_valued and attribute.sub_attribute("value") is not None:
        value = {"value": value}  # Entra: "manager": "<id>"
    if not isinstance(value, dict):
        raise ScimError("invalidValue", f"{where} must be an object")
    result: dict[str, Any] = {}
    for key, item in value.items():
        sub = attribute.sub_attribute(key) if isinstance(key, str) else None
        if sub is None or sub.mutability in ("readOnly", "writeOnly"):
            continue
        _store(result, sub.name, normalize_value(sub, item, where=f"{where}.{sub.name}"))
    if not result or (attribute.multi_valued and is_hollow(attribute, result)):
        return UNASSIGNED
    return result


def _boolean(value: Any, where: str) -> bool:
    # Entra sends booleans as the strings "True"/"False".
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ScimError("invalidValue", f"{where} must be a boolean")


def _is_unassigned(value: Any) -> bool:
    return value is None or value is UNASSIGNED or (isinstance(value, (str, list, dict)) and len(value) == 0)


def _is_unassigned_for(attribute: Attribute, value: Any) -> bool:
    """Whether `value` means "absent" for `attribute`: null and "" always; an
    empty array where an array fits (a multi-valued attribute, or a complex
    one, which Entra may send as a one-element array); an empty object only
    for a complex attribute. `"active": []` or `"title": {}` is a type error."""
    if value is None or value is UNASSIGNED or value == "":
        return True
    if isinstance(value, list) and not value:
        return attribute.multi_valued or attribute.type == "complex"
    if isinstance(value, dict) and not value:
        return attribute.type == "complex"
    return False


def _store(container: dict[str, Any], name: str, value: Any) -> None:
    if value is UNASSIGNED:
        container.pop(name, None)
    else:
        container[name] = value


def _top_level_attribute(resource_type: ResourceType, key: str) -> tuple[Schema | None, Attribute] | None:
    """(extension schema or None for core/common, attribute) for a top-level
    body key: a bare attribute name or a URN-qualified one."""
    if key.lower().startswith("urn:"):
        try:
            resolved = resolve(resource_type, key)
        except PathError:
            return None  # unknown schema or attribute: ignored
        if resolved.sub_attribute is not None:
            return None
        return (resolved.schema if resolved.is_extension else None), resolved.attribute
    lowered = key.lower()
    attribute = next((a for a in resource_type.common if a.name.lower() == lowered), None)
    if attribute is None:
        attribute = resource_type.schema.attribute(key)
    return None if attribute is None else (None, attribute)
