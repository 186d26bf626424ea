"""SCIM PATCH on Groups (RFC 7644 §3.5.2) planned as set operations — pure
logic, no I/O, with the bodies Okta and Microsoft Entra ID really send. The
planner never sees the current members; `apply_steps` says what a plan does."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scim.errors import ScimError
from scim.extensions import parse_extension, with_extensions
from scim.group_patch import (
    MAX_MEMBER_IDS,
    MAX_OPERATIONS,
    UNCHANGED,
    GroupPatchPlan,
    MembershipStep,
    apply_extension_operations,
    apply_steps,
    plan_group_patch,
)
from scim.schema import CORE_GROUP, GROUP, PATCH_OP

START = {"u1", "u2", "u3"}


def plan(*operations, schemas=(PATCH_OP,)):
    return plan_group_patch({"schemas": list(schemas), "Operations": list(operations)})


def fails(*operations, reason, body=None):
    with pytest.raises(ScimError) as caught:
        if body is not None:
            plan_group_patch(body)
        else:
            plan(*operations)
    assert caught.value.scim_type == reason, caught.value.message
    return caught.value


def after(result, start=START):
    return apply_steps(start, result.steps)


def members(*ids):
    return [{"value": i} for i in ids]


# ------------------------------------------------------------------ Okta

def test_okta_remove_one_member_by_filter():
    """Okta ("SCIM 2.0 reference", Update a specific Group membership): remove with a value filter (RFC 7644 §3.5.2.2)."""
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": "members[value eq \"u2\"]"}],
    }
    result = plan_group_patch(body)
    assert result == GroupPatchPlan(steps=(MembershipStep("remove", ("u2",)),))
    assert after(result) == {"u1", "u3"}
    assert result.display_name is UNCHANGED and result.external_id is UNCHANGED


def test_okta_add_one_member_with_display():
    """Okta: add to `members` with an array value (RFC 7644 §3.5.2.1); `display` is read-only and ignored."""
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "add",
            "path": "members",
            "value": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}],
        }],
    }
    result = plan_group_patch(body)
    assert result.steps == (MembershipStep("add", ("23a35c27-23d3-4c03-b4c5-6443c09e7173",)),)
    assert after(result) == START | {"23a35c27-23d3-4c03-b4c5-6443c09e7173"}


def test_okta_replace_all_members():
    """Okta: replace on `members` without a filter replaces the whole set (RFC 7644 §3.5.2.3)."""
    result = plan({"op": "replace", "path": "members", "value": [{"value": "a"}, {"value": "b"}]})
    assert result.steps == (MembershipStep("replace", ("a", "b")),)
    assert after(result) == {"a", "b"}


def test_okta_replace_with_empty_array_clears():
    """Okta removes every member with `"value": []`: a clear (RFC 7643 §2.5 unassigned), never a 400."""
    result = plan({"op": "replace", "path": "members", "value": []})
    assert result.steps == (MembershipStep("clear"),)
    assert result.changes_members
    assert after(result) == set()


def test_okta_rename_repeating_the_id():
    """Okta (Update Group name): a path-less replace (RFC 7644 §3.5.2.3) whose value repeats the read-only id: ignored."""
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "replace",
            "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "Test SCIMv2"},
        }],
    }
    result = plan_group_patch(body)
    assert result == GroupPatchPlan(display_name="Test SCIMv2")
    assert not result.changes_members


def test_okta_remove_then_add_in_one_request():
    """Okta's remove-then-add: operations apply in order (RFC 7644 §3.5.2), so the id ends up a member."""
    result = plan(
        {"op": "remove", "path": "members[value eq \"u9\"]"},
        {"op": "add", "path": "members", "value": [{"value": "u9", "display": "x@y"}]},
    )
    assert after(result) == START | {"u9"}
    assert after(result, START | {"u9"}) == START | {"u9"}


def test_read_only_keys_in_a_path_less_value_are_ignored():
    """RFC 7644 §3.5.2: id, meta and schemas inside a path-less value are ignored, as in a POST (RFC 7643 §3)."""
    result = plan({"op": "replace", "value": {
        "id": "g1", "meta": {"version": "W/\"1\""}, "schemas": [CORE_GROUP], "displayName": "Ops", "unknown": 1,
    }})
    assert result == GroupPatchPlan(display_name="Ops")


