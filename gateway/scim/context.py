"""What every SCIM operation needs: the backends, the settings and the
authenticated connection. Built once per HTTP request (or Bulk request)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scimd.connections.v1 import connection_pb2

from gateway.backends import Backends
from gateway.scim.schema_registry import SchemaRegistry
from runtime.settings import Settings


@dataclass(frozen=True)
class ScimContext:
    backends: Backends
    settings: Settings
    connection: connection_pb2.Connection
    schemas: SchemaRegistry

    @property
    def base_url(self) -> str:
        return f"{self.settings.public_url}/scim/v2/{self.connection.connection_id}"


@dataclass(frozen=True)
class ScimResult:
    """The outcome of one SCIM operation, before projection and HTTP framing."""

    status: int
    resource: dict[str, Any] | None = None
    etag: str = ""
    location: str = ""
