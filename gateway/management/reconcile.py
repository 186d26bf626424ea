"""Reconciliation: the app proves it holds the directory's state, a range
of member ids at a time, and gets back what differs (and, on request, the
events that bring it up to date). See services/directory/reconcile_service.py."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.rbac.v1 import rbac_service_pb2 as rbac_pb

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS
from gateway.management.common import envelope, string_field
from runtime.errors import ServiceError

routes = web.RouteTableDef()
MAX_MEMBERS = 1000


def _held(body: dict[str, Any]) -> tuple[list[directory_pb.MemberVersion], dict[str, list[str]]]:
    """The app's members (id and etag), and the roles it holds for those it names roles for."""
    members = body.get("members")
    if members is None:
        members = []
    if not isinstance(members, list) or len(members) > MAX_MEMBERS:
        raise ServiceError("INVALID_VALUE", f"members must be a list of at most {MAX_MEMBERS} objects")
    versions, roles = [], {}
    for member in members:
        if not isinstance(member, dict) or not isinstance(member.get("member_id"), str) \
                or not isinstance(member.get("etag"), str):
            raise ServiceError("INVALID_VALUE", "each member is {member_id, etag[, roles]}, both strings")
        versions.append(directory_pb.MemberVersion(member_id=member["member_id"], etag=member["etag"]))
        if member.get("roles") is not None:
            if not isinstance(member["roles"], list) or not all(isinstance(r, str) for r in member["roles"]):
                raise ServiceError("INVALID_VALUE", "roles must be a list of role ids")
            roles[member["member_id"]] = sorted(set(member["roles"]))
    return versions, roles


@routes.post("/v1/b2b/organizations/{organization_id}/reconcile")
async def reconcile(request: web.Request) -> web.Response:
    """The app's members with ids in (after, through], each with its etag (and
    optionally its role ids): the answer lists the missing, stale and extra
    members and the role mismatches; with re_emit the directory emits their
    current state as events (source RECONCILE)."""
    body = await read_json_object(request)
    versions, app_roles = _held(body)
    re_emit = body.get("re_emit", False)
    if not isinstance(re_emit, bool):
        raise ServiceError("INVALID_VALUE", "re_emit must be true or false")
    backends = request.app[BACKENDS]
    diff = await call(backends.directory.DiffMembers(directory_pb.DiffMembersRequest(
        members=versions, after=string_field(body, "after"), through=string_field(body, "through"), re_emit=re_emit)))
    different = {m.member_id for m in diff.missing} | {m.member_id for m in diff.stale} | set(diff.extra)
    compared = [m for m in app_roles if m not in different]
    mismatches = []
    if compared:
        current = await call(backends.rbac.BatchGetMemberRoles(rbac_pb.BatchGetMemberRolesRequest(
            organization_id=request.match_info["organization_id"], member_ids=compared)))
        held_now = {roles.member_id: sorted(role.role_id for role in roles.roles) for roles in current.member_roles}
        for member_id in compared:
            now = held_now.get(member_id, [])
            if now != app_roles[member_id]:
                mismatches.append({"member_id": member_id, "roles": now})
    roles_re_emitted = 0
    if re_emit and mismatches:
        reemitted = await call(backends.rbac.ReemitMemberRoles(rbac_pb.ReemitMemberRolesRequest(
            organization_id=request.match_info["organization_id"], member_ids=[m["member_id"] for m in mismatches])))
        roles_re_emitted = reemitted.re_emitted
    return envelope(
        200,
        missing=[{"member_id": m.member_id, "etag": m.etag} for m in diff.missing],
        stale=[{"member_id": m.member_id, "etag": m.etag} for m in diff.stale],
        extra=list(diff.extra),
        role_mismatch=mismatches,
        compared_through=diff.compared_through or None,
        re_emitted=diff.re_emitted,
        roles_re_emitted=roles_re_emitted,
    )
