"""The event catalog is the one list of event types: every payload of the
Event proto has its entry, and docs/events.md shows exactly the catalog."""

from pathlib import Path

import orjson
from scimd.directory.v1 import member_pb2
from scimd.events.v1 import event_pb2

from runtime.event_catalog import (
    CATALOG,
    MEMBER_UPDATE,
    PAYLOADS,
    markdown_table,
    object_id,
    unknown_event_types,
    webhook_data,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_every_payload_of_the_event_proto_is_in_the_catalog_and_nothing_else():
    oneof = event_pb2.Event.DESCRIPTOR.oneofs_by_name["payload"]
    assert set(PAYLOADS) == {field.name for field in oneof.fields}
    assert {event_type.payload for event_type in CATALOG} == set(PAYLOADS)


def test_the_docs_show_the_catalog():
    assert markdown_table() in DOCS.read_text(), "docs/events.md differs from runtime/event_catalog.py"


def test_names_are_unique_and_a_misspelt_one_is_unknown():
    names = [event_type.name for event_type in CATALOG]
    assert len(names) == len(set(names))
    assert unknown_event_types(["scim.member.create", "scim.member.created", "SCIM.MEMBER.CREATE"]) == [
        "scim.member.created", "SCIM.MEMBER.CREATE"]


def test_a_member_update_webhook_carries_the_member_and_its_previous_attributes():
    event = event_pb2.Event(event_id="event-1", type=MEMBER_UPDATE, organization_id="organization-1", action="UPDATE")
    event.member_changed.member.CopyFrom(member_pb2.Member(member_id="member-1", email_address="ada@acme.test"))
    event.member_changed.previous_attributes_json = orjson.dumps({"name": "Ada"}).decode()
    data = webhook_data(event, "https://scimd.test")
    assert (data["object_type"], data["id"], object_id(event)) == ("member", "member-1", "member-1")
    assert data["member"]["email_address"] == "ada@acme.test"
    assert data["previous_attributes"] == {"name": "Ada"}
    assert list(data)[:8] == ["event_id", "project_id", "organization_id", "action", "source", "request_id",
                              "object_type", "id"]
