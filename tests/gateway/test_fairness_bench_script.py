"""The fairness bench runs end to end (tiny numbers, bounded), so it cannot rot:
B's requests all succeed, and each of A's worst requests is answered clearly
(2xx, a 4xx, or 429/503 with Retry-After), none hanging. The latency figures
are the bench's to report, not this test's to assert."""

import asyncio
import sys

from tests.conftest import REPO_ROOT


async def test_fairness_bench_runs_and_every_answer_is_clear(gateway):
    settings = gateway.settings
    # A child process awaited without blocking: the gateway under test runs on this event loop.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.fairness", "--url", gateway.url, "--project-id", settings.project_id,
        "--project-secret", settings.project_secret, "--seconds", "2", "--idle-seconds", "1", "--users", "3",
        "--concurrency", "4", cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 240)
    output = stdout.decode()
    assert process.returncode == 0, output + stderr.decode()[-3000:]
    assert "B GET p99 ratio" in output and "A's answers" in output
    assert "unclear" not in output and "timeout" not in output
