"""Runs the whole test suite N times from a fresh clone while CPU-bound
processes compete for the cores, and reports failures per test.

    make test-repeat REPEAT_ARGS="--runs 5 --competitors 1"
    .venv/bin/python tools/repeat_suite.py --runs 5 --competitors 1 [--fresh-each] [-- PYTEST ARGS]

It clones the committed HEAD of this repository (what CI would see) into a
temporary folder, runs `make test` there, and repeats the pytest part N times
(with --fresh-each, every run clones and installs anew). A competitor is a
busy loop in its own process; each is stopped when the runs end. Exit status:
0 when every run was green, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _burn() -> None:
    while True:
        pass


def _clone(into: Path) -> Path:
    checkout = into / "scimd"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(checkout)], check=True)
    return checkout


def _failures(report: Path) -> tuple[list[str], int, float]:
    """The ids of the tests that failed or errored, how many ran, and the seconds pytest counted."""
    if not report.exists():
        return ["<no report: pytest did not finish>"], 0, 0.0
    root = ElementTree.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    failed, total, seconds = [], 0, 0.0
    for suite in suites:
        total += int(suite.get("tests", 0))
        seconds += float(suite.get("time", 0))
        for case in suite.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(f"{case.get('classname')}::{case.get('name')}")
    return failed, total, seconds


def _run_once(checkout: Path, number: int, pytest_args: list[str], logs: Path) -> tuple[list[str], int, float, float, int]:
    report = logs / f"run-{number}.xml"
    log = logs / f"run-{number}.log"
    env = {**os.environ, "CI": "true"}
    args = f"-p no:cacheprovider --junitxml={report} {' '.join(pytest_args)}".strip()
    started = time.monotonic()
    with open(log, "wb") as output:
        run = subprocess.Popen(["make", "test", f"PYTEST_ARGS={args}"], cwd=checkout, env=env, start_new_session=True,
                               stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            status = run.wait()
        finally:
            if run.poll() is None:  # interrupted: make, pytest and what pytest started all go
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
    wall = time.monotonic() - started
    failed, total, tests_seconds = _failures(report)
    if status != 0 and not failed:
        failed = [f"<make test exited {status}; see {log}>"]
    return failed, total, tests_seconds, wall, status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--competitors", type=int, default=1, help="CPU-bound processes running meanwhile")
    parser.add_argument("--fresh-each", action="store_true", help="clone and install anew for every run")
    parser.add_argument("--keep-going", action="store_true", help="do not stop at the first red run")
    parser.add_argument("--logs", type=Path, default=None, help="where run logs and reports go (default: a temp dir)")
    parser.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the competitors and the run

    work = Path(tempfile.mkdtemp(prefix="scimd-repeat-"))
    logs = (args.logs or work / "logs").resolve()
    logs.mkdir(parents=True, exist_ok=True)
    competitors = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(args.competitors)]
    for competitor in competitors:
        competitor.start()
    failures: collections.Counter[str] = collections.Counter()
    green = 0
    try:
        checkout = _clone(work)
        for number in range(1, args.runs + 1):
            if args.fresh_each and number > 1:
                shutil.rmtree(checkout)
                checkout = _clone(work)
            failed, total, tests_seconds, wall, status = _run_once(checkout, number, args.pytest_args, logs)
            failures.update(failed)
            green += not failed and status == 0
            verdict = "green" if not failed and status == 0 else f"RED ({len(failed)} failed)"
            print(f"run {number}/{args.runs}: {verdict}, {total} tests in {tests_seconds:.0f} s "
                  f"({wall:.0f} s with make) (log: {logs / f'run-{number}.log'})", flush=True)
            for test in failed:
                print(f"    {test}", flush=True)
            if failed and not args.keep_going:
                break
    finally:
        for competitor in competitors:
            competitor.terminate()
            competitor.join()
    print(f"\n{green} of {args.runs} runs green with {args.competitors} competing CPU-bound process(es)")
    for test, count in failures.most_common():
        print(f"  {count}x {test}")
    shutil.rmtree(work / "scimd", ignore_errors=True)
    return 0 if green == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
