"""Sends pending deliveries, signed per the Standard Webhooks specification,
and schedules retries of the failed ones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from datetime import datetime, timezone

import aiohttp
import asyncpg
from standardwebhooks import Webhook

from services.common.context import request_id_var
from services.common.sealing import SecretBox
from services.webhooks import repository

log = logging.getLogger(__name__)

# Seconds to wait before each retry after the first, immediate attempt.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
CLAIM_BATCH = 128
MAX_CONCURRENT_SENDS = 64
RESPONSE_READ_LIMIT = 4096
IDLE_POLL_SECONDS = 1.0


def retry_delay(attempts_made: int, schedule: tuple[float, ...] = RETRY_SCHEDULE) -> float | None:
    """Seconds until the next attempt after `attempts_made` attempts (±10% jitter), or None."""
    if attempts_made - 1 >= len(schedule):
        return None
    base = schedule[attempts_made - 1]
    return base * random.uniform(0.9, 1.1)


def signed_headers(secret: str, event_id: str, body: str, now: datetime) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "scimd-webhooks/1",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, now, body),
    }


class DeliveryWorker:
    def __init__(self, pool: asyncpg.Pool, box: SecretBox, timeout: float):
        self._pool = pool
        self._box = box
        self._timeout = timeout
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._sends = asyncio.Semaphore(MAX_CONCURRENT_SENDS)
        self._session: aiohttp.ClientSession | None = None

    def wake(self) -> None:
        self._wakeup.set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        self._task = asyncio.create_task(self._run(), name="webhooks-delivery")

    async def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                rows = await repository.claim_due_deliveries(self._pool, CLAIM_BATCH, self._timeout + 30)
            except Exception as error:
                log.warning("webhooks delivery: cannot claim deliveries", extra={"error": repr(error)})
                rows = []
            if rows:
                await asyncio.gather(*(self._send(row) for row in rows))
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), IDLE_POLL_SECONDS)
            self._wakeup.clear()

    async def _send(self, row: asyncpg.Record) -> None:
        event_id, endpoint_id = row["event_id"], row["endpoint_id"]
        request_id_var.set(row["request_id"])  # each send runs in its own task, so this stays local
        status_code: int | None = None
        async with self._sends:
            started = time.monotonic()
            try:
                headers = signed_headers(self._box.open(row["secret_sealed"]), event_id, row["body"], datetime.now(timezone.utc))
                async with self._session.post(
                    row["url"], data=row["body"].encode(), headers=headers, allow_redirects=False
                ) as response:
                    status_code = response.status
                    snippet = (await response.content.read(RESPONSE_READ_LIMIT)).decode(errors="replace")
                error = "" if 200 <= status_code < 300 else f"HTTP {status_code}: {snippet[:200]}"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        try:
            if not error:
                await repository.record_success(self._pool, event_id, endpoint_id, status_code)
                log.info("webhook delivered", extra={"event_id": event_id, "endpoint_id": endpoint_id, "latency_ms": latency_ms})
                return
            delay = retry_delay(row["attempts"])
            await repository.record_failure(self._pool, event_id, endpoint_id, status_code, error, delay)
            log.warning(
                "webhook delivery failed",
                extra={"event_id": event_id, "endpoint_id": endpoint_id, "status_code": status_code, "retry_in_s": delay},
            )
        except Exception as exc:
            # The lease expires and the delivery is retried; at-least-once.
            log.warning("webhooks delivery: cannot record result", extra={"error": repr(exc)})
