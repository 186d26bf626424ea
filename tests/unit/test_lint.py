"""The code stays free of unused imports, undefined names and syntax errors."""

import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_ruff_finds_nothing():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "bench", "gateway", "services", "scim", "tests", "tools"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
