"""gen/ must be exactly what `make protos` produces from protos/."""

import filecmp
import subprocess
import sys

from tests.conftest import REPO_ROOT


def _differences(left, right) -> list[str]:
    comparison = filecmp.dircmp(left, right, ignore=["__pycache__"])
    found = [f"only in {left}: {n}" for n in comparison.left_only] + [f"only in {right}: {n}" for n in comparison.right_only]
    found += [f"differs: {n}" for n in comparison.diff_files]
    _match, mismatch, errors = filecmp.cmpfiles(left, right, comparison.common_files, shallow=False)
    found += [f"differs: {n}" for n in mismatch + errors if f"differs: {n}" not in found]
    for sub in comparison.common_dirs:
        found += _differences(left / sub, right / sub)
    return found


def test_generated_code_matches_protos(tmp_path):
    out = tmp_path / "gen"
    subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "gen_protos.py"), "--out", str(out)], check=True)
    differences = _differences(REPO_ROOT / "gen", out)
    assert not differences, "gen/ is stale; run `make protos`:\n" + "\n".join(differences)
