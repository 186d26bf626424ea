"""Calling a backend: gRPC failures become ServiceErrors from the one table."""

from __future__ import annotations

from typing import Any, Awaitable

import grpc

from services.common.errors import ServiceError


async def call(rpc: Awaitable[Any]) -> Any:
    try:
        return await rpc
    except grpc.aio.AioRpcError as error:
        raise ServiceError.from_rpc_error(error) from None
