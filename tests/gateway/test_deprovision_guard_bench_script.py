"""The deprovision guard's bench script runs end to end, so it cannot rot
(its figures are the issue's, not the test's: nothing here is timed)."""

import asyncio
import re
import sys

from tests.conftest import REPO_ROOT


async def test_guard_bench_holds_ten_and_approves_them(gateway):
    settings = gateway.settings
    # A child process awaited without blocking: the gateway under test runs on this event loop.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.deprovision_guard", "--url", gateway.url, "--project-id", settings.project_id,
        "--project-secret", settings.project_secret,
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()[-3000:]
    output = stdout.decode()
    assert re.search(r"^held after 30 deactivations\s+10 ", output, re.MULTILINE), output
    assert re.search(r"^webhooks received\s+30 ", output, re.MULTILINE), output
    assert re.search(r"^approve → last held session refused\s+\d+ ms$", output, re.MULTILINE), output