# ------------------------------------------------------------------ Microsoft Entra ID

def test_entra_add_member():
    """Entra (SCIM tutorial, Update Group [Add Members]): "Add" with `$ref: null` (RFC 7644 §3.5.2.1)."""
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": "f648f8d5ea4e4cd38e9c"}]}],
    }
    result = plan_group_patch(body)
    assert result.steps == (MembershipStep("add", ("f648f8d5ea4e4cd38e9c",)),)


def test_entra_remove_listed_members_only():
    """Entra (Update Group [Remove Members]): "Remove" with a value removes only the listed members,
    never the whole group (RFC 7644 §3.5.2.2)."""
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Remove", "path": "members", "value": [{"$ref": None, "value": "u1"}, {"value": "u2"}]}],
    }
    result = plan_group_patch(body)
    assert result.steps == (MembershipStep("remove", ("u1", "u2")),)
    assert after(result) == {"u3"}
    assert after(result, {"u1", "u2", "u3", "u4", "u5"}) == {"u3", "u4", "u5"}


def test_entra_remove_with_an_empty_array_removes_nothing():
    """RFC 7644 §3.5.2.2: only a remove WITHOUT a value removes every member; `[]` lists none."""
    result = plan({"op": "Remove", "path": "members", "value": []})
    assert result.steps == ()
    assert after(result) == START


def test_entra_single_member_object_instead_of_an_array():
    """Entra may send one member object rather than an array (RFC 7644 §3.5.2.1)."""
    assert plan({"op": "Add", "path": "members", "value": {"value": "a"}}).steps == (MembershipStep("add", ("a",)),)
    assert plan({"op": "Remove", "path": "members", "value": {"value": "u1"}}).steps == (
        MembershipStep("remove", ("u1",)),
    )


def test_entra_replace_display_name():
    """Entra (Update Group [Non-member attributes]): "Replace" on displayName (RFC 7644 §3.5.2.3)."""
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updated"}],
    }
    assert plan_group_patch(body) == GroupPatchPlan(display_name="1879db59-3bdf-4490-ad68-ab880a269474updated")


def test_entra_replace_external_id():
    """Entra: "Replace" on externalId (RFC 7644 §3.5.2.3, RFC 7643 §3.1)."""
    assert plan({"op": "Replace", "path": "externalId", "value": "ext-9"}) == GroupPatchPlan(external_id="ext-9")


def test_entra_add_and_remove_several_members_in_one_request():
    """Entra batches membership changes: the operations apply in order (RFC 7644 §3.5.2)."""
    result = plan(
        {"op": "Add", "path": "members", "value": members("a", "b")},
        {"op": "Remove", "path": "members", "value": members("u1")},
        {"op": "Add", "path": "members", "value": members("c")},
    )
    assert result.steps == (MembershipStep("remove", ("u1",)), MembershipStep("add", ("a", "b", "c")))
    assert after(result) == {"u2", "u3", "a", "b", "c"}


# ------------------------------------------------------------------ path-less add and replace

def test_path_less_add_of_members_adds():
    """RFC 7644 §3.5.2.1: without a path, the value's `members` are added."""
    result = plan({"op": "add", "value": {"members": members("a"), "externalId": "e1"}})
    assert result == GroupPatchPlan(external_id="e1", steps=(MembershipStep("add", ("a",)),))


def test_path_less_replace_of_members_replaces():
    """RFC 7644 §3.5.2.3: without a path, the value's `members` replace the set; names match without case."""
    result = plan({"op": "replace", "value": {"DisplayName": "Eng", "MEMBERS": members("a", "b")}})
    assert result == GroupPatchPlan(display_name="Eng", steps=(MembershipStep("replace", ("a", "b")),))
    assert plan({"op": "replace", "value": {"members": []}}).steps == (MembershipStep("clear"),)


def test_path_less_value_under_the_group_urn():
    """RFC 7644 §3.5.2: a path naming the Group schema, or a value keyed by it, works like no path."""
    assert plan({"op": "replace", "path": CORE_GROUP, "value": {"displayName": "A"}}).display_name == "A"
    assert plan({"op": "replace", "value": {CORE_GROUP: {"displayName": "B"}}}).display_name == "B"


