"""Pure role resolution, and which directory events call for recomputation."""

import orjson
from scimd.events.v1 import event_pb2

from services.rbac.follower import plan
from services.rbac.resolution import allows, gained_and_lost, resolve_roles, roles_to_proto


def test_direct_and_group_sources_merge_per_role():
    roles = resolve_roles(
        active=True, connection_id="c1",
        groups=[("g2", "Admins"), ("g1", "Editors")],
        group_roles={"g1": ["editor"], "g2": ["admin", "editor"], "g3": ["ignored"]},
        direct_role_ids=["editor", "viewer", "viewer"],
    )
    assert [r["role_id"] for r in roles] == ["admin", "editor", "viewer"]
    editor = roles[1]["sources"]
    assert editor[0] == {"type": "direct_assignment", "details": {}}
    assert [s["details"]["group_id"] for s in editor[1:]] == ["g1", "g2"]
    assert editor[1]["details"] == {"connection_id": "c1", "group_id": "g1", "group_name": "Editors"}


def test_inactive_members_hold_no_roles():
    assert resolve_roles(active=False, connection_id="c", groups=[("g", "G")], group_roles={"g": ["r"]},
                         direct_role_ids=["d"]) == []


def test_gained_and_lost():
    before = [{"role_id": "a", "sources": []}, {"role_id": "b", "sources": []}]
    after = [{"role_id": "b", "sources": [{"type": "direct_assignment", "details": {}}]}, {"role_id": "c", "sources": []}]
    assert gained_and_lost(before, after) == (["c"], ["a"])


def test_proto_round_trip_keeps_sources():
    roles = resolve_roles(active=True, connection_id="c", groups=[("g", "G")], group_roles={"g": ["r"]},
                          direct_role_ids=["r"])
    proto = roles_to_proto("o", "m", roles)
    assert [s.group_id for s in proto.roles[0].sources] == ["", "g"]


def test_permission_wildcards():
    permissions = [{"resource_id": "docs", "actions": ["read"]}, {"resource_id": "billing", "actions": ["*"]}]
    assert allows(permissions, "docs", "read") and allows(permissions, "billing", "anything")
    assert not allows(permissions, "docs", "write") and not allows(permissions, "other", "read")


def _event(event_type: str, organization_id: str = "o", **payload) -> event_pb2.Event:
    event = event_pb2.Event(type=event_type, organization_id=organization_id, request_id="request-1")
    if "member_id" in payload:
        event.member_changed.member.member_id = payload["member_id"]
        event.member_changed.previous_attributes_json = orjson.dumps(payload.get("previous", {})).decode()
        if payload.get("roles"):
            event.member_changed.roles.member_id = payload["member_id"]
    else:
        event.group_changed.group.group_id = payload["group_id"]
        event.group_changed.member_ids.extend(payload.get("member_ids", []))
        if "previous" in payload:
            event.group_changed.previous_attributes_json = orjson.dumps(payload["previous"]).decode()
    return event


def test_plan_keeps_only_events_that_can_change_roles():
    work = plan([
        _event("scim.member.create", member_id="m0"),
        _event("scim.member.update", member_id="m1", previous={"name": "x"}),
        _event("scim.member.update", member_id="m2", previous={"status": "active"}),
        _event("scim.member.update", member_id="m3", previous={"roles": []}, roles=True),
        _event("scim.member.delete", member_id="m4"),
        _event("scim.idp_group.member_add", group_id="g1", member_ids=["a", "b"]),
        _event("scim.idp_group.member_delete", group_id="g1", member_ids=["c"]),
        _event("scim.idp_group.update", group_id="g2", previous={"external_id": "x"}),
        _event("scim.idp_group.update", group_id="g3", previous={"display_name": "Old"}),
        _event("scim.idp_group.delete", group_id="g4"),
        _event("scim.idp_group.create", organization_id="quiet", group_id="g5"),
    ])
    assert set(work) == {"o"}
    item = work["o"]
    assert item.members == {"m2", "m4"}
    assert item.joined_or_left == {"g1": {"a", "b", "c"}}
    assert item.renamed_groups == {"g3"} and item.deleted_groups == {"g4"}
    assert item.request_id == "request-1"
