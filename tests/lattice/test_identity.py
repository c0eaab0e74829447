"""Same seed, same lattice: cpp vs numba, 1 vs 2 threads, save/resume, documented multi-spin addressing."""

from __future__ import annotations

import numpy as np
import pytest

import physdl
from physdl import lattice
from physdl.lattice.simulation import multispin_words_shape, pack_multispin, unpack_multispin

BACKENDS = [b for b in ("cpp", "numba") if physdl.backends()[b].available]
needs_both = pytest.mark.skipif(len(BACKENDS) < 2, reason="needs both the cpp and numba backends")


def _cases():
    rng = np.random.default_rng(5)
    sq = lattice.Ising((6, 8))
    field = lattice.Ising((4, 6), J=0.7, h=0.3)
    bonds = lattice.Ising((6, 4), J=rng.uniform(0.2, 1.5, (6, 4, 2)), h=rng.normal(0, 0.5, (6, 4)))
    tri = lattice.Ising((6, 9), geometry="triangular")
    cub = lattice.Ising((4, 4, 6), geometry="cubic")
    chain = lattice.Ising((10,), geometry="chain", h=-0.2)
    ea = lattice.EdwardsAnderson((6, 6), couplings="gaussian", seed=3)
    eapm = lattice.EdwardsAnderson((4, 4, 4), geometry="cubic", couplings="pm", seed=4)
    sk = lattice.SherringtonKirkpatrick(24, seed=2)
    odd = lattice.Ising((5, 7), J=rng.uniform(0.1, 1.0, (5, 7, 2)))
    out = []
    for upd in ("metropolis", "heat_bath"):
        for name, m in [("square", sq), ("narrow", lattice.Ising((6, 2), h=0.2)), ("flat", lattice.Ising((2, 34))),
                        ("field", field), ("bonds", bonds), ("triangular", tri), ("cubic", cub),
                        ("chain", chain), ("ea", ea), ("ea_pm_cubic", eapm), ("sk", sk)]:
            out.append((f"{upd}-{name}", m, dict(update=upd)))
        out.append((f"{upd}-sequential-odd", odd, dict(update=upd, sweep="sequential")))
        out.append((f"{upd}-multispin", lattice.Ising((6, 10), J=0.9, h=0.1), dict(update=upd, storage="multispin")))
        out.append((f"{upd}-multispin-antiferro", lattice.Ising((4, 6), J=-1.0, h=0.3),
                    dict(update=upd, storage="multispin")))
        out.append((f"{upd}-multispin-2words", lattice.Ising((4, 260)), dict(update=upd, storage="multispin")))
    for upd in ("wolff", "swendsen_wang"):
        for name, m in [("square", sq), ("odd", lattice.Ising((5, 7))), ("bonds", odd), ("triangular", tri),
                        ("cubic", cub), ("chain", lattice.Ising((9,), geometry="chain"))]:
            out.append((f"{upd}-{name}", m, dict(update=upd)))
    return out


CASES = _cases()


def _run(model, kw, backend, sweeps=7, beta=0.45):
    sim = lattice.Simulation(model, beta=beta, seed=12345678901234567890, chain=3, backend=backend, **kw)
    res = sim.run(sweeps)
    return sim, res


@needs_both
@pytest.mark.parametrize("name,model,kw", CASES, ids=[c[0] for c in CASES])
def test_cpp_equals_numba(name, model, kw):
    a, ra = _run(model, kw, "cpp")
    b, rb = _run(model, kw, "numba")
    np.testing.assert_array_equal(a.spins, b.spins)
    np.testing.assert_array_equal(ra.energy_series, rb.energy_series)
    np.testing.assert_array_equal(ra.magnetization_series, rb.magnetization_series)
    # the kernels' measurements agree with the model's energy function
    E, M = a.measure()
    assert E == pytest.approx(float(model.energy(a.spins)), abs=1e-9)
    assert M == int(a.spins.sum())


def test_updates_change_the_lattice():
    sim = lattice.Simulation(lattice.Ising((8, 8)), beta=0.3, seed=1)
    s0 = sim.spins
    sim.run(1)
    assert (sim.spins != s0).any()


@pytest.mark.skipif("cpp" not in BACKENDS, reason="needs the cpp backend")
@pytest.mark.parametrize("kw", [dict(update="metropolis"), dict(update="heat_bath"),
                                dict(update="metropolis", storage="multispin"),
                                dict(update="heat_bath", storage="multispin"),
                                dict(update="wolff"), dict(update="swendsen_wang")],
                         ids=lambda kw: "-".join(kw.values()))
