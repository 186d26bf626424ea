from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RoleSource(_message.Message):
    __slots__ = ("type", "connection_id", "group_id", "group_name", "attribute", "value", "filter")
    class Type(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TYPE_UNSPECIFIED: _ClassVar[RoleSource.Type]
        DIRECT_ASSIGNMENT: _ClassVar[RoleSource.Type]
        SCIM_CONNECTION_GROUP: _ClassVar[RoleSource.Type]
        SCIM_ATTRIBUTE: _ClassVar[RoleSource.Type]
        SCIM_ATTRIBUTE_RULE: _ClassVar[RoleSource.Type]
    TYPE_UNSPECIFIED: RoleSource.Type
    DIRECT_ASSIGNMENT: RoleSource.Type
    SCIM_CONNECTION_GROUP: RoleSource.Type
    SCIM_ATTRIBUTE: RoleSource.Type
    SCIM_ATTRIBUTE_RULE: RoleSource.Type
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    type: RoleSource.Type
    connection_id: str
    group_id: str
    group_name: str
    attribute: str
    value: str
    filter: str
    def __init__(self, type: _Optional[_Union[RoleSource.Type, str]] = ..., connection_id: _Optional[str] = ..., group_id: _Optional[str] = ..., group_name: _Optional[str] = ..., attribute: _Optional[str] = ..., value: _Optional[str] = ..., filter: _Optional[str] = ...) -> None: ...

class MemberRole(_message.Message):
    __slots__ = ("role_id", "sources")
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    role_id: str
    sources: _containers.RepeatedCompositeFieldContainer[RoleSource]
    def __init__(self, role_id: _Optional[str] = ..., sources: _Optional[_Iterable[_Union[RoleSource, _Mapping]]] = ...) -> None: ...

class MemberRoles(_message.Message):
    __slots__ = ("organization_id", "member_id", "roles")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    member_id: str
    roles: _containers.RepeatedCompositeFieldContainer[MemberRole]
    def __init__(self, organization_id: _Optional[str] = ..., member_id: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[MemberRole, _Mapping]]] = ...) -> None: ...

class GroupRoleAssignment(_message.Message):
    __slots__ = ("group_id", "role_id", "group_name")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    role_id: str
    group_name: str
    def __init__(self, group_id: _Optional[str] = ..., role_id: _Optional[str] = ..., group_name: _Optional[str] = ...) -> None: ...

class MemberRoleChange(_message.Message):
    __slots__ = ("member_id", "gained_role_ids", "lost_role_ids")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    GAINED_ROLE_IDS_FIELD_NUMBER: _ClassVar[int]
    LOST_ROLE_IDS_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    gained_role_ids: _containers.RepeatedScalarFieldContainer[str]
    lost_role_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, member_id: _Optional[str] = ..., gained_role_ids: _Optional[_Iterable[str]] = ..., lost_role_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AttributeRoleAssignment(_message.Message):
    __slots__ = ("attribute", "value", "role_id")
    ATTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    attribute: str
    value: str
    role_id: str
    def __init__(self, attribute: _Optional[str] = ..., value: _Optional[str] = ..., role_id: _Optional[str] = ...) -> None: ...

class RuleRoleAssignment(_message.Message):
    __slots__ = ("filter", "role_id")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    filter: str
    role_id: str
    def __init__(self, filter: _Optional[str] = ..., role_id: _Optional[str] = ...) -> None: ...

class ConnectionRoleAssignments(_message.Message):
    __slots__ = ("organization_id", "connection_id", "group_assignments", "attribute_assignments", "rule_assignments")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTE_ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    RULE_ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    group_assignments: _containers.RepeatedCompositeFieldContainer[GroupRoleAssignment]
    attribute_assignments: _containers.RepeatedCompositeFieldContainer[AttributeRoleAssignment]
    rule_assignments: _containers.RepeatedCompositeFieldContainer[RuleRoleAssignment]
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ..., group_assignments: _Optional[_Iterable[_Union[GroupRoleAssignment, _Mapping]]] = ..., attribute_assignments: _Optional[_Iterable[_Union[AttributeRoleAssignment, _Mapping]]] = ..., rule_assignments: _Optional[_Iterable[_Union[RuleRoleAssignment, _Mapping]]] = ...) -> None: ...
