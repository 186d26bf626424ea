import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from scimd.webhooks.v1 import delivery_attempt_pb2 as _delivery_attempt_pb2
from scimd.webhooks.v1 import endpoint_pb2 as _endpoint_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetDeliveryLagRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetDeliveryLagResponse(_message.Message):
    __slots__ = ("lag_seconds",)
    LAG_SECONDS_FIELD_NUMBER: _ClassVar[int]
    lag_seconds: float
    def __init__(self, lag_seconds: _Optional[float] = ...) -> None: ...

class CreateEndpointRequest(_message.Message):
    __slots__ = ("url", "event_types", "organization_ids")
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_IDS_FIELD_NUMBER: _ClassVar[int]
    url: str
    event_types: _containers.RepeatedScalarFieldContainer[str]
    organization_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, url: _Optional[str] = ..., event_types: _Optional[_Iterable[str]] = ..., organization_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateEndpointResponse(_message.Message):
    __slots__ = ("endpoint", "secret")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    endpoint: _endpoint_pb2.Endpoint
    secret: str
    def __init__(self, endpoint: _Optional[_Union[_endpoint_pb2.Endpoint, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class GetEndpointRequest(_message.Message):
    __slots__ = ("endpoint_id",)
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    def __init__(self, endpoint_id: _Optional[str] = ...) -> None: ...

class GetEndpointResponse(_message.Message):
    __slots__ = ("endpoint",)
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    endpoint: _endpoint_pb2.Endpoint
    def __init__(self, endpoint: _Optional[_Union[_endpoint_pb2.Endpoint, _Mapping]] = ...) -> None: ...

class ListEndpointsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "organization_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    organization_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., organization_id: _Optional[str] = ...) -> None: ...

class ListEndpointsResponse(_message.Message):
    __slots__ = ("endpoints", "next_page_token")
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    endpoints: _containers.RepeatedCompositeFieldContainer[_endpoint_pb2.Endpoint]
    next_page_token: str
    def __init__(self, endpoints: _Optional[_Iterable[_Union[_endpoint_pb2.Endpoint, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateEndpointRequest(_message.Message):
    __slots__ = ("endpoint", "update_mask")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    endpoint: _endpoint_pb2.Endpoint
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, endpoint: _Optional[_Union[_endpoint_pb2.Endpoint, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateEndpointResponse(_message.Message):
    __slots__ = ("endpoint",)
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    endpoint: _endpoint_pb2.Endpoint
    def __init__(self, endpoint: _Optional[_Union[_endpoint_pb2.Endpoint, _Mapping]] = ...) -> None: ...

class DeleteEndpointRequest(_message.Message):
    __slots__ = ("endpoint_id",)
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    def __init__(self, endpoint_id: _Optional[str] = ...) -> None: ...

class DeleteEndpointResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RotateEndpointSecretRequest(_message.Message):
    __slots__ = ("endpoint_id", "grace_period_seconds")
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    grace_period_seconds: int
    def __init__(self, endpoint_id: _Optional[str] = ..., grace_period_seconds: _Optional[int] = ...) -> None: ...

class RotateEndpointSecretResponse(_message.Message):
    __slots__ = ("endpoint", "secret")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    endpoint: _endpoint_pb2.Endpoint
    secret: str
    def __init__(self, endpoint: _Optional[_Union[_endpoint_pb2.Endpoint, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListDeliveryAttemptsRequest(_message.Message):
    __slots__ = ("endpoint_id", "event_id", "page_size", "page_token")
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    event_id: str
    page_size: int
    page_token: str
    def __init__(self, endpoint_id: _Optional[str] = ..., event_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDeliveryAttemptsResponse(_message.Message):
    __slots__ = ("attempts", "next_page_token")
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    attempts: _containers.RepeatedCompositeFieldContainer[_delivery_attempt_pb2.DeliveryAttempt]
    next_page_token: str
    def __init__(self, attempts: _Optional[_Iterable[_Union[_delivery_attempt_pb2.DeliveryAttempt, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReplayEventRequest(_message.Message):
    __slots__ = ("event_id", "endpoint_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    endpoint_id: str
    def __init__(self, event_id: _Optional[str] = ..., endpoint_id: _Optional[str] = ...) -> None: ...

class ReplayEventResponse(_message.Message):
    __slots__ = ("deliveries_scheduled",)
    DELIVERIES_SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    deliveries_scheduled: int
    def __init__(self, deliveries_scheduled: _Optional[int] = ...) -> None: ...

class ReplayEndpointEventsRequest(_message.Message):
    __slots__ = ("endpoint_id", "start_time", "end_time")
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, endpoint_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReplayEndpointEventsResponse(_message.Message):
    __slots__ = ("deliveries_scheduled",)
    DELIVERIES_SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    deliveries_scheduled: int
    def __init__(self, deliveries_scheduled: _Optional[int] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "event_types", "organization_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    event_types: _containers.RepeatedScalarFieldContainer[str]
    organization_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., event_types: _Optional[_Iterable[str]] = ..., organization_id: _Optional[str] = ...) -> None: ...

class StoredEvent(_message.Message):
    __slots__ = ("event_id", "type", "organization_id", "body_json")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: str
    organization_id: str
    body_json: str
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[str] = ..., organization_id: _Optional[str] = ..., body_json: _Optional[str] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[StoredEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[StoredEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReadOrganizationSnapshotRequest(_message.Message):
    __slots__ = ("organization_id", "organization_create_time")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    organization_create_time: _timestamp_pb2.Timestamp
    def __init__(self, organization_id: _Optional[str] = ..., organization_create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrganizationSnapshotPart(_message.Message):
    __slots__ = ("header", "records")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    header: OrganizationSnapshotHeader
    records: OrganizationSnapshotRecords
    def __init__(self, header: _Optional[_Union[OrganizationSnapshotHeader, _Mapping]] = ..., records: _Optional[_Union[OrganizationSnapshotRecords, _Mapping]] = ...) -> None: ...

class OrganizationSnapshotHeader(_message.Message):
    __slots__ = ("organization_id", "events_page_token")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    events_page_token: str
    def __init__(self, organization_id: _Optional[str] = ..., events_page_token: _Optional[str] = ...) -> None: ...

class OrganizationSnapshotRecords(_message.Message):
    __slots__ = ("members_json", "idp_groups_json", "memberships_json")
    MEMBERS_JSON_FIELD_NUMBER: _ClassVar[int]
    IDP_GROUPS_JSON_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_JSON_FIELD_NUMBER: _ClassVar[int]
    members_json: _containers.RepeatedScalarFieldContainer[str]
    idp_groups_json: _containers.RepeatedScalarFieldContainer[str]
    memberships_json: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, members_json: _Optional[_Iterable[str]] = ..., idp_groups_json: _Optional[_Iterable[str]] = ..., memberships_json: _Optional[_Iterable[str]] = ...) -> None: ...
