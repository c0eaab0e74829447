"""Fuzz every entry of tests/fuzz/entries.py with hypothesis: no crash, hang or silent garbage.

Entries marked ``isolate`` run their whole hypothesis loop in a child process (one interpreter per
entry), so a segmentation fault in a kernel fails that entry, with the example that caused it in
the child's output, instead of ending the test run.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from .entries import entries, run_entry

ENTRIES = entries()
ROOT = Path(__file__).resolve().parents[2]


def _isolated(name: str):
    code = ("import sys\nfrom tests.fuzz.entries import entries, run_entry\n"
            f"run_entry(next(e for e in entries() if e.name == {name!r}), report=True)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, f"{name}: child failed ({r.returncode}):\n{r.stdout[-1500:]}\n{r.stderr[-2500:]}"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_fuzz(entry):
    if entry.extra.get("isolate"):
        _isolated(entry.name)
    else:
        run_entry(entry)
