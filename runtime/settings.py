"""Every setting of every scimd process, read once from the environment.

Processes receive a frozen Settings object and pass it down; nothing reads
os.environ anywhere else.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping


@dataclass(frozen=True)
class ServiceAddresses:
    """Where each gRPC service listens (host:port)."""

    connections: str = "127.0.0.1:50051"
    directory: str = "127.0.0.1:50052"
    rbac: str = "127.0.0.1:50053"
    webhooks: str = "127.0.0.1:50054"

    def of(self, service: str) -> str:
        return getattr(self, service)


@dataclass(frozen=True)
class Settings:
    project_id: str = ""
    project_secret: str = ""
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    # A connection that sends no complete request for this long is closed (slow headers too).
    http_idle_timeout: float = 15.0
    # A request body must arrive within this long.
    http_body_timeout: float = 30.0
    # Connections a gateway holds at once; more are answered 503 and closed.
    http_max_connections: int = 2000
    public_url: str = "http://localhost:8080"
    data_dir: Path = Path(".scimd-data")
    database_url: str = ""
    nats_url: str = ""
    # Prefix of the JetStream stream, subjects and consumers, so that several
    # systems (or test runs) can share one NATS server.
    nats_prefix: str = "scimd"
    services: ServiceAddresses = field(default_factory=ServiceAddresses)
    # The address this gRPC service binds; empty means its entry in `services`.
    grpc_listen: str = ""
    log_level: str = "INFO"
    # "json": one JSON object per line; "text": short lines for a person.
    log_format: str = "json"
    # Key that encrypts webhook signing secrets at rest (base64, 32 bytes).
    encryption_key: str = ""
    bearer_token_ttl_days: int = 365
    # Seconds a stopping process gives in-flight requests to finish.
    shutdown_grace: float = 5.0
    webhook_timeout: float = 15.0
    # How long the gateway may reuse a bearer token's authentication.
    token_cache_seconds: float = 10.0
    # Above this many members, a group PATCH answers 204 instead of the group.
    group_response_member_limit: int = 1000
    # SCIM requests per second per connection and gateway, unless the
    # connection sets its own; 0 or less disables the limit.
    rate_limit_per_second: float = 200.0
    # SCIM requests of one connection in flight at once on each gateway; more get 429 (0: no bound).
    connection_concurrency: int = 16
    # Back-pressure: when webhook delivery falls this many seconds behind, the
    # gateway slows SCIM writes until it catches up (gateway/write_pressure.py); 0 disables.
    write_backpressure_lag_seconds: float = 0.25
    # Days a deleted member's personal data (names, emails, SCIM attributes) is kept.
    deleted_member_retention_days: float = 30.0
    # What the request log keeps of each SCIM request: "full" (with its redacted
    # body), "metadata" (no body) or "off" (nothing; tokens' last use is still kept).
    request_log: str = "full"
    # Days the request log keeps each connection's SCIM requests (with their redacted bodies).
    request_log_retention_days: float = 7.0
    # Attributes the request log redacts besides passwords (SCIM names, any case; an
    # extension's attribute by its name or its full URN path).
    request_log_redact: tuple[str, ...] = ()
    # The project's default mass-deprovision guard (README "Mass-deprovision guard"):
    # off while both limits are 0; a connection may set its own.
    deprovision_guard_percent: int = 0
    deprovision_guard_count: int = 0
    deprovision_guard_window_minutes: int = 60
    deprovision_guard_auto_apply_minutes: int = 0
    # Lifetime of a session JWT: how late a role change may reach a session.
    session_jwt_seconds: int = 300
    # Port of a process's /metrics (0: none), and the address it listens on:
    # loopback unless said otherwise, as metrics need no credentials.
    metrics_port: int = 0
    metrics_listen: str = "127.0.0.1"
    # "apply": a service brings its schema up to date as it starts; "check": it
    # refuses to start on an older schema (run `scimd migrate` first, e.g. as a Job).
    migrate: str = "apply"
    # Replicas of the JetStream stream (3 on a three-node NATS cluster).
    nats_replicas: int = 1
    # Under `scimd up`: the supervisor's endpoint, whose process states the gateway's /readyz includes.
    supervisor_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        http_port = number_setting(env, "SCIMD_HTTP_PORT", "8080", int)
        defaults = ServiceAddresses()
        return cls(
            project_id=env.get("SCIMD_PROJECT_ID", ""),
            project_secret=env.get("SCIMD_PROJECT_SECRET", ""),
            http_host=env.get("SCIMD_HTTP_HOST", "0.0.0.0"),
            http_port=http_port,
            http_idle_timeout=number_setting(env, "SCIMD_HTTP_IDLE_TIMEOUT", "15", float),
            http_body_timeout=number_setting(env, "SCIMD_HTTP_BODY_TIMEOUT", "30", float),
            http_max_connections=number_setting(env, "SCIMD_HTTP_MAX_CONNECTIONS", "2000", int),
            public_url=env.get("SCIMD_PUBLIC_URL", f"http://localhost:{http_port}").rstrip("/"),
            data_dir=Path(env.get("SCIMD_DATA_DIR", ".scimd-data")),
            database_url=env.get("DATABASE_URL", ""),
            nats_url=env.get("NATS_URL", ""),
            nats_prefix=env.get("SCIMD_NATS_PREFIX", "scimd"),
            services=ServiceAddresses(
                connections=env.get("SCIMD_CONNECTIONS_ADDR", defaults.connections),
                directory=env.get("SCIMD_DIRECTORY_ADDR", defaults.directory),
                rbac=env.get("SCIMD_RBAC_ADDR", defaults.rbac),
                webhooks=env.get("SCIMD_WEBHOOKS_ADDR", defaults.webhooks),
            ),
            grpc_listen=env.get("SCIMD_GRPC_LISTEN", ""),
            log_level=env.get("SCIMD_LOG_LEVEL", "INFO").upper(),
            log_format=_choice(env, "SCIMD_LOG_FORMAT", ("text", "json") if _stderr_is_terminal() else ("json", "text")),
            encryption_key=env.get("SCIMD_ENCRYPTION_KEY", ""),
            bearer_token_ttl_days=number_setting(env, "SCIMD_BEARER_TOKEN_TTL_DAYS", "365", int),
            shutdown_grace=number_setting(env, "SCIMD_SHUTDOWN_GRACE", "5", float),
            webhook_timeout=number_setting(env, "SCIMD_WEBHOOK_TIMEOUT", "15", float),
            token_cache_seconds=number_setting(env, "SCIMD_TOKEN_CACHE_SECONDS", "10", float),
            group_response_member_limit=number_setting(env, "SCIMD_GROUP_RESPONSE_MEMBER_LIMIT", "1000", int),
            rate_limit_per_second=number_setting(env, "SCIMD_RATE_LIMIT_PER_SECOND", "200", float),
            connection_concurrency=number_setting(env, "SCIMD_CONNECTION_CONCURRENCY", "16", int),
            write_backpressure_lag_seconds=number_setting(env, "SCIMD_WRITE_BACKPRESSURE_LAG_SECONDS", "0.25", float),
            session_jwt_seconds=number_setting(env, "SCIMD_SESSION_JWT_SECONDS", "300", int),
            deleted_member_retention_days=number_setting(env, "SCIMD_DELETED_MEMBER_RETENTION_DAYS", "30", float),
            request_log=_choice(env, "SCIMD_REQUEST_LOG", ("full", "metadata", "off")),
            request_log_retention_days=number_setting(env, "SCIMD_REQUEST_LOG_RETENTION_DAYS", "7", float),
            request_log_redact=tuple(
                name.strip() for name in env.get("SCIMD_REQUEST_LOG_REDACT", "").split(",") if name.strip()),
            deprovision_guard_percent=number_setting(env, "SCIMD_DEPROVISION_GUARD_PERCENT", "0", int),
            deprovision_guard_count=number_setting(env, "SCIMD_DEPROVISION_GUARD_COUNT", "0", int),
            deprovision_guard_window_minutes=number_setting(env, "SCIMD_DEPROVISION_GUARD_WINDOW_MINUTES", "60", int),
            deprovision_guard_auto_apply_minutes=number_setting(
                env, "SCIMD_DEPROVISION_GUARD_AUTO_APPLY_MINUTES", "0", int),
            metrics_port=number_setting(env, "SCIMD_METRICS_PORT", "0", int),
            metrics_listen=env.get("SCIMD_METRICS_LISTEN", "127.0.0.1"),
            migrate=_choice(env, "SCIMD_MIGRATE", ("apply", "check")),
            nats_replicas=number_setting(env, "SCIMD_NATS_REPLICAS", "1", int),
            supervisor_url=env.get("SCIMD_SUPERVISOR_URL", "").rstrip("/"),
        )

    def listen_address(self, service: str) -> str:
        return self.grpc_listen or self.services.of(service)


# The exit status of a process whose settings are wrong (sysexits.h EX_CONFIG):
# the supervisor stops rather than restart it.
EXIT_BAD_SETTINGS = 78


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


@contextlib.contextmanager
def exit_on_bad_settings() -> Iterator[None]:
    """Turns a SettingsError (read now or while the process starts) into one
    line on stderr and exit status EXIT_BAD_SETTINGS, instead of a traceback."""
    try:
        yield
    except SettingsError as error:
        print(f"scimd: bad settings: {error}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_BAD_SETTINGS) from None


def settings_or_exit(env: Mapping[str, str] | None = None) -> Settings:
    """The settings, or one line saying which is wrong and exit EXIT_BAD_SETTINGS."""
    with exit_on_bad_settings():
        return Settings.from_env(env)


def number_setting(env: Mapping[str, str], name: str, default: str | float, kind: type[int] | type[float]) -> int | float:
    value = env.get(name, str(default))
    try:
        return kind(value)
    except ValueError:
        raise SettingsError(f"{name} must be {'an integer' if kind is int else 'a number'}, not {value!r}") from None



def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, allowed[0]).strip().lower()
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value