def test_one_and_two_threads_identical(kw, threads):
    model = lattice.Ising((96, 128))  # big enough for the parallel loops
    physdl.set_num_threads(1)
    a, ra = _run(model, kw, "cpp", sweeps=3)
    physdl.set_num_threads(2)
    b, rb = _run(model, kw, "cpp", sweeps=3)
    np.testing.assert_array_equal(a.spins, b.spins)
    np.testing.assert_array_equal(ra.energy_series, rb.energy_series)


@pytest.mark.skipif("cpp" not in BACKENDS, reason="needs the cpp backend")
def test_threads_identical_general_couplings(threads):
    model = lattice.EdwardsAnderson((96, 96), couplings="gaussian", seed=9)
    physdl.set_num_threads(1)
    a, ra = _run(model, dict(update="metropolis"), "cpp", sweeps=3)
    physdl.set_num_threads(2)
    b, rb = _run(model, dict(update="metropolis"), "cpp", sweeps=3)
    np.testing.assert_array_equal(a.spins, b.spins)
    np.testing.assert_array_equal(ra.energy_series, rb.energy_series)


@pytest.mark.parametrize("kw", [dict(update="metropolis"), dict(update="heat_bath", storage="multispin"),
                                dict(update="wolff"), dict(update="swendsen_wang")],
                         ids=lambda kw: "-".join(kw.values()))
def test_save_resume_bit_identical(tmp_path, cpu_backend, kw):
    model = lattice.Ising((8, 12), h=0.0)
    full = lattice.Simulation(model, beta=0.42, seed=77, backend=cpu_backend, **kw)
    r_full = full.run(40)
    half = lattice.Simulation(model, beta=0.42, seed=77, backend=cpu_backend, **kw)
    r1 = half.run(20)
    path = tmp_path / "state.npz"
    half.save(path)
    resumed = lattice.Simulation.load(path)
    r2 = resumed.run(20)
    np.testing.assert_array_equal(full.spins, resumed.spins)
    np.testing.assert_array_equal(r_full.energy_series, np.concatenate([r1.energy_series, r2.energy_series]))


def test_save_resume_spin_glass(tmp_path):
    model = lattice.SherringtonKirkpatrick(16, seed=5)
    full = lattice.Simulation(model, beta=1.5, seed=3)
    full.run(30)
    half = lattice.Simulation(model, beta=1.5, seed=3)
    half.run(15)
    half.save(tmp_path / "sk.npz")
    resumed = lattice.Simulation.load(tmp_path / "sk.npz")
    resumed.run(15)
    np.testing.assert_array_equal(full.spins, resumed.spins)


def test_pack_unpack_roundtrip():
    rng = np.random.default_rng(0)
    for shape in [(2, 2), (4, 6), (6, 130), (8, 256)]:
        s = np.where(rng.random(shape) < 0.5, 1, -1).astype(np.int8)
        w = pack_multispin(s)
        assert w.shape == multispin_words_shape(*shape)
        np.testing.assert_array_equal(unpack_multispin(w, *shape), s)


def _reference_multispin_sweep(spins, update, beta, J, h, seed, chain, sweep):
    """One sweep written from the multispin.hpp specification alone, site by site in NumPy."""
    ly, lx = spins.shape
    n = lx // 2
    nw = (n + 63) // 64
    s = spins.astype(np.int64).copy()
    for c in (0, 1):
        stream = (chain << 40) | (2 * sweep + c)
        # all 53 digits of every spin: block counter (y*nw + q)*32 + k//2, R_k from lanes (0,1) / (2,3)
        words = physdl.random.uint32((ly * nw, 32 * 4), seed=seed, stream=stream, backend="numba")
        w64 = words.astype(np.uint64).reshape(ly * nw, 32, 2, 2)
        R = (w64[..., 0] | (w64[..., 1] << np.uint64(32))).reshape(ly * nw, 64)[:, :53]  # R_k, k = 0..52
        y = np.arange(ly)[:, None]
        m = np.arange(n)[None, :]
        x = 2 * m + ((y + c) & 1)
        q, b = m // 64, m % 64
        digits = (R[(y * nw + q)[..., None], np.arange(53)] >> b[..., None].astype(np.uint64)) & np.uint64(1)
        U = np.zeros((ly, n), dtype=object)
        for k in range(53):
            U = U + digits[..., k].astype(object) * (1 << (52 - k))
        nb = s[(y - 1) % ly, x] + s[(y + 1) % ly, x] + s[y, (x - 1) % lx] + s[y, (x + 1) % lx]
        own = s[y, x]
        if update == "metropolis":
            a = (4 - own * nb) // 2
            p = np.minimum(1.0, np.exp(-beta * (2 * J * (4 - 2 * a) + 2 * h * own)))
        else:
            p = 1.0 / (1.0 + np.exp(-2.0 * beta * (J * nb + h)))
        P = np.where(p >= 1.0, 1 << 53, np.ceil(p * 2.0**53)).astype(np.int64).astype(object)
        acc = U < P
        s[y, x] = np.where(acc, -own, own) if update == "metropolis" else np.where(acc, 1, -1)
    return s.astype(np.int8)


