"""A connection's mass-deprovision guard: its settings, the deprovisions it
holds, and approving or rejecting them (services/directory/deprovision_guard.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scimd.directory.v1 import directory_service_pb2 as directory_pb

from gateway.calls import call
from gateway.json import read_json_object
from gateway.keys import BACKENDS
from gateway.management.common import envelope
from gateway.management.connections import _get_connection
from runtime.errors import ServiceError
from runtime.timestamps import to_rfc3339

routes = web.RouteTableDef()
PATH = "/v1/b2b/scim/{organization_id}/connection/{connection_id}"
_FIELDS = {"enabled": bool, "percent": int, "max_count": int, "window_seconds": int, "auto_apply_seconds": int}
_BOUNDS = {"percent": (0, 100), "max_count": (0, 2**31 - 1), "window_seconds": (1, 30 * 86400),
           "auto_apply_seconds": (0, 30 * 86400)}


def guard_json(guard: directory_pb.DeprovisionGuard) -> dict[str, Any]:
    return {"enabled": guard.enabled, "percent": guard.percent, "max_count": guard.max_count,
            "window_seconds": guard.window_seconds, "auto_apply_seconds": guard.auto_apply_seconds,
            "source": guard.source}


def held_json(held: directory_pb.HeldDeprovision) -> dict[str, Any]:
    return {"member_id": held.member_id, "user_name": held.user_name, "change": held.change,
            "held_at": to_rfc3339(held.hold_time)}


def _guard_from(body: dict[str, Any], current: directory_pb.DeprovisionGuard) -> directory_pb.DeprovisionGuard:
    """The current guard with the body's fields laid over it, each checked."""
    unknown = sorted(set(body) - set(_FIELDS) - {"inherit", "source"})
    if unknown:
        raise ServiceError("INVALID_VALUE", f"unknown field {unknown[0]!r}")
    guard = directory_pb.DeprovisionGuard()
    guard.CopyFrom(current)
    for name, kind in _FIELDS.items():
        value = body.get(name)
        if value is None:
            continue
        if kind is bool and not isinstance(value, bool):
            raise ServiceError("INVALID_VALUE", f"{name} must be true or false")
        if kind is int:
            low, high = _BOUNDS[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ServiceError("INVALID_VALUE", f"{name} must be an integer from {low} to {high}")
        setattr(guard, name, value)
    return guard


@routes.get(PATH + "/deprovision_guard")
async def get_guard(request: web.Request) -> web.Response:
    await _get_connection(request, request.match_info["organization_id"], request.match_info["connection_id"])
    response = await call(request.app[BACKENDS].directory.GetDeprovisionGuard(directory_pb.GetDeprovisionGuardRequest()))
    return envelope(200, deprovision_guard=guard_json(response.guard))


@routes.put(PATH + "/deprovision_guard")
async def set_guard(request: web.Request) -> web.Response:
    """Sets the connection's own guard (fields left out keep their value), or
    with {"inherit": true} goes back to the project default."""
    body = await read_json_object(request)
    inherit = body.get("inherit", False)
    if not isinstance(inherit, bool | None):
        raise ServiceError("INVALID_VALUE", "inherit must be true or false")
    if not isinstance(body.get("source"), str | None):
        raise ServiceError("INVALID_VALUE", "source must be a string (it is ignored)")
    await _get_connection(request, request.match_info["organization_id"], request.match_info["connection_id"])
    directory = request.app[BACKENDS].directory
    current = (await call(directory.GetDeprovisionGuard(directory_pb.GetDeprovisionGuardRequest()))).guard
    guard = _guard_from(body, current)  # checked even when inherit discards it
    wanted = directory_pb.SetDeprovisionGuardRequest(inherit=True) if inherit else \
        directory_pb.SetDeprovisionGuardRequest(guard=guard)
    response = await call(directory.SetDeprovisionGuard(wanted))
    return envelope(200, deprovision_guard=guard_json(response.guard))


@routes.get(PATH + "/held_deprovisions")
async def list_held(request: web.Request) -> web.Response:
    await _get_connection(request, request.match_info["organization_id"], request.match_info["connection_id"])
    response = await call(request.app[BACKENDS].directory.ListHeldDeprovisions(
        directory_pb.ListHeldDeprovisionsRequest()))
    return envelope(200, held_deprovisions=[held_json(h) for h in response.held])


@routes.post(PATH + "/held_deprovisions/{decision}")
async def resolve_held(request: web.Request) -> web.Response:
    """approve: the held deprovisions take effect, in the order they were held,
    with their events; reject: the members stay as they are for the app."""
    decision = request.match_info["decision"]
    if decision not in ("approve", "reject"):
        raise ServiceError("NOT_FOUND", "no such route")
    await _get_connection(request, request.match_info["organization_id"], request.match_info["connection_id"])
    response = await call(request.app[BACKENDS].directory.ResolveHeldDeprovisions(
        directory_pb.ResolveHeldDeprovisionsRequest(approve=decision == "approve")))
    key = "approved" if decision == "approve" else "rejected"
    return envelope(200, **{key: [held_json(h) for h in response.resolved]})
