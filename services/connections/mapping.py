"""Database rows → connections protos."""

from __future__ import annotations

import asyncpg
from scimd.connections.v1 import connection_pb2, organization_pb2

from runtime.timestamps import to_timestamp

_STATUS = {
    "active": connection_pb2.CONNECTION_STATUS_ACTIVE,
    "disabled": connection_pb2.CONNECTION_STATUS_DISABLED,
}


def organization_from_row(row: asyncpg.Record) -> organization_pb2.Organization:
    return organization_pb2.Organization(
        organization_id=row["organization_id"],
        organization_name=row["organization_name"],
        organization_slug=row["organization_slug"],
        create_time=to_timestamp(row["created_at"]),
        update_time=to_timestamp(row["updated_at"]),
        etag=str(row["version"]),
    )


def connection_from_row(row: asyncpg.Record) -> connection_pb2.Connection:
    connection = connection_pb2.Connection(
        connection_id=row["connection_id"],
        organization_id=row["organization_id"],
        status=_STATUS.get(row["status"], connection_pb2.CONNECTION_STATUS_UNSPECIFIED),
        display_name=row["display_name"],
        identity_provider=row["identity_provider"],
        rate_limit_per_second=row["rate_limit_per_second"],
        bearer_token_last_four=row["token_last_four"] or "",
        next_bearer_token_last_four=row["next_token_last_four"] or "",
        create_time=to_timestamp(row["created_at"]),
        update_time=to_timestamp(row["updated_at"]),
        etag=str(row["version"]),
    )
    if row["token_expires_at"] is not None:
        connection.bearer_token_expires_at.CopyFrom(to_timestamp(row["token_expires_at"]))
    if row["next_token_expires_at"] is not None:
        connection.next_bearer_token_expires_at.CopyFrom(to_timestamp(row["next_token_expires_at"]))
    if row.get("token_last_used_at") is not None:
        connection.bearer_token_last_used_at.CopyFrom(to_timestamp(row["token_last_used_at"]))
    if row.get("next_token_last_used_at") is not None:
        connection.next_bearer_token_last_used_at.CopyFrom(to_timestamp(row["next_token_last_used_at"]))
    connection.bearer_token_enabled = row.get("bearer_token_enabled", True)
    connection.strict_attributes = row.get("strict_attributes", False)
    if row.get("client_secret_last_four"):
        connection.oauth_client.CopyFrom(connection_pb2.OAuthClient(
            client_id=row["connection_id"], client_secret_last_four=row["client_secret_last_four"],
            next_client_secret_last_four=row["next_client_secret_last_four"] or ""))
    if row.get("trust_issuer"):
        connection.assertion_trust.CopyFrom(connection_pb2.AssertionTrust(
            issuer=row["trust_issuer"], subject=row["trust_subject"], audience=row["trust_audience"],
            jwks_url=row["trust_jwks_url"]))
    return connection
