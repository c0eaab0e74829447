"""The shared progress-bar switch (physdl._progress): bars only when asked for and on a terminal,
PHYSDL_PROGRESS=1/0 overriding the terminal test; the lattice bars go through it."""

from __future__ import annotations

import io
import os
import sys

import pytest

from physdl import _progress, lattice


class _Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(_progress.ENV, raising=False)
    return monkeypatch


def test_not_a_terminal_disables(no_env):
    assert not _progress.enabled(True, io.StringIO())
    assert _progress.enabled(True, _Tty())
    assert not _progress.enabled(False, _Tty())  # never drawn unless asked for
    assert not _progress.enabled(True, None) or sys.stderr.isatty()  # default stream: stderr


def test_closed_or_missing_stream_disables(no_env):
    f = io.StringIO()
    f.close()
    assert not _progress.enabled(True, f)
    no_env.setattr(sys, "stderr", None)
    assert not _progress.enabled(True)


@pytest.mark.parametrize("value,on_pipe,on_tty", [("1", True, True), ("yes", True, True), ("0", False, False),
                                                  ("off", False, False), ("", False, True), ("maybe", False, True)])
def test_environment_overrides_the_terminal_test(no_env, value, on_pipe, on_tty):
    no_env.setenv(_progress.ENV, value)
    assert _progress.enabled(True, io.StringIO()) is on_pipe
    assert _progress.enabled(True, _Tty()) is on_tty
    assert not _progress.enabled(False, _Tty())  # the override never turns on a bar not asked for


def test_bar_draws_nothing_off_a_terminal_and_something_when_forced(no_env):
    out = io.StringIO()
    with _progress.bar(total=5, desc="x", progress=True, file=out) as b:
        b.update(5)
    assert out.getvalue() == ""
    assert list(_progress.bar(range(3), progress=True, file=out)) == [0, 1, 2]  # still an iterator
    no_env.setenv(_progress.ENV, "1")
    with _progress.bar(total=5, desc="forced", progress=True, file=out) as b:
        b.update(5)
    assert "forced" in out.getvalue()


def test_lattice_progress_bars_stay_silent_when_stderr_is_not_a_terminal(no_env, capsys):
    sim = lattice.Simulation(lattice.Ising((8, 8)), beta=0.4, seed=1)
    sim.run(20, progress=True)
    sim.configurations(5, progress=True)
    lattice.ParallelTempering(lattice.Ising((4, 4)), [0.3, 0.4], seed=1).run(5, progress=True)
    assert capsys.readouterr().err == ""
    no_env.setenv(_progress.ENV, "1")
    sim.run(20, progress=True)
    assert "beta=0.4" in capsys.readouterr().err
