"""The net effect of a batch of events on the organizations' snapshots."""

from services.webhooks.snapshot_projection import ProjectionChange, is_projected

ORG = "organization-1"


def member_event(kind: str, member_id: str, **member) -> dict:
    return {"type": kind, "data": {"organization_id": ORG, "object_type": "member",
                                   "member": {"member_id": member_id, **member}}}


def group_event(kind: str, group_id: str, *member_ids: str) -> dict:
    data = {"organization_id": ORG, "object_type": "idp_group", "idp_group": {"group_id": group_id}}
    if member_ids:
        data["member_ids"] = list(member_ids)
    return {"type": kind, "data": data}


def fold(*events: dict) -> ProjectionChange:
    change = ProjectionChange()
    for seq, event in enumerate(events, start=1):
        change.add(seq, event)
    return change


def test_the_last_change_of_a_member_wins_and_roles_are_kept_apart():
    change = fold(member_event("scim.member.create", "m1", etag="1"),
                  member_event("scim.member.update", "m1", etag="2", roles=[{"role_id": "r"}]),
                  member_event("scim.member.update", "m1", etag="3"))
    assert change.members == {(ORG, "m1"): {"member_id": "m1", "etag": "3"}}
    assert change.roles == {(ORG, "m1"): [{"role_id": "r"}]}
    deleted = fold(member_event("scim.member.create", "m1", etag="1"), member_event("scim.member.delete", "m1"))
    assert deleted.members == {(ORG, "m1"): None} and deleted.roles == {(ORG, "m1"): None}


def test_memberships_follow_their_last_event_and_a_deleted_group_takes_them_along():
    change = fold(group_event("scim.idp_group.member_add", "g1", "m1", "m2"),
                  group_event("scim.idp_group.member_delete", "g1", "m1"),
                  group_event("scim.idp_group.member_add", "g2", "m1"),
                  group_event("scim.idp_group.delete", "g2"))
    assert change.memberships == {(ORG, "g1", "m1"): False, (ORG, "g1", "m2"): True}
    assert change.groups[(ORG, "g2")] is None and change.groups_emptied == {(ORG, "g2")}


def test_a_deleted_organization_forgets_what_the_batch_changed_and_a_created_one_starts():
    change = fold({"type": "organization.create", "data": {"organization_id": ORG}},
                  member_event("scim.member.create", "m1"),
                  group_event("scim.idp_group.member_add", "g1", "m1"))
    assert change.organizations_started == {ORG: 1}
    change.add(4, {"type": "organization.delete", "data": {"organization_id": ORG}})
    assert change.organizations_deleted == {ORG}
    assert not (change.organizations_started or change.members or change.memberships or change.groups)


def test_only_member_group_and_organization_events_are_folded():
    assert is_projected("scim.member.update") and is_projected("scim.idp_group.delete")
    assert is_projected("organization.create")
    assert not is_projected("scim.connection.update") and not is_projected("session.revoked")
    assert fold({"type": "scim.connection.update", "data": {"organization_id": ORG}}).is_empty()
