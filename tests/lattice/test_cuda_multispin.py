"""CUDA multi-spin checkerboard: bit identity with the C++ core, and the exact energy (GPU only)."""

import numpy as np
import pytest

from physdl import lattice
from physdl.lattice import exact
from tests.conftest import requires_cuda

pytestmark = [pytest.mark.gpu, requires_cuda]


@pytest.mark.parametrize("update", ["metropolis", "heat_bath"])
@pytest.mark.parametrize("h", [0.0, 0.1])
def test_bit_identical_to_cpp(update, h):
    model = lattice.Ising(shape=(256, 256), geometry="square", h=h)
    runs = {}
    for backend in ("cpp", "cuda"):
        sim = lattice.Simulation(model, beta=0.4407, update=update, storage="multispin", seed=7, backend=backend)
        res = sim.run(sweeps=100)
        runs[backend] = (sim.spins.copy(), res.energy_series.copy(), res.magnetization_series.copy())
    np.testing.assert_array_equal(runs["cuda"][0], runs["cpp"][0])
    np.testing.assert_array_equal(runs["cuda"][1], runs["cpp"][1])
    np.testing.assert_array_equal(runs["cuda"][2], runs["cpp"][2])


def test_odd_sized_rows_identical():
    # rows whose half-length is not a multiple of 64 exercise the padding bits and the side rotation
    model = lattice.Ising(shape=(6, 202), geometry="square")
    sims = [lattice.Simulation(model, beta=0.3, update="metropolis", storage="multispin", seed=3, backend=b)
            for b in ("cpp", "cuda")]
    for s in sims:
        s.run(sweeps=50)
    np.testing.assert_array_equal(sims[0].spins, sims[1].spins)


@pytest.mark.parametrize("beta", [0.4407])
def test_energy_matches_kaufman(beta):
    L = 32
    sim = lattice.Simulation(lattice.Ising(shape=(L, L)), beta=beta, update="heat_bath", storage="multispin",
                             seed=11, backend="cuda")
    res = sim.run(sweeps=40_000, burn_in=2_000)
    ex = exact.kaufman_thermodynamics(beta, L)
    assert abs(res.energy.value - ex["energy"]) < 4 * res.energy.error


def test_device_memory_is_checked():
    import physdl._cuda as c

    words = np.zeros(2, np.uint64)
    with pytest.raises(ValueError, match="wrong size"):
        c.lattice.MultispinLattice(4, 4, words[:1])
    need = c.lattice.MultispinLattice.bytes_needed(1 << 22, 1 << 22)
    assert need > c.device_info(0)["free_memory"]
