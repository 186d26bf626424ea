"""Attribute mapping (issue 21 §3), the rules alone: the vendor's custom
fields, a connection's mapping of attribute paths onto them, and a member's
custom attributes computed from what its identity provider sent. No I/O:
storage, caching and the background apply are elsewhere.

A field's mapping names sources, attribute paths spelled as the connection's
seen-attributes list spells them (`title`, `name.givenName`, `emails.value`,
`urn:…:enterprise:2.0:User:department`, an undeclared `favoriteColor` or
`urn:example:x:1.0:User:shoeSize`). Each source in turn goes through the
transforms and is cast to the field's type; the first that gives a value
wins, else the default, else the member has no value for the field. A value
that cannot be cast counts as absent: a mapping never makes a SCIM write fail.

Regular expressions are RE2's (linear time, no backreferences), so no
pattern, however written, can stall the directory on a crafted value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import re2

from runtime.shapes import CUSTOM_FIELD_TYPES
from scim.schema import MAX_MULTI_VALUES, PathError, ResourceType, resolve

FIELD_TYPES = CUSTOM_FIELD_TYPES
FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_DESCRIPTION_LENGTH = 1000
MAX_SOURCES = 5
MAX_TRANSFORMS = 10
MAX_PATH_LENGTH = 300
MAX_PATTERN_LENGTH = 200
MAX_SEPARATOR_LENGTH = 16
MAX_SPLIT_INDEX = 100
# Longer values never match a regular expression: they bound its cost per member.
MAX_REGEX_INPUT_LENGTH = 1000
MAX_DEFAULT_LENGTH = 1000
# How deep a raw (undeclared) path may reach: <urn>:<attribute>.<sub-attribute>.
_RAW_DEPTH = 3


class MappingError(ValueError):
    """A custom field or mapping definition is invalid; the message says where and why."""


@dataclass(frozen=True)
class CustomField:
    key: str
    type: str
    description: str = ""


def check_field(key: Any, field_type: Any, description: Any = "") -> CustomField:
    """A custom field definition, checked."""
    if not isinstance(key, str) or not FIELD_KEY.match(key):
        raise MappingError("a custom field's key is 1-64 lower-case letters, digits or '_', starting with a letter")
    if field_type not in FIELD_TYPES:
        raise MappingError(f"type must be one of {', '.join(FIELD_TYPES)}")
    description = description or ""
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_LENGTH:
        raise MappingError(f"description must be a string of at most {MAX_DESCRIPTION_LENGTH} characters")
    return CustomField(key, field_type, description)


# ------------------------------------------------------------------ values

def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and len(value) == 0)


def _text(value: Any) -> str | None:
    """A scalar as the text transforms work on; None for what has none."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, dict):  # a complex value such as the enterprise manager: its value
        return _text(value.get("value"))
    return None


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    text = _text(value)
    if text is None:
        return None
    text = text.strip()
    if re.fullmatch(r"[+-]?\d{1,18}", text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value)
    lowered = text.strip().lower() if text is not None else ""
    return True if lowered in _TRUE else False if lowered in _FALSE else None


def _string(value: Any) -> str | None:
    text = _text(value)
    return text if text else None


def _first(values: list[Any], cast: Callable[[Any], Any]) -> Any:
    return next((cast_value for cast_value in map(cast, values) if cast_value is not None), None)


def cast(value: Any, field_type: str) -> Any:
    """`value` as a value of `field_type`, or None when it cannot be one."""
    if _is_empty(value):
        return None
    if field_type == "string_list":
        elements = value if isinstance(value, list) else [value]
        strings = [s for s in map(_string, elements[:MAX_MULTI_VALUES]) if s is not None]
        return strings or None
    scalar = {"string": _string, "number": _number, "boolean": _boolean}[field_type]
    return _first(value, scalar) if isinstance(value, list) else scalar(value)


# -------------------------------------------------------------- transforms

Step = Callable[[str], "str | None"]


def _split(separator: str, index: int) -> Step:
    def step(text: str) -> str | None:
        parts = text.split(separator)
        return parts[index] if -len(parts) <= index < len(parts) else None
    return step


def _regex(pattern: Any, group: int) -> Step:
    def step(text: str) -> str | None:
        if len(text) > MAX_REGEX_INPUT_LENGTH:
            return None
        found = pattern.search(text)
        return found.group(group) if found is not None else None
    return step