def test_urn_qualified_paths():
    """RFC 7644 §3.10: attribute paths may carry the schema URN."""
    assert plan({"op": "replace", "path": f"{CORE_GROUP}:displayName", "value": "C"}).display_name == "C"
    assert plan({"op": "remove", "path": f'{CORE_GROUP}:members[value eq "u1"]'}).steps == (
        MembershipStep("remove", ("u1",)),
    )


# ------------------------------------------------------------------ remove

def test_remove_members_without_value_clears():
    """RFC 7644 §3.5.2.2: remove of `members` with no value removes every member."""
    for operation in ({"op": "remove", "path": "members"}, {"op": "remove", "path": "members", "value": None}):
        result = plan(operation)
        assert result.steps == (MembershipStep("clear"),)
        assert after(result) == set()


@pytest.mark.parametrize("path, removed", [
    ('members[value eq "u1"]', ("u1",)),
    ('members[value eq "u1" or value eq "u2"]', ("u1", "u2")),
    ('members[value eq "u1" or value eq "u2" or value eq "u1"]', ("u1", "u2")),
    ('members[value eq "u1" and type eq "User"]', ("u1",)),
    ('members[type eq "User" and value eq "u1"]', ("u1",)),
    ('members[(value eq "u1" or value eq "u2") and type eq "User"]', ("u1", "u2")),
    ('members[value eq "u1" and $ref pr]', ("u1",)),
    ('Members[Value EQ "u2"]', ("u2",)),
])
def test_remove_by_value_filter(path, removed):
    """RFC 7644 §3.5.2.2: remove with a value filter removes the members it selects — here, the ids it names."""
    result = plan({"op": "remove", "path": path})
    assert result.steps == (MembershipStep("remove", removed),)
    assert after(result) == START - set(removed)


def test_remove_by_contradicting_filter_removes_nothing():
    """RFC 7644 §3.5.2.2: `value eq "a" and value eq "b"` selects no member, so nothing is removed."""
    assert plan({"op": "remove", "path": 'members[value eq "u1" and value eq "u2"]'}).steps == ()


@pytest.mark.parametrize("path", [
    'members[display co "a"]',
    'members[not (value eq "u1")]',
    'members[value ne "u1"]',
    'members[value sw "u"]',
    'members[value pr]',
    'members[value eq "u1" or type eq "User"]',
    'members[value eq "u1" and display co "x"]',
    'members[value eq "u1" and not (type eq "Group")]',
])
def test_filters_that_name_no_ids_are_invalid_filter(path):
    """RFC 7644 §3.5.2.2, §3.12: the planner cannot see the members, so a filter that does not name ids is invalidFilter."""
    error = fails({"op": "remove", "path": path}, reason="invalidFilter")
    assert "value eq" in error.message


def test_remove_external_id_clears_it():
    """RFC 7644 §3.5.2.2; RFC 7643 §2.5: remove, null and "" all leave externalId unassigned."""
    assert plan({"op": "remove", "path": "externalId"}).external_id is None
    assert plan({"op": "replace", "path": "externalId", "value": None}).external_id is None
    assert plan({"op": "add", "path": "externalId", "value": ""}).external_id is None
    assert plan({"op": "replace", "value": {"externalId": None}}).external_id is None


# ------------------------------------------------------------------ order of operations

def test_remove_then_add_of_the_same_id_ends_present():
    """RFC 7644 §3.5.2: operations apply in sequence — remove a, then add a: a is a member."""
    result = plan(
        {"op": "remove", "path": "members", "value": members("a")},
        {"op": "add", "path": "members", "value": members("a")},
    )
    assert after(result, set()) == {"a"} and after(result, {"a"}) == {"a"}


def test_add_then_remove_of_the_same_id_ends_absent():
    """RFC 7644 §3.5.2: add a, then remove a: a is not a member, whether it was before or not."""
    result = plan(
        {"op": "add", "path": "members", "value": members("a")},
        {"op": "remove", "path": 'members[value eq "a"]'},
    )
    assert result.steps == (MembershipStep("remove", ("a",)),)
    assert after(result, set()) == set() and after(result, {"a"}) == set()