@pytest.mark.parametrize("update", ["metropolis", "heat_bath"])
@pytest.mark.parametrize("shape", [(4, 4), (6, 130)])
def test_multispin_matches_documented_addressing(cpu_backend, update, shape):
    model = lattice.Ising(shape, J=1.0, h=0.2)
    sim = lattice.Simulation(model, beta=0.4, update=update, storage="multispin", seed=99, chain=1,
                             backend=cpu_backend)
    ref = sim.spins
    for t in range(3):
        ref = _reference_multispin_sweep(ref, update, 0.4, 1.0, 0.2, 99, 1, t)
        sim.run(1)
        np.testing.assert_array_equal(sim.spins, ref)


@pytest.mark.skipif("cpp" not in BACKENDS, reason="needs the cpp backend")
@pytest.mark.parametrize("update", ["metropolis", "heat_bath"])
@pytest.mark.parametrize("shape,h", [((4, 4), 0.0), ((6, 130), 0.3), ((64, 256), -0.2), ((8, 1000), 0.0)])
def test_fast_multispin_equals_header_reference(update, shape, h):
    """The optimised CPU kernel equals multispin::update_site_word, the header the CUDA port shares."""
    core = physdl._backend.module("cpp").lattice
    model = lattice.Ising(shape, J=1.0, h=h)
    sim = lattice.Simulation(model, beta=0.42, update=update, storage="multispin", seed=2**63 + 5, chain=7,
                             backend="cpp")
    words = sim._words.copy()
    sim.run(4)
    code = 0 if update == "metropolis" else 1
    grouped = words.copy()
    core.multispin_reference_sweeps(words, shape[0], shape[1], code, sim._table, sim.seed, sim.chain, 0, 4)
    np.testing.assert_array_equal(words, sim._words)
    # the grouped form (the CUDA kernel's), in its by-count and general shapes, gives the same words
    general = grouped.copy()
    core.multispin_reference_sweeps(grouped, shape[0], shape[1], code, sim._table, sim.seed, sim.chain, 0, 4,
                                    grouped=True)
    np.testing.assert_array_equal(grouped, sim._words)
    core.multispin_reference_sweeps(general, shape[0], shape[1], code, sim._table, sim.seed, sim.chain, 0, 4,
                                    grouped=True, by_count=False)
    np.testing.assert_array_equal(general, sim._words)


@pytest.mark.skipif("cpp" not in BACKENDS, reason="needs the cpp backend")
@pytest.mark.parametrize("update", ["metropolis", "heat_bath"])
@pytest.mark.parametrize("beta,J,h", [(1e-300, 1.0, 0.0), (300.0, 1.0, 0.0), (300.0, 1.0, 0.5), (0.3, -1.0, 2.5),
                                      (0.4406868, 1.0, 1e-12), (2.0, 0.5, -1.0)])
def test_grouped_form_edge_thresholds(update, beta, J, h):
    """Thresholds of exactly 0 and 1, one group, many groups: grouped and per-class forms agree."""
    core = physdl._backend.module("cpp").lattice
    shape = (10, 140)
    sim = lattice.Simulation(lattice.Ising(shape, J=J, h=h), beta=beta, update=update, storage="multispin",
                             seed=99, backend="cpp")
    code = 0 if update == "metropolis" else 1
    a = sim._words.copy()
    b = sim._words.copy()
    core.multispin_reference_sweeps(a, shape[0], shape[1], code, sim._table, sim.seed, sim.chain, 0, 3)
    core.multispin_reference_sweeps(b, shape[0], shape[1], code, sim._table, sim.seed, sim.chain, 0, 3,
                                    grouped=True)
    np.testing.assert_array_equal(a, b)
    c = sim._words.copy()  # the general grouped shape, also where the by-count shape applies
    core.multispin_reference_sweeps(c, shape[0], shape[1], code, sim._table, sim.seed, sim.chain, 0, 3,
                                    grouped=True, by_count=False)
    np.testing.assert_array_equal(a, c)
    sim.run(3)
    np.testing.assert_array_equal(b, sim._words)


