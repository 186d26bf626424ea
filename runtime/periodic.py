"""A background task that runs a coroutine function every few seconds until
the service stops; a failed run is logged and the next one comes anyway."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Awaitable, Callable

log = logging.getLogger(__name__)


async def run_periodically(stack: contextlib.AsyncExitStack, name: str, interval: float,
                           work: Callable[[], Awaitable[None]]) -> None:
    async def loop() -> None:
        while True:
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(f"{name}: failed; will run again", extra={"error": repr(error)})
            await asyncio.sleep(interval)  # the period itself, not a wait for a result

    task = asyncio.create_task(loop(), name=name)

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)
