"""Per-request context carried across async boundaries and process hops.

The request id travels gateway → gRPC metadata → outbox event → webhook; the
tenant travels only in gRPC metadata, added to every outgoing call by the
channel (runtime.grpc_client.call_context) from `tenant_var` (set by the gateway after
authentication, or for a block of calls by `acting_for`).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator

REQUEST_ID_HEADER = "x-request-id"
ORGANIZATION_METADATA = "x-scimd-organization-id"
CONNECTION_METADATA = "x-scimd-connection-id"
# Which of the connection's bearer tokens authenticated the request (for the audit log).
TOKEN_METADATA = "x-scimd-token-id"

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
# When the call being served must be answered (time.monotonic()), if it has a deadline.
deadline_var: ContextVar[float | None] = ContextVar("deadline", default=None)


def remaining_seconds() -> float | None:
    """Seconds left before the deadline of the call being served, or None."""
    deadline = deadline_var.get()
    return None if deadline is None else deadline - time.monotonic()


def new_request_id() -> str:
    return f"request-{uuid.uuid4()}"


def current_request_id() -> str:
    return request_id_var.get()


@dataclass(frozen=True)
class Tenant:
    organization_id: str
    connection_id: str = ""
    token_id: str = ""

    def __post_init__(self) -> None:
        # gRPC metadata holds printable ASCII only, and no id of ours is anything else.
        for value in (self.organization_id, self.connection_id, self.token_id):
            if not (value.isascii() and value.isprintable()):
                raise ValueError("a tenant id is printable ASCII")

    def metadata(self) -> tuple[tuple[str, str], ...]:
        pairs = [(ORGANIZATION_METADATA, self.organization_id)]
        if self.connection_id:
            pairs.append((CONNECTION_METADATA, self.connection_id))
        if self.token_id:
            pairs.append((TOKEN_METADATA, self.token_id))
        return tuple(pairs)


# The tenant the current work acts for: every gRPC call made meanwhile carries it.
tenant_var: ContextVar[Tenant | None] = ContextVar("tenant", default=None)


@contextlib.contextmanager
def acting_for(tenant: Tenant | None) -> Iterator[None]:
    """The calls made inside the block act for `tenant` (None: for no tenant)."""
    token = tenant_var.set(tenant)
    try:
        yield
    finally:
        tenant_var.reset(token)
