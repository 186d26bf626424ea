"""gRPC server bootstrap shared by every service.

`serve_main` wires a servicer beside the standard health and reflection
services, carries the request id and tenant from metadata into context
variables, turns ServiceError into a rich status, and stops gracefully on
SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, AsyncIterator, Awaitable, Callable

import asyncpg
import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from runtime.context import (
    CONNECTION_METADATA,
    ORGANIZATION_METADATA,
    REQUEST_ID_HEADER,
    TOKEN_METADATA,
    Tenant,
    deadline_var,
    new_request_id,
    request_id_var,
)
from runtime.db import DATABASE_UNAVAILABLE
from runtime.errors import ServiceError
from runtime.event_loop import run_event_loop
from runtime.fairness import TenantSlots
from runtime.grpc_client import SERVER_OPTIONS
from runtime.logs import configure_logging
from runtime.metrics import GRPC_HANDLED, GRPC_LATENCY, serve_metrics
from runtime.settings import Settings, exit_on_bad_settings, settings_or_exit
from scim.errors import ScimError

log = logging.getLogger(__name__)


def tenant_of(context: grpc.aio.ServicerContext) -> Tenant:
    """The tenant the gateway authenticated; a call without one is refused."""
    metadata = dict(context.invocation_metadata() or ())
    organization_id = metadata.get(ORGANIZATION_METADATA, "")
    if not organization_id:
        raise ServiceError("PERMISSION_DENIED", f"missing {ORGANIZATION_METADATA} metadata")
    return Tenant(organization_id, metadata.get(CONNECTION_METADATA, ""), metadata.get(TOKEN_METADATA, ""))


def _with_context(service: str, method: str, behavior: Callable[[Any, grpc.aio.ServicerContext], Any],
                  slots: TenantSlots | None = None, streaming: bool = False):
    """Wraps one RPC: sets the caller's request id, turns errors into
    statuses, and counts and times the call. A server-streaming RPC's
    behavior is an async generator; its errors end the stream the same way.

    Applied once per method at registration rather than as a server
    interceptor, which would build a new handler on every call.
    """
    latency = GRPC_LATENCY.labels(service, method)
    handled = {code: GRPC_HANDLED.labels(service, method, code) for code in ("OK", "INTERNAL", "CANCELLED")}

    def begin(context: grpc.aio.ServicerContext) -> str:
        """Sets the call's context variables; the organization whose slot it takes ("" for none)."""
        request_id = next((v for k, v in context.invocation_metadata() or () if k == REQUEST_ID_HEADER), "")
        request_id_var.set(request_id or new_request_id())
        remaining = context.time_remaining()
        deadline_var.set(None if remaining is None else time.monotonic() + remaining)
        return _organization_of(context) if slots is not None else ""

    def end(code: str, started: float) -> None:
        latency.observe(time.perf_counter() - started)
        (handled.get(code) or GRPC_HANDLED.labels(service, method, code)).inc()

    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        organization = begin(context)
        started = time.perf_counter()
        outcome = _Outcome(service, method, context)
        try:
            async with outcome:
                if organization:
                    async with slots.slot(organization):
                        return await behavior(request, context)
                return await behavior(request, context)
        finally:
            end(outcome.code, started)

    async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        organization = begin(context)
        started = time.perf_counter()
        outcome = _Outcome(service, method, context)
        try:
            async with outcome, slots.slot(organization) if organization else contextlib.nullcontext():
                async with contextlib.aclosing(behavior(request, context)) as parts:
                    async for part in parts:
                        yield part
        finally:
            end(outcome.code, started)

    return stream if streaming else call


