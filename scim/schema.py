"""SCIM schemas as data (RFC 7643 §2, §7, §8.7): the one description of every
attribute that filters, PATCH, projection, sorting and /Schemas all read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scim.errors import ScimError

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def check_schemas(body: dict[str, Any], must_contain: str = "") -> None:
    """A message's `schemas` (the name matched without case), when given, is
    an array of URN strings, holding `must_contain` (without case) when one is
    named. Absent or empty is accepted: IdPs leave it out."""
    value = next((v for k, v in body.items() if isinstance(k, str) and k.lower() == "schemas"), None)
    if value is None or value == []:
        return
    if not isinstance(value, list) or not all(isinstance(urn, str) for urn in value):
        raise ScimError("invalidSyntax", "schemas must be an array of schema URNs")
    if must_contain and must_contain.lower() not in (urn.strip().lower() for urn in value):
        raise ScimError("invalidSyntax", f"schemas must contain {must_contain}")


# The most values of a multi-valued attribute (emails, phoneNumbers, roles, …)
# a resource may hold: far above any real person's, low enough to bound a request's cost.
MAX_MULTI_VALUES = 100


@dataclass(frozen=True)
class Attribute:
    """An attribute definition (RFC 7643 §7). Names match without case."""

    name: str
    type: str = "string"  # string boolean decimal integer dateTime reference complex binary
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"  # readOnly readWrite immutable writeOnly
    returned: str = "default"  # always never default request
    uniqueness: str = "none"  # none server global
    description: str = ""
    sub_attributes: tuple["Attribute", ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    # For a multi-valued attribute: the most values one resource may hold (0:
    # no bound, for group members, which change by set operations). Bounds
    # the work any request can cause (a PATCH filters these lists).
    max_values: int = MAX_MULTI_VALUES
    # Whether a value must be one of canonical_values (a vendor's declared list);
    # the core schemas' lists are suggestions, as RFC 7643 §7 has them.
    enforce_canonical: bool = False

    def sub_attribute(self, name: str) -> "Attribute | None":
        lowered = name.lower()
        return next((a for a in self.sub_attributes if a.name.lower() == lowered), None)


@dataclass(frozen=True)
class Schema:
    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute | None:
        lowered = name.lower()
        return next((a for a in self.attributes if a.name.lower() == lowered), None)


@dataclass(frozen=True)
class SchemaExtension:
    schema: Schema
    required: bool = False


@dataclass(frozen=True)
class ResourceType:
    """A resource type (RFC 7643 §6): its core schema, extensions, and the
    common attributes id, externalId and meta (§3.1)."""

    name: str
    endpoint: str
    description: str
    schema: Schema
    extensions: tuple[SchemaExtension, ...] = ()
    common: tuple[Attribute, ...] = field(default=())

    def schema_by_urn(self, urn: str) -> Schema | None:
        lowered = urn.lower()
        if self.schema.id.lower() == lowered:
            return self.schema
        return next((e.schema for e in self.extensions if e.schema.id.lower() == lowered), None)

    @property
    def schema_urns(self) -> tuple[str, ...]:
        return (self.schema.id, *(e.schema.id for e in self.extensions))


@dataclass(frozen=True)
class AttributePath:
    """A parsed attribute path: `[urn:]attr[.sub]` (RFC 7644 §3.10)."""

    urn: str  # the schema's URN, "" when the path named none
    attribute: str
    sub_attribute: str = ""

    def __str__(self) -> str:
        text = f"{self.urn}:{self.attribute}" if self.urn else self.attribute
        return f"{text}.{self.sub_attribute}" if self.sub_attribute else text


@dataclass(frozen=True)
class ResolvedPath:
    """An attribute path matched against a resource type's schemas."""

    schema: Schema | None  # None for the common attributes id, externalId, meta
    attribute: Attribute
    sub_attribute: Attribute | None = None

    @property
    def is_extension(self) -> bool:
        return self.schema is not None and self.schema.id not in (CORE_USER, CORE_GROUP)

    @property
    def target(self) -> Attribute:
        return self.sub_attribute or self.attribute


