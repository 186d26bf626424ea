"""Child processes that die with their parent and stop on request."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
from dataclasses import dataclass
from typing import Any

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If the supervisor is killed outright, the kernel stops its children too.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _ephemeral_ports() -> range:
    try:
        low, high = (int(n) for n in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free now, outside the kernel's ephemeral range: an
    outgoing connection could otherwise take it before its server binds."""
    ephemeral = _ephemeral_ports()
    for _ in range(500):
        port = random.randint(10_000, 65_000)
        if port not in ephemeral and port_is_free(host, port):
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


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    stop_signal: int = signal.SIGTERM

    @classmethod
    def spawn(cls, name: str, argv: list[str], *, stop_signal: int = signal.SIGTERM, **popen: Any) -> "Child":
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a terminal's Ctrl-C reaches only the supervisor, which stops us in order
            preexec_fn=_die_with_parent,
            **popen,
        )
        return cls(name, process, stop_signal)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    async def wait_exit(self) -> int:
        while self.process.poll() is None:
            await asyncio.sleep(0.05)  # polling a child's exit; no result is asserted after it
        return self.process.returncode

    async def stop(self, timeout: float) -> None:
        if not self.running:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(self.stop_signal)
        try:
            await asyncio.wait_for(self.wait_exit(), timeout)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            await self.wait_exit()
