"""Fuzz every entry of tests/fuzz/entries.py with hypothesis: no crash, hang or silent garbage."""

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings

from .entries import _tmp, entries

ENTRIES = entries()


def _run_in_child(code: str):
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"child crashed ({r.returncode}): {r.stderr[-800:]}"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_fuzz(entry):
    @settings(max_examples=entry.max_examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(entry.args)
    def one(kwargs):
        kind = entry.extra.get("kind")
        if entry.subprocess:
            _run_in_child(entry.extra["code"].format(**kwargs))
            return
        if kind == "corrupt-file":
            from physdl import io

            p = _tmp() / f"c{kwargs['suffix']}"
            p.write_bytes(kwargs["data"])
            with pytest.raises((ValueError, FileNotFoundError)):
                io.load_run(p)
            return
        if kind == "cli":
            r = subprocess.run([sys.executable, "-m", "physdl", *kwargs["argv"]], capture_output=True, text=True,
                               timeout=60, cwd=_tmp())
            assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-800:]
            assert len(r.stderr.strip().splitlines()) == 1, r.stderr
            return
        try:
            out = entry.call(**kwargs)
        except entry.allowed:
            return
        assert entry.check(out), f"{entry.name}({kwargs}) returned {out!r}"

    one()
