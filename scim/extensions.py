"""Schema extensions a vendor declares for its users and groups (RFC 7643 §3.3,
§7): definitions in the JSON of a /Schemas resource, checked and turned into
the same `Schema` data the core schemas are, so that writes, filters, PATCH,
projection and /Schemas treat them exactly as the enterprise extension.

Pure: `parse_extension` takes the JSON a vendor sends and returns the schema
or raises ScimError("invalidValue") naming what is wrong; `extension_json`
gives back the canonical JSON (stored, and shown by the management API), a
fixed point of `parse_extension`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from scim.errors import ScimError
from scim.schema import (
    CORE_GROUP,
    CORE_USER,
    ENTERPRISE_USER,
    GROUP,
    MAX_MULTI_VALUES,
    USER,
    Attribute,
    ResourceType,
    Schema,
    SchemaExtension,
)

TYPES = ("string", "boolean", "decimal", "integer", "dateTime", "reference", "binary", "complex")
MUTABILITIES = ("readOnly", "readWrite", "immutable", "writeOnly")
RETURNED = ("always", "never", "default", "request")
UNIQUENESS = ("none", "server", "global")
RESOURCE_TYPES = {"User": USER, "Group": GROUP}

MAX_ATTRIBUTES = 100
MAX_SUB_ATTRIBUTES = 20
MAX_CANONICAL_VALUES = 100
MAX_TEXT = 1000
MAX_NAME = 64
MAX_URN = 200
MAX_EXTENSIONS_PER_TYPE = 20

# RFC 7643 §2.1: ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA.
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
# RFC 8141's shape, loosely: urn:<nid>:<nss>, no whitespace, none of SCIM's own namespaces.
_URN = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$")
_RESERVED_PREFIXES = ("urn:ietf:params:scim:schemas:core:", "urn:ietf:params:scim:api:")
_RESERVED = {CORE_USER.lower(), CORE_GROUP.lower(), ENTERPRISE_USER.lower()}
# What a vendor attribute may not be: readOnly would never get a value (only
# scimd sets those), and `$ref`-style names are the server's.
_DEFINITION_KEYS = {"name", "type", "multivalued", "description", "required", "caseexact", "mutability",
                    "returned", "uniqueness", "canonicalvalues", "referencetypes", "subattributes"}


@dataclass(frozen=True)
class Extension:
    """A vendor's schema extension and the resource type it extends ("User" or "Group")."""

    resource_type: str
    schema: Schema


def parse_extension(resource_type: str, body: Any) -> Extension:
    """The extension `body` declares (a /Schemas resource's JSON: id, name,
    description, attributes) for `resource_type`."""
    if resource_type not in RESOURCE_TYPES:
        raise ScimError("invalidValue", f"resource_type must be one of {', '.join(RESOURCE_TYPES)}")
    if not isinstance(body, dict):
        raise ScimError("invalidValue", "a schema extension must be a JSON object")
    fields = {key.lower(): value for key, value in body.items() if isinstance(key, str)}
    urn = _text(fields.get("id"), "id", required=True, limit=MAX_URN)
    if not _URN.match(urn) or urn.lower().startswith(_RESERVED_PREFIXES) or urn.lower() in _RESERVED:
        raise ScimError("invalidValue", f"id must be a URN outside SCIM's own namespaces, e.g. "
                                        f"urn:ietf:params:scim:schemas:extension:acme:2.0:{resource_type}")
    name = _text(fields.get("name"), "name", limit=MAX_NAME) or urn.rsplit(":", 1)[-1]
    description = _text(fields.get("description"), "description", limit=MAX_TEXT)
    definitions = fields.get("attributes")
    if not isinstance(definitions, list) or not definitions:
        raise ScimError("invalidValue", "attributes must be a non-empty array of attribute definitions")
    if len(definitions) > MAX_ATTRIBUTES:
        raise ScimError("invalidValue", f"a schema extension holds at most {MAX_ATTRIBUTES} attributes")
    attributes = tuple(_attribute(d, f"attributes[{n}]", top_level=True) for n, d in enumerate(definitions))
    _check_unique_names(attributes, "attributes")
    return Extension(resource_type, Schema(urn, name, description, attributes))


def extension_json(extension: Extension) -> dict[str, Any]:
    """The canonical JSON of an extension (RFC 7643 §7 attribute definitions)."""
    schema = extension.schema
    return {"id": schema.id, "name": schema.name, "description": schema.description,
            "attributes": [_definition_json(a) for a in schema.attributes]}


def with_extensions(resource_type: ResourceType, extensions: list[Extension] | tuple[Extension, ...]) -> ResourceType:
    """`resource_type` with the vendor's extensions of it after its own."""
    own = tuple(SchemaExtension(e.schema) for e in extensions if e.resource_type == resource_type.name)
    return replace(resource_type, extensions=resource_type.extensions + own) if own else resource_type


def _definition_json(attribute: Attribute) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "name": attribute.name, "type": attribute.type, "multiValued": attribute.multi_valued,
        "description": attribute.description, "required": attribute.required, "caseExact": attribute.case_exact,
        "mutability": attribute.mutability, "returned": attribute.returned, "uniqueness": attribute.uniqueness,
    }
    if attribute.canonical_values:
        rendered["canonicalValues"] = list(attribute.canonical_values)
    if attribute.reference_types:
        rendered["referenceTypes"] = list(attribute.reference_types)
    if attribute.sub_attributes:
        rendered["subAttributes"] = [_definition_json(sub) for sub in attribute.sub_attributes]
    return rendered


