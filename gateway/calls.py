"""Calling a backend: gRPC failures become ServiceErrors from the one table."""

from __future__ import annotations

import logging
from typing import Any, AsyncIterator, Awaitable

import grpc

from runtime.errors import ServiceError

log = logging.getLogger(__name__)


async def call(rpc: Awaitable[Any]) -> Any:
    try:
        return await rpc
    except Exception as error:
        failure = _service_error(error)
        if failure is None:
            raise
        raise failure from None


async def stream(rpc: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The messages of a server-streaming call, its failure as `call`'s."""
    try:
        async for message in rpc:
            yield message
    except Exception as error:
        failure = _service_error(error)
        if failure is None:
            raise
        raise failure from None


def _service_error(error: Exception) -> ServiceError | None:
    """The ServiceError a failed call means; None for an error not from gRPC."""
    if isinstance(error, grpc.aio.AioRpcError):
        return ServiceError.from_rpc_error(error)
    if not type(error).__module__.startswith("grpc"):
        return None
    # The gRPC client itself failed (a channel broken while a peer
    # restarts: ExecuteBatchError, UsageError): a transport failure, retry.
    log.warning("gRPC call failed in the client", extra={"error": repr(error)})
    return ServiceError("UNAVAILABLE", "a backend service is unavailable; retry later", retry_after_seconds=1)
