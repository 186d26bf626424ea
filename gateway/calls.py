"""Calling a backend: gRPC failures become ServiceErrors from the one table."""

from __future__ import annotations

import logging
from typing import Any, Awaitable

import grpc

from services.common.errors import ServiceError

log = logging.getLogger(__name__)


async def call(rpc: Awaitable[Any]) -> Any:
    try:
        return await rpc
    except grpc.aio.AioRpcError as error:
        raise ServiceError.from_rpc_error(error) from None
    except Exception as error:
        if not type(error).__module__.startswith("grpc"):
            raise
        # The gRPC client itself failed (a channel broken while a peer
        # restarts: ExecuteBatchError, UsageError): a transport failure, retry.
        log.warning("gRPC call failed in the client", extra={"error": repr(error)})
        raise ServiceError("UNAVAILABLE", "a backend service is unavailable; retry later",
                           retry_after_seconds=1) from None
