"""The load script runs end to end (tiny numbers), so `make bench` cannot rot."""

import asyncio
import sys

from tests.conftest import REPO_ROOT


async def test_bench_runs_every_scenario(gateway):
    settings = gateway.settings
    # A child process awaited without blocking: the gateway under test runs on this event loop.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.scim_load", "--url", gateway.url, "--project-id", settings.project_id,
        "--project-secret", settings.project_secret, "--rbac-addr", settings.services.rbac, "--users", "120", "--requests", "40", "--concurrency", "4",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 240)
    assert process.returncode == 0, stderr.decode()[-3000:]
    lines = stdout.decode().splitlines()
    for scenario in ("create", "get by id", "filter userName eq", "patch", "list count=100", "group fill", "group PATCH ±50",
                     "map group of", "gRPC GetMemberRoles", "gRPC CheckPermission"):
        line = next(line for line in lines if line.startswith(scenario))
        assert "errors=0" in line, line
