"""The pipeline bench (issue 20) runs end to end at tiny numbers, so it cannot
rot: every endpoint gets every event once, and the calibration prints. (CPU
needs `make run`'s supervisor; tests/e2e covers the process tree.)"""

import asyncio
import re
import sys

from tests.conftest import REPO_ROOT


async def test_pipeline_bench_reports_each_endpoint_and_the_calibration(gateway, tmp_path):
    settings = gateway.settings
    (tmp_path / "addresses.json").write_text(f'{{"database_url": "{settings.database_url}"}}')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.pipeline", "--url", gateway.url, "--project-id", settings.project_id,
        "--project-secret", settings.project_secret, "--data-dir", str(tmp_path), "--rates", "30,60",
        "--endpoints", "2", "--seconds", "1", "--concurrency", "4", "--drain-seconds", "30",
        "--calibration-seconds", "0.3",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, stderr.decode()[-3000:]
    output = stdout.decode()
    assert re.search(r"^calibration \(c=16\): gRPC echo \d+/s, single-row insert transactions \d+/s$", output,
                     re.MULTILINE), output
    for rate, created in (("30", 30), ("60", 60)):
        assert re.search(rf"^offered {rate} creates/s, 2 endpoint\(s\): writes \d+/s \(n={created}, errors=0\)$",
                         output, re.MULTILINE), output
    assert len(re.findall(r"^  endpoint [12]: .* missing 0, duplicates 0$", output, re.MULTILINE)) == 4, output
    assert len(re.findall(r"^  commit→stored by the webhooks intake: p50 +[\d.]+ ms p99 +[\d.]+ ms", output,
                          re.MULTILINE)) == 2, output
