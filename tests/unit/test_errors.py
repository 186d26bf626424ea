"""The one error table: reason ↔ gRPC status ↔ HTTP status ↔ SCIM scimType."""

import grpc
import pytest

from gateway.errors import management_error, scim_error
from runtime.errors import KINDS_BY_REASON, ServiceError

# RFC 7644 §3.12, Table 9.
SCIM_TYPES = {
    "INVALID_FILTER": (400, "invalidFilter"),
    "TOO_MANY": (400, "tooMany"),
    "UNIQUENESS": (409, "uniqueness"),
    "MUTABILITY": (400, "mutability"),
    "INVALID_SYNTAX": (400, "invalidSyntax"),
    "INVALID_PATH": (400, "invalidPath"),
    "NO_TARGET": (400, "noTarget"),
    "INVALID_VALUE": (400, "invalidValue"),
    "INVALID_VERSION": (400, "invalidVers"),
}


@pytest.mark.parametrize("reason, expected", sorted(SCIM_TYPES.items()))
def test_scim_types_follow_rfc7644_table_9(reason, expected):
    """RFC 7644 §3.12: each scimType comes with its HTTP status."""
    kind = KINDS_BY_REASON[reason]
    assert (kind.http_status, kind.scim_type) == expected


@pytest.mark.parametrize("reason", sorted(KINDS_BY_REASON))
def test_reason_survives_the_grpc_round_trip(reason):
    """A ServiceError sent as a gRPC status comes back with the same reason and message."""
    error = ServiceError(reason, "something specific")
    status = error.to_grpc_status()
    assert status.code == KINDS_BY_REASON[reason].grpc_code

    class FakeCall(grpc.aio.AioRpcError):
        pass

    call_error = FakeCall(status.code, grpc.aio.Metadata(), grpc.aio.Metadata(*status.trailing_metadata), details=status.details)
    back = ServiceError.from_rpc_error(call_error)
    assert (back.reason, back.message) == (reason, "something specific")


def test_status_without_error_info_maps_by_code():
    error = grpc.aio.AioRpcError(grpc.StatusCode.NOT_FOUND, grpc.aio.Metadata(), grpc.aio.Metadata(), details="gone")
    assert ServiceError.from_rpc_error(error).reason == "NOT_FOUND"


def test_transport_failures_hide_their_details():
    error = grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), details="connect failed to 10.0.0.1:5"
    )
    converted = ServiceError.from_rpc_error(error)
    assert converted.reason == "UNAVAILABLE" and "10.0.0.1" not in converted.message


@pytest.mark.parametrize("code", [grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.CANCELLED,
                                  grpc.StatusCode.DATA_LOSS])
def test_a_bare_failure_status_is_the_transport_so_retry(code):
    """scimd's own errors always carry their ErrorInfo; without it, INTERNAL and the like
    come from a peer killed mid-call (seen in the self-healing fault test): 503, retry."""
    error = grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="Received RST_STREAM")
    converted = ServiceError.from_rpc_error(error)
    assert converted.reason == "UNAVAILABLE" and converted.retry_after_seconds == 1
    assert "RST_STREAM" not in converted.message


def test_scim_error_body_is_rfc7644_error_json():
    """RFC 7644 §3.12: schemas, status as a string, scimType, detail."""
    response = scim_error(ServiceError("UNIQUENESS", "taken"))
    assert response.status == 409
    assert response.content_type == "application/scim+json"
    import orjson

    assert orjson.loads(response.body) == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "409",
        "scimType": "uniqueness",
        "detail": "taken",
    }


def test_scim_error_without_scim_type_omits_it():
    import orjson

    body = orjson.loads(scim_error(ServiceError("NOT_FOUND", "nope")).body)
    assert "scimType" not in body and body["status"] == "404"


def test_management_error_shape():
    import orjson

    response = management_error(ServiceError("UNAUTHORIZED_CREDENTIALS", "wrong"))
    body = orjson.loads(response.body)
    assert response.status == 401
    assert set(body) == {"status_code", "request_id", "error_type", "error_message"}
    assert body["error_type"] == "unauthorized_credentials"


def test_unknown_reason_is_a_programming_error():
    with pytest.raises(ValueError):
        ServiceError("NOT_A_REASON", "x")


def test_a_long_message_is_cut_so_its_status_fits_in_trailers():
    error = ServiceError("INVALID_VALUE", "x" * 100_000)
    assert len(error.message) <= 1001 and error.message.endswith("…")
    assert len(error.to_grpc_status().trailing_metadata[0][1]) < 8192


async def test_a_failure_inside_the_grpc_client_is_a_transport_failure():
    """A channel broken while a peer restarts fails the call in grpc's own code
    (not with a status): the request gets 503 and Retry-After, not a 500."""
    from grpc._cython import cygrpc

    from gateway.calls import call

    async def broken():
        raise cygrpc.ExecuteBatchError("Failed \"execute_batch\"")

    async def ours():
        raise KeyError("a bug of ours stays a bug")

    with pytest.raises(ServiceError) as caught:
        await call(broken())
    assert caught.value.reason == "UNAVAILABLE" and caught.value.retry_after_seconds == 1
    with pytest.raises(KeyError):
        await call(ours())