@needs_both
@pytest.mark.parametrize("kw,shape,geometry", [(dict(update="metropolis"), (96, 128), "square"),
                                               (dict(update="heat_bath", storage="multispin"), (512, 128), "square"),
                                               (dict(update="metropolis"), (16, 16, 24), "cubic")],
                         ids=["byte-square", "multispin", "byte-cubic"])
def test_numba_parallel_kernels_equal_cpp(kw, shape, geometry):
    """Lattices large enough for the Numba prange kernels (and the cpp OpenMP loops)."""
    model = lattice.Ising(shape, geometry=geometry)
    a, ra = _run(model, kw, "cpp", sweeps=2)
    b, rb = _run(model, kw, "numba", sweeps=2)
    np.testing.assert_array_equal(a.spins, b.spins)
    np.testing.assert_array_equal(ra.energy_series, rb.energy_series)



_ISA_SCRIPT = r"""
import hashlib, numpy as np, physdl
from physdl import lattice
core = physdl._backend.module("cpp").lattice
digest = hashlib.sha256()
for threads in (1, 2):
    physdl.set_num_threads(threads)
    for update, code in (("metropolis", 0), ("heat_bath", 1)):
        for shape, beta, J, h in (((6, 130), 0.42, 1.0, 0.3), ((256, 512), 0.4406868, 1.0, 0.0),
                                  ((34, 2000), 0.9, -1.0, 0.2), ((64, 128), 0.05, 1.0, -0.1)):
            sim = lattice.Simulation(lattice.Ising(shape, J=J, h=h), beta=beta, update=update, storage="multispin",
                                     seed=11, chain=3, backend="cpp")
            words = sim._words.copy()
            sim.run(3)
            core.multispin_reference_sweeps(words, shape[0], shape[1], code, sim._table, sim.seed, sim.chain, 0, 3)
            assert np.array_equal(words, sim._words), (threads, update, shape)
        for shape in ((8, 6), (64, 200), (96, 1030), (256, 256)):
            sim = lattice.Simulation(lattice.Ising(shape), beta=0.4406868, update=update, storage="byte", seed=5,
                                     backend="cpp")
            sim.run(3)
            digest.update(np.ascontiguousarray(sim.spins).tobytes())
print(digest.hexdigest())
"""


@pytest.mark.skipif("cpp" not in BACKENDS, reason="needs the cpp backend")
def test_every_philox_path_gives_the_same_lattices():
    """Each Philox path of the fast kernels (scalar, AVX2, the widest the CPU has; chosen at load from
    PHYSDL_LATTICE_ISA, hence fresh interpreters): multi-spin words equal the header reference on 1
    and 2 threads in the critical, ordered, antiferromagnetic and hot regimes, and the byte lattices
    (whose widest path is checked against numba above) are the same on every path."""
    import os
    import subprocess
    import sys

    digests = []
    for isa in ("scalar", "avx2", None):
        env = dict(os.environ)
        env.pop("PHYSDL_LATTICE_ISA", None)
        if isa is not None:
            env["PHYSDL_LATTICE_ISA"] = isa
        proc = subprocess.run([sys.executable, "-c", _ISA_SCRIPT], env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        digests.append(proc.stdout.strip())
    assert len(digests[0]) == 64
    assert digests[0] == digests[1] == digests[2]


@pytest.mark.skipif("cpp" not in BACKENDS, reason="needs the cpp backend")
@pytest.mark.parametrize("update,h,ngroups,by_count", [("metropolis", 0.0, 2, True), ("heat_bath", 0.0, 5, True),
                                                       ("metropolis", 0.3, 5, False), ("heat_bath", 0.3, 5, True)])
def test_grouped_plan_shapes(update, h, ngroups, by_count):
    """The shapes the tests above exercise: 2 groups by count for Metropolis at h = 0, the general
    shape when the field splits the classes by their own sign."""
    core = physdl._backend.module("cpp").lattice
    sim = lattice.Simulation(lattice.Ising((4, 4), h=h), beta=0.42, update=update, storage="multispin", seed=1,
                             backend="cpp")
    plan = core.multispin_plan(0 if update == "metropolis" else 1, sim._table)
    assert plan["ngroups"] == ngroups
    assert plan["by_count"] is by_count
