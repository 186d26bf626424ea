"""The intake bench (issue 19) runs end to end at tiny numbers, so it cannot
rot: with one replica and with two, every published event is stored."""

import asyncio
import os
import re
import sys

from tests.conftest import REPO_ROOT


async def test_intake_bench_stores_the_whole_backlog_with_one_and_two_replicas(postgres_admin_url, nats_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMD_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.intake", "--events", "300", "--organizations", "40", "--replicas", "1,2",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**env, "DATABASE_URL": postgres_admin_url, "NATS_URL": nats_url},
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, stderr.decode()[-3000:]
    output = stdout.decode()
    for replicas in (1, 2):
        assert re.search(rf"^replicas {replicas}: stored 300 in [\d.]+ s = [\d,]+ events/s;"
                         r" webhooks CPU [\d.]+ ms per event$", output, re.MULTILINE), output
