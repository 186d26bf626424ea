import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from scimd.directory.v1 import group_pb2 as _group_pb2
from scimd.directory.v1 import member_pb2 as _member_pb2
from scimd.directory.v1 import request_record_pb2 as _request_record_pb2
from scimd.directory.v1 import schema_extension_pb2 as _schema_extension_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MemberView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMBER_VIEW_EFFECTIVE: _ClassVar[MemberView]
    MEMBER_VIEW_IDENTITY_PROVIDER: _ClassVar[MemberView]
MEMBER_VIEW_EFFECTIVE: MemberView
MEMBER_VIEW_IDENTITY_PROVIDER: MemberView

class CustomField(_message.Message):
    __slots__ = ("key", "type", "description", "create_time", "update_time")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    key: str
    type: str
    description: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, key: _Optional[str] = ..., type: _Optional[str] = ..., description: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListCustomFieldsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCustomFieldsResponse(_message.Message):
    __slots__ = ("fields",)
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.RepeatedCompositeFieldContainer[CustomField]
    def __init__(self, fields: _Optional[_Iterable[_Union[CustomField, _Mapping]]] = ...) -> None: ...

class PutCustomFieldRequest(_message.Message):
    __slots__ = ("field",)
    FIELD_FIELD_NUMBER: _ClassVar[int]
    field: CustomField
    def __init__(self, field: _Optional[_Union[CustomField, _Mapping]] = ...) -> None: ...

