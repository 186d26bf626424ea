"""Roles from SCIM attributes (issue 21 §4), pure: values of `roles` and
`entitlements`, rules in the SCIM filter language, their sources, and which
directory events call for a recomputation."""

import orjson
import pytest
from scimd.events.v1 import event_pb2
from scimd.rbac.v1 import member_roles_pb2

from runtime.shapes import roles_json
from scim.extensions import parse_extension, with_extensions
from scim.filter import FilterError
from scim.schema import ENTERPRISE_USER, USER
from services.rbac.attribute_grants import (
    AttributeAssignment,
    RuleAssignment,
    attribute_assignment,
    check_rule,
    compile_rules,
    distinct_attribute_assignments,
)
from services.rbac.follower import plan
from services.rbac.resolution import resolve_roles, roles_to_proto

FINANCE_RULE = f'{ENTERPRISE_USER}:department eq "Finance"'
# What Entra sends for a user with an app role assigned.
ENTRA_USER = {"userName": "ada@acme.com", "roles": [
    {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "value": "Billing.Admin"}]}
OKTA_FINANCE_USER = {"userName": "grace@acme.com", ENTERPRISE_USER: {"department": "Finance"}}
ACME_EXTENSION = parse_extension("User", {
    "id": "urn:acme:schemas:2.0:User", "name": "AcmeUser",
    "attributes": [{"name": "clearance", "type": "integer"}],
})


def _roles(scim_attributes, *, attributes=(), rules=(), user_type=USER, active=True):
    return resolve_roles(
        active=active, connection_id="c1", groups=[], group_roles={}, direct_role_ids=[],
        scim_attributes=scim_attributes, attribute_assignments=attributes, rules=compile_rules(rules, user_type),
    )


def test_an_entra_app_role_grants_the_mapped_role_without_case():
    roles = _roles(ENTRA_USER, attributes=[AttributeAssignment("roles", "billing.admin", "billing-admin"),
                                           AttributeAssignment("entitlements", "Billing.Admin", "other")])
    assert roles == [{"role_id": "billing-admin", "sources": [{
        "type": "scim_attribute",
        "details": {"connection_id": "c1", "attribute": "roles", "value": "billing.admin"},
    }]}]


def test_entitlements_are_matched_on_their_value():
    member = {"entitlements": [{"value": "Reports"}, "not an element", {"display": "Reports"}]}
    assert [r["role_id"] for r in _roles(member, attributes=[AttributeAssignment("entitlements", "REPORTS", "r")])] \
        == ["r"]
    assert _roles({"entitlements": [{"display": "Reports"}]},
                  attributes=[AttributeAssignment("entitlements", "Reports", "r")]) == []


def test_a_rule_grants_its_role_to_the_members_it_matches():
    rule = RuleAssignment(FINANCE_RULE, "billing-viewer")
    assert _roles(OKTA_FINANCE_USER, rules=[rule]) == [{"role_id": "billing-viewer", "sources": [{
        "type": "scim_attribute_rule", "details": {"connection_id": "c1", "filter": FINANCE_RULE},
    }]}]
    # SCIM compares strings without case unless the attribute says otherwise.
    assert _roles({ENTERPRISE_USER: {"department": "finance"}}, rules=[rule])[0]["role_id"] == "billing-viewer"
    assert _roles({ENTERPRISE_USER: {"department": "Sales"}}, rules=[rule]) == []
    assert _roles(ENTRA_USER, rules=[rule]) == []


def test_rules_see_the_projects_extensions():
    acme = with_extensions(USER, [ACME_EXTENSION])
    rule = RuleAssignment("urn:acme:schemas:2.0:User:clearance ge 3", "vault")
    member = {"urn:acme:schemas:2.0:User": {"clearance": 4}}
    assert [r["role_id"] for r in _roles(member, rules=[rule], user_type=acme)] == ["vault"]
    # Without the extension (removed since the rule was saved) the rule matches nobody, and is no error.
    assert _roles(member, rules=[rule], user_type=USER) == []


