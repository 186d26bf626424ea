"""An organization's SCIM connection: create, read, update (with what grants
roles: IdP groups, values of SCIM roles/entitlements, rules over SCIM
attributes), and the groups the IdP has pushed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from google.protobuf import field_mask_pb2
from scimd.connections.v1 import connection_pb2
from scimd.connections.v1 import connections_service_pb2 as connections_pb
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.rbac.v1 import member_roles_pb2
from scimd.rbac.v1 import rbac_service_pb2 as rbac_pb

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS, SETTINGS, TOKEN_CACHE
from gateway.management.common import (
    INT32_MAX,
    bool_field,
    bounded_int_field,
    envelope,
    flag_param,
    limit_param,
    string_field,
)
from runtime import shapes
from runtime.context import Tenant, acting_for
from runtime.errors import ServiceError
from runtime.settings import Settings

routes = web.RouteTableDef()

GROUPS_PAGE_MAX = 1000


@dataclass(frozen=True)
class _AssignmentKind:
    """One kind of role assignment as the body shows it, and as the rbac service has it."""

    kind: str  # its field in ConnectionRoleAssignments (and update_mask path)
    message: type
    written: tuple[str, ...]  # the keys of an item in a request
    shown: tuple[str, ...]  # the keys of an item in an answer


ASSIGNMENT_FIELDS = {
    "scim_group_implicit_role_assignments": _AssignmentKind(
        "group_assignments", member_roles_pb2.GroupRoleAssignment, ("group_id", "role_id"),
        ("group_id", "group_name", "role_id")),
    "scim_attribute_implicit_role_assignments": _AssignmentKind(
        "attribute_assignments", member_roles_pb2.AttributeRoleAssignment, ("attribute", "value", "role_id"),
        ("attribute", "value", "role_id")),
    "scim_rule_implicit_role_assignments": _AssignmentKind(
        "rule_assignments", member_roles_pb2.RuleRoleAssignment, ("filter", "role_id"), ("filter", "role_id")),
}


def connection_json(settings: Settings, connection: connection_pb2.Connection) -> dict[str, Any]:
    return shapes.connection_json(connection, settings.public_url)


def role_assignments_json(assignments: member_roles_pb2.ConnectionRoleAssignments) -> dict[str, list[dict[str, str]]]:
    """The connection's role assignments of every kind, by body field."""
    return {
        field: [{key: getattr(item, key) for key in kind.shown} for item in getattr(assignments, kind.kind)]
        for field, kind in ASSIGNMENT_FIELDS.items()
    }


def _proposed_assignments(body: dict[str, Any]) -> tuple[member_roles_pb2.ConnectionRoleAssignments, list[str]]:
    """The assignments the body gives, and which kinds it gives (a field left out or null keeps its kind)."""
    proposed = member_roles_pb2.ConnectionRoleAssignments()
    kinds = []
    for field, kind in ASSIGNMENT_FIELDS.items():
        value = body.get(field)
        if value is None:
            continue
        if not isinstance(value, list) or not all(
            isinstance(item, dict) and all(isinstance(item.get(key), str) for key in kind.written) for item in value
        ):
            raise ServiceError("INVALID_VALUE", f"{field} must be a list of {{{', '.join(kind.written)}}} objects")
        getattr(proposed, kind.kind).extend(kind.message(**{key: item[key] for key in kind.written}) for item in value)
        kinds.append(kind.kind)
    return proposed, kinds


async def _get_connection(request: web.Request, organization_id: str, connection_id: str = "") -> connection_pb2.Connection:
    response = await call(
        request.app[BACKENDS].connections.GetConnection(
            connections_pb.GetConnectionRequest(organization_id=organization_id, connection_id=connection_id),
        )
    )
    return response.connection


async def shown_role_assignments(request: web.Request, connection: connection_pb2.Connection) -> dict[str, list]:
    """The connection's role assignments, as every management answer about it shows them."""
    response = await call(
        request.app[BACKENDS].rbac.GetConnectionRoleAssignments(
            rbac_pb.GetConnectionRoleAssignmentsRequest(
                organization_id=connection.organization_id, connection_id=connection.connection_id
            ),
        )
    )
    return role_assignments_json(response.assignments)


