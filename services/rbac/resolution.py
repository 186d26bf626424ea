"""What roles a member holds, and why: pure functions over plain data.

Roles are kept in the JSON shape the management API and webhooks show
(Stytch's): [{"role_id", "sources": [{"type", "details"}]}], ordered by
role_id, so comparing two lists tells whether anything changed.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from scimd.rbac.v1 import member_roles_pb2

Roles = list[dict[str, Any]]

DIRECT_ASSIGNMENT = "direct_assignment"
SCIM_CONNECTION_GROUP = "scim_connection_group"

_SOURCE_TYPES = {
    DIRECT_ASSIGNMENT: member_roles_pb2.RoleSource.DIRECT_ASSIGNMENT,
    SCIM_CONNECTION_GROUP: member_roles_pb2.RoleSource.SCIM_CONNECTION_GROUP,
}


def resolve_roles(
    *,
    active: bool,
    connection_id: str,
    groups: Iterable[tuple[str, str]],
    group_roles: Mapping[str, Iterable[str]],
    direct_role_ids: Iterable[str],
) -> Roles:
    """The effective roles of a member: its direct assignments plus the roles
    its groups (group_id, display name) imply. An inactive member holds none."""
    if not active:
        return []
    sources: dict[str, list[dict[str, Any]]] = {}
    for role_id in sorted(set(direct_role_ids)):
        sources.setdefault(role_id, []).append({"type": DIRECT_ASSIGNMENT, "details": {}})
    for group_id, group_name in sorted(groups):
        for role_id in sorted(set(group_roles.get(group_id, ()))):
            sources.setdefault(role_id, []).append({
                "type": SCIM_CONNECTION_GROUP,
                "details": {"connection_id": connection_id, "group_id": group_id, "group_name": group_name},
            })
    return [{"role_id": role_id, "sources": sources[role_id]} for role_id in sorted(sources)]


def role_ids(roles: Roles) -> list[str]:
    return [role["role_id"] for role in roles]


def gained_and_lost(before: Roles, after: Roles) -> tuple[list[str], list[str]]:
    old, new = set(role_ids(before)), set(role_ids(after))
    return sorted(new - old), sorted(old - new)


def roles_to_proto(organization_id: str, member_id: str, roles: Roles) -> member_roles_pb2.MemberRoles:
    return member_roles_pb2.MemberRoles(
        organization_id=organization_id,
        member_id=member_id,
        roles=[
            member_roles_pb2.MemberRole(
                role_id=role["role_id"],
                sources=[
                    member_roles_pb2.RoleSource(
                        type=_SOURCE_TYPES.get(source["type"], member_roles_pb2.RoleSource.TYPE_UNSPECIFIED),
                        connection_id=source["details"].get("connection_id", ""),
                        group_id=source["details"].get("group_id", ""),
                        group_name=source["details"].get("group_name", ""),
                    )
                    for source in role["sources"]
                ],
            )
            for role in roles
        ],
    )


def allows(permissions: Iterable[Mapping[str, Any]], resource_id: str, action: str) -> bool:
    """Whether a role's permissions allow `action` on `resource_id`; the
    action "*" stands for every action."""
    return any(
        p["resource_id"] == resource_id and (action in p["actions"] or "*" in p["actions"]) for p in permissions
    )
