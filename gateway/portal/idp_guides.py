"""What an IT admin does in each identity provider to point it at scimd.
Steps are plain text; `base_url` and the token are shown beside them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Guide:
    name: str
    steps: tuple[str, ...]


GUIDES: dict[str, Guide] = {
    "okta": Guide("Okta", (
        "In the Okta Admin Console, open Applications → your app → General, and enable SCIM provisioning.",
        "Open the Provisioning tab → Integration → Edit.",
        "SCIM connector base URL: the base URL above. Unique identifier field for users: userName.",
        "Supported provisioning actions: Push New Users, Push Profile Updates, Push Groups.",
        "Authentication Mode: HTTP Header; Authorization: paste the bearer token.",
        "Test Connector Configuration, then Save.",
        "Provisioning → To App: enable Create Users, Update User Attributes and Deactivate Users.",
        "Assign people and push groups (Push Groups tab) to start provisioning.",
    )),
    "microsoft-entra": Guide("Microsoft Entra ID", (
        "In the Entra admin center, open Enterprise applications → your app → Provisioning.",
        "Set Provisioning Mode to Automatic.",
        "Tenant URL: the base URL above (keep its ?aadOptscim062020 ending). Secret Token: the bearer token.",
        "Test Connection, then Save.",
        "Under Mappings, keep userName mapped from userPrincipalName (or mail) and review the group mapping.",
        "Users and groups: assign who should be provisioned.",
        "Set Provisioning Status to On. Entra provisions every 40 minutes; use Provision on demand to try one user.",
    )),
    "google-workspace": Guide("Google Workspace", (
        "In the Google Admin console, open Apps → Web and mobile apps → your app → Auto-provisioning.",
        "Endpoint URL: the base URL above. Access token: the bearer token.",
        "Review the attribute mapping (userName from the primary email).",
        "Choose the organizational units or groups in scope, and turn auto-provisioning on.",
    )),
    "onelogin": Guide("OneLogin", (
        "In OneLogin, open Applications → your app → Configuration.",
        "SCIM Base URL: the base URL above. SCIM Bearer Token: the bearer token. API Connection: Enable.",
        "On the Provisioning tab, enable provisioning and choose what happens on user deletion (delete or suspend).",
        "On the Parameters tab, include Groups in user provisioning if your app maps groups to roles.",
        "Save, then assign users to the app.",
    )),
    "jumpcloud": Guide("JumpCloud", (
        "In the JumpCloud Admin Portal, open SSO Applications → your app → Identity Management.",
        "Choose SCIM 2.0. Base URL: the base URL above. Token Key: the bearer token.",
        "Test Connection (JumpCloud creates and deletes a test user and group), then Activate.",
        "Bind user groups to the application to provision their members.",
    )),
    "generic": Guide("Another SCIM 2.0 identity provider", (
        "Find your identity provider's SCIM 2.0 (outbound provisioning) settings for this application.",
        "Base URL (or tenant URL): the base URL above.",
        "Authentication: HTTP header Authorization: Bearer <the bearer token>.",
        "Map userName to the user's email address or login, and enable users and groups.",
    )),
}

CHOICES = ("okta", "microsoft-entra", "google-workspace", "onelogin", "jumpcloud", "generic")


def guide_for(identity_provider: str) -> Guide:
    return GUIDES.get(identity_provider, GUIDES["generic"])
