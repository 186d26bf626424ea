"""The attribute mapping bench script runs end to end, so it cannot rot (its
figures are the issue's, not the test's: nothing here is timed)."""

import asyncio
import re
import sys

from tests.conftest import REPO_ROOT


async def test_mapping_bench_previews_and_applies_a_change_to_every_member(gateway):
    settings = gateway.settings
    # A child process awaited without blocking: the gateway under test runs on this event loop.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.attribute_mapping", "--url", gateway.url, "--project-id", settings.project_id,
        "--project-secret", settings.project_secret, "--users", "120", "--repeats", "2",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()[-3000:]
    output = stdout.decode()
    assert "120 users" in output, output
    assert re.search(r"^dry run: 120 members compared, 120 would change, in \d+ ms \(median of 2\)$", output,
                     re.MULTILINE), output
    assert re.search(r"^apply: 120 members, 120 changed \(each with its scim.member.update event\), in [\d.]+ s$",
                     output, re.MULTILINE), output
