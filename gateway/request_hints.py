"""What usually causes a refused SCIM request, in words an IT admin can act
on. Pure: the request log and scim.request.failed carry the hint."""

from __future__ import annotations

ENTRA = "microsoft-entra"
ENTRA_FLAG = "aadOptscim062020"


def hint_for(*, identity_provider: str, method: str, path: str, query: str, matched_route: bool, status: int,
             scim_type: str) -> str:
    """`path` is below the connection's base URL (e.g. /Users/member-…)."""
    if status == 404 and not matched_route:
        return ("No SCIM endpoint answers at this path: the identity provider's base URL (Tenant URL) must be "
                "the connection's base_url exactly, with nothing added; the IdP itself appends /Users or /Groups.")
    if identity_provider == ENTRA and ENTRA_FLAG not in query and status == 400:
        return (f"Microsoft Entra sends non-standard PATCH requests unless its Tenant URL ends in ?{ENTRA_FLAG}, "
                "as the connection's base_url does: paste the base URL exactly as shown.")
    if status == 409 and method == "POST" and path.startswith("/Users"):
        return ("A user with this userName already exists in this connection. The IdP should find it first "
                "(GET /Users?filter=userName eq …): check which IdP attribute maps to userName, and whether the "
                "user is assigned twice.")
    if status == 409 and method == "POST" and path.startswith("/Groups"):
        return "A group with this displayName already exists in this connection: rename one of them in the IdP."
    if status == 404 and path.startswith(("/Users/", "/Groups/")):
        return ("The IdP refers to a user or group this connection does not have (deleted here, or created "
                "through another connection): push it again from the IdP.")
    if scim_type == "invalidFilter":
        return "The filter is not one scimd understands (RFC 7644 §3.4.2.2): check custom filters in the IdP."
    if status == 412:
        return "The resource changed since the IdP read it (its ETag): the IdP should read it again and retry."
    if status == 413:
        return "The body is larger than scimd accepts: lower the IdP's batch or group page size."
    return ""
