"""What a batch of newly stored events changes in the organizations' state.

The state is what a consumer gets by folding the webhook bodies in Events
API order, by these rules (the README's "Snapshots" documents them):
- a directory member event (create, update, delete) sets or removes the member;
- an rbac member event (one whose `data.member` has `roles`) sets the member's
  roles only: its other fields are the member as rbac last read it;
- an idp_group event sets the group; member_add / member_delete add or
  remove `member_ids` to or from it; a group's deletion removes its memberships;
- organization.delete removes everything of the organization.

Only the net effect of a batch is kept: the last change of each key wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runtime.event_catalog import (
    CATALOG,
    GROUP_DELETE,
    GROUP_MEMBER_ADD,
    GROUP_MEMBER_DELETE,
    MEMBER_DELETE,
    ORGANIZATION_CREATE,
    ORGANIZATION_DELETE,
)

Key = tuple[str, str]  # (organization_id, resource id)
MembershipKey = tuple[str, str, str]  # (organization_id, group_id, member_id)


_PROJECTED = frozenset(t.name for t in CATALOG if t.payload in ("member_changed", "group_changed", "organization_changed"))


def is_projected(event_type: str) -> bool:
    return event_type in _PROJECTED


@dataclass
class ProjectionChange:
    organizations_started: dict[str, int] = field(default_factory=dict)  # organization id -> seq
    organizations_deleted: set[str] = field(default_factory=set)
    members: dict[Key, dict[str, Any] | None] = field(default_factory=dict)  # None: deleted
    roles: dict[Key, list[dict[str, Any]] | None] = field(default_factory=dict)
    groups: dict[Key, dict[str, Any] | None] = field(default_factory=dict)
    groups_emptied: set[Key] = field(default_factory=set)  # deleted groups: every membership goes
    memberships: dict[MembershipKey, bool] = field(default_factory=dict)  # True: added

    def is_empty(self) -> bool:
        return not (self.organizations_started or self.organizations_deleted or self.members or self.roles
                    or self.groups or self.groups_emptied or self.memberships)

    def add(self, seq: int, body: dict[str, Any]) -> None:
        """Folds one event's webhook body in (events in seq order)."""
        event_type = body.get("type", "")
        data = body.get("data") or {}
        organization_id = data.get("organization_id", "")
        if event_type == ORGANIZATION_CREATE:
            self.organizations_started.setdefault(organization_id, seq)
        elif event_type == ORGANIZATION_DELETE:
            self._forget_organization(organization_id)
        elif data.get("object_type") == "member":
            self._member_event(event_type, organization_id, data)
        elif data.get("object_type") == "idp_group":
            self._group_event(event_type, organization_id, data)

    def _member_event(self, event_type: str, organization_id: str, data: dict[str, Any]) -> None:
        member = dict(data["member"])
        key = (organization_id, member["member_id"])
        if "roles" in member:
            self.roles[key] = member["roles"]
        elif event_type == MEMBER_DELETE:
            self.members[key] = None
            self.roles[key] = None
        else:
            self.members[key] = member

    def _group_event(self, event_type: str, organization_id: str, data: dict[str, Any]) -> None:
        group = data["idp_group"]
        key = (organization_id, group["group_id"])
        if event_type == GROUP_DELETE:
            self.groups[key] = None
            self.groups_emptied.add(key)
            for membership in [m for m in self.memberships if m[:2] == key]:
                del self.memberships[membership]
            return
        self.groups[key] = group
        joined = event_type == GROUP_MEMBER_ADD
        if joined or event_type == GROUP_MEMBER_DELETE:
            for member_id in data.get("member_ids", ()):
                self.memberships[(*key, member_id)] = joined

    def _forget_organization(self, organization_id: str) -> None:
        self.organizations_deleted.add(organization_id)
        self.organizations_started.pop(organization_id, None)
        for changes in (self.members, self.roles, self.groups, self.memberships):
            for key in [k for k in changes if k[0] == organization_id]:
                del changes[key]
        self.groups_emptied = {k for k in self.groups_emptied if k[0] != organization_id}
