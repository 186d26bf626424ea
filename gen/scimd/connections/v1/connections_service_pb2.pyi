import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from scimd.connections.v1 import connection_pb2 as _connection_pb2
from scimd.connections.v1 import organization_pb2 as _organization_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateOrganizationRequest(_message.Message):
    __slots__ = ("organization_name", "organization_slug")
    ORGANIZATION_NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_SLUG_FIELD_NUMBER: _ClassVar[int]
    organization_name: str
    organization_slug: str
    def __init__(self, organization_name: _Optional[str] = ..., organization_slug: _Optional[str] = ...) -> None: ...

class CreateOrganizationResponse(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: _organization_pb2.Organization
    def __init__(self, organization: _Optional[_Union[_organization_pb2.Organization, _Mapping]] = ...) -> None: ...

class GetOrganizationRequest(_message.Message):
    __slots__ = ("organization_id",)
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    def __init__(self, organization_id: _Optional[str] = ...) -> None: ...

class GetOrganizationResponse(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: _organization_pb2.Organization
    def __init__(self, organization: _Optional[_Union[_organization_pb2.Organization, _Mapping]] = ...) -> None: ...

class ListOrganizationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrganizationsResponse(_message.Message):
    __slots__ = ("organizations", "next_page_token")
    ORGANIZATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    organizations: _containers.RepeatedCompositeFieldContainer[_organization_pb2.Organization]
    next_page_token: str
    def __init__(self, organizations: _Optional[_Iterable[_Union[_organization_pb2.Organization, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateOrganizationRequest(_message.Message):
    __slots__ = ("organization_id", "organization_name", "organization_slug")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_SLUG_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    organization_name: str
    organization_slug: str
    def __init__(self, organization_id: _Optional[str] = ..., organization_name: _Optional[str] = ..., organization_slug: _Optional[str] = ...) -> None: ...

class UpdateOrganizationResponse(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: _organization_pb2.Organization
    def __init__(self, organization: _Optional[_Union[_organization_pb2.Organization, _Mapping]] = ...) -> None: ...

class DeleteOrganizationRequest(_message.Message):
    __slots__ = ("organization_id",)
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    def __init__(self, organization_id: _Optional[str] = ...) -> None: ...

class DeleteOrganizationResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateConnectionRequest(_message.Message):
    __slots__ = ("organization_id", "display_name", "identity_provider")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    display_name: str
    identity_provider: str
    def __init__(self, organization_id: _Optional[str] = ..., display_name: _Optional[str] = ..., identity_provider: _Optional[str] = ...) -> None: ...

class CreateConnectionResponse(_message.Message):
    __slots__ = ("connection", "bearer_token")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    BEARER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    bearer_token: str
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ..., bearer_token: _Optional[str] = ...) -> None: ...

class GetConnectionRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class GetConnectionResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ...) -> None: ...

class ListConnectionsRequest(_message.Message):
    __slots__ = ("organization_id", "page_size", "page_token")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    page_size: int
    page_token: str
    def __init__(self, organization_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListConnectionsResponse(_message.Message):
    __slots__ = ("connections", "next_page_token")
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[_connection_pb2.Connection]
    next_page_token: str
    def __init__(self, connections: _Optional[_Iterable[_Union[_connection_pb2.Connection, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateConnectionRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id", "display_name", "identity_provider", "rate_limit_per_second", "bearer_token_enabled", "strict_attributes")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    BEARER_TOKEN_ENABLED_FIELD_NUMBER: _ClassVar[int]
    STRICT_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    display_name: str
    identity_provider: str
    rate_limit_per_second: int
    bearer_token_enabled: bool
    strict_attributes: bool
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ..., display_name: _Optional[str] = ..., identity_provider: _Optional[str] = ..., rate_limit_per_second: _Optional[int] = ..., bearer_token_enabled: _Optional[bool] = ..., strict_attributes: _Optional[bool] = ...) -> None: ...

class UpdateConnectionResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ...) -> None: ...

class DeleteConnectionRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class DeleteConnectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StartTokenRotationRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class StartTokenRotationResponse(_message.Message):
    __slots__ = ("connection", "next_bearer_token")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    NEXT_BEARER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    next_bearer_token: str
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ..., next_bearer_token: _Optional[str] = ...) -> None: ...

class CompleteTokenRotationRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class CompleteTokenRotationResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ...) -> None: ...

class CancelTokenRotationRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class CancelTokenRotationResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ...) -> None: ...

class AuthenticateTokenRequest(_message.Message):
    __slots__ = ("bearer_token",)
    BEARER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    bearer_token: str
    def __init__(self, bearer_token: _Optional[str] = ...) -> None: ...

class AuthenticateTokenResponse(_message.Message):
    __slots__ = ("connection", "token_id", "expire_time")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    token_id: str
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ..., token_id: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreatePortalLinkRequest(_message.Message):
    __slots__ = ("organization_id", "ttl_seconds")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    ttl_seconds: int
    def __init__(self, organization_id: _Optional[str] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class CreatePortalLinkResponse(_message.Message):
    __slots__ = ("link_token", "expire_time")
    LINK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    link_token: str
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, link_token: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RedeemPortalLinkRequest(_message.Message):
    __slots__ = ("link_token",)
    LINK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    link_token: str
    def __init__(self, link_token: _Optional[str] = ...) -> None: ...

class RedeemPortalLinkResponse(_message.Message):
    __slots__ = ("organization_id", "session_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    session_id: str
    def __init__(self, organization_id: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class GetPortalSessionRequest(_message.Message):
    __slots__ = ("organization_id", "session_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    session_id: str
    def __init__(self, organization_id: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class GetPortalSessionResponse(_message.Message):
    __slots__ = ("end_time",)
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EndPortalSessionRequest(_message.Message):
    __slots__ = ("organization_id", "session_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    session_id: str
    def __init__(self, organization_id: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class EndPortalSessionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TokenUse(_message.Message):
    __slots__ = ("token_id", "used_at")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    USED_AT_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    used_at: _timestamp_pb2.Timestamp
    def __init__(self, token_id: _Optional[str] = ..., used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TouchTokensRequest(_message.Message):
    __slots__ = ("uses",)
    USES_FIELD_NUMBER: _ClassVar[int]
    uses: _containers.RepeatedCompositeFieldContainer[TokenUse]
    def __init__(self, uses: _Optional[_Iterable[_Union[TokenUse, _Mapping]]] = ...) -> None: ...

class TouchTokensResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EnableClientCredentialsRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class EnableClientCredentialsResponse(_message.Message):
    __slots__ = ("connection", "client_secret")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    client_secret: str
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ..., client_secret: _Optional[str] = ...) -> None: ...

class DisableClientCredentialsRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class DisableClientCredentialsResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ...) -> None: ...

class StartClientSecretRotationRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class StartClientSecretRotationResponse(_message.Message):
    __slots__ = ("connection", "next_client_secret")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    NEXT_CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    next_client_secret: str
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ..., next_client_secret: _Optional[str] = ...) -> None: ...

class CompleteClientSecretRotationRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class CompleteClientSecretRotationResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ...) -> None: ...

class CancelClientSecretRotationRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class CancelClientSecretRotationResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ...) -> None: ...

class SetAssertionTrustRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id", "trust")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    TRUST_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    trust: _connection_pb2.AssertionTrust
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ..., trust: _Optional[_Union[_connection_pb2.AssertionTrust, _Mapping]] = ...) -> None: ...

class SetAssertionTrustResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ...) -> None: ...

class DeleteAssertionTrustRequest(_message.Message):
    __slots__ = ("organization_id", "connection_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    connection_id: str
    def __init__(self, organization_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class DeleteAssertionTrustResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ...) -> None: ...

class IssueAccessTokenRequest(_message.Message):
    __slots__ = ("connection_id", "client_secret", "client_assertion", "client_id")
    class ClientSecret(_message.Message):
        __slots__ = ("client_id", "client_secret")
        CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
        CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
        client_id: str
        client_secret: str
        def __init__(self, client_id: _Optional[str] = ..., client_secret: _Optional[str] = ...) -> None: ...
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ASSERTION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    client_secret: IssueAccessTokenRequest.ClientSecret
    client_assertion: str
    client_id: str
    def __init__(self, connection_id: _Optional[str] = ..., client_secret: _Optional[_Union[IssueAccessTokenRequest.ClientSecret, _Mapping]] = ..., client_assertion: _Optional[str] = ..., client_id: _Optional[str] = ...) -> None: ...

class IssueAccessTokenResponse(_message.Message):
    __slots__ = ("access_token", "expires_in_seconds")
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    access_token: str
    expires_in_seconds: int
    def __init__(self, access_token: _Optional[str] = ..., expires_in_seconds: _Optional[int] = ...) -> None: ...
