from google.protobuf import field_mask_pb2 as _field_mask_pb2
from scimd.rbac.v1 import member_roles_pb2 as _member_roles_pb2
from scimd.rbac.v1 import role_pb2 as _role_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateRoleRequest(_message.Message):
    __slots__ = ("role",)
    ROLE_FIELD_NUMBER: _ClassVar[int]
    role: _role_pb2.Role
    def __init__(self, role: _Optional[_Union[_role_pb2.Role, _Mapping]] = ...) -> None: ...

class CreateRoleResponse(_message.Message):
    __slots__ = ("role",)
    ROLE_FIELD_NUMBER: _ClassVar[int]
    role: _role_pb2.Role
    def __init__(self, role: _Optional[_Union[_role_pb2.Role, _Mapping]] = ...) -> None: ...

class GetRoleRequest(_message.Message):
    __slots__ = ("role_id",)
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    role_id: str
    def __init__(self, role_id: _Optional[str] = ...) -> None: ...

class GetRoleResponse(_message.Message):
    __slots__ = ("role",)
    ROLE_FIELD_NUMBER: _ClassVar[int]
    role: _role_pb2.Role
    def __init__(self, role: _Optional[_Union[_role_pb2.Role, _Mapping]] = ...) -> None: ...

class ListRolesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRolesResponse(_message.Message):
    __slots__ = ("roles", "next_page_token")
    ROLES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    roles: _containers.RepeatedCompositeFieldContainer[_role_pb2.Role]
    next_page_token: str
    def __init__(self, roles: _Optional[_Iterable[_Union[_role_pb2.Role, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateRoleRequest(_message.Message):
    __slots__ = ("role", "etag")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    role: _role_pb2.Role
    etag: str
    def __init__(self, role: _Optional[_Union[_role_pb2.Role, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class UpdateRoleResponse(_message.Message):
    __slots__ = ("role",)
    ROLE_FIELD_NUMBER: _ClassVar[int]
    role: _role_pb2.Role
    def __init__(self, role: _Optional[_Union[_role_pb2.Role, _Mapping]] = ...) -> None: ...

class DeleteRoleRequest(_message.Message):
    __slots__ = ("role_id", "etag")
    ROLE_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    role_id: str
    etag: str
    def __init__(self, role_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteRoleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListGroupRoleAssignmentsRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class ListGroupRoleAssignmentsResponse(_message.Message):
    __slots__ = ("assignments",)
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[_member_roles_pb2.GroupRoleAssignment]
    def __init__(self, assignments: _Optional[_Iterable[_Union[_member_roles_pb2.GroupRoleAssignment, _Mapping]]] = ...) -> None: ...

class ReplaceGroupRoleAssignmentsRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id", "assignments", "validate_only")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    assignments: _containers.RepeatedCompositeFieldContainer[_member_roles_pb2.GroupRoleAssignment]
    validate_only: bool
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ..., assignments: _Optional[_Iterable[_Union[_member_roles_pb2.GroupRoleAssignment, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class ReplaceGroupRoleAssignmentsResponse(_message.Message):
    __slots__ = ("assignments", "changes")
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[_member_roles_pb2.GroupRoleAssignment]
    changes: _containers.RepeatedCompositeFieldContainer[_member_roles_pb2.MemberRoleChange]
    def __init__(self, assignments: _Optional[_Iterable[_Union[_member_roles_pb2.GroupRoleAssignment, _Mapping]]] = ..., changes: _Optional[_Iterable[_Union[_member_roles_pb2.MemberRoleChange, _Mapping]]] = ...) -> None: ...

class GetConnectionRoleAssignmentsRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class GetConnectionRoleAssignmentsResponse(_message.Message):
    __slots__ = ("assignments",)
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    assignments: _member_roles_pb2.ConnectionRoleAssignments
    def __init__(self, assignments: _Optional[_Union[_member_roles_pb2.ConnectionRoleAssignments, _Mapping]] = ...) -> None: ...

class UpdateConnectionRoleAssignmentsRequest(_message.Message):
    __slots__ = ("assignments", "update_mask", "validate_only")
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    assignments: _member_roles_pb2.ConnectionRoleAssignments
    update_mask: _field_mask_pb2.FieldMask
    validate_only: bool
    def __init__(self, assignments: _Optional[_Union[_member_roles_pb2.ConnectionRoleAssignments, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class UpdateConnectionRoleAssignmentsResponse(_message.Message):
    __slots__ = ("assignments", "changes")
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    assignments: _member_roles_pb2.ConnectionRoleAssignments
    changes: _containers.RepeatedCompositeFieldContainer[_member_roles_pb2.MemberRoleChange]
    def __init__(self, assignments: _Optional[_Union[_member_roles_pb2.ConnectionRoleAssignments, _Mapping]] = ..., changes: _Optional[_Iterable[_Union[_member_roles_pb2.MemberRoleChange, _Mapping]]] = ...) -> None: ...

class GetMemberRolesRequest(_message.Message):
    __slots__ = ("organization_id", "member_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    member_id: str
    def __init__(self, organization_id: _Optional[str] = ..., member_id: _Optional[str] = ...) -> None: ...

class GetMemberRolesResponse(_message.Message):
    __slots__ = ("member_roles",)
    MEMBER_ROLES_FIELD_NUMBER: _ClassVar[int]
    member_roles: _member_roles_pb2.MemberRoles
    def __init__(self, member_roles: _Optional[_Union[_member_roles_pb2.MemberRoles, _Mapping]] = ...) -> None: ...

class BatchGetMemberRolesRequest(_message.Message):
    __slots__ = ("organization_id", "member_ids")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, organization_id: _Optional[str] = ..., member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetMemberRolesResponse(_message.Message):
    __slots__ = ("member_roles",)
    MEMBER_ROLES_FIELD_NUMBER: _ClassVar[int]
    member_roles: _containers.RepeatedCompositeFieldContainer[_member_roles_pb2.MemberRoles]
    def __init__(self, member_roles: _Optional[_Iterable[_Union[_member_roles_pb2.MemberRoles, _Mapping]]] = ...) -> None: ...

class ReemitMemberRolesRequest(_message.Message):
    __slots__ = ("organization_id", "member_ids")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, organization_id: _Optional[str] = ..., member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReemitMemberRolesResponse(_message.Message):
    __slots__ = ("re_emitted",)
    RE_EMITTED_FIELD_NUMBER: _ClassVar[int]
    re_emitted: int
    def __init__(self, re_emitted: _Optional[int] = ...) -> None: ...

class ReplaceDirectRoleAssignmentsRequest(_message.Message):
    __slots__ = ("organization_id", "member_id", "role_ids")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_IDS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    member_id: str
    role_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, organization_id: _Optional[str] = ..., member_id: _Optional[str] = ..., role_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReplaceDirectRoleAssignmentsResponse(_message.Message):
    __slots__ = ("member_roles",)
    MEMBER_ROLES_FIELD_NUMBER: _ClassVar[int]
    member_roles: _member_roles_pb2.MemberRoles
    def __init__(self, member_roles: _Optional[_Union[_member_roles_pb2.MemberRoles, _Mapping]] = ...) -> None: ...

class CheckPermissionRequest(_message.Message):
    __slots__ = ("organization_id", "member_id", "resource_id", "action")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    member_id: str
    resource_id: str
    action: str
    def __init__(self, organization_id: _Optional[str] = ..., member_id: _Optional[str] = ..., resource_id: _Optional[str] = ..., action: _Optional[str] = ...) -> None: ...

class CheckPermissionResponse(_message.Message):
    __slots__ = ("allowed", "granting_role_ids")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    GRANTING_ROLE_IDS_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    granting_role_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, allowed: _Optional[bool] = ..., granting_role_ids: _Optional[_Iterable[str]] = ...) -> None: ...
