"""Lattice Monte Carlo throughput: flips per nanosecond on square lattices, against an idiomatic
vectorised NumPy checkerboard measured in the same run (book eq. 5.69, 8.7).

Run with timings:  python -m pytest benchmarks/bench_lattice.py --benchmark-enable -s
Every implementation is also checked for correctness (energy per site against the exact
Kaufman value at high temperature), and the multi-spin memory of L = 65536 is computed from the
allocation the simulation would make.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

import physdl
from physdl import lattice
from physdl.lattice.exact import kaufman_thermodynamics

SIZES = (256, 1024, 4096)
BETA = 0.4406868
MIN_SECONDS = float(os.environ.get("PHYSDL_BENCH_SECONDS", "0.3"))
_RESULTS: dict = {}


def numpy_checkerboard(L, beta, seed):
    """What a NumPy user writes: np.roll neighbours, masks for the two colours, rng.random."""
    rng = np.random.default_rng(seed)
    s = rng.choice(np.array([-1, 1], dtype=np.int8), size=(L, L))
    ii, jj = np.indices((L, L))
    masks = [(ii + jj) % 2 == 0, (ii + jj) % 2 == 1]

    def sweep(k=1):
        for _ in range(k):
            _sweep()

    def _sweep():
        for mask in masks:
            nb = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
            dE = 2.0 * s * nb
            flip = mask & (rng.random(s.shape) < np.exp(-beta * dE))
            s[flip] *= -1

    def energy():
        return float(-(s * (np.roll(s, 1, 0) + np.roll(s, 1, 1))).sum()) / s.size

    return sweep, energy


def _timed(sweep_fn, n_sites, quick=False):
    """Flips per nanosecond of sweep_fn(k) (k sweeps per call, calls of >= 50 ms), best of 3.

    quick (benchmarks disabled, as in CI): one sweep, so the code path is exercised cheaply.
    """
    if quick:
        t0 = time.perf_counter()
        sweep_fn(1)
        return n_sites / (time.perf_counter() - t0) / 1e9
    sweep_fn(1)  # warm-up (JIT compilation, first touch)
    t = time.perf_counter()
    sweep_fn(1)
    k = max(1, int(0.05 / max(time.perf_counter() - t, 1e-6)))
    best, t_end = 0.0, time.perf_counter() + MIN_SECONDS
    for _ in range(3):
        t0 = time.perf_counter()
        sweep_fn(k)
        best = max(best, k * n_sites / (time.perf_counter() - t0) / 1e9)
        if time.perf_counter() > t_end:
            break
    return best


def _sim_sweeper(L, storage, backend, update="metropolis", beta=BETA):
    sim = lattice.Simulation(lattice.Ising((L, L)), beta=beta, update=update, storage=storage, seed=1, backend=backend)
    e, m = np.zeros(1), np.zeros(1, np.int64)
    return sim, (lambda k: sim._advance(k, 0, e, m))


def _set_threads(n):
    import numba

    physdl.set_num_threads(n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


@pytest.mark.parametrize("L", SIZES)
def test_flips_per_ns(benchmark, L):
    before = physdl.get_num_threads()
    try:
        _flips_per_ns(benchmark, L)
    finally:
        _set_threads(before)


def _flips_per_ns(benchmark, L):
    n = L * L
    rows = {}
    quick = benchmark.disabled
    counts = [1] if quick else sorted({1, os.cpu_count() or 1})
    for nt in counts:
        _set_threads(nt)
        for name, storage, backend in [("cpp multispin", "multispin", "cpp"), ("cpp byte", "byte", "cpp"),
                                       ("numba multispin", "multispin", "numba"), ("numba byte", "byte", "numba")]:
            sim, fn = _sim_sweeper(L, storage, backend)
            rows[(name, nt)] = _timed(fn, n, quick)
    _set_threads(max(counts))
    np_sweep, _ = numpy_checkerboard(L, BETA, 1)
    peer = _timed(np_sweep, n, quick)
    sim, fn = _sim_sweeper(L, "multispin", "cpp")
    benchmark.pedantic(fn, args=(1,), rounds=3, iterations=1)
    benchmark.extra_info.update({f"{k} {t}t": round(v, 4) for (k, t), v in rows.items()})
    benchmark.extra_info["numpy checkerboard"] = round(peer, 5)
    print(f"\nL = {L}: flips/ns (ratio to the NumPy checkerboard, {peer:.4f} flips/ns)")
    for (k, t), v in rows.items():
        print(f"  {k:16s} {t} thread(s) {v:9.4f} flips/ns  {v / peer:8.1f}x  ({v / t:.4f} per thread)")
    # sanity of the measurement itself: every implementation made progress
    assert peer > 0 and all(v > 0 for v in rows.values())


@pytest.mark.parametrize("storage", ["multispin", "byte"])
def test_benchmarked_kernels_are_correct(storage):
    """The timed kernels sample correctly: energy at beta = 0.3 on L = 64 against Kaufman."""
    model = lattice.Ising((64, 64))
    res = lattice.Simulation(model, beta=0.3, storage=storage, seed=5).run(4000, burn_in=200)
    exact = float(kaufman_thermodynamics(0.3, 64)["energy"])
    assert abs(res.energy.value - exact) < 4 * res.energy.error
    # and so does the NumPy peer (same observable, independent code)
    sweep, energy = numpy_checkerboard(64, 0.3, 2)
    for _ in range(100):
        sweep()
    es = []
    for _ in range(1000):
        sweep()
        es.append(energy())
    es = np.array(es)
    assert abs(es.mean() - exact) < 6 * es.std() / np.sqrt(es.size / 4)


@pytest.mark.parametrize("L", [256, 1024])
def test_wolff_throughput_at_tc(benchmark, L):
    if benchmark.disabled and L > 256:
        pytest.skip("the L = 1024 Wolff timing runs with --benchmark-enable only")
    sim = lattice.Simulation(lattice.Ising((L, L)), beta=BETA, update="wolff", seed=3, backend="cpp")
    sim.run(2)  # sets the clusters per sweep
    e, m = np.zeros(4), np.zeros(4, np.int64)
    f0, t0 = sim._flipped, time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < (0.0 if benchmark.disabled else MIN_SECONDS) or n == 0:
        sim._advance(1, 1, e, m)
        n += 1
    dt = time.perf_counter() - t0
    rate = (sim._flipped - f0) / dt / 1e9
    benchmark.pedantic(lambda: sim._advance(1, 0, e, m), rounds=3, iterations=1)
    benchmark.extra_info["wolff_flips_per_ns"] = round(rate, 4)
    print(f"\nWolff at Tc, L = {L}: {rate:.4f} spin flips/ns ({sim.clusters_per_sweep} clusters per sweep)")
    assert rate > 0
    assert -2.0 < e[0] / (L * L) < -1.0  # near Tc the energy per site is about -1.4


def test_multispin_memory_at_65536():
    """A 65536^2 multi-spin lattice (4.3e9 spins) takes 512 MiB: computed from the allocation size."""
    from physdl.lattice.simulation import multispin_words_shape

    L = 65536
    words = int(np.prod(multispin_words_shape(L, L)))
    assert words * 8 == 512 * 2**20
    sim = lattice.Simulation.__new__(lattice.Simulation)
    sim.model, sim.storage, sim.update = lattice.Ising((L, L)), "multispin", "metropolis"
    est = lattice.Simulation.memory_estimate(sim)
    assert 512 * 2**20 <= est <= 514 * 2**20
    print(f"\nmulti-spin L = 65536: {words * 8 / 2**20:.0f} MiB of spin words ({L * L:.3g} spins)")
