"""What a SCIM Group write stores beyond displayName, externalId and members
(which services/directory keeps in columns and in group_members): the values
of the vendor's extensions of Group (RFC 7643 §3.3), normalized as a User's
are, keyed by schema URN.

Pure: only the body's extension keys are read, so a body listing 10,000
members costs nothing more here."""

from __future__ import annotations

from typing import Any

from scim.errors import ScimError
from scim.schema import ResourceType
from scim.users import check_required_extension_attributes, names_extension, normalize_resource


def group_extension_values(group_type: ResourceType, body: Any) -> dict[str, Any]:
    """The canonical extension values of a Group `body`: `{urn: {attribute: value}}`.
    Raises ScimError (invalidValue naming the attribute) for a bad value or a
    missing required one; attributes no schema declares are ignored, as a
    Group POST ignores unknown attributes."""
    if not isinstance(body, dict):
        raise ScimError("invalidSyntax", "a Group must be a JSON object")
    picked = {key: value for key, value in body.items() if isinstance(key, str) and names_extension(group_type, key)}
    if not picked:
        return {}
    attributes = normalize_resource(group_type, picked)
    check_required_extension_attributes(group_type, attributes)
    return attributes
