"""The chapter-7 tour entry runs quickly and every row it reports holds."""

import subprocess
import sys

import pytest

from physdl.tour import run_tour


@pytest.mark.slow
def test_inverse_tour_quick(tmp_path):
    (res,) = run_tour(tmp_path, quick=True, only=["inverse"], progress=False)
    assert res.ok, [r for r in res.rows if not r.ok]
    assert res.seconds < 30
    assert (tmp_path / "inverse_spm.png").exists()


def test_module_cli_rejects_bad_seed(tmp_path):
    bad = subprocess.run([sys.executable, "-m", "physdl.inverse", "--seed", "x", "--out", str(tmp_path)],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "invalid int value" in bad.stderr
