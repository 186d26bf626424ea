"""Hints for refused SCIM requests (gateway/request_hints.py)."""

from gateway.request_hints import hint_for


def hint(**fields) -> str:
    base = {"identity_provider": "okta", "method": "PATCH", "path": "/Users/member-1", "query": "",
            "matched_route": True, "status": 400, "scim_type": "invalidValue"}
    return hint_for(**{**base, **fields})


def test_entra_without_its_flag_is_told_to_paste_the_base_url():
    assert "aadOptscim062020" in hint(identity_provider="microsoft-entra")
    assert hint(identity_provider="microsoft-entra", query="aadOptscim062020") == ""
    assert hint() == ""  # Okta has no such flag


def test_a_path_that_names_no_endpoint_points_at_the_base_url():
    assert "base URL" in hint(path="/scim/v2/Users", matched_route=False, status=404)


def test_the_usual_conflicts_and_misses():
    assert "userName" in hint(method="POST", path="/Users", status=409, scim_type="uniqueness")
    assert "displayName" in hint(method="POST", path="/Groups", status=409, scim_type="uniqueness")
    assert "push it again" in hint(method="GET", status=404, scim_type="")
    assert "filter" in hint(method="GET", path="/Users", status=400, scim_type="invalidFilter")
    assert "ETag" in hint(status=412, scim_type="")
