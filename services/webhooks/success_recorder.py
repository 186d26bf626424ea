"""Successful delivery attempts recorded in batches: whatever succeeded while
the previous batch was being written goes into the next one, so at full load
one statement records many deliveries, and a lone success is written at once
(no timer adds latency). Each sender waits until its own success is stored,
so an endpoint's next delivery of the resource is due only after that,
and learns whether the batch made other deliveries due."""

from __future__ import annotations

import asyncio

import asyncpg

from services.webhooks import repository


class SuccessRecorder:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool
        self._waiting: list[tuple[repository.AttemptRecord, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task | None = None

    async def record(self, attempt: repository.AttemptRecord) -> bool:
        """Returns once the attempt is stored (raises what storing it raised):
        whether its batch made other deliveries due (record_successes)."""
        stored = asyncio.get_running_loop().create_future()
        self._waiting.append((attempt, stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="webhooks-success-recorder")
        return await stored

    async def drain(self) -> None:
        """Waits for what is being written (at shutdown)."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            outcome: BaseException | None = None
            made_due = False
            try:
                made_due = await repository.record_successes(self._pool, [attempt for attempt, _ in batch])
            except Exception as error:  # each sender logs it; the lease expires and the delivery is sent again
                outcome = error
            for _, stored in batch:
                if stored.done():  # its sender was cancelled
                    continue
                if outcome is None:
                    stored.set_result(made_due)
                else:
                    stored.set_exception(outcome)
