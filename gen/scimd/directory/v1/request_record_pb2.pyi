import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RequestRecord(_message.Message):
    __slots__ = ("record_id", "request_id", "token_id", "method", "path", "query", "status", "scim_type", "detail", "hint", "latency_ms", "resource_id", "user_name", "body_json", "time", "notify")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SCIM_TYPE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_FIELD_NUMBER: _ClassVar[int]
    record_id: int
    request_id: str
    token_id: str
    method: str
    path: str
    query: str
    status: int
    scim_type: str
    detail: str
    hint: str
    latency_ms: float
    resource_id: str
    user_name: str
    body_json: str
    time: _timestamp_pb2.Timestamp
    notify: bool
    def __init__(self, record_id: _Optional[int] = ..., request_id: _Optional[str] = ..., token_id: _Optional[str] = ..., method: _Optional[str] = ..., path: _Optional[str] = ..., query: _Optional[str] = ..., status: _Optional[int] = ..., scim_type: _Optional[str] = ..., detail: _Optional[str] = ..., hint: _Optional[str] = ..., latency_ms: _Optional[float] = ..., resource_id: _Optional[str] = ..., user_name: _Optional[str] = ..., body_json: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., notify: _Optional[bool] = ...) -> None: ...
