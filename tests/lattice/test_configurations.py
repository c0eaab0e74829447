"""configurations(n) runs many samples per kernel call; the result must be bit-for-bit that of the
per-sample loop it replaced (one _advance(every) and one copy per sample), on both CPU backends."""

from __future__ import annotations

import numpy as np
import pytest

from physdl import lattice


def _loop(sim, n, every, burn_in):
    """The old per-sample loop (the independent reference)."""
    e, m = np.zeros(1), np.zeros(1, np.int64)
    if burn_in:
        sim._advance(burn_in, 0, e, m)
    out = []
    for _ in range(n):
        sim._advance(every, 0, e, m)
        out.append(sim.spins)
    return np.array(out)


CASES = [
    ("metropolis", lattice.Ising((8, 8)), {}),
    ("heat_bath", lattice.Ising((6, 4), J=0.7, h=0.2), {}),
    ("metropolis", lattice.Ising((3, 6), geometry="triangular"), {}),
    ("heat_bath", lattice.Ising((5, 3)), dict(sweep="sequential")),
    ("metropolis", lattice.EdwardsAnderson((4, 6), seed=3), {}),
    ("wolff", lattice.Ising((8, 6)), {}),
    ("swendsen_wang", lattice.Ising((6, 6)), {}),
]


@pytest.mark.parametrize("backend", ["cpp", "numba"])
@pytest.mark.parametrize("update,model,kw", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("burn_in", [0, 7])
def test_configurations_equal_the_per_sample_loop(backend, update, model, kw, burn_in):
    mk = lambda: lattice.Simulation(model, beta=0.42, update=update, seed=5, chain=2, backend=backend, **kw)  # noqa: E731
    a, b = mk(), mk()
    got = a.configurations(23, every=3, burn_in=burn_in)
    ref = _loop(b, 23, 3, burn_in)
    np.testing.assert_array_equal(got, ref)
    assert a.sweeps_done == b.sweeps_done and a.cluster == b.cluster
    # and the chains continue identically
    np.testing.assert_array_equal(a.configurations(4, every=2), _loop(b, 4, 2, 0))
    if update == "wolff":
        assert a._flipped == b._flipped


def test_configurations_progress_chunks_do_not_change_the_samples():
    m = lattice.Ising((8, 8))
    a = lattice.Simulation(m, beta=0.4, seed=1, backend="cpp").configurations(120, every=2, progress=True)
    b = lattice.Simulation(m, beta=0.4, seed=1, backend="cpp").configurations(120, every=2)
    np.testing.assert_array_equal(a, b)


def test_cpp_and_numba_configurations_agree():
    m = lattice.Ising((6, 6))
    for update in ("metropolis", "wolff", "swendsen_wang"):
        a = lattice.Simulation(m, beta=0.4, update=update, seed=9, backend="cpp").configurations(10, every=2)
        b = lattice.Simulation(m, beta=0.4, update=update, seed=9, backend="numba").configurations(10, every=2)
        np.testing.assert_array_equal(a, b)
