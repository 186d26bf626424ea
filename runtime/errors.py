"""The one error table: reason ↔ gRPC status ↔ HTTP status ↔ SCIM scimType.

Services raise ServiceError(reason, message). The gRPC server bootstrap turns
it into a status with a google.rpc.ErrorInfo detail; the gateway turns the
status back into a ServiceError and renders it as SCIM or management JSON.
Clients branch on the reason, never on message text.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from scim.errors import ScimError

ERROR_DOMAIN = "scimd.dev"


@dataclass(frozen=True)
class ErrorKind:
    reason: str
    grpc_code: grpc.StatusCode
    http_status: int
    scim_type: str | None = None


_KINDS = [
    ErrorKind("INVALID_VALUE", grpc.StatusCode.INVALID_ARGUMENT, 400, "invalidValue"),
    ErrorKind("INVALID_SYNTAX", grpc.StatusCode.INVALID_ARGUMENT, 400, "invalidSyntax"),
    ErrorKind("INVALID_FILTER", grpc.StatusCode.INVALID_ARGUMENT, 400, "invalidFilter"),
    ErrorKind("INVALID_PATH", grpc.StatusCode.INVALID_ARGUMENT, 400, "invalidPath"),
    ErrorKind("NO_TARGET", grpc.StatusCode.INVALID_ARGUMENT, 400, "noTarget"),
    ErrorKind("MUTABILITY", grpc.StatusCode.INVALID_ARGUMENT, 400, "mutability"),
    ErrorKind("TOO_MANY", grpc.StatusCode.INVALID_ARGUMENT, 400, "tooMany"),
    ErrorKind("INVALID_VERSION", grpc.StatusCode.INVALID_ARGUMENT, 400, "invalidVers"),
    ErrorKind("INVALID_PAGE_TOKEN", grpc.StatusCode.INVALID_ARGUMENT, 400, "invalidValue"),
    # RFC 9865 §2.2: SCIM cursor paging.
    ErrorKind("INVALID_CURSOR", grpc.StatusCode.INVALID_ARGUMENT, 400, "invalidCursor"),
    ErrorKind("EXPIRED_CURSOR", grpc.StatusCode.INVALID_ARGUMENT, 400, "expiredCursor"),
    ErrorKind("INVALID_COUNT", grpc.StatusCode.INVALID_ARGUMENT, 400, "invalidCount"),
    ErrorKind("UNIQUENESS", grpc.StatusCode.ALREADY_EXISTS, 409, "uniqueness"),
    ErrorKind("NOT_FOUND", grpc.StatusCode.NOT_FOUND, 404),
    ErrorKind("ETAG_MISMATCH", grpc.StatusCode.FAILED_PRECONDITION, 412),
    # The resource is not in a state that allows the operation (e.g. a token rotation already started).
    ErrorKind("CONFLICT", grpc.StatusCode.FAILED_PRECONDITION, 409),
    ErrorKind("INVALID_TOKEN", grpc.StatusCode.UNAUTHENTICATED, 401),
    # RFC 6749 §5.2, at the OAuth token endpoint.
    ErrorKind("INVALID_CLIENT", grpc.StatusCode.UNAUTHENTICATED, 401),
    ErrorKind("INVALID_GRANT", grpc.StatusCode.INVALID_ARGUMENT, 400),
    ErrorKind("UNAUTHORIZED_CREDENTIALS", grpc.StatusCode.UNAUTHENTICATED, 401),
    ErrorKind("SESSION_NOT_FOUND", grpc.StatusCode.UNAUTHENTICATED, 401),
    ErrorKind("PERMISSION_DENIED", grpc.StatusCode.PERMISSION_DENIED, 403),
    ErrorKind("METHOD_NOT_ALLOWED", grpc.StatusCode.UNIMPLEMENTED, 405),
    ErrorKind("PAYLOAD_TOO_LARGE", grpc.StatusCode.RESOURCE_EXHAUSTED, 413),
    ErrorKind("UNSUPPORTED_MEDIA_TYPE", grpc.StatusCode.INVALID_ARGUMENT, 415),
    ErrorKind("RATE_LIMITED", grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
    # The client did not send its request body in time.
    ErrorKind("REQUEST_TIMEOUT", grpc.StatusCode.DEADLINE_EXCEEDED, 408),
    ErrorKind("NOT_IMPLEMENTED", grpc.StatusCode.UNIMPLEMENTED, 501),
    ErrorKind("UNAVAILABLE", grpc.StatusCode.UNAVAILABLE, 503),
    ErrorKind("DEADLINE_EXCEEDED", grpc.StatusCode.DEADLINE_EXCEEDED, 504),
    ErrorKind("INTERNAL", grpc.StatusCode.INTERNAL, 500),
]

KINDS_BY_REASON: dict[str, ErrorKind] = {kind.reason: kind for kind in _KINDS}
# A SCIM rule's error (scim.errors.ScimError) by its scimType: the first kind of that type.
_REASON_BY_SCIM_TYPE: dict[str, str] = {}
for _kind in reversed(_KINDS):
    if _kind.scim_type:
        _REASON_BY_SCIM_TYPE[_kind.scim_type] = _kind.reason

# The reason assumed for a gRPC status that carries no ErrorInfo.
_REASON_BY_CODE: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.INVALID_ARGUMENT: "INVALID_VALUE",
    grpc.StatusCode.OUT_OF_RANGE: "INVALID_VALUE",
    grpc.StatusCode.ALREADY_EXISTS: "UNIQUENESS",
    grpc.StatusCode.NOT_FOUND: "NOT_FOUND",
    grpc.StatusCode.FAILED_PRECONDITION: "ETAG_MISMATCH",
    grpc.StatusCode.ABORTED: "ETAG_MISMATCH",
    grpc.StatusCode.UNAUTHENTICATED: "INVALID_TOKEN",
    grpc.StatusCode.PERMISSION_DENIED: "PERMISSION_DENIED",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "RATE_LIMITED",
    grpc.StatusCode.UNIMPLEMENTED: "NOT_IMPLEMENTED",
    grpc.StatusCode.UNAVAILABLE: "UNAVAILABLE",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DEADLINE_EXCEEDED",
    # Every error scimd's own code raises carries its ErrorInfo (above); these
    # codes without it come from the transport: a peer killed or restarting
    # mid-call (RST_STREAM, a closed socket). The caller should retry.
    grpc.StatusCode.INTERNAL: "UNAVAILABLE",
    grpc.StatusCode.UNKNOWN: "UNAVAILABLE",
    grpc.StatusCode.CANCELLED: "UNAVAILABLE",
    grpc.StatusCode.DATA_LOSS: "UNAVAILABLE",
}


MAX_MESSAGE_CHARS = 1000


class ServiceError(Exception):
    """An expected failure with a reason from the table above."""

    def __init__(self, reason: str, message: str, *, retry_after_seconds: int | None = None):
        if reason not in KINDS_BY_REASON:
            raise ValueError(f"unknown error reason {reason!r}")
        if len(message) > MAX_MESSAGE_CHARS:
            # Messages may quote the request; a huge one would overflow gRPC trailers.
            message = message[:MAX_MESSAGE_CHARS] + "…"
        super().__init__(message)
        self.reason = reason
        self.message = message
        # For RATE_LIMITED and UNAVAILABLE: when to try again (the Retry-After header).
        self.retry_after_seconds = retry_after_seconds

    @property
    def kind(self) -> ErrorKind:
        return KINDS_BY_REASON[self.reason]

    def to_grpc_status(self) -> grpc.Status:
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.ErrorInfo(reason=self.reason, domain=ERROR_DOMAIN))
        status = status_pb2.Status(
            code=self.kind.grpc_code.value[0], message=self.message, details=[detail]
        )
        return rpc_status.to_status(status)

    @classmethod
    def from_scim(cls, error: ScimError) -> "ServiceError":
        """A broken SCIM rule, as the error table names it."""
        return cls(_REASON_BY_SCIM_TYPE.get(error.scim_type, "INVALID_VALUE"), error.message)

    @classmethod
    def from_rpc_error(cls, error: grpc.aio.AioRpcError) -> "ServiceError":
        try:
            status = rpc_status.from_call(error)
        except ValueError:  # trailers that disagree with the status (e.g. cut short)
            status = None
        if status is not None:
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    if info.domain == ERROR_DOMAIN and info.reason in KINDS_BY_REASON:
                        return cls(info.reason, status.message, retry_after_seconds=_retry_after(info.reason))
        reason = _REASON_BY_CODE.get(error.code(), "INTERNAL")
        if reason in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL"):
            # Transport-level failures carry messages meant for operators, not clients.
            return cls(reason, "a backend service is unavailable; retry later", retry_after_seconds=_retry_after(reason))
        return cls(reason, error.details() or reason.lower())


def _retry_after(reason: str) -> int | None:
    """A backend that is unavailable is usually back within seconds (a restart)."""
    return 1 if reason == "UNAVAILABLE" else None
