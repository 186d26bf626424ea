"""The supervisor with real child processes: restarts with backoff, a crash
loop said once with the process's last output, bad settings stopping the
system, and a stop that is clean in the middle of a backoff or a restart."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import uuid

import pytest
from prometheus_client import REGISTRY

from cli.processes import Child, StartFailed
from cli.restarts import RestartPolicy
from cli.supervision import Supervisor
from runtime.settings import EXIT_BAD_SETTINGS
from tests.e2e.scimd_process import alive

DEADLINE_S = 60
FAST = dict(initial_delay=0.05, max_delay=0.2, loop_restarts=3, loop_window=60.0, stable_after=30.0)

RUNS = "print('ready', flush=True); import time; time.sleep(3600)"
CRASHES = "print('ready', flush=True); import time, sys; time.sleep(0.1); print('boom: the disk is full', flush=True); sys.exit(3)"
NEVER_READY = "import time; time.sleep(3600)"


class Script:
    """A launcher of `python -c code`, ready once it prints 'ready'."""

    def __init__(self, code: str, name: str | None = None):
        self.name = name or f"script-{uuid.uuid4().hex[:6]}"
        self.code = code
        self.pids: list[int] = []

    def spawn(self) -> Child:
        child = Child.spawn(self.name, [sys.executable, "-c", self.code], output=lambda _name, _line: None)
        self.pids.append(child.pid)
        return child

    async def wait_ready(self, child: Child) -> None:
        for _ in range(DEADLINE_S * 20):
            if "ready" in child.tail.lines():
                return
            if not child.running:
                raise StartFailed(f"{self.name} exited while starting")
            await asyncio.sleep(0.05)  # polling for the effect, with a deadline
        raise StartFailed(f"{self.name} never became ready")

    def last_output(self, child: Child | None) -> list[str]:
        return child.tail.lines() if child is not None else []


async def _until(condition, what: str) -> None:
    for _ in range(DEADLINE_S * 20):
        if condition():
            return
        await asyncio.sleep(0.05)  # polling for the effect, with a deadline
    raise AssertionError(f"never: {what}")


def _restarts(name: str) -> float:
    return REGISTRY.get_sample_value("scimd_process_restarts_total", {"process": name}) or 0.0


async def test_a_crashing_process_is_restarted_and_its_crash_loop_said_once(caplog):
    caplog.set_level(logging.INFO, logger="supervisor")
    supervisor = Supervisor()
    script = Script(CRASHES)
    steady = Script(RUNS)
    supervisor.add(script, policy=RestartPolicy(**FAST))
    supervisor.add(steady, policy=RestartPolicy(**FAST))
    try:
        await supervisor.start(script.name, steady.name)
        supervisor.watch()
        await _until(lambda: supervisor.processes[script.name].restarts >= 6, "six restarts")
        status = supervisor.status()
    finally:
        await supervisor.stop(2, 2)
    assert _restarts(script.name) >= 6
    assert status[script.name]["last_exit"] == "exit status 3"
    assert status[steady.name] == {"state": "running", "restarts": 0, "pid": steady.pids[0]}, "a neighbour was touched"
    loops = [r for r in caplog.records if "crash-looping" in r.getMessage()]
    assert len(loops) == 1, [r.getMessage() for r in loops]
    assert loops[0].levelno == logging.ERROR and "exit status 3" in loops[0].getMessage()
    assert "boom: the disk is full" in loops[0].output_tail
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and script.name in r.getMessage()]
    assert 1 <= len(warned) < FAST["loop_restarts"], "after the crash loop was said, restarts went on warning"


async def test_bad_settings_stop_the_system_with_the_reason():
    supervisor = Supervisor()
    script = Script(f"print('ready', flush=True); import time, sys; time.sleep(0.1); "
                    f"print('scimd: bad settings: SCIMD_MIGRATE must be one of apply, check', flush=True); "
                    f"sys.exit({EXIT_BAD_SETTINGS})")
    supervisor.add(script, policy=RestartPolicy(**FAST))
    try:
        await supervisor.start(script.name)
        supervisor.watch()
        reason = await asyncio.wait_for(supervisor.fatal, DEADLINE_S)
    finally:
        await supervisor.stop(2, 2)
    assert "refused its settings" in reason and "SCIMD_MIGRATE must be one of" in reason
    assert supervisor.processes[script.name].restarts == 0


async def test_a_first_start_that_fails_says_why():
    supervisor = Supervisor()
    script = Script("import sys; print('cannot listen on port 8080: address in use', flush=True); sys.exit(1)")
    supervisor.add(script)
    with pytest.raises(StartFailed, match="cannot listen on port 8080"):
        await supervisor.start(script.name)
    await supervisor.stop(2, 2)


@pytest.mark.parametrize("phase", ["backoff", "restart"])
async def test_stopping_in_the_middle_of_a_recovery_leaves_no_process(phase):
    """SIGTERM during a 30 s backoff, or while a restarted process has yet to
    become ready: the stop does not wait for either, and nothing outlives it."""
    supervisor = Supervisor()
    script = Script(RUNS)
    policy = RestartPolicy(initial_delay=30.0) if phase == "backoff" else RestartPolicy(initial_delay=0.05)
    supervisor.add(script, policy=policy)
    await supervisor.start(script.name)
    if phase == "restart":
        script.code = NEVER_READY
    supervisor.watch()
    os.kill(script.pids[0], 9)
    if phase == "backoff":
        await _until(lambda: supervisor.processes[script.name].state == "restarting", "in backoff")
    else:
        await _until(lambda: len(script.pids) == 2, "restarted")
    await asyncio.wait_for(supervisor.stop(2, 2), 20)  # far less than the 30 s backoff
    assert not [pid for pid in script.pids if alive(pid)]
    assert supervisor.processes[script.name].state == "stopped"


# A parent with gRPC-like threads spawns a child, says its pid and waits to be killed.
PARENT_OF_A_SLEEPER = """
import asyncio, subprocess, threading, time
from cli.processes import Child
for _ in range(4):
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
async def main():
    child = Child.spawn("sleeper", ["sleep", "3600"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(child.process.pid, flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


async def test_a_child_dies_with_its_killed_parent_and_spawning_runs_no_python_after_fork():
    """Children are armed with PR_SET_PDEATHSIG by a small interpreter that
    then execs them: no preexec_fn runs Python in the forked child of a
    threaded parent (that crashed a test's embedded NATS with a segfault)."""
    parent = await asyncio.create_subprocess_exec(sys.executable, "-c", PARENT_OF_A_SLEEPER,
                                                  stdout=asyncio.subprocess.PIPE, cwd=os.getcwd())
    child_pid = int((await asyncio.wait_for(parent.stdout.readline(), DEADLINE_S)).decode())
    for _ in range(100):  # the wrapper execs into sleep within moments
        with open(f"/proc/{child_pid}/cmdline", "rb") as cmdline:
            if cmdline.read().split(b"\0")[0] == b"sleep":
                break
        await asyncio.sleep(0.05)
    parent.kill()
    await parent.wait()
    for _ in range(100):  # polling for the kernel's SIGKILL, bounded (5 s)
        if not alive(child_pid):
            break
        await asyncio.sleep(0.05)
    survived = alive(child_pid)
    if survived:
        os.kill(child_pid, signal.SIGKILL)  # leave nothing behind
    assert not survived, "the child outlived its killed parent"