def _compile_pattern(pattern: str, where: str) -> Any:
    options = re2.Options()
    options.log_errors = False  # a bad pattern is the caller's 400, not the service's log line
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        message = error.args[0].decode(errors="replace") if error.args and isinstance(error.args[0], bytes) \
            else str(error)
        raise MappingError(f"{where}.pattern is not a valid RE2 regular expression: {message}") from None


def _transform(spec: Any, where: str) -> tuple[dict[str, Any], Step]:
    """A transform's canonical definition and its step."""
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise MappingError(f"{where} must be an object with a type")
    kind = spec["type"]
    allowed = {"trim": set(), "lower": set(), "upper": set(), "split": {"separator", "index"},
               "regex": {"pattern", "group"}}.get(kind)
    if allowed is None:
        raise MappingError(f"{where}.type must be one of trim, lower, upper, split, regex")
    unknown = sorted(set(spec) - allowed - {"type"})
    if unknown:
        raise MappingError(f"{where} has no {unknown[0]!r}")
    if kind == "trim":
        return {"type": kind}, str.strip
    if kind == "lower":
        return {"type": kind}, str.lower
    if kind == "upper":
        return {"type": kind}, str.upper
    if kind == "split":
        separator, index = spec.get("separator"), spec.get("index", 0)
        if not isinstance(separator, str) or not 1 <= len(separator) <= MAX_SEPARATOR_LENGTH:
            raise MappingError(f"{where}.separator must be a string of 1 to {MAX_SEPARATOR_LENGTH} characters")
        if isinstance(index, bool) or not isinstance(index, int) or not -MAX_SPLIT_INDEX <= index <= MAX_SPLIT_INDEX:
            raise MappingError(f"{where}.index must be an integer from {-MAX_SPLIT_INDEX} to {MAX_SPLIT_INDEX} "
                               "(negative counts from the end)")
        return {"type": kind, "separator": separator, "index": index}, _split(separator, index)
    pattern, group = spec.get("pattern"), spec.get("group", 1)
    if not isinstance(pattern, str) or not 1 <= len(pattern) <= MAX_PATTERN_LENGTH:
        raise MappingError(f"{where}.pattern must be a string of 1 to {MAX_PATTERN_LENGTH} characters")
    compiled = _compile_pattern(pattern, where)
    if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group <= compiled.groups:
        raise MappingError(f"{where}.group must be an integer from 0 (the whole match) to {compiled.groups} "
                           "(the pattern's groups)")
    return {"type": kind, "pattern": pattern, "group": group}, _regex(compiled, group)


def _applied(steps: tuple[Step, ...], value: Any) -> Any:
    """`value` through the steps (each element of a list in turn); None when nothing is left."""
    if not steps:
        return value
    if isinstance(value, list):
        results = [_applied(steps, element) for element in value[:MAX_MULTI_VALUES]]
        return [r for r in results if r is not None] or None
    text = _text(value)
    for step in steps:
        if text is None:
            return None
        text = step(text)
    return text


# ----------------------------------------------------------------- mapping

@dataclass(frozen=True)
class FieldMapping:
    field: str
    sources: tuple[str, ...]
    transforms: tuple[dict[str, Any], ...] = ()
    default: Any = None
    steps: tuple[Step, ...] = field(default=(), compare=False, repr=False)

    def json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"field": self.field, "sources": list(self.sources),
                                 "transforms": [dict(t) for t in self.transforms]}
        if self.default is not None:
            shown["default"] = self.default
        return shown


@dataclass(frozen=True)
class Mapping:
    """A connection's mapping: at most one entry per custom field."""

    fields: tuple[FieldMapping, ...] = ()

    def json(self) -> list[dict[str, Any]]:
        """The canonical definition, as stored and shown."""
        return [f.json() for f in self.fields]


def _source(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_PATH_LENGTH \
            or not value.isprintable():
        raise MappingError(f"{where} must be an attribute path of 1 to {MAX_PATH_LENGTH} printable characters")
    return value.strip()


def _default(value: Any, custom: CustomField, where: str) -> Any:
    expected = {"string": lambda v: isinstance(v, str) and v != "",
                "number": lambda v: not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v),
                "boolean": lambda v: isinstance(v, bool),
                "string_list": lambda v: isinstance(v, list) and 0 < len(v) <= MAX_MULTI_VALUES
                and all(isinstance(s, str) and s for s in v)}[custom.type]
    if not expected(value) or len(repr(value)) > MAX_DEFAULT_LENGTH:
        raise MappingError(f"{where} must be a {custom.type.replace('_', ' ')} value like the field's"
                           f" (at most {MAX_DEFAULT_LENGTH} characters), or null for none")
    return value