async def _update_assignments(request: web.Request, connection: connection_pb2.Connection,
                              proposed: member_roles_pb2.ConnectionRoleAssignments, kinds: list[str],
                              *, validate_only: bool) -> rbac_pb.UpdateConnectionRoleAssignmentsResponse:
    assignments = member_roles_pb2.ConnectionRoleAssignments(
        organization_id=connection.organization_id, connection_id=connection.connection_id)
    assignments.MergeFrom(proposed)
    return await call(
        request.app[BACKENDS].rbac.UpdateConnectionRoleAssignments(
            rbac_pb.UpdateConnectionRoleAssignmentsRequest(
                assignments=assignments, update_mask=field_mask_pb2.FieldMask(paths=kinds),
                validate_only=validate_only,
            ),
        )
    )


def _changes_json(changes) -> list[dict[str, Any]]:
    return [
        {"member_id": c.member_id, "gained_role_ids": list(c.gained_role_ids), "lost_role_ids": list(c.lost_role_ids)}
        for c in changes
    ]


@routes.post("/v1/b2b/scim/{organization_id}/connection")
async def create_connection(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    response = await call(
        request.app[BACKENDS].connections.CreateConnection(
            connections_pb.CreateConnectionRequest(
                organization_id=request.match_info["organization_id"],
                display_name=string_field(body, "display_name"),
                identity_provider=string_field(body, "identity_provider"),
            ),
        )
    )
    connection = connection_json(request.app[SETTINGS], response.connection)
    connection["bearer_token"] = response.bearer_token
    connection.update(role_assignments_json(member_roles_pb2.ConnectionRoleAssignments()))
    return envelope(201, connection=connection)


@routes.get("/v1/b2b/scim/{organization_id}/connection")
async def get_connection(request: web.Request) -> web.Response:
    connection = await _get_connection(request, request.match_info["organization_id"])
    shown = connection_json(request.app[SETTINGS], connection)
    shown.update(await shown_role_assignments(request, connection))
    with acting_for(Tenant(connection.organization_id, connection.connection_id)):
        held = await call(request.app[BACKENDS].directory.ListHeldDeprovisions(
            directory_pb.ListHeldDeprovisionsRequest()))
    shown["held_deprovisions"] = len(held.held)
    return envelope(200, connection=shown)


@routes.put("/v1/b2b/scim/{organization_id}/connection/{connection_id}")
async def update_connection(request: web.Request) -> web.Response:
    """Updates display_name / identity_provider and replaces the role
    assignments given (groups, attribute values, rules; each kind as a whole).
    With ?dry_run=true nothing changes; the answer lists which members would
    gain or lose which roles."""
    body = await read_json_object(request)
    organization_id, connection_id = request.match_info["organization_id"], request.match_info["connection_id"]
    display_name, identity_provider = string_field(body, "display_name"), string_field(body, "identity_provider")
    proposed, kinds = _proposed_assignments(body)
    # 0: the project default.
    rate_limit = bounded_int_field(body, "rate_limit_per_second", 0, INT32_MAX)
    bearer_enabled = bool_field(body, "bearer_token_enabled")
    strict = bool_field(body, "strict_attributes")
    connection = await _get_connection(request, organization_id, connection_id)

    if flag_param(request, "dry_run"):
        shown = connection_json(request.app[SETTINGS], connection)
        if not kinds:
            shown.update(await shown_role_assignments(request, connection))
            return envelope(200, connection=shown, dry_run=True, role_changes=[])
        outcome = await _update_assignments(request, connection, proposed, kinds, validate_only=True)
        shown.update(role_assignments_json(outcome.assignments))
        return envelope(200, connection=shown, dry_run=True, role_changes=_changes_json(outcome.changes))

    changes_fields = bool(display_name or identity_provider) or any(
        field is not None for field in (rate_limit, bearer_enabled, strict))
    if kinds and changes_fields:
        # Both parts are checked before either is applied.
        await _update_assignments(request, connection, proposed, kinds, validate_only=True)
    if changes_fields:
        with request.app[TOKEN_CACHE].changing(connection_id=connection_id):
            response = await call(
                request.app[BACKENDS].connections.UpdateConnection(
                    connections_pb.UpdateConnectionRequest(
                        organization_id=organization_id, connection_id=connection_id,
                        display_name=display_name, identity_provider=identity_provider,
                        rate_limit_per_second=rate_limit, bearer_token_enabled=bearer_enabled,
                        strict_attributes=strict,
                    ),
                )
            )
        connection = response.connection
    shown = connection_json(request.app[SETTINGS], connection)
    changes: list[dict[str, Any]] = []
    if not kinds:
        shown.update(await shown_role_assignments(request, connection))
    else:
        outcome = await _update_assignments(request, connection, proposed, kinds, validate_only=False)
        shown.update(role_assignments_json(outcome.assignments))
        changes = _changes_json(outcome.changes)
    return envelope(200, connection=shown, role_changes=changes)


@routes.get("/v1/b2b/scim/{organization_id}/connection/{connection_id}/groups")
async def list_connection_groups(request: web.Request) -> web.Response:
    """The IdP groups of the connection, oldest first, paged with an opaque cursor."""
    organization_id, connection_id = request.match_info["organization_id"], request.match_info["connection_id"]
    limit = min(limit_param(request), GROUPS_PAGE_MAX)
    cursor = request.query.get("cursor", "")
    if cursor and not (cursor.isascii() and cursor.isdigit() and int(cursor) <= INT32_MAX):
        raise ServiceError("INVALID_VALUE", "cursor is not one this API returned")
    offset = int(cursor or "0")
    connection, groups = await asyncio.gather(
        _get_connection(request, organization_id, connection_id),
        call(
            request.app[BACKENDS].directory.ListGroups(
                directory_pb.ListGroupsRequest(page_size=limit, skip=offset, order_by="meta.created"),
            )
        ),
    )
    more = offset + len(groups.groups) < groups.total_size
    return envelope(
        200,
        scim_groups=[
            {
                "group_id": g.group_id,
                "group_name": g.display_name,
                "organization_id": g.organization_id,
                "connection_id": g.connection_id,
            }
            for g in groups.groups
        ],
        next_cursor=str(offset + len(groups.groups)) if more else None,
    )


@routes.delete("/v1/b2b/scim/{organization_id}/connection/{connection_id}")
async def delete_connection(request: web.Request) -> web.Response:
    """Deletes the connection; its tokens stop working on this gateway at once,
    on every other within about a second."""
    with request.app[TOKEN_CACHE].changing(connection_id=request.match_info["connection_id"]):
        await call(
            request.app[BACKENDS].connections.DeleteConnection(
                connections_pb.DeleteConnectionRequest(
                    organization_id=request.match_info["organization_id"],
                    connection_id=request.match_info["connection_id"],
                ),
            )
        )
    return envelope(200, connection_id=request.match_info["connection_id"])


ROTATION_STEPS = {
    "start": ("StartTokenRotation", connections_pb.StartTokenRotationRequest),
    "complete": ("CompleteTokenRotation", connections_pb.CompleteTokenRotationRequest),
    "cancel": ("CancelTokenRotation", connections_pb.CancelTokenRotationRequest),
}


@routes.post("/v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/{step}")
async def rotate_token(request: web.Request) -> web.Response:
    """Zero-downtime token rotation: `start` returns next_bearer_token once and
    both tokens work until `complete` (only the new one works) or `cancel`
    (only the old one works). The token that stops working is refused by this
    gateway from the answer on, by every other within about a second."""
    step = ROTATION_STEPS.get(request.match_info["step"])
    if step is None:
        raise ServiceError("NOT_FOUND", "the rotation steps are start, complete and cancel")
    method, message = step
    with request.app[TOKEN_CACHE].changing(connection_id=request.match_info["connection_id"]):
        response = await call(
            getattr(request.app[BACKENDS].connections, method)(
                message(
                    organization_id=request.match_info["organization_id"],
                    connection_id=request.match_info["connection_id"],
                ),
            )
        )
    shown = connection_json(request.app[SETTINGS], response.connection)
    if request.match_info["step"] == "start":
        shown["next_bearer_token"] = response.next_bearer_token
    shown.update(await shown_role_assignments(request, response.connection))
    return envelope(200, connection=shown)
