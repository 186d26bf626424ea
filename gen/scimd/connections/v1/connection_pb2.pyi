import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConnectionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_STATUS_UNSPECIFIED: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_ACTIVE: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_DISABLED: _ClassVar[ConnectionStatus]
CONNECTION_STATUS_UNSPECIFIED: ConnectionStatus
CONNECTION_STATUS_ACTIVE: ConnectionStatus
CONNECTION_STATUS_DISABLED: ConnectionStatus

class Connection(_message.Message):
    __slots__ = ("connection_id", "organization_id", "status", "display_name", "identity_provider", "bearer_token_last_four", "bearer_token_expires_at", "next_bearer_token_last_four", "next_bearer_token_expires_at", "create_time", "update_time", "etag", "rate_limit_per_second", "bearer_token_last_used_at", "next_bearer_token_last_used_at", "bearer_token_enabled", "oauth_client", "assertion_trust", "strict_attributes")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    BEARER_TOKEN_LAST_FOUR_FIELD_NUMBER: _ClassVar[int]
    BEARER_TOKEN_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    NEXT_BEARER_TOKEN_LAST_FOUR_FIELD_NUMBER: _ClassVar[int]
    NEXT_BEARER_TOKEN_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    BEARER_TOKEN_LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    NEXT_BEARER_TOKEN_LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    BEARER_TOKEN_ENABLED_FIELD_NUMBER: _ClassVar[int]
    OAUTH_CLIENT_FIELD_NUMBER: _ClassVar[int]
    ASSERTION_TRUST_FIELD_NUMBER: _ClassVar[int]
    STRICT_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    organization_id: str
    status: ConnectionStatus
    display_name: str
    identity_provider: str
    bearer_token_last_four: str
    bearer_token_expires_at: _timestamp_pb2.Timestamp
    next_bearer_token_last_four: str
    next_bearer_token_expires_at: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    rate_limit_per_second: int
    bearer_token_last_used_at: _timestamp_pb2.Timestamp
    next_bearer_token_last_used_at: _timestamp_pb2.Timestamp
    bearer_token_enabled: bool
    oauth_client: OAuthClient
    assertion_trust: AssertionTrust
    strict_attributes: bool
    def __init__(self, connection_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., status: _Optional[_Union[ConnectionStatus, str]] = ..., display_name: _Optional[str] = ..., identity_provider: _Optional[str] = ..., bearer_token_last_four: _Optional[str] = ..., bearer_token_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_bearer_token_last_four: _Optional[str] = ..., next_bearer_token_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., rate_limit_per_second: _Optional[int] = ..., bearer_token_last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_bearer_token_last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., bearer_token_enabled: _Optional[bool] = ..., oauth_client: _Optional[_Union[OAuthClient, _Mapping]] = ..., assertion_trust: _Optional[_Union[AssertionTrust, _Mapping]] = ..., strict_attributes: _Optional[bool] = ...) -> None: ...

class OAuthClient(_message.Message):
    __slots__ = ("client_id", "client_secret_last_four", "next_client_secret_last_four")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_LAST_FOUR_FIELD_NUMBER: _ClassVar[int]
    NEXT_CLIENT_SECRET_LAST_FOUR_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    client_secret_last_four: str
    next_client_secret_last_four: str
    def __init__(self, client_id: _Optional[str] = ..., client_secret_last_four: _Optional[str] = ..., next_client_secret_last_four: _Optional[str] = ...) -> None: ...

class AssertionTrust(_message.Message):
    __slots__ = ("issuer", "subject", "audience", "jwks_url")
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    JWKS_URL_FIELD_NUMBER: _ClassVar[int]
    issuer: str
    subject: str
    audience: str
    jwks_url: str
    def __init__(self, issuer: _Optional[str] = ..., subject: _Optional[str] = ..., audience: _Optional[str] = ..., jwks_url: _Optional[str] = ...) -> None: ...
