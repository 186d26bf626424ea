"""The bench's /proc reader (bench/process_cpu.py): a process tree's CPU
seconds and memory are its own and its descendants'."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.process_cpu import SystemCpu, spent


def test_a_tree_counts_its_children_cpu_and_memory():
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: sum(range(10**6)); time.sleep(0.001)"])
    try:
        alone = SystemCpu({"tests": os.getpid()})
        just_child = SystemCpu({"child": child.pid})
        before = alone.snapshot()
        for _ in range(500):  # bounded: until the child has used some CPU
            if just_child.snapshot()["child"] > 0.05:
                break
            subprocess.run(["sleep", "0.01"], check=True)
        assert spent(before, alone.snapshot())["tests"] > 0.05  # the child's CPU is in its parent's tree
        assert alone.memory_bytes() > just_child.memory_bytes() > 0
        # A descendant counted under a name of its own is not counted in its parent's tree too:
        # the two apart, read first, add up to no more than the tree read after.
        split = SystemCpu({"tests": os.getpid(), "child": child.pid}, apart={child.pid}).snapshot()
        whole = alone.snapshot()["tests"]
        assert split["child"] > 0.05 and split["tests"] + split["child"] <= whole + 0.01, (split, whole)
    finally:
        child.kill()
        child.wait()
