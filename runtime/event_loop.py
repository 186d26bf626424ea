"""Event loop selection (uvloop where available, the standard loop elsewhere),
and the interpreter settings every scimd process runs with."""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Coroutine

# How long a thread may hold the GIL while another waits for it (CPython's
# default is 5 ms). A process's event loop serves every tenant; when a thread
# computes for one tenant (a large PATCH), the loop waits this long for each
# of its turns, so every other tenant's request pays it several times over.
GIL_SWITCH_SECONDS = 0.0005


def run_event_loop(main: Coroutine[Any, Any, Any]) -> Any:
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(main)
    return uvloop.run(main)
