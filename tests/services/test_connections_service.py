"""ConnectionsService over real gRPC against real PostgreSQL."""

import uuid

import grpc
import pytest
from scimd.connections.v1 import connections_service_pb2 as pb
from scimd.connections.v1.connections_service_pb2_grpc import ConnectionsServiceStub

from runtime.errors import ServiceError


@pytest.fixture
async def connections(running_services):
    async with grpc.aio.insecure_channel(running_services.services.connections) as channel:
        yield ConnectionsServiceStub(channel)


async def _reason(rpc) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rpc
    return ServiceError.from_rpc_error(caught.value).reason


def _slug() -> str:
    return f"org-{uuid.uuid4().hex[:10]}"


async def test_create_and_get_organization(connections):
    slug = _slug()
    created = (await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name="Acme", organization_slug=slug))).organization
    assert created.organization_id.startswith("organization-") and created.organization_slug == slug and created.etag == "1"
    fetched = (await connections.GetOrganization(pb.GetOrganizationRequest(organization_id=created.organization_id))).organization
    assert fetched == created


async def test_duplicate_slug_is_uniqueness(connections):
    slug = _slug()
    await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name="A", organization_slug=slug))
    reason = await _reason(connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name="B", organization_slug=slug)))
    assert reason == "UNIQUENESS"


@pytest.mark.parametrize("name, slug", [("", "ok-slug"), ("x" * 200, "ok-slug"), ("Name", "Bad Slug!")])
async def test_invalid_organization_input(connections, name, slug):
    assert await _reason(connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name=name, organization_slug=slug))) == "INVALID_VALUE"


async def test_list_organizations_pages_through_everything(connections):
    for _ in range(5):
        await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name="Paged", organization_slug=_slug()))
    seen, token = [], ""
    for _ in range(100):
        page = await connections.ListOrganizations(pb.ListOrganizationsRequest(page_size=2, page_token=token))
        assert len(page.organizations) <= 2
        seen += [o.organization_id for o in page.organizations]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) >= 5


async def test_bad_page_token(connections):
    assert await _reason(connections.ListOrganizations(pb.ListOrganizationsRequest(page_token="%%%"))) == "INVALID_PAGE_TOKEN"


async def test_connection_token_authenticates_and_is_shown_once(connections):
    org = (await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name="T", organization_slug=_slug()))).organization
    created = await connections.CreateConnection(pb.CreateConnectionRequest(organization_id=org.organization_id, identity_provider="okta"))
    assert created.bearer_token.startswith("scimd_")
    assert created.connection.bearer_token_last_four == created.bearer_token[-4:]
    fetched = (await connections.GetConnection(pb.GetConnectionRequest(organization_id=org.organization_id))).connection
    assert fetched == created.connection
    assert created.bearer_token not in str(fetched)
    authenticated = await connections.AuthenticateToken(pb.AuthenticateTokenRequest(bearer_token=created.bearer_token))
    assert authenticated.connection.connection_id == created.connection.connection_id


async def test_one_connection_per_organization(connections):
    org = (await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name="T", organization_slug=_slug()))).organization
    await connections.CreateConnection(pb.CreateConnectionRequest(organization_id=org.organization_id))
    assert await _reason(connections.CreateConnection(pb.CreateConnectionRequest(organization_id=org.organization_id))) == "UNIQUENESS"


async def test_connection_for_unknown_organization(connections):
    assert await _reason(connections.CreateConnection(pb.CreateConnectionRequest(organization_id="organization-nope"))) == "NOT_FOUND"


async def test_unknown_identity_provider(connections):
    org = (await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name="T", organization_slug=_slug()))).organization
    reason = await _reason(connections.CreateConnection(pb.CreateConnectionRequest(organization_id=org.organization_id, identity_provider="myspace")))
    assert reason == "INVALID_VALUE"


async def test_other_organizations_connection_is_not_found(connections):
    first = (await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name="A", organization_slug=_slug()))).organization
    second = (await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name="B", organization_slug=_slug()))).organization
    created = await connections.CreateConnection(pb.CreateConnectionRequest(organization_id=first.organization_id))
    reason = await _reason(
        connections.GetConnection(
            pb.GetConnectionRequest(organization_id=second.organization_id, connection_id=created.connection.connection_id)
        )
    )
    assert reason == "NOT_FOUND"


