"""What the request log keeps of a body (gateway/redaction.py)."""

from gateway.redaction import REDACTED, Redactor

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_passwords_are_redacted_wherever_they_are():
    redactor = Redactor()
    body = {"userName": "ada", "Password": "hunter2", "name": {"givenName": "Ada"},
            "Operations": [{"op": "replace", "path": "password", "value": "s3cret"},
                           {"op": "replace", "value": {"password": "s3cret", "active": False}},
                           {"op": "add", "path": "title", "value": "Countess"}]}
    redacted = redactor.redact(body)
    assert redacted["Password"] == REDACTED and redacted["userName"] == "ada"
    assert redacted["Operations"][0]["value"] == REDACTED
    assert redacted["Operations"][1]["value"] == {"password": REDACTED, "active": False}
    assert redacted["Operations"][2]["value"] == "Countess"
    assert "hunter2" not in str(redacted) and "s3cret" not in str(redacted)
    assert body["Password"] == "hunter2"  # the original is untouched


def test_the_vendors_sensitive_attributes_by_name_urn_or_path():
    redactor = Redactor(["costCenter", "employeeNumber"])
    body = {ENTERPRISE: {"costCenter": "C1", "department": "Engines"},
            f"{ENTERPRISE}:employeeNumber": "1815",
            "Operations": [{"op": "Replace", "path": f"{ENTERPRISE}:costCenter", "value": "C2"},
                           {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "a@x"}]}
    redacted = redactor.redact(body)
    assert redacted[ENTERPRISE] == {"costCenter": REDACTED, "department": "Engines"}
    assert redacted[f"{ENTERPRISE}:employeeNumber"] == REDACTED
    assert redacted["Operations"][0]["value"] == REDACTED
    assert redacted["Operations"][1]["value"] == "a@x"


def test_names_match_without_case_and_sub_attributes_of_a_sensitive_one_are_redacted():
    redactor = Redactor([" SSN "])
    assert redactor.redact({"ssn": "1", "x": [{"Ssn": "2"}]}) == {"ssn": REDACTED, "x": [{"Ssn": REDACTED}]}
    assert redactor.is_sensitive("ssn.last4")
