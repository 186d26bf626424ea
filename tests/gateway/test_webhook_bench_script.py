"""The webhook load script runs end to end (tiny numbers), so it cannot rot."""

import asyncio
import re
import sys

from tests.conftest import REPO_ROOT


async def test_webhook_bench_reports_rate_and_latency(gateway):
    settings = gateway.settings
    # A child process awaited without blocking: the gateway under test runs on this event loop.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.webhook_load", "--url", gateway.url, "--project-id", settings.project_id,
        "--project-secret", settings.project_secret, "--rate", "40", "--seconds", "1", "--concurrency", "4",
        "--drain-seconds", "30",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()[-3000:]
    output = stdout.decode()
    assert re.search(r"^writes .* n=40 errors=0$", output, re.MULTILINE), output
    assert re.search(r"^webhooks delivered .* n=40 missing=0 duplicates=0$", output, re.MULTILINE), output
    assert re.search(r"^commit-to-receipt\s+p50\s+[\d.]+ ms\s+p99\s+[\d.]+ ms$", output, re.MULTILINE), output
