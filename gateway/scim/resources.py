"""The SCIM resource types the gateway serves, and how to call each one's
operations: the one table the HTTP handlers, /Bulk and /.search share."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from gateway.scim import groups_api, users_api
from gateway.scim.groups import includes_members
from scim.schema import GROUP, USER, ResourceType


@dataclass(frozen=True)
class Resource:
    endpoint: str  # "Users"
    resource_type: ResourceType
    api: ModuleType  # create/get/replace/patch/delete/search

    def options(self, attributes: str | None, excluded: str | None, *, quiet: bool = False) -> dict[str, Any]:
        """Keyword options for the operations, from the projection parameters;
        `quiet` when no resource body will be returned (Bulk)."""
        if self.resource_type is GROUP:
            return {"with_members": not quiet and includes_members(attributes, excluded)}
        return {}


RESOURCES = {
    "Users": Resource("Users", USER, users_api),
    "Groups": Resource("Groups", GROUP, groups_api),
}