def test_every_source_of_a_role_is_listed_in_order():
    roles = resolve_roles(
        active=True, connection_id="c1", groups=[("g1", "Finance team")], group_roles={"g1": ["billing"]},
        direct_role_ids=["billing"], scim_attributes={**ENTRA_USER, **OKTA_FINANCE_USER},
        attribute_assignments=[AttributeAssignment("roles", "Billing.Admin", "billing")],
        rules=compile_rules([RuleAssignment(FINANCE_RULE, "billing")], USER),
    )
    assert [s["type"] for s in roles[0]["sources"]] == [
        "direct_assignment", "scim_connection_group", "scim_attribute", "scim_attribute_rule"]


def test_inactive_members_hold_no_attribute_roles():
    assert _roles(OKTA_FINANCE_USER, rules=[RuleAssignment(FINANCE_RULE, "r")], active=False) == []


def test_sources_survive_the_proto_and_the_json_shape():
    roles = _roles({**ENTRA_USER, **OKTA_FINANCE_USER},
                   attributes=[AttributeAssignment("roles", "Billing.Admin", "billing-admin")],
                   rules=[RuleAssignment(FINANCE_RULE, "billing-viewer")])
    proto = roles_to_proto("o", "m", roles)
    assert [s.type for r in proto.roles for s in r.sources] == [
        member_roles_pb2.RoleSource.SCIM_ATTRIBUTE, member_roles_pb2.RoleSource.SCIM_ATTRIBUTE_RULE]
    assert roles_json(proto) == roles


@pytest.mark.parametrize("text, message", [
    ('department eq "Finance"', "unknown attribute"),  # an extension's attribute needs its URN
    ("userName eq", "expected"),
    ('groups[display eq "Finance"]', "map the group"),
    ('meta.lastModified gt "2024-01-01T00:00:00Z"', "cannot name meta"),
    ('id eq "x"', "cannot name id"),
    ('urn:ietf:params:scim:schemas:core:2.0:User:password eq "x"', "cannot name password"),
    (" or ".join(['title eq "x"'] * 21), "more than 20"),
])
def test_rules_that_could_never_match_as_meant_are_refused(text, message):
    with pytest.raises(FilterError, match=message):
        check_rule(text, USER)


def test_valid_rules_pass_the_check():
    for text in (FINANCE_RULE, 'title sw "VP" and active eq true', 'roles[value eq "Billing.Admin"]',
                 'emails[type eq "work" and value ew "@finance.acme.com"]', "not (userType eq \"Contractor\")"):
        check_rule(text, USER)


def test_attribute_assignments_are_checked_and_kept_once_without_case():
    assert attribute_assignment("Roles", "Billing.Admin", "r") == AttributeAssignment("roles", "Billing.Admin", "r")
    for bad in (("groups", "x", "r"), ("roles", "", "r"), ("roles", "x" * 257, "r"), ("roles", "x", "")):
        with pytest.raises(ValueError):
            attribute_assignment(*bad)
    kept = distinct_attribute_assignments([
        AttributeAssignment("roles", "b", "r"), AttributeAssignment("roles", "A", "r"),
        AttributeAssignment("roles", "a", "r"), AttributeAssignment("roles", "a", "s"),
    ])
    assert kept == [AttributeAssignment("roles", "A", "r"), AttributeAssignment("roles", "a", "s"),
                    AttributeAssignment("roles", "b", "r")]


def _member_event(event_type: str, member_id: str, previous: dict | None = None,
                  connection_id: str = "c1") -> event_pb2.Event:
    event = event_pb2.Event(type=event_type, organization_id="o")
    event.member_changed.member.member_id = member_id
    event.member_changed.member.scim_registration.connection_id = connection_id
    event.member_changed.previous_attributes_json = orjson.dumps(previous or {}).decode()
    return event


def test_plan_follows_creations_and_attribute_changes_with_their_connection():
    work = plan([
        _member_event("scim.member.create", "m1"),
        _member_event("scim.member.update", "m2", {"scim_attributes": {"title": "x"}}, connection_id="c2"),
        _member_event("scim.member.update", "m3", {"name": "x"}),
        _member_event("scim.member.update", "m4", {"undeclared_attributes": {"x": 1}}),
        _member_event("scim.member.update", "m5", {"status": "active", "scim_attributes": {"active": True}}),
    ])["o"]
    assert work.attributes_changed == {"m1": "c1", "m2": "c2", "m5": "c1"}
    assert work.members == {"m5"}
