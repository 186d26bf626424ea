"""The vendor's management API (HTTP Basic auth), in Stytch-compatible shapes."""

from gateway.management import (
    admin_portal,
    audit_log,
    connections,
    deprovision_guard,
    events,
    members,
    oauth,
    organizations,
    reconcile,
    request_log,
    roles,
    schema_extensions,
    sessions,
    snapshots,
    webhook_deliveries,
    webhook_endpoints,
)

ROUTE_TABLES = (
    organizations.routes,
    connections.routes,
    oauth.routes,
    request_log.routes,
    deprovision_guard.routes,
    members.routes,
    reconcile.routes,
    snapshots.routes,
    roles.routes,
    schema_extensions.routes,
    webhook_endpoints.routes,
    webhook_deliveries.routes,
    audit_log.routes,
    sessions.routes,
    admin_portal.routes,
    events.routes,
)