class PutCustomFieldResponse(_message.Message):
    __slots__ = ("field", "created")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    field: CustomField
    created: bool
    def __init__(self, field: _Optional[_Union[CustomField, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class DeleteCustomFieldRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class DeleteCustomFieldResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AttributeMappingApply(_message.Message):
    __slots__ = ("state", "done", "total", "changed")
    STATE_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    state: str
    done: int
    total: int
    changed: int
    def __init__(self, state: _Optional[str] = ..., done: _Optional[int] = ..., total: _Optional[int] = ..., changed: _Optional[int] = ...) -> None: ...

class AttributeMapping(_message.Message):
    __slots__ = ("fields_json", "version", "update_time", "apply")
    FIELDS_JSON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    APPLY_FIELD_NUMBER: _ClassVar[int]
    fields_json: str
    version: int
    update_time: _timestamp_pb2.Timestamp
    apply: AttributeMappingApply
    def __init__(self, fields_json: _Optional[str] = ..., version: _Optional[int] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., apply: _Optional[_Union[AttributeMappingApply, _Mapping]] = ...) -> None: ...

class GetAttributeMappingRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetAttributeMappingResponse(_message.Message):
    __slots__ = ("mapping",)
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    mapping: AttributeMapping
    def __init__(self, mapping: _Optional[_Union[AttributeMapping, _Mapping]] = ...) -> None: ...

class PutAttributeMappingRequest(_message.Message):
    __slots__ = ("fields_json", "validate_only", "page_size")
    FIELDS_JSON_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    fields_json: str
    validate_only: bool
    page_size: int
    def __init__(self, fields_json: _Optional[str] = ..., validate_only: _Optional[bool] = ..., page_size: _Optional[int] = ...) -> None: ...

class CustomAttributeChange(_message.Message):
    __slots__ = ("member_id", "user_name", "previous_json", "current_json")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_JSON_FIELD_NUMBER: _ClassVar[int]
    CURRENT_JSON_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    user_name: str
    previous_json: str
    current_json: str
    def __init__(self, member_id: _Optional[str] = ..., user_name: _Optional[str] = ..., previous_json: _Optional[str] = ..., current_json: _Optional[str] = ...) -> None: ...

class PutAttributeMappingResponse(_message.Message):
    __slots__ = ("mapping", "changes", "changed_count", "member_count")
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    CHANGED_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    mapping: AttributeMapping
    changes: _containers.RepeatedCompositeFieldContainer[CustomAttributeChange]
    changed_count: int
    member_count: int
    def __init__(self, mapping: _Optional[_Union[AttributeMapping, _Mapping]] = ..., changes: _Optional[_Iterable[_Union[CustomAttributeChange, _Mapping]]] = ..., changed_count: _Optional[int] = ..., member_count: _Optional[int] = ...) -> None: ...

class ListSchemaExtensionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSchemaExtensionsResponse(_message.Message):
    __slots__ = ("extensions",)
    EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    extensions: _containers.RepeatedCompositeFieldContainer[_schema_extension_pb2.SchemaExtension]
    def __init__(self, extensions: _Optional[_Iterable[_Union[_schema_extension_pb2.SchemaExtension, _Mapping]]] = ...) -> None: ...

class PutSchemaExtensionRequest(_message.Message):
    __slots__ = ("resource_type", "definition_json")
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_JSON_FIELD_NUMBER: _ClassVar[int]
    resource_type: str
    definition_json: str
    def __init__(self, resource_type: _Optional[str] = ..., definition_json: _Optional[str] = ...) -> None: ...

class PutSchemaExtensionResponse(_message.Message):
    __slots__ = ("extension", "created")
    EXTENSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    extension: _schema_extension_pb2.SchemaExtension
    created: bool
    def __init__(self, extension: _Optional[_Union[_schema_extension_pb2.SchemaExtension, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class DeleteSchemaExtensionRequest(_message.Message):
    __slots__ = ("schema_id",)
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    schema_id: str
    def __init__(self, schema_id: _Optional[str] = ...) -> None: ...

class DeleteSchemaExtensionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SeenAttribute(_message.Message):
    __slots__ = ("path", "json_type", "declared", "member_count", "last_seen_time")
    PATH_FIELD_NUMBER: _ClassVar[int]
    JSON_TYPE_FIELD_NUMBER: _ClassVar[int]
    DECLARED_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_TIME_FIELD_NUMBER: _ClassVar[int]
    path: str
    json_type: str
    declared: bool
    member_count: int
    last_seen_time: _timestamp_pb2.Timestamp
    def __init__(self, path: _Optional[str] = ..., json_type: _Optional[str] = ..., declared: _Optional[bool] = ..., member_count: _Optional[int] = ..., last_seen_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListSeenAttributesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSeenAttributesResponse(_message.Message):
    __slots__ = ("attributes",)
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    attributes: _containers.RepeatedCompositeFieldContainer[SeenAttribute]
    def __init__(self, attributes: _Optional[_Iterable[_Union[SeenAttribute, _Mapping]]] = ...) -> None: ...

class MemberVersion(_message.Message):
    __slots__ = ("member_id", "etag")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    etag: str
    def __init__(self, member_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class DiffMembersRequest(_message.Message):
    __slots__ = ("members", "after", "through", "re_emit")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    THROUGH_FIELD_NUMBER: _ClassVar[int]
    RE_EMIT_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[MemberVersion]
    after: str
    through: str
    re_emit: bool
    def __init__(self, members: _Optional[_Iterable[_Union[MemberVersion, _Mapping]]] = ..., after: _Optional[str] = ..., through: _Optional[str] = ..., re_emit: _Optional[bool] = ...) -> None: ...

class DiffMembersResponse(_message.Message):
    __slots__ = ("missing", "stale", "extra", "compared_through", "re_emitted")
    MISSING_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    COMPARED_THROUGH_FIELD_NUMBER: _ClassVar[int]
    RE_EMITTED_FIELD_NUMBER: _ClassVar[int]
    missing: _containers.RepeatedCompositeFieldContainer[MemberVersion]
    stale: _containers.RepeatedCompositeFieldContainer[MemberVersion]
    extra: _containers.RepeatedScalarFieldContainer[str]
    compared_through: str
    re_emitted: int
    def __init__(self, missing: _Optional[_Iterable[_Union[MemberVersion, _Mapping]]] = ..., stale: _Optional[_Iterable[_Union[MemberVersion, _Mapping]]] = ..., extra: _Optional[_Iterable[str]] = ..., compared_through: _Optional[str] = ..., re_emitted: _Optional[int] = ...) -> None: ...

class RecordRequestsRequest(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_request_record_pb2.RequestRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[_request_record_pb2.RequestRecord, _Mapping]]] = ...) -> None: ...

class RecordRequestsResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRequestsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "resource", "statuses", "since", "until")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    resource: str
    statuses: _containers.RepeatedScalarFieldContainer[int]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., resource: _Optional[str] = ..., statuses: _Optional[_Iterable[int]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListRequestsResponse(_message.Message):
    __slots__ = ("records", "next_page_token")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_request_record_pb2.RequestRecord]
    next_page_token: str
    def __init__(self, records: _Optional[_Iterable[_Union[_request_record_pb2.RequestRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetRequestStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRequestStatsResponse(_message.Message):
    __slots__ = ("last_request_time", "requests_last_hour", "errors_last_hour", "groups_received", "users_received")
    LAST_REQUEST_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_LAST_HOUR_FIELD_NUMBER: _ClassVar[int]
    ERRORS_LAST_HOUR_FIELD_NUMBER: _ClassVar[int]
    GROUPS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    USERS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    last_request_time: _timestamp_pb2.Timestamp
    requests_last_hour: int
    errors_last_hour: int
    groups_received: bool
    users_received: int
    def __init__(self, last_request_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., requests_last_hour: _Optional[int] = ..., errors_last_hour: _Optional[int] = ..., groups_received: _Optional[bool] = ..., users_received: _Optional[int] = ...) -> None: ...

class DeprovisionGuard(_message.Message):
    __slots__ = ("enabled", "percent", "max_count", "window_seconds", "auto_apply_seconds", "source")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    MAX_COUNT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    AUTO_APPLY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    percent: int
    max_count: int
    window_seconds: int
    auto_apply_seconds: int
    source: str
    def __init__(self, enabled: _Optional[bool] = ..., percent: _Optional[int] = ..., max_count: _Optional[int] = ..., window_seconds: _Optional[int] = ..., auto_apply_seconds: _Optional[int] = ..., source: _Optional[str] = ...) -> None: ...

class GetDeprovisionGuardRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetDeprovisionGuardResponse(_message.Message):
    __slots__ = ("guard",)
    GUARD_FIELD_NUMBER: _ClassVar[int]
    guard: DeprovisionGuard
    def __init__(self, guard: _Optional[_Union[DeprovisionGuard, _Mapping]] = ...) -> None: ...

class SetDeprovisionGuardRequest(_message.Message):
    __slots__ = ("guard", "inherit")
    GUARD_FIELD_NUMBER: _ClassVar[int]
    INHERIT_FIELD_NUMBER: _ClassVar[int]
    guard: DeprovisionGuard
    inherit: bool
    def __init__(self, guard: _Optional[_Union[DeprovisionGuard, _Mapping]] = ..., inherit: _Optional[bool] = ...) -> None: ...

class SetDeprovisionGuardResponse(_message.Message):
    __slots__ = ("guard",)
    GUARD_FIELD_NUMBER: _ClassVar[int]
    guard: DeprovisionGuard
    def __init__(self, guard: _Optional[_Union[DeprovisionGuard, _Mapping]] = ...) -> None: ...

class HeldDeprovision(_message.Message):
    __slots__ = ("member_id", "change", "hold_time", "user_name")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    HOLD_TIME_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    change: str
    hold_time: _timestamp_pb2.Timestamp
    user_name: str
    def __init__(self, member_id: _Optional[str] = ..., change: _Optional[str] = ..., hold_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., user_name: _Optional[str] = ...) -> None: ...

class ListHeldDeprovisionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListHeldDeprovisionsResponse(_message.Message):
    __slots__ = ("held",)
    HELD_FIELD_NUMBER: _ClassVar[int]
    held: _containers.RepeatedCompositeFieldContainer[HeldDeprovision]
    def __init__(self, held: _Optional[_Iterable[_Union[HeldDeprovision, _Mapping]]] = ...) -> None: ...

class ResolveHeldDeprovisionsRequest(_message.Message):
    __slots__ = ("approve",)
    APPROVE_FIELD_NUMBER: _ClassVar[int]
    approve: bool
    def __init__(self, approve: _Optional[bool] = ...) -> None: ...

class ResolveHeldDeprovisionsResponse(_message.Message):
    __slots__ = ("resolved",)
    RESOLVED_FIELD_NUMBER: _ClassVar[int]
    resolved: _containers.RepeatedCompositeFieldContainer[HeldDeprovision]
    def __init__(self, resolved: _Optional[_Iterable[_Union[HeldDeprovision, _Mapping]]] = ...) -> None: ...

class CreateMemberRequest(_message.Message):
    __slots__ = ("scim_registration", "reject_undeclared")
    SCIM_REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    REJECT_UNDECLARED_FIELD_NUMBER: _ClassVar[int]
    scim_registration: _member_pb2.ScimRegistration
    reject_undeclared: bool
    def __init__(self, scim_registration: _Optional[_Union[_member_pb2.ScimRegistration, _Mapping]] = ..., reject_undeclared: _Optional[bool] = ...) -> None: ...

class CreateMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: _member_pb2.Member
    def __init__(self, member: _Optional[_Union[_member_pb2.Member, _Mapping]] = ...) -> None: ...

class GetMemberRequest(_message.Message):
    __slots__ = ("member_id", "view")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    view: MemberView
    def __init__(self, member_id: _Optional[str] = ..., view: _Optional[_Union[MemberView, str]] = ...) -> None: ...

class GetMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: _member_pb2.Member
    def __init__(self, member: _Optional[_Union[_member_pb2.Member, _Mapping]] = ...) -> None: ...

class ListMembersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "show_deleted", "filter", "order_by", "descending", "skip", "total_size_only", "view", "custom_attributes")
    class CustomAttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SHOW_DELETED_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    SKIP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_ONLY_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    show_deleted: bool
    filter: str
    order_by: str
    descending: bool
    skip: int
    total_size_only: bool
    view: MemberView
    custom_attributes: _containers.ScalarMap[str, str]
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., show_deleted: _Optional[bool] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ..., descending: _Optional[bool] = ..., skip: _Optional[int] = ..., total_size_only: _Optional[bool] = ..., view: _Optional[_Union[MemberView, str]] = ..., custom_attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class BatchGetMembersRequest(_message.Message):
    __slots__ = ("member_ids",)
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetMembersResponse(_message.Message):
    __slots__ = ("members",)
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[_member_pb2.Member]
    def __init__(self, members: _Optional[_Iterable[_Union[_member_pb2.Member, _Mapping]]] = ...) -> None: ...

class UpdateMemberRequest(_message.Message):
    __slots__ = ("member_id", "scim_registration", "etag", "reject_undeclared")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    SCIM_REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REJECT_UNDECLARED_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    scim_registration: _member_pb2.ScimRegistration
    etag: str
    reject_undeclared: bool
    def __init__(self, member_id: _Optional[str] = ..., scim_registration: _Optional[_Union[_member_pb2.ScimRegistration, _Mapping]] = ..., etag: _Optional[str] = ..., reject_undeclared: _Optional[bool] = ...) -> None: ...

class UpdateMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: _member_pb2.Member
    def __init__(self, member: _Optional[_Union[_member_pb2.Member, _Mapping]] = ...) -> None: ...

class PatchMemberRequest(_message.Message):
    __slots__ = ("member_id", "patch_json", "etag", "reject_undeclared")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    PATCH_JSON_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REJECT_UNDECLARED_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    patch_json: str
    etag: str
    reject_undeclared: bool
    def __init__(self, member_id: _Optional[str] = ..., patch_json: _Optional[str] = ..., etag: _Optional[str] = ..., reject_undeclared: _Optional[bool] = ...) -> None: ...

class PatchMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: _member_pb2.Member
    def __init__(self, member: _Optional[_Union[_member_pb2.Member, _Mapping]] = ...) -> None: ...

class DeleteMemberRequest(_message.Message):
    __slots__ = ("member_id", "etag")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    etag: str
    def __init__(self, member_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteMemberResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMembersResponse(_message.Message):
    __slots__ = ("members", "next_page_token", "total_size")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[_member_pb2.Member]
    next_page_token: str
    total_size: int
    def __init__(self, members: _Optional[_Iterable[_Union[_member_pb2.Member, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CreateGroupRequest(_message.Message):
    __slots__ = ("group", "member_ids")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    group: _group_pb2.Group
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, group: _Optional[_Union[_group_pb2.Group, _Mapping]] = ..., member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateGroupResponse(_message.Message):
    __slots__ = ("group",)
    GROUP_FIELD_NUMBER: _ClassVar[int]
    group: _group_pb2.Group
    def __init__(self, group: _Optional[_Union[_group_pb2.Group, _Mapping]] = ...) -> None: ...

class GetGroupRequest(_message.Message):
    __slots__ = ("group_id",)
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    def __init__(self, group_id: _Optional[str] = ...) -> None: ...

class GetGroupResponse(_message.Message):
    __slots__ = ("group",)
    GROUP_FIELD_NUMBER: _ClassVar[int]
    group: _group_pb2.Group
    def __init__(self, group: _Optional[_Union[_group_pb2.Group, _Mapping]] = ...) -> None: ...

class ListGroupsRequest(_message.Message):
    __slots__ = ("page_size", "skip", "filter", "order_by", "descending", "total_size_only", "page_token", "member_budget")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    SKIP_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MEMBER_BUDGET_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    skip: int
    filter: str
    order_by: str
    descending: bool
    total_size_only: bool
    page_token: str
    member_budget: int
    def __init__(self, page_size: _Optional[int] = ..., skip: _Optional[int] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ..., descending: _Optional[bool] = ..., total_size_only: _Optional[bool] = ..., page_token: _Optional[str] = ..., member_budget: _Optional[int] = ...) -> None: ...

class ListGroupsResponse(_message.Message):
    __slots__ = ("groups", "total_size", "next_page_token")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[_group_pb2.Group]
    total_size: int
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[_group_pb2.Group, _Mapping]]] = ..., total_size: _Optional[int] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateGroupRequest(_message.Message):
    __slots__ = ("group_id", "display_name", "external_id", "member_ids", "etag", "scim_attributes_json")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    SCIM_ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    display_name: str
    external_id: str
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    etag: str
    scim_attributes_json: str
    def __init__(self, group_id: _Optional[str] = ..., display_name: _Optional[str] = ..., external_id: _Optional[str] = ..., member_ids: _Optional[_Iterable[str]] = ..., etag: _Optional[str] = ..., scim_attributes_json: _Optional[str] = ...) -> None: ...

class UpdateGroupResponse(_message.Message):
    __slots__ = ("group",)
    GROUP_FIELD_NUMBER: _ClassVar[int]
    group: _group_pb2.Group
    def __init__(self, group: _Optional[_Union[_group_pb2.Group, _Mapping]] = ...) -> None: ...

class PatchGroupRequest(_message.Message):
    __slots__ = ("group_id", "patch_json", "etag")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    PATCH_JSON_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    patch_json: str
    etag: str
    def __init__(self, group_id: _Optional[str] = ..., patch_json: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class PatchGroupResponse(_message.Message):
    __slots__ = ("group",)
    GROUP_FIELD_NUMBER: _ClassVar[int]
    group: _group_pb2.Group
    def __init__(self, group: _Optional[_Union[_group_pb2.Group, _Mapping]] = ...) -> None: ...

class DeleteGroupRequest(_message.Message):
    __slots__ = ("group_id", "etag")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    etag: str
    def __init__(self, group_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteGroupResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AddGroupMembersRequest(_message.Message):
    __slots__ = ("group_id", "member_ids")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, group_id: _Optional[str] = ..., member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AddGroupMembersResponse(_message.Message):
    __slots__ = ("group",)
    GROUP_FIELD_NUMBER: _ClassVar[int]
    group: _group_pb2.Group
    def __init__(self, group: _Optional[_Union[_group_pb2.Group, _Mapping]] = ...) -> None: ...

class RemoveGroupMembersRequest(_message.Message):
    __slots__ = ("group_id", "member_ids")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, group_id: _Optional[str] = ..., member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveGroupMembersResponse(_message.Message):
    __slots__ = ("group",)
    GROUP_FIELD_NUMBER: _ClassVar[int]
    group: _group_pb2.Group
    def __init__(self, group: _Optional[_Union[_group_pb2.Group, _Mapping]] = ...) -> None: ...

class ListGroupMembersRequest(_message.Message):
    __slots__ = ("group_id", "page_size", "page_token")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    page_size: int
    page_token: str
    def __init__(self, group_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListGroupMembersResponse(_message.Message):
    __slots__ = ("members", "next_page_token")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[_group_pb2.GroupMember]
    next_page_token: str
    def __init__(self, members: _Optional[_Iterable[_Union[_group_pb2.GroupMember, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("audit_id", "connection_id", "token_id", "request_id", "operation", "resource_type", "resource_id", "changed_attributes", "result", "detail", "create_time")
    AUDIT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGED_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    audit_id: int
    connection_id: str
    token_id: str
    request_id: str
    operation: str
    resource_type: str
    resource_id: str
    changed_attributes: _containers.RepeatedScalarFieldContainer[str]
    result: str
    detail: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, audit_id: _Optional[int] = ..., connection_id: _Optional[str] = ..., token_id: _Optional[str] = ..., request_id: _Optional[str] = ..., operation: _Optional[str] = ..., resource_type: _Optional[str] = ..., resource_id: _Optional[str] = ..., changed_attributes: _Optional[_Iterable[str]] = ..., result: _Optional[str] = ..., detail: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAuditEntriesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAuditEntriesResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
