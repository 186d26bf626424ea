"""Attribute projection: the `attributes` and `excludedAttributes` parameters
(RFC 7644 §3.4.2.5, §3.9) and the `returned` characteristic (RFC 7643 §7).

Pure: `project` takes a rendered resource and returns a new, smaller one; it
never mutates its input.

The rules, with the RFC decisions they take:

- `returned` (RFC 7643 §7): "always" attributes (`id`) are kept whatever the
  parameters say; "never" (`password`) are always dropped; "default" are kept
  unless excluded, or unless `attributes` is given and does not name them;
  "request" only when `attributes` names them. The same rules apply to
  sub-attributes. `schemas` is not an attribute of any schema but is part of
  every resource's minimum set, so it is always kept.
- `attributes` overrides the default set (§3.9): the result is the minimum set
  (`schemas` and "always" attributes) plus what it names. `meta` is
  "returned: default", so it is dropped unless named, as in the §3.9 example
  `GET /Users/{id}?attributes=userName` → schemas, id, userName.
- `excludedAttributes` removes names from the default set and has no effect on
  "always" attributes (§3.4.2.5).
- Both given: RFC 7644 defines no error for it (neither §3.4.2.5 nor §3.12
  lists one), so we are lenient: `attributes` wins and `excludedAttributes`
  is ignored.
- Names use the attribute notation of §3.10 and match without case (RFC 7643
  §2.1): `userName`, `name.givenName`, `emails.value`, `meta.lastModified`,
  URN-qualified `urn:…:enterprise:2.0:User:department`, or an extension's bare
  URN meaning the whole extension (and the core schema's URN meaning all core
  attributes).
- Unknown or malformed names are ignored: the RFC defines no error for them
  (`invalidPath` is PATCH's), and clients such as Entra send names a service
  provider may not support. `attributes` made only of unknown names therefore
  yields the minimum set.
- Empty lists are "no names" (`?attributes=` is the same as no parameter).
- A complex value that projection empties is dropped, as is an extension
  object; a dropped extension's URN leaves `schemas` (RFC 7643 §3: `schemas`
  lists the schemas of the attributes present).
- Keys the resource type does not define are kept unless `attributes` is
  given (they cannot be named).
- Output key order is stable: schemas, id, externalId, core attributes (in the
  resource's order), extension objects, meta.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from scim.schema import Attribute, PathError, ResourceType, Schema, resolve

__all__ = ["hides_by_default", "parse_attribute_list", "project"]

_CORE = ""  # the scope of the core schema's and the common attributes
_WHOLE = None  # "the whole attribute" in a selection
_DROP = object()

_INCLUDE, _EXCLUDE, _DEFAULT = "include", "exclude", "default"


def parse_attribute_list(text: str | None) -> list[str]:
    """The names of a comma-separated `attributes` / `excludedAttributes`
    value (RFC 7644 §3.9), stripped, empty ones dropped."""
    if not text:
        return []
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass
class _Selection:
    """The names of one parameter, resolved against a resource type.

    `attributes` maps (scope, lower-cased attribute name) to _WHOLE or to the
    set of lower-cased sub-attribute names; scope is "" for the core schema and
    the common attributes, an extension's lower-cased URN otherwise. `schemas`
    holds the lower-cased URNs named as a whole.
    """

    attributes: dict[tuple[str, str], set[str] | None] = field(default_factory=dict)
    schemas: set[str] = field(default_factory=set)

    def add(self, key: tuple[str, str], sub_attribute: str | None) -> None:
        if key in self.attributes and self.attributes[key] is _WHOLE:
            return
        if sub_attribute is None:
            self.attributes[key] = _WHOLE
        else:
            self.attributes.setdefault(key, set()).add(sub_attribute)

    def lookup(self, scope: str, name: str, *, in_schema: bool = True) -> tuple[bool, set[str] | None]:
        """Whether (scope, name) is named at all, and how: _WHOLE or sub-attributes.
        `in_schema` is False for the common attributes, which naming the core
        schema's URN does not name."""
        if in_schema and scope in self.schemas:
            return True, _WHOLE
        key = (scope, name.lower())
        if key in self.attributes:
            return True, self.attributes[key]
        return False, _WHOLE