def test_replace_then_add_and_remove():
    """RFC 7644 §3.5.2.3 then §3.5.2.1/§3.5.2.2: what follows a replace changes the replaced set."""
    result = plan(
        {"op": "replace", "path": "members", "value": members("a", "b")},
        {"op": "add", "path": "members", "value": members("c")},
        {"op": "remove", "path": "members", "value": members("a")},
    )
    assert result.steps == (MembershipStep("replace", ("b", "c")),)
    assert after(result) == {"b", "c"}


def test_clear_then_add():
    """RFC 7644 §3.5.2.2 then §3.5.2.1: clear, then add a: exactly {a}."""
    result = plan({"op": "remove", "path": "members"}, {"op": "add", "path": "members", "value": members("a")})
    assert after(result) == {"a"}


def test_last_display_name_and_external_id_win():
    """RFC 7644 §3.5.2: later operations see the earlier ones' result."""
    result = plan(
        {"op": "replace", "path": "displayName", "value": "One"},
        {"op": "replace", "value": {"displayName": "Two"}},
        {"op": "add", "path": "externalId", "value": "x"},
        {"op": "remove", "path": "externalId"},
    )
    assert result == GroupPatchPlan(display_name="Two", external_id=None)


def test_member_ids_are_deduplicated_in_first_seen_order():
    result = plan(
        {"op": "add", "path": "members", "value": members("c", "a", "c")},
        {"op": "add", "path": "members", "value": members("b", "a")},
    )
    assert result.steps == (MembershipStep("add", ("c", "a", "b")),)


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("operation, reason", [
    # read-only attributes (RFC 7643 §3.1, RFC 7644 §3.5.2)
    ({"op": "replace", "path": "id", "value": "x"}, "mutability"),
    ({"op": "remove", "path": "id"}, "mutability"),
    ({"op": "replace", "path": "meta", "value": {}}, "mutability"),
    ({"op": "replace", "path": "meta.lastModified", "value": "2024-01-01T00:00:00Z"}, "mutability"),
    # members are added and removed whole: their sub-attributes are immutable or read-only (RFC 7643 §4.2)
    ({"op": "add", "path": 'members[value eq "u1"]', "value": {"value": "u1"}}, "mutability"),
    ({"op": "replace", "path": 'members[value eq "u1"]', "value": {"value": "u9"}}, "mutability"),
    ({"op": "replace", "path": 'members[value eq "u1"].value', "value": "u9"}, "mutability"),
    ({"op": "replace", "path": 'members[value eq "u1"].display', "value": "x"}, "mutability"),
    ({"op": "remove", "path": 'members[value eq "u1"].type'}, "mutability"),
    ({"op": "add", "path": "members.display", "value": "x"}, "mutability"),
    ({"op": "replace", "path": "members.value", "value": "x"}, "mutability"),
    ({"op": "remove", "path": "members.value"}, "mutability"),
    ({"op": "add", "value": {'members[value eq "u1"]': {"value": "u1"}}}, "mutability"),
    ({"op": "add", "value": {"members.value": "x"}}, "mutability"),
    # displayName is required (RFC 7643 §4.2; RFC 7644 §3.5.2)
    ({"op": "remove", "path": "displayName"}, "mutability"),
    ({"op": "replace", "path": "displayName", "value": None}, "mutability"),
    ({"op": "replace", "path": "displayName", "value": ""}, "mutability"),
    ({"op": "replace", "path": "displayName", "value": "   "}, "mutability"),
    ({"op": "replace", "value": {"displayName": ""}}, "mutability"),
    ({"op": "replace", "path": "displayName", "value": 7}, "invalidValue"),
    ({"op": "replace", "path": "displayName", "value": ["x"]}, "invalidValue"),
    ({"op": "replace", "path": "externalId", "value": 7}, "invalidValue"),
    # paths (RFC 7644 §3.5.2: invalidPath)
    ({"op": "replace", "path": "description", "value": "x"}, "invalidPath"),
    ({"op": "replace", "path": "schemas", "value": [CORE_GROUP]}, "invalidPath"),
    ({"op": "replace", "path": "displayName.x", "value": "x"}, "invalidPath"),
    ({"op": "replace", "path": 'displayName[value eq "x"]', "value": "x"}, "invalidPath"),
    ({"op": "remove", "path": "members[value eq"}, "invalidPath"),
    ({"op": "remove", "path": 'members[value eq 5]'}, "invalidPath"),
    ({"op": "remove", "path": 'members[nickname eq "x"]'}, "invalidPath"),
    ({"op": "add", "value": {'members[value eq': []}}, "invalidPath"),
    ({"op": "add", "path": 7, "value": []}, "invalidPath"),
    # member values (RFC 7643 §4.2: value is the member's id)
    ({"op": "add", "path": "members", "value": ["u1"]}, "invalidValue"),
    ({"op": "add", "path": "members", "value": [{"display": "x"}]}, "invalidValue"),
    ({"op": "add", "path": "members", "value": [{"value": ""}]}, "invalidValue"),
    ({"op": "add", "path": "members", "value": [{"value": "  "}]}, "invalidValue"),
    ({"op": "add", "path": "members", "value": [{"value": 5}]}, "invalidValue"),
    ({"op": "add", "path": "members", "value": [{"value": None}]}, "invalidValue"),
    ({"op": "replace", "path": "members", "value": "u1"}, "invalidValue"),
    ({"op": "replace", "path": "members", "value": {}}, "invalidValue"),
    ({"op": "remove", "path": "members", "value": "u1"}, "invalidValue"),
    ({"op": "replace", "value": {"members": [{"value": "a"}, "b"]}}, "invalidValue"),
    # add/replace need a value (RFC 7644 §3.5.2.1, §3.5.2.3)
    ({"op": "add", "path": "members"}, "invalidValue"),
    ({"op": "replace", "path": "displayName"}, "invalidValue"),
    ({"op": "replace", "value": "x"}, "invalidValue"),
    ({"op": "add"}, "invalidValue"),
    # remove needs a path (RFC 7644 §3.5.2.2)
    ({"op": "remove"}, "noTarget"),
    ({"op": "remove", "path": ""}, "noTarget"),
    # op (RFC 7644 §3.5.2)
    ({"op": "move", "path": "members", "value": []}, "invalidSyntax"),
    ({"op": None, "path": "members", "value": []}, "invalidSyntax"),
    ({"path": "members", "value": []}, "invalidSyntax"),
])
def test_operation_errors(operation, reason):
    """RFC 7644 §3.12: each failure carries the scimType its reason maps to."""
    error = fails(operation, reason=reason)
    assert error.message.startswith("Operations[0]")


