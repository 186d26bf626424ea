"""Keeps every process of a single-node system running, the way a process
supervisor does: a process that dies is started again after a backoff
(restarts.py) while the others keep serving; a crash loop is said once,
plainly, with the process's last output; a process that says its settings
are wrong (EXIT_BAD_SETTINGS) stops the whole system instead.

The supervisor's view (per process: state, pid, restarts, last exit) is what
`scimd up` serves at /status for the gateway's /readyz, and the restarts are
counted in scimd_process_restarts_total{process}.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from cli.processes import Child, StartFailed, describe_exit
from cli.restarts import RestartPolicy
from runtime.logs import brief
from runtime.metrics import PROCESS_RESTARTS, PROCESS_UP
from runtime.settings import EXIT_BAD_SETTINGS

log = logging.getLogger("supervisor")

TAIL_LINES_REPORTED = 10


class Launcher(Protocol):
    """How to start one process and know that it is ready."""

    name: str

    def spawn(self) -> Child:
        """Starts the process (quickly: readiness is awaited separately)."""

    async def wait_ready(self, child: Child) -> None:
        """Returns once `child` serves; raises StartFailed if it exits or takes too long."""

    def last_output(self, child: Child | None) -> list[str]:
        """The last lines the process wrote."""


@dataclass
class Supervised:
    launcher: Launcher
    # "infrastructure" (PostgreSQL, NATS) stops after the applications.
    infrastructure: bool = False
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    child: Child | None = None
    state: str = "starting"
    restarts: int = 0
    last_exit: str = ""
    crash_loop_reported: bool = False

    @property
    def name(self) -> str:
        return self.launcher.name

    def status(self) -> dict:
        shown = {"state": self.state, "restarts": self.restarts}
        if self.child is not None and self.child.running:
            shown["pid"] = self.child.pid
        if self.last_exit:
            shown["last_exit"] = self.last_exit
        return shown


class Supervisor:
    def __init__(self) -> None:
        self.processes: dict[str, Supervised] = {}
        self._watchers: list[asyncio.Task] = []
        self._stopping = asyncio.Event()
        # Set with a reason when the system must stop (a process refused its settings).
        self.fatal: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def add(self, launcher: Launcher, *, infrastructure: bool = False, policy: RestartPolicy | None = None) -> Supervised:
        supervised = Supervised(launcher, infrastructure, policy or RestartPolicy())
        self.processes[launcher.name] = supervised
        PROCESS_RESTARTS.labels(launcher.name)
        return supervised

    async def start(self, *names: str) -> None:
        """Starts these processes together and waits until each is ready; the
        first failure is StartFailed naming the process and why (no restart:
        at first start a failure is a mistake to report, not bad luck)."""
        for name in names:
            self.processes[name].child = self.processes[name].launcher.spawn()
        results = await asyncio.gather(*(self._await_ready(self.processes[n]) for n in names), return_exceptions=True)
        for name, result in zip(names, results):
            if isinstance(result, BaseException):
                raise StartFailed(self._why(self.processes[name], str(result))) from None
        for name in names:
            self._set_running(self.processes[name])
            log.info("%s started", name, extra={"pid": self.processes[name].child.pid})

    def watch(self) -> None:
        """From now on, a process that dies is restarted."""
        self._watchers = [asyncio.create_task(self._watch(p), name=f"watch-{p.name}") for p in self.processes.values()]

    def status(self) -> dict[str, dict]:
        return {name: supervised.status() for name, supervised in self.processes.items()}

    async def stop(self, app_seconds: float, infrastructure_seconds: float) -> None:
        """Stops every process, applications first, even in the middle of a
        backoff or a restart."""
        self._stopping.set()
        for watcher in self._watchers:
            watcher.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        for infrastructure, seconds in ((False, app_seconds), (True, infrastructure_seconds)):
            tier = [p for p in self.processes.values() if p.infrastructure == infrastructure and p.child is not None]
            await asyncio.gather(*(p.child.stop(seconds) for p in tier), return_exceptions=True)
            for supervised in tier:
                supervised.state = "stopped"
                PROCESS_UP.labels(supervised.name).set(0)

    async def _await_ready(self, supervised: Supervised) -> None:
        try:
            await supervised.launcher.wait_ready(supervised.child)
        except BaseException:
            if supervised.child is not None:
                await supervised.child.stop(2.0)
            raise

    def _set_running(self, supervised: Supervised) -> None:
        supervised.state = "running"
        PROCESS_UP.labels(supervised.name).set(1)

    async def _watch(self, supervised: Supervised) -> None:
        while True:
            status = await supervised.child.wait_exit()
            ran_for = time.monotonic() - supervised.child.started_at
            if not await self._restart_after(supervised, status, ran_for):
                return

    async def _restart_after(self, supervised: Supervised, status: int, ran_for: float) -> bool:
        """Restarts the process until it is ready again (True), or says why not (False)."""
        while not self._stopping.is_set():
            PROCESS_UP.labels(supervised.name).set(0)
            supervised.last_exit = describe_exit(status)
            if status == EXIT_BAD_SETTINGS:
                supervised.state = "failed"
                reason = self._why(supervised, f"{supervised.name} refused its settings")
                log.error(reason)
                if not self.fatal.done():
                    self.fatal.set_result(reason)
                return False
            delay = supervised.policy.next_delay(time.monotonic(), ran_for)
            looping = supervised.policy.crash_looping
            supervised.state = "crash-looping" if looping else "restarting"
            if looping and not supervised.crash_loop_reported:
                supervised.crash_loop_reported = True
                tail = supervised.launcher.last_output(supervised.child)[-TAIL_LINES_REPORTED:]
                log.error(
                    "%s is crash-looping: it died %d times within %.0f s, last %s; retrying every %.0f s at most",
                    supervised.name, supervised.policy.recent_exits(), supervised.policy.loop_window,
                    supervised.last_exit, supervised.policy.max_delay,
                    extra={"output_tail": [brief(line) for line in tail]},
                )
            else:
                # Once a crash loop is said, each further exit is for the log file only.
                level = logging.INFO if supervised.crash_loop_reported else logging.WARNING
                log.log(level, "%s exited (%s); restarting in %.1f s", supervised.name, supervised.last_exit, delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return False
            supervised.restarts += 1
            PROCESS_RESTARTS.labels(supervised.name).inc()
            supervised.child = supervised.launcher.spawn()
            try:
                await self._await_ready(supervised)
            except (StartFailed, OSError, RuntimeError) as error:
                log.warning("%s did not come back: %s", supervised.name, error)
                status, ran_for = supervised.child.process.returncode or 1, 0.0
                continue
            self._set_running(supervised)
            log.info("%s is back", supervised.name, extra={"pid": supervised.child.pid, "restarts": supervised.restarts})
            if supervised.crash_loop_reported:
                self._watchers.append(asyncio.create_task(self._note_recovery(supervised, supervised.child)))
            return True
        return False

    async def _note_recovery(self, supervised: Supervised, child: Child) -> None:
        """Once a crash-looping process has stayed up a while, says so (once)."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(child.wait_exit(), supervised.policy.stable_after)
            return
        if supervised.child is child and child.running:
            supervised.crash_loop_reported = False
            log.info("%s has recovered: up for %.0f s", supervised.name, supervised.policy.stable_after)

    def _why(self, supervised: Supervised, what: str) -> str:
        """`what`, and the process's last line of output where there is one."""
        tail = [brief(line).strip() for line in supervised.launcher.last_output(supervised.child) if line.strip()]
        return f"{what}: {tail[-1]}" if tail and tail[-1] not in what else what
