"""The one error the SCIM rules raise: a request that breaks a rule, typed as
RFC 7644 §3.12 types it. The rules stay free of any transport: the gateway
and the services translate it into their own error (runtime.errors)."""

from __future__ import annotations


class ScimError(ValueError):
    """`scim_type` is RFC 7644's scimType (invalidValue, invalidSyntax,
    invalidPath, noTarget, mutability, tooMany, invalidFilter); `message` is
    for the client."""

    def __init__(self, scim_type: str, message: str):
        super().__init__(message)
        self.scim_type = scim_type
        self.message = message
