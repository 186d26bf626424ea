"""CPU time and memory of each process of a running `scimd up`, read from
/proc: the supervisor's children by name (its /status gives their pids), each
with all its descendants, live or already reaped (a PostgreSQL backend that
exited is counted in the postmaster's cutime/cstime). Memory is the
proportional set size (PSS), so pages PostgreSQL's backends share are counted
once, not once per backend."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return [str(pid), "comm", *text[text.rindex(")") + 2:].split()]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                tree.setdefault(int(fields[3]), []).append(int(entry))
    return tree


def _own_seconds(pid: int, *, with_reaped: bool) -> float:
    fields = _stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[13]) + int(fields[14])  # utime, stime
    if with_reaped:
        ticks += int(fields[15]) + int(fields[16])  # cutime, cstime: children it waited for
    return ticks / _TICKS


class SystemCpu:
    """CPU seconds so far of each named process tree."""

    def __init__(self, roots: dict[str, int], apart: set[int] = frozenset()):
        self.roots = roots
        self._apart = apart  # descendants counted under a name of their own

    @classmethod
    async def of_supervisor(cls, supervisor_url: str) -> "SystemCpu":
        async with aiohttp.ClientSession() as http, http.get(f"{supervisor_url}/status") as response:
            status = await response.json()
        roots = {name: p["pid"] for name, p in status["processes"].items() if "pid" in p}
        # The supervisor itself relays every line its children log; its children are counted apart.
        return cls({**roots, "supervisor": status["pid"]}, apart=set(roots.values()))

    def _pids(self, tree: dict[int, list[int]], root: int) -> list[int]:
        """`root` and its descendants, but not those counted under a name of their own."""
        pids, stack = [root], [pid for pid in tree.get(root, []) if pid not in self._apart]
        while stack:
            pid = stack.pop()
            pids.append(pid)
            stack.extend(tree.get(pid, []))
        return pids

    def memory_bytes(self) -> int:
        """The PSS of every process of the system together, now."""
        tree = _children()
        return sum(_pss_bytes(pid) for root in self.roots.values() for pid in self._pids(tree, root))

    def snapshot(self) -> dict[str, float]:
        tree = _children()
        seconds = {}
        for name, root in self.roots.items():
            # The supervisor's reaped children are processes it restarted: not its own work.
            descendants = self._pids(tree, root)[1:]
            seconds[name] = (_own_seconds(root, with_reaped=name != "supervisor")
                             + sum(_own_seconds(pid, with_reaped=True) for pid in descendants))
        return seconds


def _pss_bytes(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after.get(name, 0.0) - before.get(name, 0.0) for name in before}