class PathError(ValueError):
    """The path is malformed or names no attribute of the resource type."""


def parse_attribute_path(text: str) -> AttributePath:
    """Splits `urn:...:User:name.givenName` into its URN, attribute and sub-attribute."""
    text = text.strip()
    urn = ""
    if text.lower().startswith("urn:"):
        # The attribute is what follows the URN's last colon.
        urn, _, text = text.rpartition(":")
        if not urn or not text:
            raise PathError(f"malformed attribute path {text!r}")
    attribute, dot, sub_attribute = text.partition(".")
    if not attribute or (dot and not sub_attribute) or "." in sub_attribute or not _is_attribute_name(attribute) or (
        sub_attribute and not _is_attribute_name(sub_attribute)
    ):
        raise PathError(f"malformed attribute path {text!r}")
    return AttributePath(urn, attribute, sub_attribute)


def _is_attribute_name(name: str) -> bool:
    # RFC 7643 §2.1: ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA; "$ref" too.
    if name == "$ref":
        return True
    return name[0].isascii() and name[0].isalpha() and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)


def resolve(resource_type: ResourceType, path: AttributePath | str) -> ResolvedPath:
    """The definitions a path names; PathError when it names none.

    An extension's attributes need their URN; the core schema's may have it or
    not. A URN naming only the extension schema itself (e.g. in PATCH
    `"path": "urn:...:enterprise:2.0:User"`) is handled by the caller.
    """
    if isinstance(path, str):
        path = parse_attribute_path(path)
    if path.urn:
        schema = resource_type.schema_by_urn(path.urn)
        if schema is None:
            raise PathError(f"unknown schema {path.urn!r}")
        candidates: list[tuple[Schema | None, Attribute | None]] = [(schema, schema.attribute(path.attribute))]
        if schema is resource_type.schema:
            candidates.append((None, _common(resource_type, path.attribute)))
    else:
        candidates = [
            (None, _common(resource_type, path.attribute)),
            (resource_type.schema, resource_type.schema.attribute(path.attribute)),
        ]
    for schema, attribute in candidates:
        if attribute is None:
            continue
        if not path.sub_attribute:
            return ResolvedPath(schema, attribute)
        sub = attribute.sub_attribute(path.sub_attribute)
        if sub is None:
            raise PathError(f"{attribute.name} has no sub-attribute {path.sub_attribute!r}")
        return ResolvedPath(schema, attribute, sub)
    raise PathError(f"unknown attribute {str(path)!r}")


def _common(resource_type: ResourceType, name: str) -> Attribute | None:
    lowered = name.lower()
    return next((a for a in resource_type.common if a.name.lower() == lowered), None)


# ---------------------------------------------------------------- definitions

def _multi(name: str, description: str, *, types: tuple[str, ...] = (), value_type: str = "string",
           value_case_exact: bool = False, extra: tuple[Attribute, ...] = ()) -> Attribute:
    """The usual multi-valued complex attribute: value, display, type, primary (RFC 7643 §2.4)."""
    return Attribute(
        name, "complex", multi_valued=True, description=description,
        sub_attributes=(
            Attribute("value", value_type, case_exact=value_case_exact),
            Attribute("display", "string"),
            Attribute("type", "string", canonical_values=types),
            Attribute("primary", "boolean"),
            *extra,
        ),
    )


COMMON_ATTRIBUTES = (
    Attribute("id", case_exact=True, mutability="readOnly", returned="always", uniqueness="server",
              description="Unique identifier of the resource, assigned by scimd."),
    Attribute("externalId", case_exact=True, description="Identifier of the resource in the identity provider."),
    Attribute(
        "meta", "complex", mutability="readOnly", description="Resource metadata.",
        sub_attributes=(
            Attribute("resourceType", case_exact=True, mutability="readOnly"),
            Attribute("created", "dateTime", mutability="readOnly"),
            Attribute("lastModified", "dateTime", mutability="readOnly"),
            Attribute("location", "reference", case_exact=True, mutability="readOnly", reference_types=("uri",)),
            Attribute("version", case_exact=True, mutability="readOnly"),
        ),
    ),
)