class _Outcome:
    """Ends a failed call with the status its exception means, and keeps the code for the metrics."""

    __slots__ = ("service", "method", "context", "code")

    def __init__(self, service: str, method: str, context: grpc.aio.ServicerContext) -> None:
        self.service, self.method, self.context, self.code = service, method, context, "OK"

    async def __aenter__(self) -> "_Outcome":
        return self

    async def __aexit__(self, _type, error: BaseException | None, _traceback) -> bool:
        if isinstance(error, asyncio.CancelledError):
            self.code = "CANCELLED"
        if error is None or isinstance(error, grpc.aio.AbortError) or not isinstance(error, Exception):
            return False
        self.code, failure = self._failure(error)
        await self.context.abort_with_status(failure.to_grpc_status())
        return False  # not reached: the abort raises

    def _failure(self, error: Exception) -> tuple[str, ServiceError]:
        if isinstance(error, ScimError):
            error = ServiceError.from_scim(error)
        if isinstance(error, ServiceError):
            return error.kind.grpc_code.name, error
        if isinstance(error, asyncpg.QueryCanceledError):
            log.warning("statement timeout in %s/%s", self.service, self.method)
            return "DEADLINE_EXCEEDED", ServiceError("DEADLINE_EXCEEDED", "the database did not answer in time")
        if isinstance(error, DATABASE_UNAVAILABLE):
            log.warning("database unavailable in %s/%s", self.service, self.method, extra={"error": repr(error)})
            return "UNAVAILABLE", ServiceError("UNAVAILABLE", "the database is unavailable; retry later")
        log.error("unhandled error in %s/%s", self.service, self.method, exc_info=error)
        return "INTERNAL", ServiceError("INTERNAL", "internal error")


def _organization_of(context: grpc.aio.ServicerContext) -> str:
    return next((v for k, v in context.invocation_metadata() or () if k == ORGANIZATION_METADATA), "")


def _contextual(registration: "Registration") -> object:
    """A stand-in for the servicer whose every RPC runs `_with_context`."""
    service = descriptor_pool.Default().FindServiceByName(registration.service_name)
    return SimpleNamespace(**{
        m.name: _with_context(registration.service_name, m.name, getattr(registration.servicer, m.name),
                              registration.tenant_slots, streaming=m.server_streaming)
        for m in service.methods
    })


@dataclass(frozen=True)
class Registration:
    """One servicer to serve, e.g. Registration(DirectoryServicer(...),
    directory_service_pb2_grpc.add_DirectoryServiceServicer_to_server,
    "scimd.directory.v1.DirectoryService")."""

    servicer: object
    add_to_server: Callable[[object, grpc.aio.Server], None]
    service_name: str
    # Bounds the calls of one organization served at a time (None: no bound); the rest wait their turn.
    tenant_slots: TenantSlots | None = None


# A service's setup opens what it needs (pools, relays, background tasks) on
# the exit stack and returns the servicers to serve.
Setup = Callable[[Settings, AsyncExitStack], Awaitable[list[Registration]]]


async def start_server(registrations: list[Registration], address: str) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server(options=SERVER_OPTIONS)
    for registration in registrations:
        registration.add_to_server(_contextual(registration), server)
    names = [r.service_name for r in registrations]
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    port = server.add_insecure_port(address)
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    server.health_servicer = health_servicer  # type: ignore[attr-defined]
    return server, port


async def stop_server(server: grpc.aio.Server, grace: float) -> None:
    """Reports NOT_SERVING first so balancers drain, then lets calls finish."""
    await server.health_servicer.enter_graceful_shutdown()  # type: ignore[attr-defined]
    await server.stop(grace)


@asynccontextmanager
async def running_service(
    setup: Setup, settings: Settings, address: str
) -> AsyncIterator[tuple[grpc.aio.Server, int]]:
    """The service's resources and gRPC server, stopped and closed on exit."""
    async with AsyncExitStack() as stack:
        registrations = await setup(settings, stack)
        server, port = await start_server(registrations, address)
        try:
            yield server, port
        finally:
            await stop_server(server, settings.shutdown_grace)


def serve_main(name: str, setup: Setup) -> None:
    """Entry point of `python -m services.<name>`: settings → logging → serve."""
    settings = settings_or_exit()
    configure_logging(name, settings.log_level, settings.log_format)
    with exit_on_bad_settings():
        run_event_loop(_serve(name, setup, settings))


async def _serve(name: str, setup: Setup, settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    address = settings.listen_address(name)
    serve_metrics(settings.metrics_port, settings.metrics_listen)
    async with running_service(setup, settings, address) as (_server, port):
        log.info("%s serving", name, extra={"address": address, "port": port})
        await stop.wait()
        log.info("%s stopping", name)
    log.info("%s stopped", name)
