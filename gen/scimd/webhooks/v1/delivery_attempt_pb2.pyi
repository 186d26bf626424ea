import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeliveryOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_OUTCOME_UNSPECIFIED: _ClassVar[DeliveryOutcome]
    DELIVERY_OUTCOME_SUCCEEDED: _ClassVar[DeliveryOutcome]
    DELIVERY_OUTCOME_RETRYING: _ClassVar[DeliveryOutcome]
    DELIVERY_OUTCOME_FAILED: _ClassVar[DeliveryOutcome]
DELIVERY_OUTCOME_UNSPECIFIED: DeliveryOutcome
DELIVERY_OUTCOME_SUCCEEDED: DeliveryOutcome
DELIVERY_OUTCOME_RETRYING: DeliveryOutcome
DELIVERY_OUTCOME_FAILED: DeliveryOutcome

class DeliveryAttempt(_message.Message):
    __slots__ = ("attempt_id", "event_id", "endpoint_id", "attempt_time", "status_code", "latency_ms", "response_snippet", "error", "outcome", "next_attempt_time")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_SNIPPET_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    event_id: str
    endpoint_id: str
    attempt_time: _timestamp_pb2.Timestamp
    status_code: int
    latency_ms: float
    response_snippet: str
    error: str
    outcome: DeliveryOutcome
    next_attempt_time: _timestamp_pb2.Timestamp
    def __init__(self, attempt_id: _Optional[str] = ..., event_id: _Optional[str] = ..., endpoint_id: _Optional[str] = ..., attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status_code: _Optional[int] = ..., latency_ms: _Optional[float] = ..., response_snippet: _Optional[str] = ..., error: _Optional[str] = ..., outcome: _Optional[_Union[DeliveryOutcome, str]] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
