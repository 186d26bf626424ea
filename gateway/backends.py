"""The gateway's gRPC clients: one long-lived channel per service. The
request id, the tenant and the deadline are added to every call by the
channels' call context (runtime/grpc_client.py)."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from scimd.connections.v1.connections_service_pb2_grpc import ConnectionsServiceStub
from scimd.directory.v1.directory_service_pb2_grpc import DirectoryServiceStub
from scimd.rbac.v1.rbac_service_pb2_grpc import RbacServiceStub
from scimd.rbac.v1.session_service_pb2_grpc import SessionServiceStub
from scimd.webhooks.v1.webhooks_service_pb2_grpc import WebhooksServiceStub

from gateway.limits import MAX_BODY_BYTES
from runtime.grpc_client import ContextChannel, open_channel
from runtime.settings import ServiceAddresses

SERVICES = ("connections", "directory", "rbac", "webhooks")
# A service's error message may quote the request (a body holds up to
# MAX_BODY_BYTES), and its status travels in the trailers. Past gRPC's default
# 8 KiB the call fails as RESOURCE_EXHAUSTED, whose status no longer matches
# its details: the client's error would become a 500.
_MAX_METADATA_BYTES = 8 * MAX_BODY_BYTES
CHANNEL_OPTIONS = (
    ("grpc.max_metadata_size", _MAX_METADATA_BYTES),
    ("grpc.absolute_max_metadata_size", _MAX_METADATA_BYTES),
)


@dataclass
class Backends:
    channels: dict[str, ContextChannel]
    connections: ConnectionsServiceStub
    directory: DirectoryServiceStub
    rbac: RbacServiceStub
    sessions: SessionServiceStub
    webhooks: WebhooksServiceStub

    @classmethod
    def open(cls, addresses: ServiceAddresses) -> "Backends":
        channels = {name: open_channel(addresses.of(name), CHANNEL_OPTIONS) for name in SERVICES}
        return cls(
            channels=channels,
            connections=ConnectionsServiceStub(channels["connections"]),
            directory=DirectoryServiceStub(channels["directory"]),
            rbac=RbacServiceStub(channels["rbac"]),
            sessions=SessionServiceStub(channels["rbac"]),
            webhooks=WebhooksServiceStub(channels["webhooks"]),
        )

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()

    async def health(self, timeout: float = 1.0) -> dict[str, str]:
        """Each service's health: "SERVING", or why not."""
        result = {}
        for name, channel in self.channels.items():
            try:
                response = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=timeout
                )
                result[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
            except grpc.aio.AioRpcError as error:
                result[name] = error.code().name
        return result
