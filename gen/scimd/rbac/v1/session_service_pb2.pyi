import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from scimd.directory.v1 import member_pb2 as _member_pb2
from scimd.rbac.v1 import session_pb2 as _session_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateSessionRequest(_message.Message):
    __slots__ = ("organization_id", "member_id", "session_duration_minutes")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    member_id: str
    session_duration_minutes: int
    def __init__(self, organization_id: _Optional[str] = ..., member_id: _Optional[str] = ..., session_duration_minutes: _Optional[int] = ...) -> None: ...

class CreateSessionResponse(_message.Message):
    __slots__ = ("session", "session_token", "session_jwt", "member")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SESSION_JWT_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    session: _session_pb2.Session
    session_token: str
    session_jwt: str
    member: _member_pb2.Member
    def __init__(self, session: _Optional[_Union[_session_pb2.Session, _Mapping]] = ..., session_token: _Optional[str] = ..., session_jwt: _Optional[str] = ..., member: _Optional[_Union[_member_pb2.Member, _Mapping]] = ...) -> None: ...

class AuthenticateSessionRequest(_message.Message):
    __slots__ = ("session_token", "session_jwt")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SESSION_JWT_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    session_jwt: str
    def __init__(self, session_token: _Optional[str] = ..., session_jwt: _Optional[str] = ...) -> None: ...

class AuthenticateSessionResponse(_message.Message):
    __slots__ = ("session", "session_jwt", "member", "session_jwt_issued_at")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    SESSION_JWT_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    SESSION_JWT_ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    session: _session_pb2.Session
    session_jwt: str
    member: _member_pb2.Member
    session_jwt_issued_at: _timestamp_pb2.Timestamp
    def __init__(self, session: _Optional[_Union[_session_pb2.Session, _Mapping]] = ..., session_jwt: _Optional[str] = ..., member: _Optional[_Union[_member_pb2.Member, _Mapping]] = ..., session_jwt_issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RevokeSessionsRequest(_message.Message):
    __slots__ = ("organization_id", "session_id", "member_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    session_id: str
    member_id: str
    def __init__(self, organization_id: _Optional[str] = ..., session_id: _Optional[str] = ..., member_id: _Optional[str] = ...) -> None: ...

class RevokeSessionsResponse(_message.Message):
    __slots__ = ("revoked_session_ids",)
    REVOKED_SESSION_IDS_FIELD_NUMBER: _ClassVar[int]
    revoked_session_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, revoked_session_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetJwksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetJwksResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[_session_pb2.Jwk]
    def __init__(self, keys: _Optional[_Iterable[_Union[_session_pb2.Jwk, _Mapping]]] = ...) -> None: ...

class RotateSigningKeyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RotateSigningKeyResponse(_message.Message):
    __slots__ = ("signing_key",)
    SIGNING_KEY_FIELD_NUMBER: _ClassVar[int]
    signing_key: _session_pb2.Jwk
    def __init__(self, signing_key: _Optional[_Union[_session_pb2.Jwk, _Mapping]] = ...) -> None: ...
