import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MemberStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMBER_STATUS_UNSPECIFIED: _ClassVar[MemberStatus]
    MEMBER_STATUS_ACTIVE: _ClassVar[MemberStatus]
    MEMBER_STATUS_DEACTIVATED: _ClassVar[MemberStatus]
    MEMBER_STATUS_DELETED: _ClassVar[MemberStatus]
MEMBER_STATUS_UNSPECIFIED: MemberStatus
MEMBER_STATUS_ACTIVE: MemberStatus
MEMBER_STATUS_DEACTIVATED: MemberStatus
MEMBER_STATUS_DELETED: MemberStatus

class ScimRegistration(_message.Message):
    __slots__ = ("connection_id", "registration_id", "external_id", "user_name", "scim_attributes_json", "undeclared_attributes_json")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    SCIM_ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    UNDECLARED_ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    registration_id: str
    external_id: str
    user_name: str
    scim_attributes_json: str
    undeclared_attributes_json: str
    def __init__(self, connection_id: _Optional[str] = ..., registration_id: _Optional[str] = ..., external_id: _Optional[str] = ..., user_name: _Optional[str] = ..., scim_attributes_json: _Optional[str] = ..., undeclared_attributes_json: _Optional[str] = ...) -> None: ...

class MemberGroup(_message.Message):
    __slots__ = ("group_id", "display_name")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    display_name: str
    def __init__(self, group_id: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("member_id", "organization_id", "email_address", "name", "status", "external_id", "scim_registration", "create_time", "update_time", "etag", "groups", "custom_attributes_json")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    SCIM_REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    organization_id: str
    email_address: str
    name: str
    status: MemberStatus
    external_id: str
    scim_registration: ScimRegistration
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    groups: _containers.RepeatedCompositeFieldContainer[MemberGroup]
    custom_attributes_json: str
    def __init__(self, member_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., email_address: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[_Union[MemberStatus, str]] = ..., external_id: _Optional[str] = ..., scim_registration: _Optional[_Union[ScimRegistration, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., groups: _Optional[_Iterable[_Union[MemberGroup, _Mapping]]] = ..., custom_attributes_json: _Optional[str] = ...) -> None: ...
