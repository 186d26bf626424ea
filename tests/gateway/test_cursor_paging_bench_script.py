"""The cursor paging bench script runs end to end, so it cannot rot (its
figures are the issue's, not the test's: nothing here is timed)."""

import asyncio
import re
import sys

from tests.conftest import REPO_ROOT


async def test_cursor_bench_walks_under_churn_and_lists_every_user_once(gateway):
    settings = gateway.settings
    # A child process awaited without blocking: the gateway under test runs on this event loop.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.cursor_paging", "--url", gateway.url, "--project-id", settings.project_id,
        "--project-secret", settings.project_secret, "--users", "350", "--churn", "40", "--deep-page", "3",
        "--repeats", "2",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()[-3000:]
    output = stdout.decode()
    assert re.search(r"^page 3 +by cursor +[\d.]+ ms +by index +[\d.]+ ms$", output, re.MULTILINE), output
    assert "310 users present throughout, 40 created and 40 deleted during the walk: 310 listed exactly once," \
           " 0 skipped or repeated" in output, output
