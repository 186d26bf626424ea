"""Which member PATCHes the directory applies on its event loop (cheap) and
which it hands to a thread: a thread's hand-off costs more than the usual
IdP PATCH, so only the large ones may take it."""

import orjson

from services.directory.service import _may_be_costly

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _costly(operations: list, attributes: dict | None = None) -> bool:
    body = {"schemas": [PATCH_OP], "Operations": operations}
    return _may_be_costly(orjson.dumps(body).decode(), body, attributes or {"userName": "a@example.com"})


def test_the_patches_idps_send_are_cheap():
    assert not _costly([{"op": "replace", "path": "displayName", "value": "Ada"}])
    assert not _costly([{"op": "replace", "value": {"active": False}}])  # Okta's deactivation
    assert not _costly([{"op": "Replace", "path": 'emails[type eq "work"].value', "value": "a@example.com"},
                        {"op": "Replace", "path": "name.givenName", "value": "Ada"}])  # Entra's
    assert not _costly([{"op": "add", "path": "emails", "value": [{"value": "b@example.com", "type": "home"}]}])


def test_many_operations_large_values_or_many_multi_valued_items_are_costly():
    assert _costly([{"op": "replace", "path": "title", "value": str(n)} for n in range(11)])
    assert _costly([{"op": "replace", "path": "title", "value": "x" * 9000}])
    many_emails = {"emails": [{"value": f"{n}@example.com"} for n in range(201)]}
    assert _costly([{"op": "remove", "path": 'emails[value eq "7@example.com"]'}], many_emails)


def test_a_body_without_an_operations_list_is_left_to_the_thread():
    assert _may_be_costly("{}", {}, {})
    assert _may_be_costly('{"Operations": {}}', {"Operations": {}}, {})