def _attribute(definition: Any, where: str, *, top_level: bool) -> Attribute:
    if not isinstance(definition, dict):
        raise ScimError("invalidValue", f"{where} must be an attribute definition object")
    fields = {key.lower(): value for key, value in definition.items() if isinstance(key, str)}
    unknown = sorted(set(fields) - _DEFINITION_KEYS)
    if unknown:
        raise ScimError("invalidValue", f"{where}: unknown property {unknown[0]!r}")
    name = _text(fields.get("name"), f"{where}.name", required=True, limit=MAX_NAME)
    if not _ATTRIBUTE_NAME.match(name):
        raise ScimError("invalidValue", f"{where}.name {name!r} must start with a letter and hold only letters, "
                                        "digits, '-' and '_' (RFC 7643 §2.1)")
    where = f"{where} ({name})"
    kind = _choice(fields.get("type", "string"), TYPES, f"{where}.type")
    mutability = _choice(fields.get("mutability", "readWrite"), MUTABILITIES, f"{where}.mutability")
    if mutability == "readOnly":
        raise ScimError("invalidValue", f"{where}.mutability: readOnly attributes are the server's; "
                                        "an identity provider could never set this one")
    sub_definitions = fields.get("subattributes") or []
    if kind == "complex":
        if not top_level:
            raise ScimError("invalidValue", f"{where}: a sub-attribute cannot be complex (RFC 7643 §2.3.8)")
        if not isinstance(sub_definitions, list) or not sub_definitions:
            raise ScimError("invalidValue", f"{where}.subAttributes must be a non-empty array for a complex attribute")
        if len(sub_definitions) > MAX_SUB_ATTRIBUTES:
            raise ScimError("invalidValue", f"{where}.subAttributes holds at most {MAX_SUB_ATTRIBUTES} definitions")
    elif sub_definitions:
        raise ScimError("invalidValue", f"{where}.subAttributes is only for a complex attribute")
    sub_attributes = tuple(_attribute(d, f"{where}.subAttributes[{n}]", top_level=False)
                           for n, d in enumerate(sub_definitions))
    _check_unique_names(sub_attributes, f"{where}.subAttributes")
    canonical = _strings(fields.get("canonicalvalues"), f"{where}.canonicalValues", MAX_CANONICAL_VALUES)
    if canonical and kind not in ("string", "reference"):
        raise ScimError("invalidValue", f"{where}.canonicalValues is only for string attributes")
    multi_valued = _flag(fields.get("multivalued", False), f"{where}.multiValued")
    return Attribute(
        name, kind, multi_valued=multi_valued,
        required=_flag(fields.get("required", False), f"{where}.required"),
        case_exact=_flag(fields.get("caseexact", False), f"{where}.caseExact"),
        mutability=mutability,
        returned=_choice(fields.get("returned", "default"), RETURNED, f"{where}.returned"),
        uniqueness=_choice(fields.get("uniqueness", "none"), UNIQUENESS, f"{where}.uniqueness"),
        description=_text(fields.get("description"), f"{where}.description", limit=MAX_TEXT),
        sub_attributes=sub_attributes,
        canonical_values=canonical,
        reference_types=_strings(fields.get("referencetypes"), f"{where}.referenceTypes", 10),
        max_values=MAX_MULTI_VALUES,
        enforce_canonical=bool(canonical),
    )


def _check_unique_names(attributes: tuple[Attribute, ...], where: str) -> None:
    seen: set[str] = set()
    for attribute in attributes:
        if attribute.name.lower() in seen:
            raise ScimError("invalidValue", f"{where}: {attribute.name!r} is declared twice (names ignore case)")
        seen.add(attribute.name.lower())


def _text(value: Any, where: str, *, required: bool = False, limit: int) -> str:
    if value is None or value == "":
        if required:
            raise ScimError("invalidValue", f"{where} is required")
        return ""
    if not isinstance(value, str):
        raise ScimError("invalidValue", f"{where} must be a string")
    value = value.strip()
    if len(value) > limit:
        raise ScimError("invalidValue", f"{where} must be at most {limit} characters")
    return value


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if isinstance(value, str):
        for option in allowed:  # RFC 7643 names them in camelCase; accept any case
            if value.lower() == option.lower():
                return option
    raise ScimError("invalidValue", f"{where} must be one of {', '.join(allowed)}")


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ScimError("invalidValue", f"{where} must be true or false")
    return value


def _strings(value: Any, where: str, limit: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 200 for v in value):
        raise ScimError("invalidValue", f"{where} must be an array of non-empty strings (at most 200 characters)")
    if len(value) > limit:
        raise ScimError("invalidValue", f"{where} holds at most {limit} values")
    return tuple(dict.fromkeys(value))


@dataclass(frozen=True)
class UniqueValue:
    """A value the vendor declared unique (`uniqueness` server or global), as compared."""

    urn: str
    attribute: str
    scope: str  # "server": within the connection; "global": within the organization
    case_exact: bool
    folded: str  # the value as text, lower-cased unless the attribute is caseExact


def unique_values(resource_type: ResourceType, attributes: dict[str, Any]) -> list[UniqueValue]:
    """The values of `attributes` (canonical) that the resource type's extensions
    declare unique: single-valued string, reference or integer attributes with
    uniqueness server or global (a unique decimal, boolean or dateTime would compare
    spellings, not values)."""
    found = []
    for extension in resource_type.extensions:
        values = attributes.get(extension.schema.id)
        if not isinstance(values, dict):
            continue
        for attribute in extension.schema.attributes:
            value = values.get(attribute.name)
            if attribute.uniqueness == "none" or attribute.multi_valued or value is None \
                    or attribute.type not in ("string", "reference", "integer"):
                continue
            text = value if isinstance(value, str) else str(value)
            found.append(UniqueValue(extension.schema.id, attribute.name, attribute.uniqueness, attribute.case_exact,
                                     text if attribute.case_exact else text.lower()))
    return sorted(found, key=lambda u: (u.urn, u.attribute))

