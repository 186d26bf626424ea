"""What roles a member holds, and why: pure functions over plain data.

Roles are kept in the JSON shape the management API and webhooks show
(Stytch's): [{"role_id", "sources": [{"type", "details"}]}], ordered by
role_id, so comparing two lists tells whether anything changed.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from scimd.rbac.v1 import member_roles_pb2

from services.rbac.attribute_grants import AttributeAssignment, CompiledRule

Roles = list[dict[str, Any]]

DIRECT_ASSIGNMENT = "direct_assignment"
SCIM_CONNECTION_GROUP = "scim_connection_group"
SCIM_ATTRIBUTE = "scim_attribute"
SCIM_ATTRIBUTE_RULE = "scim_attribute_rule"

_SOURCE_TYPES = {
    DIRECT_ASSIGNMENT: member_roles_pb2.RoleSource.DIRECT_ASSIGNMENT,
    SCIM_CONNECTION_GROUP: member_roles_pb2.RoleSource.SCIM_CONNECTION_GROUP,
    SCIM_ATTRIBUTE: member_roles_pb2.RoleSource.SCIM_ATTRIBUTE,
    SCIM_ATTRIBUTE_RULE: member_roles_pb2.RoleSource.SCIM_ATTRIBUTE_RULE,
}
# A source's details are RoleSource fields of the same names.
_DETAIL_FIELDS = ("connection_id", "group_id", "group_name", "attribute", "value", "filter")


def resolve_roles(
    *,
    active: bool,
    connection_id: str,
    groups: Iterable[tuple[str, str]],
    group_roles: Mapping[str, Iterable[str]],
    direct_role_ids: Iterable[str],
    scim_attributes: Mapping[str, Any] | None = None,
    attribute_assignments: Iterable[AttributeAssignment] = (),
    rules: Iterable[CompiledRule] = (),
) -> Roles:
    """The effective roles of a member: its direct assignments plus the roles
    its groups (group_id, display name) imply, and those its connection grants
    on its SCIM attributes (values of roles/entitlements, and rules). An
    inactive member holds none."""
    if not active:
        return []
    sources: dict[str, list[dict[str, Any]]] = {}

    def add(role_id: str, source_type: str, details: dict[str, str]) -> None:
        sources.setdefault(role_id, []).append({"type": source_type, "details": details})

    for role_id in sorted(set(direct_role_ids)):
        add(role_id, DIRECT_ASSIGNMENT, {})
    for group_id, group_name in sorted(groups):
        for role_id in sorted(set(group_roles.get(group_id, ()))):
            add(role_id, SCIM_CONNECTION_GROUP,
                {"connection_id": connection_id, "group_id": group_id, "group_name": group_name})
    attributes = scim_attributes or {}
    for assignment in sorted(attribute_assignments):
        if assignment.is_held_by(attributes):
            add(assignment.role_id, SCIM_ATTRIBUTE,
                {"connection_id": connection_id, "attribute": assignment.attribute, "value": assignment.value})
    for rule in sorted(rules, key=lambda r: r.assignment):
        if rule.matches(attributes):
            add(rule.assignment.role_id, SCIM_ATTRIBUTE_RULE,
                {"connection_id": connection_id, "filter": rule.assignment.filter})
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
                        **{name: source["details"].get(name, "") for name in _DETAIL_FIELDS},
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
