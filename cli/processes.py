"""Child processes that die with their parent and stop on request."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

# If the supervisor is killed outright, the kernel stops its children too
# (PR_SET_PDEATHSIG, kept across exec). It is set by a small interpreter that
# then execs the child, not by a preexec_fn: Python code run between fork and
# exec in a process with threads (gRPC's) can deadlock or crash the child.
# The interpreter also drops privileges when asked (embedded PostgreSQL under
# root): before arming the signal, which a change of user would clear, and
# itself, since the unprivileged user may not be able to read this Python.
_DIE_WITH_PARENT = """
import ctypes, os, signal, sys
parent, uid, gid = (int(arg) for arg in sys.argv[1:4])
try:
    prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except OSError:  # not glibc: the children just do not die with us
    prctl = None
if gid >= 0:
    os.setgroups([])
    os.setgid(gid)
if uid >= 0:
    os.setuid(uid)
if prctl is not None:
    prctl(1, signal.SIGKILL)
if os.getppid() != parent:  # the parent died before the signal was armed
    sys.exit(1)
os.execvp(sys.argv[4], sys.argv[4:])
"""


def _dying_with_parent(argv: list[str], popen: dict[str, Any]) -> list[str]:
    """The command that runs `argv` armed to die with us, taking Popen's user and group over."""
    uid, gid = popen.pop("user", None), popen.pop("group", None)
    popen.pop("extra_groups", None)  # the interpreter drops every supplementary group when it changes user
    return [sys.executable, "-S", "-c", _DIE_WITH_PARENT, str(os.getpid()),
            str(-1 if uid is None else uid), str(-1 if gid is None else gid), *argv]


def _ephemeral_ports() -> range:
    try:
        low, high = (int(n) for n in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


# Ports this process handed out recently: a port chosen for one server and
# not yet bound is still free, and must not be chosen again for another.
_handed_out: collections.deque[int] = collections.deque(maxlen=2048)


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free now, outside the kernel's ephemeral range (an
    outgoing connection could otherwise take it before its server binds), and
    not one this process handed out recently (chosen, maybe not bound yet)."""
    ephemeral = _ephemeral_ports()
    for _ in range(500):
        port = random.randint(10_000, 65_000)
        if port not in ephemeral and port not in _handed_out and port_is_free(host, port):
            _handed_out.append(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class StartFailed(RuntimeError):
    """A process exited while starting, or did not become ready in time."""


class OutputTail:
    """The last lines a child wrote, for saying why it died."""

    def __init__(self, lines: int = 20):
        self._lines: collections.deque[str] = collections.deque(maxlen=lines)

    def add(self, line: str) -> None:
        self._lines.append(line)

    def lines(self) -> list[str]:
        return list(self._lines)


# Each line a child writes (without its newline), as the supervisor shows or stores it.
LineSink = Callable[[str, str], None]  # (process name, line)


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    stop_signal: int = signal.SIGTERM
    started_at: float = field(default_factory=time.monotonic)
    tail: OutputTail = field(default_factory=OutputTail)
    _pump: asyncio.Task | None = None

    @classmethod
    def spawn(cls, name: str, argv: list[str], *, stop_signal: int = signal.SIGTERM,
              output: LineSink | None = None, **popen: Any) -> "Child":
        """Starts `argv`. With `output`, its stdout and stderr are read line by
        line, handed to `output` and kept in `tail` (call from a running loop)."""
        if output is not None:
            popen.update(stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        process = subprocess.Popen(
            _dying_with_parent(argv, popen),
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a terminal's Ctrl-C reaches only the supervisor, which stops us in order
            **popen,
        )
        child = cls(name, process, stop_signal)
        if output is not None:
            child._pump = asyncio.create_task(child._read_output(output), name=f"{name}-output")
        return child

    async def _read_output(self, output: LineSink) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 20)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), self.process.stdout)
        try:
            while True:
                try:
                    raw = await reader.readline()
                except ValueError:  # a line longer than the limit: what was read so far
                    raw = await reader.read(1 << 20)
                if not raw:
                    return
                line = raw.decode(errors="replace").rstrip("\r\n")
                self.tail.add(line)
                output(self.name, line)
        finally:
            transport.close()

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait_exit(self) -> int:
        while self.process.poll() is None:
            await asyncio.sleep(0.05)  # polling a child's exit; no result is asserted after it
        if self._pump is not None:
            # Its last words (a traceback, say) are read before anyone asks why it exited.
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._pump), 1.0)
        return self.process.returncode

    async def stop(self, timeout: float) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(self.stop_signal)
            try:
                await asyncio.wait_for(self.wait_exit(), timeout)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
        await self.wait_exit()
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump


def describe_exit(status: int) -> str:
    """An exit status as a person says it: "exit status 1", "killed by SIGKILL"."""
    if status < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-status).name}"
        return f"killed by signal {-status}"
    return f"exit status {status}"
