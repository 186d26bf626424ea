import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from scimd.connections.v1 import connection_pb2 as _connection_pb2
from scimd.connections.v1 import organization_pb2 as _organization_pb2
from scimd.directory.v1 import group_pb2 as _group_pb2
from scimd.directory.v1 import member_pb2 as _member_pb2
from scimd.directory.v1 import request_record_pb2 as _request_record_pb2
from scimd.directory.v1 import schema_extension_pb2 as _schema_extension_pb2
from scimd.rbac.v1 import member_roles_pb2 as _member_roles_pb2
from scimd.webhooks.v1 import endpoint_pb2 as _endpoint_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Event(_message.Message):
    __slots__ = ("event_id", "type", "time", "project_id", "organization_id", "request_id", "action", "source", "member_changed", "group_changed", "organization_changed", "connection_changed", "sessions_revoked", "endpoint_disabled", "deprovision_held", "request_failed", "schema_extension_changed")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_CHANGED_FIELD_NUMBER: _ClassVar[int]
    GROUP_CHANGED_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_CHANGED_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_CHANGED_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_REVOKED_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_DISABLED_FIELD_NUMBER: _ClassVar[int]
    DEPROVISION_HELD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FAILED_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_EXTENSION_CHANGED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: str
    time: _timestamp_pb2.Timestamp
    project_id: str
    organization_id: str
    request_id: str
    action: str
    source: str
    member_changed: MemberChanged
    group_changed: GroupChanged
    organization_changed: OrganizationChanged
    connection_changed: ConnectionChanged
    sessions_revoked: SessionsRevoked
    endpoint_disabled: EndpointDisabled
    deprovision_held: DeprovisionHeld
    request_failed: RequestFailed
    schema_extension_changed: SchemaExtensionChanged
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., project_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., request_id: _Optional[str] = ..., action: _Optional[str] = ..., source: _Optional[str] = ..., member_changed: _Optional[_Union[MemberChanged, _Mapping]] = ..., group_changed: _Optional[_Union[GroupChanged, _Mapping]] = ..., organization_changed: _Optional[_Union[OrganizationChanged, _Mapping]] = ..., connection_changed: _Optional[_Union[ConnectionChanged, _Mapping]] = ..., sessions_revoked: _Optional[_Union[SessionsRevoked, _Mapping]] = ..., endpoint_disabled: _Optional[_Union[EndpointDisabled, _Mapping]] = ..., deprovision_held: _Optional[_Union[DeprovisionHeld, _Mapping]] = ..., request_failed: _Optional[_Union[RequestFailed, _Mapping]] = ..., schema_extension_changed: _Optional[_Union[SchemaExtensionChanged, _Mapping]] = ...) -> None: ...

class SchemaExtensionChanged(_message.Message):
    __slots__ = ("extension",)
    EXTENSION_FIELD_NUMBER: _ClassVar[int]
    extension: _schema_extension_pb2.SchemaExtension
    def __init__(self, extension: _Optional[_Union[_schema_extension_pb2.SchemaExtension, _Mapping]] = ...) -> None: ...

class GroupChanged(_message.Message):
    __slots__ = ("group", "member_ids", "previous_attributes_json")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    group: _group_pb2.Group
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    previous_attributes_json: str
    def __init__(self, group: _Optional[_Union[_group_pb2.Group, _Mapping]] = ..., member_ids: _Optional[_Iterable[str]] = ..., previous_attributes_json: _Optional[str] = ...) -> None: ...

class MemberChanged(_message.Message):
    __slots__ = ("member", "previous_attributes_json", "roles")
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    member: _member_pb2.Member
    previous_attributes_json: str
    roles: _member_roles_pb2.MemberRoles
    def __init__(self, member: _Optional[_Union[_member_pb2.Member, _Mapping]] = ..., previous_attributes_json: _Optional[str] = ..., roles: _Optional[_Union[_member_roles_pb2.MemberRoles, _Mapping]] = ...) -> None: ...

class OrganizationChanged(_message.Message):
    __slots__ = ("organization", "previous_attributes_json")
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    organization: _organization_pb2.Organization
    previous_attributes_json: str
    def __init__(self, organization: _Optional[_Union[_organization_pb2.Organization, _Mapping]] = ..., previous_attributes_json: _Optional[str] = ...) -> None: ...

class ConnectionChanged(_message.Message):
    __slots__ = ("connection", "revoked_token_ids")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    REVOKED_TOKEN_IDS_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    revoked_token_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ..., revoked_token_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SessionsRevoked(_message.Message):
    __slots__ = ("member_id", "session_ids", "reason", "jwts_expire_by")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    JWTS_EXPIRE_BY_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    session_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    jwts_expire_by: _timestamp_pb2.Timestamp
    def __init__(self, member_id: _Optional[str] = ..., session_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., jwts_expire_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EndpointDisabled(_message.Message):
    __slots__ = ("endpoint", "reason")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    endpoint: _endpoint_pb2.Endpoint
    reason: str
    def __init__(self, endpoint: _Optional[_Union[_endpoint_pb2.Endpoint, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class DeprovisionHeld(_message.Message):
    __slots__ = ("connection_id", "applied_in_window", "allowance", "member_id", "change")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    APPLIED_IN_WINDOW_FIELD_NUMBER: _ClassVar[int]
    ALLOWANCE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    applied_in_window: int
    allowance: int
    member_id: str
    change: str
    def __init__(self, connection_id: _Optional[str] = ..., applied_in_window: _Optional[int] = ..., allowance: _Optional[int] = ..., member_id: _Optional[str] = ..., change: _Optional[str] = ...) -> None: ...

class RequestFailed(_message.Message):
    __slots__ = ("connection_id", "request")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    request: _request_record_pb2.RequestRecord
    def __init__(self, connection_id: _Optional[str] = ..., request: _Optional[_Union[_request_record_pb2.RequestRecord, _Mapping]] = ...) -> None: ...