def _names(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return parse_attribute_list(value)
    return [name for item in value for name in parse_attribute_list(item)]


def _select(resource_type: ResourceType, names: list[str]) -> _Selection:
    selection = _Selection()
    for name in names:
        schema = resource_type.schema_by_urn(name)
        if schema is not None:
            selection.schemas.add(_scope(resource_type, schema))
            continue
        try:
            resolved = resolve(resource_type, name)
        except PathError:
            continue  # unknown or malformed: ignored (see the module docstring)
        scope = _CORE if resolved.schema is None else _scope(resource_type, resolved.schema)
        sub = resolved.sub_attribute.name.lower() if resolved.sub_attribute is not None else None
        selection.add((scope, resolved.attribute.name.lower()), sub)
    return selection


def hides_by_default(resource_type: ResourceType) -> bool:
    """Whether an extension has attributes a resource shows only when asked
    (returned "request") or never: then even a plain read needs `project`."""
    return any(a.returned in ("never", "request") or any(s.returned in ("never", "request") for s in a.sub_attributes)
               for extension in resource_type.extensions for a in extension.schema.attributes)


def _scope(resource_type: ResourceType, schema: Schema) -> str:
    return _CORE if schema is resource_type.schema else schema.id.lower()


def project(
    resource: dict[str, Any],
    resource_type: ResourceType,
    attributes: str | Iterable[str] | None = None,
    excluded: str | Iterable[str] | None = None,
) -> dict[str, Any]:
    """The resource as RFC 7644 §3.9 says to return it.

    `attributes` and `excluded` are lists of names (or one comma-separated
    string each); when both are given, `attributes` wins.
    """
    wanted, unwanted = _names(attributes), _names(excluded)
    if wanted:
        mode, selection = _INCLUDE, _select(resource_type, wanted)
    elif unwanted:
        mode, selection = _EXCLUDE, _select(resource_type, unwanted)
    else:
        mode, selection = _DEFAULT, _Selection()

    extensions = {e.schema.id.lower(): e.schema for e in resource_type.extensions}
    buckets: list[list[tuple[str, Any]]] = [[] for _ in range(6)]
    for key, value in resource.items():
        lowered = key.lower()
        if lowered == "schemas":
            buckets[0].append((key, value))
            continue
        extension = extensions.get(lowered)
        if extension is not None:
            projected = _project_extension(extension, lowered, value, mode, selection)
            if projected is not _DROP:
                buckets[4].append((key, projected))
            continue
        definition = _core_definition(resource_type, key)
        if definition is None:
            if mode != _INCLUDE:
                buckets[3].append((key, value))
            continue
        # Naming the core schema's URN names its attributes, not id, externalId or meta.
        named, how = selection.lookup(_CORE, definition.name, in_schema=definition not in resource_type.common)
        projected = _project_attribute(definition, value, mode, named, how)
        if projected is not _DROP:
            buckets[_bucket(definition.name)].append((key, projected))

    result = dict(pair for bucket in buckets for pair in bucket)
    schemas_key = next((key for key, _ in buckets[0]), None)
    if schemas_key is not None and isinstance(result[schemas_key], list):
        present = {key.lower() for key, _ in buckets[4]}
        result[schemas_key] = [
            urn for urn in result[schemas_key]
            if not (isinstance(urn, str) and urn.lower() in extensions and urn.lower() not in present)
        ]
    return result


def _bucket(name: str) -> int:
    return {"id": 1, "externalId": 2, "meta": 5}.get(name, 3)


def _core_definition(resource_type: ResourceType, key: str) -> Attribute | None:
    lowered = key.lower()
    common = next((a for a in resource_type.common if a.name.lower() == lowered), None)
    return common or resource_type.schema.attribute(key)


def _project_extension(
    schema: Schema, scope: str, value: Any, mode: str, selection: _Selection
) -> Any:
    if not isinstance(value, dict):
        # Not the object the schema describes; keep it only where nothing was asked.
        return value if mode == _DEFAULT else _DROP
    projected: dict[str, Any] = {}
    for key, item in value.items():
        definition = schema.attribute(key)
        if definition is None:
            if mode != _INCLUDE:
                projected[key] = item
            continue
        named, how = selection.lookup(scope, definition.name)
        kept = _project_attribute(definition, item, mode, named, how)
        if kept is not _DROP:
            projected[key] = kept
    return projected or _DROP


def _project_attribute(definition: Attribute, value: Any, mode: str, named: bool, how: set[str] | None) -> Any:
    """One attribute's value after projection, or _DROP.

    `named`/`how` say whether the parameter in force names the attribute, and
    whether as a whole (_WHOLE) or by some of its sub-attributes.
    """
    returned = definition.returned
    if returned == "never":
        return _DROP
    if returned == "always":
        # excludedAttributes has no effect on it, and attributes cannot narrow it.
        return _project_sub_attributes(definition, value, lambda sub, name: _default_sub(sub))
    if mode == _INCLUDE:
        if not named:
            return _DROP
        if how is _WHOLE:
            return _project_sub_attributes(definition, value, lambda sub, name: _default_sub(sub))
        return _project_sub_attributes(
            definition, value,
            lambda sub, name: sub is not None and sub.returned != "never" and (sub.returned == "always" or name in how),
        )
    if returned == "request":
        return _DROP
    if mode == _EXCLUDE and named:
        if how is _WHOLE:
            return _DROP
        return _project_sub_attributes(
            definition, value, lambda sub, name: _default_sub(sub) and (_always(sub) or name not in how)
        )
    return _project_sub_attributes(definition, value, lambda sub, name: _default_sub(sub))


def _default_sub(sub: Attribute | None) -> bool:
    # Sub-attributes the schema does not define are kept by default.
    return sub is None or sub.returned in ("always", "default")


def _always(sub: Attribute | None) -> bool:
    return sub is not None and sub.returned == "always"


def _project_sub_attributes(definition: Attribute, value: Any, keep: Callable[[Attribute | None, str], bool]) -> Any:
    """`value` with only the sub-attributes `keep(definition, lower-cased name)`
    accepts; _DROP when nothing is left."""
    if definition.type != "complex" or not definition.sub_attributes:
        return value

    def one(item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        return {key: sub_value for key, sub_value in item.items() if keep(definition.sub_attribute(key), key.lower())}

    if isinstance(value, list):
        items = [one(item) for item in value]
        items = [item for item in items if item != {}]
        return items or _DROP
    if isinstance(value, dict):
        return one(value) or _DROP
    return value