def _field_mapping(entry: Any, fields: dict[str, CustomField], where: str) -> FieldMapping:
    if not isinstance(entry, dict):
        raise MappingError(f"{where} must be an object: {{field, sources, transforms, default}}")
    unknown = sorted(set(entry) - {"field", "sources", "transforms", "default"})
    if unknown:
        raise MappingError(f"{where} has no {unknown[0]!r}")
    key = entry.get("field")
    if not isinstance(key, str):
        raise MappingError(f"{where}.field must be a custom field's key")
    if key not in fields:
        raise MappingError(f"{where}.field: no custom field {key[:64]!r}; define it first (PUT /v1/scim/custom_fields)")
    sources = entry.get("sources")
    if not isinstance(sources, list) or not 1 <= len(sources) <= MAX_SOURCES:
        raise MappingError(f"{where}.sources must be a list of 1 to {MAX_SOURCES} attribute paths")
    transforms = entry.get("transforms")
    transforms = [] if transforms is None else transforms
    if not isinstance(transforms, list) or len(transforms) > MAX_TRANSFORMS:
        raise MappingError(f"{where}.transforms must be a list of at most {MAX_TRANSFORMS} transforms")
    compiled = [_transform(t, f"{where}.transforms[{n}]") for n, t in enumerate(transforms)]
    default = entry.get("default")
    return FieldMapping(
        field=key,
        sources=tuple(_source(s, f"{where}.sources[{n}]") for n, s in enumerate(sources)),
        transforms=tuple(spec for spec, _ in compiled),
        default=None if default is None else _default(default, fields[key], f"{where}.default"),
        steps=tuple(step for _, step in compiled),
    )


def parse_mapping(definition: Any, fields: dict[str, CustomField]) -> Mapping:
    """A mapping definition (a list of {field, sources, transforms, default}),
    checked against the project's custom fields (key → field)."""
    if not isinstance(definition, list) or len(definition) > len(fields):
        raise MappingError("fields must be a list with at most one entry per custom field")
    mapped = tuple(_field_mapping(entry, fields, f"fields[{n}]") for n, entry in enumerate(definition))
    seen: set[str] = set()
    for entry in mapped:
        if entry.field in seen:
            raise MappingError(f"{entry.field} is mapped twice")
        seen.add(entry.field)
    return Mapping(mapped)


def stored_mapping(definition: Any, fields: dict[str, CustomField]) -> Mapping:
    """A definition checked when it was saved, entry by entry: those of fields
    that exist now (a mapped field is never deleted, but a reader's list of
    fields may be a moment older than the mapping). An entry that no longer
    parses is left out rather than failing the member write that reads it."""
    entries = []
    for n, entry in enumerate(definition or []):
        if not isinstance(entry, dict) or entry.get("field") not in fields:
            continue
        try:
            entries.append(_field_mapping(entry, fields, f"fields[{n}]"))
        except MappingError:
            continue
    return Mapping(tuple(entries))


# -------------------------------------------------------------- evaluation

def _primary_first(elements: list[Any]) -> list[dict[str, Any]]:
    objects = [e for e in elements if isinstance(e, dict)]
    primary = next((e for e in objects if e.get("primary") is True), None)
    return objects if primary is None else [primary, *(e for e in objects if e is not primary)]


def _sub_attribute(value: Any, name: str, every: bool, matches: Callable[[str, str], bool]) -> Any:
    """A sub-attribute of a complex value; of a multi-valued one, the primary
    element's (else the first's), or with `every` each element's."""
    def of(element: dict[str, Any]) -> Any:
        return next((v for k, v in element.items() if matches(k, name)), None)

    if isinstance(value, dict):
        return of(value)
    if isinstance(value, list):
        elements = _primary_first(value)
        if every:
            return [v for v in map(of, elements) if not _is_empty(v)] or None
        return of(elements[0]) if elements else None
    return None


def _exactly(key: str, name: str) -> bool:
    return key == name


def _without_case(key: str, name: str) -> bool:
    return key.lower() == name.lower()