USER_SCHEMA = Schema(
    CORE_USER, "User", "User Account",
    (
        Attribute("userName", required=True, uniqueness="server",
                  description="Unique identifier for the user, typically used to sign in; unique per connection ignoring case."),
        Attribute(
            "name", "complex", description="The components of the user's name.",
            sub_attributes=tuple(
                Attribute(n) for n in ("formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix")
            ),
        ),
        Attribute("displayName"),
        Attribute("nickName"),
        Attribute("profileUrl", "reference", reference_types=("external",)),
        Attribute("title"),
        Attribute("userType"),
        Attribute("preferredLanguage"),
        Attribute("locale"),
        Attribute("timezone"),
        Attribute("active", "boolean", description="Whether the user may use the application."),
        Attribute("password", mutability="writeOnly", returned="never",
                  description="Accepted and discarded: scimd never stores or returns passwords."),
        _multi("emails", "Email addresses.", types=("work", "home", "other")),
        _multi("phoneNumbers", "Phone numbers.", types=("work", "home", "mobile", "fax", "pager", "other")),
        _multi("ims", "Instant messaging addresses.", types=("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
        _multi("photos", "Photos.", types=("photo", "thumbnail"), value_type="reference", value_case_exact=True),
        Attribute(
            "addresses", "complex", multi_valued=True, description="Physical mailing addresses.",
            sub_attributes=(
                Attribute("formatted"), Attribute("streetAddress"), Attribute("locality"), Attribute("region"),
                Attribute("postalCode"), Attribute("country"),
                Attribute("type", canonical_values=("work", "home", "other")), Attribute("primary", "boolean"),
            ),
        ),
        Attribute(
            "groups", "complex", multi_valued=True, mutability="readOnly",
            description="Groups the user belongs to (read-only; change membership through /Groups).",
            sub_attributes=(
                Attribute("value", mutability="readOnly"),
                Attribute("$ref", "reference", mutability="readOnly", reference_types=("User", "Group")),
                Attribute("display", mutability="readOnly"),
                Attribute("type", mutability="readOnly", canonical_values=("direct", "indirect")),
            ),
        ),
        _multi("entitlements", "Entitlements."),
        _multi("roles", "Roles."),
        _multi("x509Certificates", "X.509 certificates.", value_type="binary"),
    ),
)

ENTERPRISE_USER_SCHEMA = Schema(
    ENTERPRISE_USER, "EnterpriseUser", "Enterprise User",
    (
        Attribute("employeeNumber"),
        Attribute("costCenter"),
        Attribute("organization"),
        Attribute("division"),
        Attribute("department"),
        Attribute(
            "manager", "complex", description="The user's manager.",
            sub_attributes=(
                Attribute("value"),
                Attribute("$ref", "reference", reference_types=("User",)),
                Attribute("displayName", mutability="readOnly"),
            ),
        ),
    ),
)

GROUP_SCHEMA = Schema(
    CORE_GROUP, "Group", "Group",
    (
        Attribute("displayName", required=True, uniqueness="server", description="Name of the group, unique per connection."),
        Attribute(
            "members", "complex", multi_valued=True, description="Members of the group.", max_values=0,
            sub_attributes=(
                # Case-exact, unlike RFC 7643 §8.7.1's example: the values are scimd's ids.
                Attribute("value", case_exact=True, mutability="immutable"),
                Attribute("$ref", "reference", mutability="immutable", reference_types=("User", "Group")),
                Attribute("display", mutability="readOnly"),
                Attribute("type", mutability="immutable", canonical_values=("User", "Group")),
            ),
        ),
    ),
)

USER = ResourceType(
    "User", "/Users", "User Account", USER_SCHEMA,
    extensions=(SchemaExtension(ENTERPRISE_USER_SCHEMA),), common=COMMON_ATTRIBUTES,
)
GROUP = ResourceType("Group", "/Groups", "Group", GROUP_SCHEMA, common=COMMON_ATTRIBUTES)

RESOURCE_TYPES = (USER, GROUP)
SCHEMAS = (USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA)