async def test_wrong_and_tampered_tokens_are_rejected(connections):
    org = (await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name="T", organization_slug=_slug()))).organization
    token = (await connections.CreateConnection(pb.CreateConnectionRequest(organization_id=org.organization_id))).bearer_token
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in ["", "nonsense", tampered, "scimd_0000000000000000_" + "A" * 43]:
        assert await _reason(connections.AuthenticateToken(pb.AuthenticateTokenRequest(bearer_token=bad))) == "INVALID_TOKEN"


async def test_expired_token_is_rejected(connections, running_services):
    import asyncpg

    org = (await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name="T", organization_slug=_slug()))).organization
    created = await connections.CreateConnection(pb.CreateConnectionRequest(organization_id=org.organization_id))
    conn = await asyncpg.connect(running_services.database_url)
    try:
        await conn.execute(
            "UPDATE connections.bearer_tokens SET expires_at = now() - interval '1 second' WHERE connection_id = $1",
            created.connection.connection_id,
        )
    finally:
        await conn.close()
    assert await _reason(connections.AuthenticateToken(pb.AuthenticateTokenRequest(bearer_token=created.bearer_token))) == "INVALID_TOKEN"


async def test_standard_health_service_reports_serving(running_services):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with grpc.aio.insecure_channel(running_services.services.connections) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="scimd.connections.v1.ConnectionsService"))
        assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_slug_is_derived_from_the_name_and_made_unique(connections):
    name = f"Ü {uuid.uuid4().hex[:4]}"
    first = (await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name=name))).organization
    second = (await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name=name))).organization
    short = (await connections.CreateOrganization(pb.CreateOrganizationRequest(organization_name="X"))).organization
    assert first.organization_slug != second.organization_slug
    assert second.organization_slug.startswith(first.organization_slug + "-")
    assert len(short.organization_slug) >= 2


async def test_spent_portal_links_are_deleted_and_live_ones_kept(connections, running_services):
    """A link row lives as long as the link or the portal session it opened can matter, plus a margin."""
    from datetime import timedelta

    import asyncpg

    from gateway.portal.session import LIFETIME
    from runtime.db import create_pool
    from services.connections.repository import forget_spent_portal_links
    from services.connections.server import PORTAL_LINK_RETENTION
    from services.connections.service import PORTAL_LINK_MAX_SECONDS

    assert PORTAL_LINK_RETENTION > LIFETIME and PORTAL_LINK_RETENTION > timedelta(seconds=PORTAL_LINK_MAX_SECONDS)
    organization = (await connections.CreateOrganization(
        pb.CreateOrganizationRequest(organization_name="Links", organization_slug=_slug()))).organization
    ages = {  # link → (used how long ago, expired how long ago); None: not used
        "spent-unused": (None, "2 days"), "spent-used": ("2 days", "2 days"),
        "fresh-unused": (None, "-5 minutes"), "expired-recently": (None, "1 hour"), "used-recently": ("2 hours", "2 hours"),
    }
    suffix = uuid.uuid4().hex[:8]
    admin = await asyncpg.connect(running_services.database_url)
    try:
        for name, (used, expired) in ages.items():
            await admin.execute(
                "INSERT INTO connections.portal_links (link_id, organization_id, secret_hash, expires_at, used_at)"
                " VALUES ($1, $2, $3, now() - $4::text::interval, now() - $5::text::interval)",
                f"{name}-{suffix}", organization.organization_id, b"x", expired, used)
        pool = (await create_pool(running_services.database_url, "connections")).shared
        try:
            assert await forget_spent_portal_links(pool, PORTAL_LINK_RETENTION) >= 2
        finally:
            await pool.close()
        left = {r["link_id"].rsplit("-", 1)[0] for r in await admin.fetch(
            "SELECT link_id FROM connections.portal_links WHERE link_id LIKE $1", f"%-{suffix}")}
    finally:
        await admin.close()
    assert left == {"fresh-unused", "expired-recently", "used-recently"}