@dataclass(frozen=True)
class _Declared:
    """Where a declared path's value is stored: under its extension's URN (or
    at the top), its attribute, and maybe a sub-attribute (canonical names)."""

    urn: str | None
    attribute: str
    sub_attribute: str | None

    def value(self, attributes: dict[str, Any], every: bool) -> Any:
        container = attributes if self.urn is None else attributes.get(self.urn)
        value = container.get(self.attribute) if isinstance(container, dict) else None
        if self.sub_attribute is None:
            return value
        return _sub_attribute(value, self.sub_attribute, every, _exactly)


def _declared(user_type: ResourceType, path: str) -> _Declared | None:
    try:
        resolved = resolve(user_type, path)
    except PathError:
        return None
    return _Declared(resolved.schema.id if resolved.is_extension else None, resolved.attribute.name,
                     resolved.sub_attribute.name if resolved.sub_attribute else None)


def raw_value(container: Any, path: str, every: bool = False, depth: int = _RAW_DEPTH) -> Any:
    """The value an undeclared path names, as the seen-attributes list spells
    it: a key as sent (matched without case), then `:` into a URN's object or
    `.` into a sub-attribute (of each element of a list)."""
    if not isinstance(container, dict) or depth == 0:
        return None
    lowered = path.lower()
    for key, value in container.items():
        if key.lower() == lowered:
            return value
    for key, value in container.items():
        prefix = key.lower()
        if len(lowered) <= len(prefix) + 1 or not lowered.startswith(prefix):
            continue
        joint, rest = lowered[len(prefix)], path[len(prefix) + 1:]
        if joint == ":" and isinstance(value, dict):
            found = raw_value(value, rest, every, depth - 1)
        elif joint == "." and "." not in rest:
            found = _sub_attribute(value, rest, every, _without_case)
        else:
            continue
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class _Source:
    path: str
    declared: _Declared | None

    def value(self, attributes: dict[str, Any], undeclared: dict[str, Any], every: bool) -> Any:
        if self.declared is not None:
            value = self.declared.value(attributes, every)
            if not _is_empty(value):
                return value
        # Undeclared, or sent before its extension was declared (kept as sent).
        return raw_value(undeclared, self.path, every)


@dataclass(frozen=True)
class _CompiledField:
    key: str
    type: str
    sources: tuple[_Source, ...]
    steps: tuple[Step, ...]
    default: Any

    def value(self, attributes: dict[str, Any], undeclared: dict[str, Any]) -> Any:
        every = self.type == "string_list"
        for source in self.sources:
            found = cast(_applied(self.steps, source.value(attributes, undeclared, every)), self.type)
            if found is not None:
                return found
        return self.default


class Evaluator:
    """A mapping ready to compute members' custom attributes: its paths
    resolved once against the User type with the project's extensions, its
    fields typed (entries whose field no longer exists are skipped)."""

    def __init__(self, mapping: Mapping, fields: dict[str, CustomField], user_type: ResourceType, version: int = 0):
        self.version = version
        self._fields = tuple(
            _CompiledField(entry.field, fields[entry.field].type,
                           tuple(_Source(path, _declared(user_type, path)) for path in entry.sources),
                           entry.steps, entry.default)
            for entry in mapping.fields if entry.field in fields
        )

    def compute(self, attributes: dict[str, Any], undeclared: dict[str, Any] | None) -> dict[str, Any]:
        """The member's custom attributes: field key → value, for the fields that have one."""
        undeclared = undeclared or {}
        computed = {}
        for compiled in self._fields:
            value = compiled.value(attributes, undeclared)
            if value is not None:
                computed[compiled.key] = value
        return computed


def containment(wanted: dict[str, str], fields: dict[str, CustomField]) -> dict[str, Any]:
    """A filter by custom attributes (field key → value as text) as the JSON
    object members' custom attributes must contain: a string_list holds the value."""
    contained: dict[str, Any] = {}
    for key, text in wanted.items():
        custom = fields.get(key)
        if custom is None:
            raise MappingError(f"no custom field {key[:64]!r}")
        value = cast(text, "string" if custom.type == "string_list" else custom.type)
        if value is None:
            raise MappingError(f"{key} is a {custom.type.replace('_', ' ')} field; {text[:64]!r} is none")
        contained[key] = [value] if custom.type == "string_list" else value
    return contained


def changed_values(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The keys whose values differ, with their values in `before` (None: had none)."""
    return {key: before.get(key) for key in sorted(before.keys() | after.keys()) if before.get(key) != after.get(key)}
