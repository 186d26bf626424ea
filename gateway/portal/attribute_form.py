"""The Admin Portal's attribute mapping form: each of the vendor's custom
fields as a row (a source and a fallback chosen from the paths the IdP has
sent, a clean-up, a default), and the mapping a submitted form asks for.

The portal offers the simple transforms; a field the vendor mapped with
others (split, regex) keeps them unless the admin picks another clean-up."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from runtime.errors import ServiceError

CLEAN_UPS = (("", "as sent"), ("trim", "trimmed"), ("lower", "lower case"), ("upper", "upper case"))
KEEP = "keep"
_SIMPLE = {key for key, _ in CLEAN_UPS if key}


@dataclass(frozen=True)
class Option:
    path: str
    label: str


@dataclass(frozen=True)
class FieldRow:
    key: str
    type: str
    description: str
    source: str
    fallback: str
    clean_up: str  # a CLEAN_UPS key, or KEEP
    kept: str  # what KEEP keeps, described ("" when nothing to keep)
    default: str
    options: list[Option]


def describe(transforms: list[dict[str, Any]]) -> str:
    """Transforms in words, e.g. `trimmed, then part 2 split at "-"`."""
    words = []
    for t in transforms:
        if t.get("type") == "split":
            words.append(f"split at \"{t.get('separator')}\", part {t.get('index', 0)}")
        elif t.get("type") == "regex":
            words.append(f"group {t.get('group', 1)} of /{t.get('pattern')}/")
        else:
            words.append(dict(CLEAN_UPS).get(t.get("type"), str(t.get("type"))))
    return ", then ".join(words)


def _clean_up_of(transforms: list[dict[str, Any]]) -> str:
    if not transforms:
        return ""
    if len(transforms) == 1 and transforms[0].get("type") in _SIMPLE:
        return transforms[0]["type"]
    return KEEP


def default_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def parse_default(text: str, field_type: str, key: str) -> Any:
    """A default typed in the form, as a value of the field's type (None when empty)."""
    text = text.strip()
    if not text:
        return None
    if field_type == "string":
        return text
    if field_type == "string_list":
        return [part.strip() for part in text.split(",") if part.strip()] or None
    if field_type == "boolean":
        if text.lower() not in ("true", "false"):
            raise ServiceError("INVALID_VALUE", f"the default of {key} must be true or false")
        return text.lower() == "true"
    for number_type in (int, float):
        try:
            number = number_type(text)
        except ValueError:
            continue
        if math.isfinite(number):
            return number
    raise ServiceError("INVALID_VALUE", f"the default of {key} must be a number")


def rows(fields: list[dict[str, str]], mapping: list[dict[str, Any]], seen: list[dict[str, Any]]) -> list[FieldRow]:
    """One row per custom field, with the mapping's current choices."""
    by_field = {entry["field"]: entry for entry in mapping}
    base = [Option(s["path"], f"{s['path']} ({s['member_count']} member{'s' if s['member_count'] != 1 else ''})")
            for s in seen]
    shown = []
    for field in fields:
        entry = by_field.get(field["key"], {})
        sources, transforms = entry.get("sources", []), entry.get("transforms", [])
        known = {o.path for o in base}
        # A source mapped before the IdP sent it stays choosable.
        options = [*base, *(Option(path, f"{path} (not sent yet)") for path in sources[:2] if path not in known)]
        clean_up = _clean_up_of(transforms)
        shown.append(FieldRow(
            key=field["key"], type=field["type"], description=field["description"],
            source=sources[0] if sources else "", fallback=sources[1] if len(sources) > 1 else "",
            clean_up=clean_up, kept=describe(transforms) if clean_up == KEEP else "",
            default=default_text(entry.get("default")), options=options,
        ))
    return shown


def submitted(form: Mapping[str, Any], fields: list[dict[str, str]],
              mapping: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The mapping the form asks for: a field with no source chosen is not mapped;
    sources the form does not show (a third, …) and kept transforms stay."""
    by_field = {entry["field"]: entry for entry in mapping}
    wanted = []
    for field in fields:
        key = field["key"]
        chosen = [str(form.get(f"{name}:{key}", "")).strip() for name in ("source", "fallback")]
        if not chosen[0]:
            continue
        current = by_field.get(key, {})
        sources = list(dict.fromkeys([*filter(None, chosen), *current.get("sources", [])[2:]]))
        clean_up = str(form.get(f"clean_up:{key}", ""))
        if clean_up == KEEP:
            transforms = current.get("transforms", [])
        elif clean_up in _SIMPLE:
            transforms = [{"type": clean_up}]
        else:
            transforms = []
        entry: dict[str, Any] = {"field": key, "sources": sources, "transforms": transforms}
        default = parse_default(str(form.get(f"default:{key}", "")), field["type"], key)
        if default is not None:
            entry["default"] = default
        wanted.append(entry)
    return wanted


def shown_value(value: Any) -> str:
    """A custom attribute's value as the preview shows it."""
    if value is None:
        return "(none)"
    return default_text(value)
