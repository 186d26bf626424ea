"""SCIM discovery endpoints through the running gateway (RFC 7644 §4; RFC 7643 §5-§7)."""

import pytest

from scim.schema import CORE_GROUP, CORE_USER, ENTERPRISE_USER, LIST_RESPONSE
from tests.support import create_connection, create_organization

SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
async def base_url(http, gateway):
    organization = await create_organization(http, gateway, "discovery")
    connection = await create_connection(http, gateway, organization["organization_id"])
    return connection["base_url"]


async def get(http, url, **kwargs):
    """GET without an Authorization header (RFC 7644 §4: these MAY be served unauthenticated)."""
    async with http.get(url, **kwargs) as response:
        return response.status, response.content_type, await response.json(content_type=None)


async def test_service_provider_config(http, base_url):
    """RFC 7643 §5: the features the service provider supports."""
    status, content_type, body = await get(http, f"{base_url}/ServiceProviderConfig")
    assert status == 200 and content_type == "application/scim+json"
    assert body["schemas"] == [SERVICE_PROVIDER_CONFIG]
    assert body["documentationUri"].startswith("https://")
    assert body["patch"] == {"supported": True}
    assert body["bulk"] == {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576}
    assert body["filter"] == {"supported": True, "maxResults": 1000}
    assert body["changePassword"] == {"supported": False}
    assert body["sort"] == {"supported": True}
    assert body["etag"] == {"supported": True}
    # Without credentials: every scheme scimd offers (a connection's own client sees what it accepts).
    bearer, client_credentials, assertion = body["authenticationSchemes"]
    assert bearer["type"] == "oauthbearertoken" and bearer["name"] == "OAuth Bearer Token"
    assert bearer["primary"] is True and bearer["description"]
    assert client_credentials["type"] == assertion["type"] == "oauth2"
    assert not client_credentials["primary"] and not assertion["primary"]
    assert body["meta"] == {"resourceType": "ServiceProviderConfig", "location": f"{base_url}/ServiceProviderConfig"}


async def test_resource_types(http, base_url):
    """RFC 7643 §6, RFC 7644 §4: /ResourceTypes is a ListResponse of User and Group."""
    status, content_type, body = await get(http, f"{base_url}/ResourceTypes")
    assert status == 200 and content_type == "application/scim+json"
    assert body["schemas"] == [LIST_RESPONSE]
    assert body["totalResults"] == body["itemsPerPage"] == 2 and body["startIndex"] == 1
    by_id = {resource["id"]: resource for resource in body["Resources"]}
    assert set(by_id) == {"User", "Group"}
    user = by_id["User"]
    assert user["schemas"] == [RESOURCE_TYPE]
    assert user["name"] == "User" and user["endpoint"] == "/Users" and user["schema"] == CORE_USER
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE_USER, "required": False}]
    assert user["meta"] == {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/User"}
    assert by_id["Group"]["endpoint"] == "/Groups" and by_id["Group"]["schema"] == CORE_GROUP

    status, _, single = await get(http, f"{base_url}/ResourceTypes/Group")
    assert status == 200 and single == by_id["Group"]


async def test_schemas(http, base_url):
    """RFC 7643 §7, RFC 7644 §4: /Schemas lists every schema with its full attribute definitions."""
    status, content_type, body = await get(http, f"{base_url}/Schemas")
    assert status == 200 and content_type == "application/scim+json"
    assert body["schemas"] == [LIST_RESPONSE]
    assert [resource["id"] for resource in body["Resources"]] == [CORE_USER, ENTERPRISE_USER, CORE_GROUP]
    assert body["totalResults"] == 3
    user = body["Resources"][0]
    assert user["schemas"] == [SCHEMA] and user["name"] == "User"
    assert user["meta"] == {"resourceType": "Schema", "location": f"{base_url}/Schemas/{CORE_USER}"}
    attributes = {attribute["name"]: attribute for attribute in user["attributes"]}
    user_name = attributes["userName"]
    assert user_name["caseExact"] is False and user_name["uniqueness"] == "server" and user_name["required"] is True
    assert set(user_name) == {
        "name", "type", "multiValued", "description", "required", "caseExact", "mutability", "returned", "uniqueness",
    }
    assert attributes["password"]["returned"] == "never" and attributes["password"]["mutability"] == "writeOnly"
    emails = attributes["emails"]
    assert emails["multiValued"] is True and emails["type"] == "complex"
    email_type = next(sub for sub in emails["subAttributes"] if sub["name"] == "type")
    assert email_type["canonicalValues"] == ["work", "home", "other"]
    assert attributes["profileUrl"]["referenceTypes"] == ["external"]
    assert "id" not in attributes and "meta" not in attributes  # common attributes are not part of a schema

    status, _, single = await get(http, f"{base_url}/Schemas/{ENTERPRISE_USER}")
    assert status == 200 and single == body["Resources"][1]


async def test_unknown_schema_and_resource_type_are_scim_404s(http, base_url):
    """RFC 7644 §3.12: errors are SCIM Error JSON."""
    for path in ("/Schemas/urn:ietf:params:scim:schemas:core:2.0:Nope", "/ResourceTypes/Device"):
        status, content_type, body = await get(http, base_url + path)
        assert status == 404 and content_type == "application/scim+json"
        assert body["schemas"] == [SCIM_ERROR] and body["status"] == "404"


async def test_served_without_or_despite_a_wrong_authorization(http, base_url):
    """RFC 7644 §4: discovery MAY be served unauthenticated; a wrong token is not looked at."""
    status, _, body = await get(http, f"{base_url}/ServiceProviderConfig", headers={"Authorization": "Bearer wrong"})
    assert status == 200 and body["schemas"] == [SERVICE_PROVIDER_CONFIG]


async def test_filter_is_forbidden(http, base_url):
    """RFC 7644 §4: a filter on the discovery endpoints SHOULD be answered with 403."""
    status, content_type, body = await get(http, f"{base_url}/Schemas", params={"filter": 'id eq "x"'})
    assert status == 403 and content_type == "application/scim+json"
    assert body["schemas"] == [SCIM_ERROR] and body["status"] == "403"
