"""Event loop selection: uvloop where available, the standard loop elsewhere."""

from __future__ import annotations

import asyncio
from typing import Any, Coroutine


def run_event_loop(main: Coroutine[Any, Any, Any]) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(main)
    return uvloop.run(main)
