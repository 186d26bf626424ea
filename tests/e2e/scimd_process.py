"""`scimd up` as a real process tree, as a user runs it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

BANNER_END = "Stop with Ctrl-C."


def scimd_environment(http_port: int, data_dir: Path, **extra: str) -> dict[str, str]:
    """This environment without scimd's own settings, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMD_") and k not in ("DATABASE_URL", "NATS_URL")}
    env.update(SCIMD_HTTP_PORT=str(http_port), SCIMD_DATA_DIR=str(data_dir), **extra)
    return env


def _children_of(pid: int) -> set[int]:
    """Every descendant of `pid`, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


class ScimdProcess:
    def __init__(self, env: dict[str, str], log_path: Path):
        self.env = env
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None
        self.banner = ""

    async def start(self, timeout: float = 180) -> "ScimdProcess":
        log = open(self.log_path, "ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cli", "up",
            cwd=REPO_ROOT, env=self.env, stdout=asyncio.subprocess.PIPE, stderr=log, stdin=asyncio.subprocess.DEVNULL,
        )
        log.close()
        lines = []

        async def read_banner() -> None:
            while True:
                line = await self.process.stdout.readline()
                if not line:
                    raise RuntimeError("scimd exited before it was ready:\n" + self.log_path.read_text()[-4000:])
                lines.append(line.decode())
                if BANNER_END in lines[-1]:
                    return

        await asyncio.wait_for(read_banner(), timeout)
        self.banner = "".join(lines)
        return self

    def field(self, label: str) -> str:
        match = re.search(rf"^\s*{re.escape(label)}\s+(\S+)", self.banner, re.MULTILINE)
        assert match, f"{label!r} not in banner:\n{self.banner}"
        return match.group(1)

    def descendants(self) -> set[int]:
        return _children_of(self.process.pid)

    async def stop(self, timeout: float) -> int:
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
