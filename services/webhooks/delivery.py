"""Sends pending deliveries, signed per the Standard Webhooks specification,
and schedules retries of the failed ones.

- 2xx is success; anything else (3xx too: redirects are not followed),
  a timeout or a refused connection is a failure. At most a few KiB of a
  response body are read.
- A failure is retried on the schedule (immediately, then 5 s, 5 min, 30 min,
  2 h, 5 h, 10 h, 10 h, each ±10%), or when a 429/503 says (Retry-After, in
  seconds or as an HTTP date). 410 Gone disables the endpoint at once; so
  does failing without a success for five days. Either raises
  webhook_endpoint.disabled.
- After a failure the endpoint rests until that delivery's retry is due (at
  most ENDPOINT_REST_SECONDS) before any of its deliveries is tried again.
- Deliveries of one resource to one endpoint go in the order their events
  arrived; everything else goes in parallel, and no endpoint holds more than
  its share of the concurrent requests, so a slow one delays only itself.

Scheduling reads the injected clock, never the database's, so tests move
time instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Callable

import aiohttp
import asyncpg
from aiohttp.abc import AbstractResolver
from scimd.events.v1 import event_pb2
from standardwebhooks import Webhook

from runtime.context import request_id_var
from runtime.event_catalog import ENDPOINT_DISABLED
from runtime.ids import new_id
from runtime.metrics import WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS_DISABLED, WEBHOOK_LATENCY
from runtime.outbox import QueuedEvent
from runtime.sealing import SecretBox
from runtime.ssrf import (
    ForbiddenAddress,
    GuardedResolver,
    UnusableURL,
    check_host,
    connect_host,
    guarded_socket_factory,
)
from services.webhooks import repository
from services.webhooks.config import RETRY_SCHEDULE, WebhookConfig
from services.webhooks.payload import received_event
from services.webhooks.rows import endpoint_from_row
from services.webhooks.success_recorder import SuccessRecorder

log = logging.getLogger(__name__)
# Attempt outcomes as the metrics name them: a failure that will be retried is a retry.
_METRIC_OUTCOMES = {"succeeded": "success", "retrying": "retry", "failed": "failure"}

Clock = Callable[[], datetime]
IDLE_POLL_SECONDS = 1.0
# After a failed attempt an endpoint rests until that delivery's retry is due,
# at most this long, before any of its deliveries is tried again: a dead
# endpoint with a backlog costs one attempt every few seconds, not one per claim.
ENDPOINT_REST_SECONDS = 5.0
USER_AGENT = "scimd-webhooks/1"

__all__ = ["RETRY_SCHEDULE", "DeliveryWorker", "retry_after_seconds", "retry_delay", "signed_headers"]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def retry_delay(attempts_made: int, schedule: tuple[float, ...] = RETRY_SCHEDULE, jitter: float = 0.1,
                rng: random.Random | None = None) -> float | None:
    """Seconds until the next attempt after `attempts_made` attempts (± `jitter`), or None."""
    if attempts_made - 1 >= len(schedule):
        return None
    base = schedule[attempts_made - 1]
    return base * (rng or random).uniform(1 - jitter, 1 + jitter)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (RFC 9110 §10.2.3: delay-seconds or an HTTP date) as seconds from `now`."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def signed_headers(signers: list[Webhook], event_id: str, body: str, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers; one signature per signer (an endpoint's
    secret), space-separated (during a rotation: the new secret's, then the old one's)."""
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signer.sign(event_id, now, body) for signer in signers),
    }


# Signers kept per sealed secret: opening a secret and decoding its key once per
# endpoint, not once per delivery. Bounded; a rotated-out secret's entry just ages out.
SIGNER_CACHE_SIZE = 4096


