"""What the portal reads and changes, always for the one organization of the
portal session: the organization never comes from the page or the URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator

import orjson
from scimd.connections.v1 import connection_pb2
from scimd.connections.v1 import connections_service_pb2 as connections_pb
from scimd.directory.v1 import directory_service_pb2 as directory_pb
from scimd.rbac.v1 import member_roles_pb2
from scimd.rbac.v1 import rbac_service_pb2 as rbac_pb
from scimd.webhooks.v1 import endpoint_pb2
from scimd.webhooks.v1 import webhooks_service_pb2 as webhooks_pb

from gateway.backends import Backends
from gateway.calls import call
from gateway.management.connections import ROTATION_STEPS
from gateway.management.deprovision_guard import held_json
from gateway.management.request_log import health_warnings, parse_statuses
from gateway.token_cache import TokenCache
from runtime import shapes
from runtime.context import Tenant, acting_for
from runtime.errors import ServiceError
from runtime.settings import Settings
from runtime.timestamps import to_rfc3339

PAGE = 25
# How many of a mapping change's member changes the preview lists (it counts them all).
PREVIEW_CHANGES = 100


class NoConnection(Exception):
    """The organization has no SCIM connection yet."""


def quoted(text: str) -> str:
    """`text` as a SCIM filter string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class OrganizationView:
    backends: Backends
    settings: Settings
    token_cache: TokenCache
    organization_id: str

    async def organization(self) -> dict[str, Any]:
        response = await call(self.backends.connections.GetOrganization(
            connections_pb.GetOrganizationRequest(organization_id=self.organization_id)))
        return shapes.organization_json(response.organization)

    async def connection(self) -> connection_pb2.Connection | None:
        try:
            response = await call(self.backends.connections.GetConnection(
                connections_pb.GetConnectionRequest(organization_id=self.organization_id)))
        except ServiceError as error:
            if error.kind.reason == "NOT_FOUND":
                return None
            raise
        return response.connection

    async def require_connection(self) -> connection_pb2.Connection:
        """The connection; pages that need one send the admin to create it first."""
        connection = await self.connection()
        if connection is None:
            raise NoConnection()
        return connection

    def shown(self, connection: connection_pb2.Connection) -> dict[str, Any]:
        return shapes.connection_json(connection, self.settings.public_url)

    async def create_connection(self, identity_provider: str, display_name: str) -> tuple[dict[str, Any], str]:
        response = await call(self.backends.connections.CreateConnection(
            connections_pb.CreateConnectionRequest(
                organization_id=self.organization_id, identity_provider=identity_provider, display_name=display_name,
            ),
        ))
        return self.shown(response.connection), response.bearer_token

    async def rotate(self, connection_id: str, step: str) -> tuple[dict[str, Any], str]:
        method, message = ROTATION_STEPS[step]
        with self.token_cache.changing(connection_id=connection_id):
            response = await call(getattr(self.backends.connections, method)(
                message(organization_id=self.organization_id, connection_id=connection_id)))
        return self.shown(response.connection), getattr(response, "next_bearer_token", "")

    async def delete_connection(self, connection_id: str) -> None:
        with self.token_cache.changing(connection_id=connection_id):
            await call(self.backends.connections.DeleteConnection(
                connections_pb.DeleteConnectionRequest(organization_id=self.organization_id, connection_id=connection_id),
            ))

    async def groups(self, connection_id: str, query: str, page: int) -> tuple[list[dict[str, Any]], int]:
        with acting_for(Tenant(self.organization_id, connection_id)):
            response = await call(self.backends.directory.ListGroups(
                directory_pb.ListGroupsRequest(
                    page_size=PAGE, skip=page * PAGE, order_by="displayName",
                    filter=f"displayName co {quoted(query)}" if query else "",
                ),
            ))
        return [{"group_id": g.group_id, "name": g.display_name, "members": g.member_count}
                for g in response.groups], response.total_size

    async def members(self, connection_id: str, query: str, page: int) -> tuple[list[dict[str, Any]], int]:
        condition = f"userName co {quoted(query)} or emails.value co {quoted(query)}" if query else ""
        with acting_for(Tenant(self.organization_id, connection_id)):
            response = await call(self.backends.directory.ListMembers(
                directory_pb.ListMembersRequest(page_size=PAGE, skip=page * PAGE, order_by="userName", filter=condition),
            ))
        return [shapes.member_json(m) for m in response.members], response.total_size

    async def user_names(self, member_ids: list[str]) -> dict[str, str]:
        """member_id → userName, for the members that exist."""
        names: dict[str, str] = {}
        with acting_for(Tenant(self.organization_id)):
            for start in range(0, len(member_ids), 1000):
                response = await call(self.backends.directory.BatchGetMembers(
                    directory_pb.BatchGetMembersRequest(member_ids=member_ids[start:start + 1000]),
                ))
                names.update((m.member_id, m.scim_registration.user_name) for m in response.members)
        return names

    async def roles(self) -> list[str]:
        response = await call(self.backends.rbac.ListRoles(rbac_pb.ListRolesRequest(page_size=1000)))
        return [role.role_id for role in response.roles]

    async def assignments(self, connection_id: str) -> dict[str, str]:
        """group_id → role_id (the portal maps each group to at most one role)."""
        response = await call(self.backends.rbac.ListGroupRoleAssignments(
            rbac_pb.ListGroupRoleAssignmentsRequest(organization_id=self.organization_id, connection_id=connection_id),
        ))
        return {a.group_id: a.role_id for a in response.assignments}

    async def map_groups(self, connection_id: str, mapping: dict[str, str], *, apply: bool):
        """Replaces the connection's group → role mapping (or, unless `apply`,
        answers who would gain or lose which role)."""
        response = await call(self.backends.rbac.ReplaceGroupRoleAssignments(
            rbac_pb.ReplaceGroupRoleAssignmentsRequest(
                organization_id=self.organization_id, connection_id=connection_id, validate_only=not apply,
                assignments=[member_roles_pb2.GroupRoleAssignment(group_id=g, role_id=r)
                             for g, r in sorted(mapping.items()) if r],
            ),
        ))
        return response.changes

    async def custom_fields(self) -> list[dict[str, str]]:
        """The vendor's custom fields, which the organization's connection fills."""
        response = await call(self.backends.directory.ListCustomFields(directory_pb.ListCustomFieldsRequest()))
        return [{"key": f.key, "type": f.type, "description": f.description} for f in response.fields]

    async def attribute_mapping(self, connection_id: str) -> directory_pb.AttributeMapping:
        with acting_for(Tenant(self.organization_id, connection_id)):
            response = await call(self.backends.directory.GetAttributeMapping(
                directory_pb.GetAttributeMappingRequest()))
        return response.mapping

    async def seen_attributes(self, connection_id: str) -> list[dict[str, Any]]:
        """The attribute paths the identity provider has sent, and how many members carry each."""
        with acting_for(Tenant(self.organization_id, connection_id)):
            response = await call(self.backends.directory.ListSeenAttributes(
                directory_pb.ListSeenAttributesRequest()))
        return [{"path": a.path, "member_count": a.member_count} for a in response.attributes]

    async def map_attributes(self, connection_id: str, fields: list[dict[str, Any]], *,
                             apply: bool) -> directory_pb.PutAttributeMappingResponse:
        """Replaces the connection's attribute mapping (applied in the background),
        or, unless `apply`, answers whose custom attributes it would change."""
        with acting_for(Tenant(self.organization_id, connection_id)):
            return await call(self.backends.directory.PutAttributeMapping(directory_pb.PutAttributeMappingRequest(
                fields_json=orjson.dumps(fields).decode(), validate_only=not apply, page_size=PREVIEW_CHANGES)))

    async def activity(self, limit: int = 50) -> list[dict[str, Any]]:
        with acting_for(Tenant(self.organization_id)):
            response = await call(self.backends.directory.ListAuditEntries(
                directory_pb.ListAuditEntriesRequest(page_size=limit),
            ))
        return [
            {"at": to_rfc3339(e.create_time), "operation": e.operation, "resource_type": e.resource_type,
             "resource_id": e.resource_id, "result": e.result, "changed": ", ".join(e.changed_attributes),
             "detail": e.detail}
            for e in response.entries
        ]

    async def held_deprovisions(self, connection_id: str) -> list[dict[str, Any]]:
        """What the mass-deprovision guard holds for the connection (the portal shows a banner)."""
        with acting_for(Tenant(self.organization_id, connection_id)):
            response = await call(self.backends.directory.ListHeldDeprovisions(
                directory_pb.ListHeldDeprovisionsRequest()))
        return [held_json(h) for h in response.held]

    async def resolve_held_deprovisions(self, connection_id: str, *, approve: bool) -> None:
        with acting_for(Tenant(self.organization_id, connection_id)):
            await call(self.backends.directory.ResolveHeldDeprovisions(
                directory_pb.ResolveHeldDeprovisionsRequest(approve=approve)))

    async def requests(self, connection: connection_pb2.Connection, member: str, status: str,
                       cursor: str) -> tuple[list[dict[str, Any]], str, list[str]]:
        """A page of the connection's request log, the next page's cursor, and what its health says."""
        listing = directory_pb.ListRequestsRequest(page_size=PAGE, page_token=cursor, resource=member.strip(),
                                                   statuses=parse_statuses(status))
        with acting_for(Tenant(self.organization_id, connection.connection_id)):
            response = await call(self.backends.directory.ListRequests(listing))
            stats = await call(self.backends.directory.GetRequestStats(directory_pb.GetRequestStatsRequest()))
        entries = []
        for record in response.records:
            shown = shapes.request_record_json(record)
            shown["body_text"] = orjson.dumps(shown["body"], option=orjson.OPT_INDENT_2).decode() if shown["body"] else ""
            entries.append(shown)
        return entries, response.next_page_token, health_warnings(self.shown(connection), stats)

    async def webhook_endpoints(self) -> list[dict[str, Any]]:
        """The vendor's endpoints that receive this organization's events, and how
        delivery goes. Named by id: their URLs are the vendor's, not the customer's."""
        shown = []
        async for endpoint in self._endpoints_receiving_our_events():
            if not endpoint.enabled:
                status = f"disabled ({endpoint.disabled_reason or 'by the vendor'})"
            elif endpoint.HasField("failing_since_time"):
                status = f"failing since {to_rfc3339(endpoint.failing_since_time)}; retrying"
            else:
                status = "delivering"
            shown.append({"endpoint_id": endpoint.endpoint_id, "status": status,
                          "event_types": ", ".join(endpoint.event_types) or "all"})
        return shown

    async def _endpoints_receiving_our_events(self) -> AsyncIterator[endpoint_pb2.Endpoint]:
        page_token = ""
        while True:  # bounded by the endpoints the vendor made, 100 a page
            response = await call(self.backends.webhooks.ListEndpoints(webhooks_pb.ListEndpointsRequest(
                page_size=100, page_token=page_token, organization_id=self.organization_id)))
            for endpoint in response.endpoints:
                yield endpoint
            page_token = response.next_page_token
            if not page_token:
                return

