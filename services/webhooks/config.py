"""The webhooks service's own settings, read once from the environment.

They belong in runtime.settings.Settings; until they are there, this
is the one place the webhooks service reads them.

    SCIMD_WEBHOOK_ALLOWED_HOSTS      comma-separated host names and IP networks
                                     that the SSRF guard lets through (e.g.
                                     "127.0.0.1/32,::1/128,hooks.internal")
    SCIMD_WEBHOOK_RETRY_SCHEDULE     seconds before each retry after the
                                     immediate first attempt, comma-separated
    SCIMD_WEBHOOK_DISABLE_AFTER_SECONDS  an endpoint failing this long, with no
                                     success in between, is disabled (5 days)
    SCIMD_WEBHOOK_LEASE_MARGIN_SECONDS   a claimed delivery is retried by
                                     another worker after timeout + this
    SCIMD_WEBHOOK_ENDPOINT_CONCURRENCY   requests in flight to one endpoint
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from runtime.settings import SettingsError, number_setting
from runtime.ssrf import AllowList

# Seconds to wait before each retry after the first, immediate attempt.
RETRY_SCHEDULE: tuple[float, ...] = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
DISABLE_AFTER_SECONDS = 5 * 24 * 3600
# Unless SCIMD_WEBHOOK_ALLOWED_HOSTS says otherwise, no internal address is
# reachable. (`scimd up`, a local tool, allows loopback for local receivers.)
UNSET_ALLOWED_HOSTS = ""


@dataclass(frozen=True)
class WebhookConfig:
    allowed: AllowList = AllowList()
    retry_schedule: tuple[float, ...] = RETRY_SCHEDULE
    # ±this fraction of each retry delay, so retries of many deliveries spread out.
    jitter: float = 0.1
    disable_after_seconds: float = DISABLE_AFTER_SECONDS
    lease_margin_seconds: float = 10.0
    # Concurrent requests overall, and to any one endpoint: a slow endpoint
    # holds at most its share, never the others' turns.
    max_in_flight: int = 256
    endpoint_concurrency: int = 16
    # Bytes of a response body read (the rest is never read) and kept in the log.
    response_read_limit: int = 4096
    response_snippet_limit: int = 1024
    # Longest Retry-After honoured; longer ones are cut to it.
    max_retry_after_seconds: float = 24 * 3600
    # How long a rotated-out secret still signs, unless the rotation says.
    rotation_grace_seconds: float = 24 * 3600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "WebhookConfig":
        env = os.environ if env is None else env
        schedule = env.get("SCIMD_WEBHOOK_RETRY_SCHEDULE", "")
        return cls(
            allowed=AllowList.parse(env.get("SCIMD_WEBHOOK_ALLOWED_HOSTS", UNSET_ALLOWED_HOSTS)),
            retry_schedule=_retry_schedule(schedule) if schedule else RETRY_SCHEDULE,
            disable_after_seconds=number_setting(env, "SCIMD_WEBHOOK_DISABLE_AFTER_SECONDS", DISABLE_AFTER_SECONDS, float),
            lease_margin_seconds=number_setting(env, "SCIMD_WEBHOOK_LEASE_MARGIN_SECONDS", 10, float),
            endpoint_concurrency=number_setting(env, "SCIMD_WEBHOOK_ENDPOINT_CONCURRENCY", 16, int),
        )


def _retry_schedule(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise SettingsError(f"SCIMD_WEBHOOK_RETRY_SCHEDULE must be seconds separated by commas, not {text!r}") from None