def test_error_names_the_failing_operation_and_nothing_is_planned():
    """RFC 7644 §3.5.2: a PATCH is atomic; the error says which operation failed."""
    error = fails(
        {"op": "add", "path": "members", "value": members("a")},
        {"op": "remove", "path": "displayName"},
        reason="mutability",
    )
    assert error.message.startswith("Operations[1]: ")


@pytest.mark.parametrize("body", [
    [],
    "x",
    {"schemas": [PATCH_OP]},
    {"schemas": [PATCH_OP], "Operations": []},
    {"schemas": [PATCH_OP], "Operations": {"op": "add"}},
    {"schemas": [PATCH_OP], "Operations": ["add"]},
    {"schemas": [CORE_GROUP], "Operations": [{"op": "remove", "path": "members"}]},
    {"schemas": PATCH_OP, "Operations": [{"op": "remove", "path": "members"}]},
    {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": "externalId"}] * (MAX_OPERATIONS + 1)},
])
def test_envelope_errors(body):
    """RFC 7644 §3.5.2: the PatchOp envelope — schemas, a non-empty Operations array — else invalidSyntax."""
    fails(reason="invalidSyntax", body=body)


def test_envelope_names_match_without_case():
    """RFC 7643 §2.1: attribute names, and so `Operations`, `op`, `path`, `value`, match without case;
    `schemas` may be missing (RFC 7644 §3.5.2)."""
    body = {"SCHEMAS": [PATCH_OP.upper()], "operations": [
        {"OP": " REMOVE ", "Path": "members", "VALUE": [{"Value": "u1"}]},
    ]}
    assert plan_group_patch(body).steps == (MembershipStep("remove", ("u1",)),)
    assert plan_group_patch({"Operations": [{"op": "add", "path": "members", "value": members("a")}]}).steps == (
        MembershipStep("add", ("a",)),
    )
    assert plan({"op": "remove", "path": "externalId"}, schemas=()).external_id is None


def test_max_operations_are_accepted():
    """RFC 7644 §3.5.2: up to MAX_OPERATIONS operations per request."""
    assert plan(*[{"op": "add", "path": "members", "value": members(f"u{i}")} for i in range(MAX_OPERATIONS)]).steps[
        0].member_ids == tuple(f"u{i}" for i in range(MAX_OPERATIONS))


# ------------------------------------------------------------------ size

def test_ten_thousand_members_plan_as_one_step():
    """A 10,000-member replace is one set operation, never a rewrite of loaded members (RFC 7644 §3.5.2.3)."""
    ids = [f"member-{i}" for i in range(MAX_MEMBER_IDS)]
    result = plan({"op": "replace", "path": "members", "value": members(*ids)})
    assert result.steps == (MembershipStep("replace", tuple(ids)),)


def test_too_many_member_ids_are_invalid_value():
    """More than MAX_MEMBER_IDS distinct ids in one request is invalidValue (RFC 7644 §3.12), across operations."""
    half = MAX_MEMBER_IDS // 2
    error = fails(
        {"op": "add", "path": "members", "value": members(*(f"a{i}" for i in range(half)))},
        {"op": "remove", "path": "members", "value": members(*(f"r{i}" for i in range(half + 1)))},
        reason="invalidValue",
    )
    assert f"at most {MAX_MEMBER_IDS}" in error.message and error.message.startswith("Operations[1]: ")


def test_repeated_ids_count_once_toward_the_limit():
    ids = [f"m{i}" for i in range(MAX_MEMBER_IDS)]
    result = plan(
        {"op": "add", "path": "members", "value": members(*ids)},
        {"op": "remove", "path": "members", "value": members(*ids)},
    )
    assert result.steps == (MembershipStep("remove", tuple(ids)),)


# ------------------------------------------------------------------ the plan's types

def test_apply_steps_semantics():
    """apply_steps is the executable definition of the steps; it does not change its input."""
    current = {"a", "b"}
    steps = (MembershipStep("add", ("c",)), MembershipStep("remove", ("a", "z")))
    assert apply_steps(current, steps) == {"b", "c"}
    assert current == {"a", "b"}
    assert apply_steps(current, (MembershipStep("replace", ("x",)), MembershipStep("add", ("y",)))) == {"x", "y"}
    assert apply_steps(current, (MembershipStep("clear"),)) == set()
    assert apply_steps(current, ()) == current


def test_membership_step_checks_its_kind():
    with pytest.raises(ValueError):
        MembershipStep("move", ("a",))
    with pytest.raises(ValueError):
        MembershipStep("clear", ("a",))


def test_unchanged_survives_copies():
    assert copy.deepcopy(GroupPatchPlan()).display_name is UNCHANGED
    assert pickle.loads(pickle.dumps(GroupPatchPlan())).external_id is UNCHANGED
    assert not GroupPatchPlan().changes_members


# ------------------------------------------------------------------ property: plan == applying each operation

IDS = [f"u{i}" for i in range(6)]
id_lists = st.lists(st.sampled_from(IDS), max_size=5)


def _spelled(op):
    return st.sampled_from([op, op.capitalize(), op.upper()])


# Each strategy yields (PATCH operation, model) where model maps a set to the set after the operation.
_add = st.tuples(_spelled("add"), id_lists, st.booleans()).map(lambda t: (
    {"op": t[0], "path": "members", "value": members(*t[1])} if t[2]
    else {"op": t[0], "value": {"members": members(*t[1])}},
    lambda s, ids=frozenset(t[1]): s | ids,
))
_remove_listed = st.tuples(_spelled("remove"), id_lists).map(lambda t: (
    {"op": t[0], "path": "members", "value": members(*t[1])},
    lambda s, ids=frozenset(t[1]): s - ids,
))
_remove_filter = st.tuples(_spelled("remove"), st.lists(st.sampled_from(IDS), min_size=1, max_size=4)).map(
    lambda t: (
        {"op": t[0], "path": "members[" + " or ".join(f'value eq "{i}"' for i in t[1]) + "]"},
        lambda s, ids=frozenset(t[1]): s - ids,
    )
)
_replace = st.tuples(_spelled("replace"), id_lists, st.booleans()).map(lambda t: (
    {"op": t[0], "path": "members", "value": members(*t[1])} if t[2]
    else {"op": t[0], "value": {"members": members(*t[1])}},
    lambda s, ids=frozenset(t[1]): set(ids),
))
_clear = _spelled("remove").map(lambda op: ({"op": op, "path": "members"}, lambda s: set()))
_rename = st.sampled_from(["A", "B"]).map(lambda name: (
    {"op": "replace", "path": "displayName", "value": name}, lambda s: s,
))
operations = st.one_of(_add, _remove_listed, _remove_filter, _replace, _clear, _rename)


@settings(max_examples=200, deadline=None)
@given(st.sets(st.sampled_from(IDS)), st.lists(operations, min_size=1, max_size=12))
def test_plan_equals_applying_each_operation_to_a_set(start, sequence):
    """RFC 7644 §3.5.2: operations apply in sequence; the plan has the same effect on any starting set,
    in at most one absolute step or one remove and one add of disjoint ids."""
    result = plan(*(operation for operation, _ in sequence))
    expected = set(start)
    for _, model in sequence:
        expected = model(expected)
    assert apply_steps(start, result.steps) == expected
    kinds = [step.kind for step in result.steps]
    assert kinds in ([], ["replace"], ["clear"], ["remove"], ["add"], ["remove", "add"])
    for step in result.steps:
        assert len(set(step.member_ids)) == len(step.member_ids)
    if kinds == ["remove", "add"]:
        assert not set(result.steps[0].member_ids) & set(result.steps[1].member_ids)


# ---------------------------------------------------------------- the vendor's extensions of Group

def _acme_group_type():
    extension = parse_extension("Group", {"id": "urn:acme:2.0:Group", "attributes": [
        {"name": "costCenter"}, {"name": "level", "type": "integer"},
        {"name": "site", "type": "complex", "subAttributes": [{"name": "city"}]}]})
    return with_extensions(GROUP, [extension])


def test_extension_operations_are_passed_on_in_order_with_their_request_index():
    group_type = _acme_group_type()
    planned = plan_group_patch({"Operations": [
        {"op": "add", "path": "members", "value": [{"value": "u9"}]},
        {"op": "Replace", "path": "urn:acme:2.0:Group:costCenter", "value": "CC-2"},
        {"op": "replace", "value": {"displayName": "Ops", "urn:acme:2.0:Group": {"level": 4}, "colour": "red"}},
        {"op": "remove", "path": "urn:acme:2.0:Group:site.city"},
    ]}, group_type)
    assert planned.display_name == "Ops" and planned.steps == (MembershipStep("add", ("u9",)),)
    assert [index for index, _ in planned.extension_operations] == [1, 2, 3]
    assert planned.extension_operations[1][1] == {"op": "replace", "value": {"urn:acme:2.0:Group": {"level": 4}}}
    stored = {"urn:acme:2.0:Group": {"costCenter": "CC-1", "site": {"city": "Berlin"}}}
    assert apply_extension_operations(planned, stored, group_type) == {
        "urn:acme:2.0:Group": {"costCenter": "CC-2", "level": 4}}
    assert stored == {"urn:acme:2.0:Group": {"costCenter": "CC-1", "site": {"city": "Berlin"}}}


def test_an_extension_operation_error_names_the_request_operation():
    group_type = _acme_group_type()
    planned = plan_group_patch({"Operations": [
        {"op": "replace", "path": "displayName", "value": "x"},
        {"op": "replace", "path": "urn:acme:2.0:Group:level", "value": "high"}]}, group_type)
    with pytest.raises(ScimError) as raised:
        apply_extension_operations(planned, {}, group_type)
    assert raised.value.scim_type == "invalidValue" and raised.value.message.startswith("Operations[1]: ")


def test_without_the_extension_declared_its_paths_are_invalid_and_its_values_ignored():
    with pytest.raises(ScimError) as raised:
        plan({"op": "replace", "path": "urn:acme:2.0:Group:costCenter", "value": "x"})
    assert raised.value.scim_type == "invalidPath"
    assert plan({"op": "replace", "value": {"urn:acme:2.0:Group": {"costCenter": "x"}}}).extension_operations == ()