class DeliveryWorker:
    def __init__(self, pool: asyncpg.Pool, box: SecretBox, timeout: float, config: WebhookConfig | None = None,
                 *, clock: Clock = utc_now, rng: random.Random | None = None, project_id: str = "",
                 resolver: AbstractResolver | None = None,
                 queue_event: Callable[[event_pb2.Event], QueuedEvent] | None = None):
        """`resolver` answers the DNS questions the SSRF guard checks (tests give a scripted one);
        `queue_event` queues the events the worker raises for NATS (none are published without it)."""
        self._pool = pool
        self._box = box
        self._timeout = timeout
        self._config = config or WebhookConfig()
        self._clock = clock
        self._rng = rng or random.Random()
        self._project_id = project_id
        self._resolver = resolver
        self._queue_event = queue_event
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None
        self._sending: set[asyncio.Task] = set()
        self._per_endpoint: dict[str, int] = {}
        self._resting: dict[str, datetime] = {}  # endpoint → until when it is not tried
        self._successes = SuccessRecorder(pool)
        self._signers: dict[bytes, Webhook] = {}
        self._reserved = 0  # slots offered to a store of events that has not answered yet
        # Whether a claim may find something: a finished send wakes the claimer
        # only then, not after every delivery the intake leased itself.
        self._maybe_due = True

    @property
    def lease_seconds(self) -> float:
        return self._timeout + self._config.lease_margin_seconds

    def wake(self) -> None:
        """Deliveries may be due (stored, replayed, an endpoint enabled): claim them."""
        self._maybe_due = True
        self._wakeup.set()

    def offer_leases(self) -> repository.LeaseOffer:
        """The slots a store of events may fill by leasing the deliveries it
        stores (repository.store_events), reserved until `take_leased`."""
        running = self._task is not None and not self._task.done() and not self._stopping.is_set()
        slots = max(0, self._config.max_in_flight - len(self._sending) - self._reserved) if running else 0
        self._reserved += slots
        return repository.LeaseOffer(slots, self.lease_seconds, self._config.endpoint_concurrency,
                                     dict(self._per_endpoint), tuple(self._busy_endpoints()))

    def take_leased(self, offer: repository.LeaseOffer, stored: repository.StoredEvents | None) -> None:
        """Sends what the store leased under `offer` (None: it failed) and
        gives back the rest of the offer; a claim takes what it did not lease."""
        self._reserved -= offer.slots
        if stored is None or self._stopping.is_set():
            return  # stopping: what it leased is sent again once the lease ends, as what was in flight
        for row in stored.leased:
            self._spawn(row)
        if stored.waiting:
            self.wake()

    async def open(self) -> None:
        """The HTTP client, which connects only to addresses the SSRF guard passed."""
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(self._config.allowed, self._resolver), limit=self._config.max_in_flight, limit_per_host=0,
            socket_factory=guarded_socket_factory(self._config.allowed),
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self._timeout), trust_env=False,
            auto_decompress=False,
        )

    async def start(self) -> None:
        if self._session is None:
            await self.open()
        self._task = asyncio.create_task(self._run(), name="webhooks-delivery")

    async def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # What is in flight is not recorded; its lease expires and it is sent again (at least once).
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        await self._successes.drain()
        if self._session is not None:
            await self._session.close()

    async def deliver_due(self) -> int:
        """Claims every due delivery and sends it, until none is due; returns
        how many attempts were made. For tests, which move the clock between calls."""
        made = 0
        while True:
            rows = await self._claim(self._config.max_in_flight, self._busy_endpoints())
            if not rows:
                return made
            await asyncio.gather(*(self._send(row) for row in rows))
            made += len(rows)

    def _busy_endpoints(self) -> list[str]:
        """Endpoints that take no delivery now: at their share of the slots, or resting after a failure."""
        busy = [e for e, n in self._per_endpoint.items() if n >= self._config.endpoint_concurrency]
        now = self._clock()
        for endpoint_id, until in list(self._resting.items()):
            if until > now:
                busy.append(endpoint_id)
            else:
                del self._resting[endpoint_id]
        return busy

    async def _claim(self, limit: int, busy: list[str]) -> list[asyncpg.Record]:
        return await repository.claim_due_deliveries(
            self._pool, self._clock(), limit, self.lease_seconds, busy, self._config.endpoint_concurrency,
        )

    async def _run(self) -> None:
        while not self._stopping.is_set():
            rows, busy = [], self._busy_endpoints()
            free = self._config.max_in_flight - len(self._sending) - self._reserved
            if free > 0:
                self._maybe_due = False  # a store, a failure or a replay sets it again meanwhile
                try:
                    rows = await self._claim(free, busy)
                except Exception as error:
                    log.warning("webhooks delivery: cannot claim deliveries", extra={"error": repr(error)})
            # Not all may have been taken: no slot was free, or an endpoint was
            # left out (busy or resting) or given only its share.
            self._maybe_due = self._maybe_due or bool(rows) or bool(busy) or free <= 0
            for row in rows:
                self._spawn(row)
            if rows and len(rows) == free:
                continue  # more may be due
            # Otherwise nothing more is due now: the next claim waits for a
            # finished send, a stored event, or the idle poll.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), IDLE_POLL_SECONDS)
            self._wakeup.clear()

    def _spawn(self, row: asyncpg.Record) -> None:
        endpoint_id = row["endpoint_id"]
        self._per_endpoint[endpoint_id] = self._per_endpoint.get(endpoint_id, 0) + 1
        task = asyncio.create_task(self._send(row))
        self._sending.add(task)

        def done(finished: asyncio.Task) -> None:
            self._sending.discard(finished)
            left = self._per_endpoint.get(endpoint_id, 1) - 1
            if left:
                self._per_endpoint[endpoint_id] = left
            else:
                self._per_endpoint.pop(endpoint_id, None)
            if self._maybe_due:
                self._wakeup.set()  # a slot is free for what may be due

        task.add_done_callback(done)

    def _signers_of(self, row: asyncpg.Record, now: datetime) -> list[Webhook]:
        sealed = [row["secret_sealed"]]
        expires = row["previous_secret_expires_at"]
        if row["previous_secret_sealed"] is not None and expires is not None and expires > now:
            sealed.append(row["previous_secret_sealed"])
        return [self._signer(s) for s in sealed]

    def _signer(self, sealed: bytes) -> Webhook:
        signer = self._signers.get(sealed)
        if signer is None:
            if len(self._signers) >= SIGNER_CACHE_SIZE:
                self._signers.clear()
            signer = self._signers[sealed] = Webhook(self._box.open(sealed))
        return signer

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        limit, chunks, size = self._config.response_read_limit, [], 0
        while size < limit:
            chunk = await response.content.read(limit - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    async def _send(self, row: asyncpg.Record) -> None:
        event_id, endpoint_id = row["event_id"], row["endpoint_id"]
        request_id_var.set(row["request_id"])  # each send runs in its own task, so this stays local
        now = self._clock()
        status_code: int | None = None
        snippet, error, retry_after = "", "", None
        started = time.monotonic()
        try:
            check_host(connect_host(row["url"]), self._config.allowed)  # IP literals skip the resolver
            headers = signed_headers(self._signers_of(row, now), event_id, row["body"], now)
            async with self._session.post(
                row["url"], data=row["body"].encode(), headers=headers, allow_redirects=False
            ) as response:
                status_code = response.status
                if status_code in (429, 503):
                    retry_after = retry_after_seconds(response.headers.get("Retry-After"), now)
                snippet = (await self._read_capped(response)).decode(errors="replace")
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except ForbiddenAddress as exc:
            error = f"refused by the SSRF guard: {exc}"
        except UnusableURL as exc:
            error = str(exc)
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, ForbiddenAddress):  # the resolver refused every address
                error = f"refused by the SSRF guard: {exc.os_error}"
            else:
                error = f"{type(exc).__name__}: {exc}"
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # e.g. a secret that no longer opens: logged as the attempt's error
            error = f"{type(exc).__name__}: {exc}"
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        record = self._outcome(row, now, status_code, error, retry_after, snippet, latency_ms)
        self._rest(endpoint_id, now, record)
        try:
            if record.outcome == "succeeded":
                if await self._successes.record(record):
                    self.wake()  # the resource's next delivery, or a healed endpoint's backlog
                disabled = ""
            else:
                disabled = await repository.record_attempt(
                    self._pool, record, timedelta(seconds=self._config.disable_after_seconds), self._disabled_event,
                )
                self._maybe_due = True  # its retry may be due at once
        except Exception as exc:
            # The lease expires and the delivery is retried; at-least-once.
            log.warning("webhooks delivery: cannot record result", extra={"error": repr(exc)})
            return
        WEBHOOK_LATENCY.observe(latency_ms / 1000)
        WEBHOOK_DELIVERIES.labels(_METRIC_OUTCOMES.get(record.outcome, record.outcome)).inc()
        if disabled:
            WEBHOOK_ENDPOINTS_DISABLED.labels(disabled).inc()
        if record.outcome == "succeeded":
            # Debug level: a line per delivery flooded the logs at full load (attempts are in the delivery log).
            log.debug("webhook delivered", extra={"event_id": event_id, "endpoint_id": endpoint_id,
                                                  "latency_ms": latency_ms})
        else:
            log.warning(
                "webhook delivery failed",
                extra={"event_id": event_id, "endpoint_id": endpoint_id, "status_code": status_code,
                       "outcome": record.outcome, "error": error[:200]},
            )
        if disabled:
            log.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint_id, "reason": disabled})
            self.wake()  # its disabled event may have deliveries

    def _rest(self, endpoint_id: str, now: datetime, record: repository.AttemptRecord) -> None:
        if record.outcome == "succeeded":
            self._resting.pop(endpoint_id, None)
        elif record.next_attempt_at is not None:
            until = min(record.next_attempt_at, now + timedelta(seconds=ENDPOINT_REST_SECONDS))
            if until > now:
                self._resting[endpoint_id] = max(until, self._resting.get(endpoint_id, until))

    def _outcome(self, row: asyncpg.Record, now: datetime, status_code: int | None, error: str,
                 retry_after: float | None, snippet: str, latency_ms: float) -> repository.AttemptRecord:
        next_attempt_at, disable_reason = None, ""
        if not error:
            outcome = "succeeded"
        elif status_code == 410:
            outcome, disable_reason = "failed", "gone"
        else:
            delay = retry_delay(row["attempts"], self._config.retry_schedule, self._config.jitter, self._rng)
            if delay is not None and retry_after is not None:
                delay = min(retry_after, self._config.max_retry_after_seconds)
            outcome = "failed" if delay is None else "retrying"
            if delay is not None:
                next_attempt_at = now + timedelta(seconds=delay)
        return repository.AttemptRecord(
            event_id=row["event_id"], endpoint_id=row["endpoint_id"], claimed_attempts=row["attempts"],
            lease_until=row["lease_until"], attempted_at=now, status_code=status_code, latency_ms=latency_ms,
            response_snippet=snippet[: self._config.response_snippet_limit], error=error, outcome=outcome,
            next_attempt_at=next_attempt_at, disable_reason=disable_reason,
        )

    def _disabled_event(self, endpoint: asyncpg.Record, reason: str, now: datetime) -> repository.OwnEvent:
        event = event_pb2.Event(
            event_id=new_id("event"), type=ENDPOINT_DISABLED, project_id=self._project_id,
            action="UPDATE", source="API",
            endpoint_disabled=event_pb2.EndpointDisabled(endpoint=endpoint_from_row(endpoint), reason=reason),
        )
        event.time.FromDatetime(now)
        return repository.OwnEvent(
            stored=received_event(event, public_url=""),
            queued=self._queue_event(event) if self._queue_event else None,
        )
