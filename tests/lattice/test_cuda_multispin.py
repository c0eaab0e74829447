"""CUDA multi-spin checkerboard: bit identity with the C++ core, and the exact energy (GPU only)."""

import numpy as np
import pytest

import physdl
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


def _device_run(shape, update, beta, J, h, sweeps, every, tuned, seed=5, chain=2, sweep0=0):
    from physdl.lattice import simulation as S

    cu = physdl._backend.module("cuda")
    sim = lattice.Simulation(lattice.Ising(shape, J=J, h=h), beta=beta, update=update, storage="multispin",
                             seed=seed, chain=chain, backend="cpp")
    words = sim._words.copy()
    dev = cu.lattice.MultispinLattice(shape[0], shape[1], words.reshape(-1))
    e, m = dev.sweeps(S._CODE[update], sim._table, float(J), float(h), seed, chain, sweep0, sweeps, every, tuned)
    return dev.download().reshape(words.shape), e, m, sim, words


@pytest.mark.parametrize("update", ["metropolis", "heat_bath"])
@pytest.mark.parametrize("shape,beta,J,h", [((4, 4), 0.4406868, 1.0, 0.0), ((6, 202), 0.3, 1.0, 0.7),
                                            ((128, 2048), 0.4406868, 1.0, 0.0), ((34, 1000), 0.9, -1.0, 0.2),
                                            ((16, 130), 0.25, 0.5, 3.1)])
def test_tuned_kernel_equals_plain_port_and_cpp(update, shape, beta, J, h):
    """The tuned kernel (grouped classes, fused measurement) against the plain port and the C++ core."""
    from physdl.lattice import simulation as S

    sweeps, every = 7, 2
    a, ea, ma, sim, words = _device_run(shape, update, beta, J, h, sweeps, every, tuned=True)
    b, eb, mb, _, _ = _device_run(shape, update, beta, J, h, sweeps, every, tuned=False)
    core = physdl._backend.module("cpp").lattice
    E = np.zeros(sweeps // every)
    M = np.zeros(sweeps // every, np.int64)
    core.multispin_sweeps(words, shape[0], shape[1], S._CODE[update], sim._table, J, h, sim.seed, sim.chain, 0,
                          sweeps, every, E, M)
    np.testing.assert_array_equal(a, words)
    np.testing.assert_array_equal(b, words)
    np.testing.assert_array_equal(ea, E)
    np.testing.assert_array_equal(eb, E)
    np.testing.assert_array_equal(ma, M)
    np.testing.assert_array_equal(mb, M)


def test_measurement_series_across_device_chunks():
    """More measurements than the device holds between copies (4096): the series stays exact."""
    from physdl.lattice import simulation as S

    shape, sweeps = (8, 256), 9000
    a, e, m, sim, words = _device_run(shape, "heat_bath", 0.44, 1.0, 0.05, sweeps, 1, tuned=True)
    core = physdl._backend.module("cpp").lattice
    E = np.zeros(sweeps)
    M = np.zeros(sweeps, np.int64)
    core.multispin_sweeps(words, shape[0], shape[1], S._CODE["heat_bath"], sim._table, 1.0, 0.05, sim.seed,
                          sim.chain, 0, sweeps, 1, E, M)
    np.testing.assert_array_equal(a, words)
    np.testing.assert_array_equal(e, E)
    np.testing.assert_array_equal(m, M)


def test_wide_index_kernels_identical():
    """The 64-bit index kernels (for lattices above 2^32 words per colour), forced on a small lattice."""
    import os
    import subprocess
    import sys

    script = (
        "import numpy as np, physdl\n"
        "from physdl import lattice\n"
        "out = []\n"
        "for u in ('metropolis', 'heat_bath'):\n"
        "    s = lattice.Simulation(lattice.Ising((62, 390), h=0.2), beta=0.43, update=u, storage='multispin',"
        " seed=4, backend='cuda')\n"
        "    r = s.run(sweeps=20)\n"
        "    out.append(np.packbits(s.spins > 0).tobytes().hex() + str(list(r.energy_series)))\n"
        "print('|'.join(out))\n"
    )
    runs = []
    for index in ("32", "64"):
        env = dict(os.environ, PHYSDL_CUDA_INDEX=index)
        runs.append(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                                   check=True).stdout)
    assert runs[0] == runs[1] and len(runs[0]) > 100


def test_cuda_sigint_mid_run_resumes_bit_for_bit(tmp_path):
    """Ctrl-C during a long device run: seen within 1 s (bounded launches, physdl._interrupt.run_in_pieces),
    and the saved chain, resumed, equals an uninterrupted run."""
    from tests.reliability.test_interrupts import interrupt_child

    L = 256
    path, done, reaction = interrupt_child(tmp_path, "cuda", "metropolis", "multispin", L, "run", 0.4)
    assert reaction < 1.0, f"SIGINT seen after {reaction:.2f} s"
    resumed = lattice.Simulation.load(path)
    assert resumed.sweeps_done == done >= 2
    resumed.run(7)
    ref = lattice.Simulation(lattice.Ising((L, L)), T=2.4, update="metropolis", storage="multispin", seed=11,
                             backend="cuda")
    ref.run(2)
    ref.run(done + 7 - 2)
    np.testing.assert_array_equal(ref.spins, resumed.spins)
