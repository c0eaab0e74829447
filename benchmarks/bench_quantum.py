"""physdl.quantum against NetKet in the same run: VMC step time, local energies per second, ED build.

Setting (issue 12): 1D Heisenberg ring, total S^z = 0, RBM alpha = 1 (real), Marshall sign rule,
exchange sampler on nearest-neighbour bonds with 16 chains, 1008 samples per step, sweep = L moves
between samples, SGD lr 0.01 with SR diagonal shift 0.1.  NetKet runs ``nk.driver.VMC`` with
``MetropolisExchange(d_max=1)`` and ``nk.optimizer.SR(diag_shift=0.1)`` on JAX CPU.

Correctness, asserted: physdl's local energies of NetKet's own samples, with NetKet's parameters
copied into the physdl RBM, equal NetKet's local energies; both ED builds give the same ground energy.

Threads: OpenMP / BLAS at ``PHYSDL_BENCH_THREADS`` (default 1), JAX single-threaded by XLA flags set
before it is imported (when this file imports it first).

``python benchmarks/bench_quantum.py [--full] [--repeat K]`` prints the table (``--full``: L = 16 and 22,
300 steps and the energy error after them; otherwise a few steps at L = 22 without the energy runs);
``--repeat K`` measures the step-time ratio K times, alternating physdl and NetKet, and prints its range.
Run it with ``PHYSDL_BENCH_THREADS=2`` on a quiet machine for the two-thread comparison.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import physdl._core as core
from physdl import quantum
from physdl.geometry import Lattice
from physdl.quantum.vmc import RBM, VMC, local_energy, marshall_mask

THREADS = int(os.environ.get("PHYSDL_BENCH_THREADS", "1"))


def _netket():
    try:
        import netket as nk
    except ImportError:
        return None
    return nk


def netket_setup(nk, L, seed=0):
    g = nk.graph.Chain(L, pbc=True)
    hi = nk.hilbert.Spin(0.5, N=L, total_sz=0)
    H = nk.operator.Heisenberg(hi, graph=g, J=1.0, sign_rule=True)
    sampler = nk.sampler.MetropolisExchange(hi, graph=g, n_chains=16, d_max=1)
    model = nk.models.RBM(alpha=1, param_dtype=float)
    vs = nk.vqs.MCState(sampler, model, n_samples=1008, seed=seed, sampler_seed=seed)
    drv = nk.driver.VMC(H, nk.optimizer.Sgd(learning_rate=0.01), variational_state=vs,
                        preconditioner=nk.optimizer.SR(diag_shift=0.1))
    return g, hi, H, vs, drv


def physdl_setup(L, seed=0):
    lat = Lattice("chain", L)
    H = quantum.heisenberg(lat)
    psi = RBM(L, alpha=1, seed=seed, sign_mask=marshall_mask(lat))
    vmc = VMC(H, psi, n_samples=1008, n_chains=16, sampler="exchange", sr=0.1, lr=0.01, seed=seed)
    return H, psi, vmc


def copy_params(vs, psi):
    p = vs.parameters
    a = np.asarray(p["visible_bias"])
    b = np.asarray(p["Dense"]["bias"])
    W = np.asarray(p["Dense"]["kernel"]).T
    psi.params = np.concatenate([a, b, W.reshape(-1)])


def netket_states_to_bits(sigma):
    s = np.asarray(sigma).reshape(-1, np.asarray(sigma).shape[-1])
    w = np.uint64(1) << np.arange(s.shape[1], dtype=np.uint64)
    return ((s > 0).astype(np.uint64) * w).sum(axis=1).astype(np.uint64)


def timed(f, n):
    t = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t) / n


def compare(L=12, steps=5, energy_steps=0):
    """Times (seconds per step) of physdl and NetKet; with energy_steps, their relative errors after them."""
    nk = _netket()
    out = {"L": L}
    core.set_num_threads(THREADS)
    with threadpool_limits(THREADS):
        H, psi, vmc = physdl_setup(L)
        vmc.step()
        out["physdl_step"] = timed(vmc.step, steps)
        flat = vmc.last_samples.reshape(-1)
        out["physdl_eloc"] = timed(lambda: local_energy(H, psi, flat), steps) / flat.size
        if nk is not None:
            g, hi, Hn, vs, drv = netket_setup(nk, L)
            drv.run(2, out=None, show_progress=False)          # compile
            t = time.perf_counter()
            drv.run(steps, out=None, show_progress=False)
            out["netket_step"] = (time.perf_counter() - t) / steps
            # correctness: the same local energies on NetKet's samples with NetKet's parameters
            copy_params(vs, psi)
            sig = vs.samples
            el_nk = np.asarray(vs.local_estimators(Hn).data).reshape(-1).real
            bits = netket_states_to_bits(sig)
            el = local_energy(H, psi, bits)
            assert np.allclose(el, el_nk, rtol=1e-9, atol=1e-9)
            np.asarray(vs.local_estimators(Hn).data)          # compile
            t = time.perf_counter()
            for _ in range(steps):
                np.asarray(vs.local_estimators(Hn).data)
            out["netket_eloc"] = (time.perf_counter() - t) / steps / bits.size
        if energy_steps:
            hs = quantum.SpinHilbert(L, 0)
            e0 = quantum.ground_state(H, hs).energies[0]
            H2, psi2, vmc2 = physdl_setup(L)
            t = time.perf_counter()
            vmc2.run(energy_steps)
            out["physdl_run_s"] = time.perf_counter() - t
            out["physdl_err"] = abs(vmc2.estimate(8064).value - e0) / abs(e0)
            if nk is not None:
                g, hi, Hn, vs, drv = netket_setup(nk, L)
                t = time.perf_counter()
                drv.run(energy_steps, out=None, show_progress=False)
                out["netket_run_s"] = time.perf_counter() - t
                vs.n_samples = 8064
                out["netket_err"] = abs(float(vs.expect(Hn).mean.real) - e0) / abs(e0)
    return out


def ed_compare(L=14):
    nk = _netket()
    res = {"L": L}
    lat = Lattice("chain", L)
    with threadpool_limits(THREADS):
        core.set_num_threads(THREADS)
        t = time.perf_counter()
        M = quantum.heisenberg(lat).to_sparse(quantum.SpinHilbert(L, 0))
        res["physdl_build"] = time.perf_counter() - t
        import scipy.sparse.linalg as ssl

        e_ours = ssl.eigsh(M, k=1, which="SA")[0][0]
        if nk is not None:
            g = nk.graph.Chain(L, pbc=True)
            hi = nk.hilbert.Spin(0.5, N=L, total_sz=0)
            Hn = nk.operator.Heisenberg(hi, graph=g, sign_rule=False)
            Hn.to_sparse()                                     # first call compiles
            t = time.perf_counter()
            Mn = Hn.to_sparse()
            res["netket_build"] = time.perf_counter() - t
            e_nk = ssl.eigsh(Mn, k=1, which="SA")[0][0]
            assert abs(e_ours - e_nk) < 1e-8
    return res


def ed24(n=24):
    """Exact diagonalisation at ``n`` spins, S^z = 0: the memory estimate made before the build, the
    build and Lanczos times, the matrix's bytes, the peak resident memory, and E0 / N against the
    Bethe-ansatz limit with its conformal correction."""
    import math
    import resource

    from physdl.quantum.operators import memory_estimate

    H, hs = quantum.heisenberg(Lattice("chain", n)), quantum.SpinHilbert(n, 0)
    res = {"n": n, "dim": hs.dim, "estimate_bytes": memory_estimate(H, hs)}
    t = time.perf_counter()
    M = H.to_sparse(hs)
    res["build_s"] = time.perf_counter() - t
    res["matrix_bytes"] = M.data.nbytes + M.indices.nbytes + M.indptr.nbytes
    del M
    t = time.perf_counter()
    e0 = quantum.ground_state(H, hs).energies[0]
    res["total_s"] = time.perf_counter() - t + res["build_s"]
    res["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    res["e0"] = e0
    res["e0_per_site"] = e0 / n
    res["bethe_trend"] = 1.0 - 4.0 * math.log(2.0) - math.pi**2 / (3 * n**2)
    return res


def recipe22(steps=300):
    """The documented L = 22 recipe (``VMC`` docstring): wall time of the VMC run and its relative error."""
    lat = Lattice("chain", 22)
    H = quantum.heisenberg(lat)
    e0 = quantum.ground_state(H, quantum.SpinHilbert(22, 0)).energies[0]
    core.set_num_threads(THREADS)
    with threadpool_limits(THREADS):
        vmc = VMC(H, RBM(22, alpha=1, seed=1, sign_mask=marshall_mask(lat)), n_samples=1008, n_chains=16,
                  sampler="exchange", sr=0.01, lr=0.02, seed=0)
        t = time.perf_counter()
        vmc.run(steps)
        wall = time.perf_counter() - t
        est = vmc.estimate(8064)
    return {"steps": steps, "wall_s": wall, "rel_err": abs(est.value - e0) / abs(e0), "estimate": str(est)}


def test_vmc_step_and_local_energies_vs_netket(benchmark=None):
    r = compare(L=10, steps=2)
    assert r["physdl_step"] > 0
    if "netket_step" not in r:
        pytest.skip("NetKet is not installed: the correctness check against it did not run")


def test_ed_build_vs_netket():
    r = ed_compare(L=12)
    assert r["physdl_build"] > 0


def step_ratios(L=22, repeat=3, steps=15):
    """NetKet time over physdl time per VMC step, measured ``repeat`` times alternately in one process."""
    nk = _netket()
    if nk is None:
        return []
    core.set_num_threads(THREADS)
    out = []
    with threadpool_limits(THREADS):
        H, psi, vmc = physdl_setup(L)
        g, hi, Hn, vs, drv = netket_setup(nk, L)
        vmc.step()
        drv.run(2, out=None, show_progress=False)
        for _ in range(repeat):
            tp = timed(vmc.step, steps)
            t = time.perf_counter()
            drv.run(steps, out=None, show_progress=False)
            tn = (time.perf_counter() - t) / steps
            out.append((tp, tn))
    return out


if __name__ == "__main__":
    full = "--full" in sys.argv
    if "--recipe" in sys.argv:
        print(recipe22())
        sys.exit(0)
    if "--ed24" in sys.argv:
        print(ed24())
        sys.exit(0)
    if "--repeat" in sys.argv:
        k = int(sys.argv[sys.argv.index("--repeat") + 1])
        rs = step_ratios(22, k)
        for tp, tn in rs:
            print(f"L=22 threads={THREADS}: physdl {tp * 1e3:.1f} ms/step, NetKet {tn * 1e3:.1f} ms/step, "
                  f"ratio {tn / tp:.2f}x", flush=True)
        if rs:
            q = [tn / tp for tp, tn in rs]
            print(f"ratio range {min(q):.2f}x - {max(q):.2f}x over {len(q)} alternations")
        sys.exit(0)
    rows = [compare(L, steps=20, energy_steps=300) for L in (16, 22)] if full else [compare(22, steps=10)]
    for r in rows:
        line = f"L={r['L']}: physdl {r['physdl_step'] * 1e3:.1f} ms/step, E_loc {1e6 * r['physdl_eloc']:.2f} us"
        if "netket_step" in r:
            line += (f"; NetKet {r['netket_step'] * 1e3:.1f} ms/step, E_loc {1e6 * r['netket_eloc']:.2f} us; "
                     f"step ratio {r['netket_step'] / r['physdl_step']:.1f}x, E_loc ratio "
                     f"{r['netket_eloc'] / r['physdl_eloc']:.1f}x")
        print(line)
        if "physdl_err" in r:
            print(f"   300 steps: physdl {r['physdl_run_s']:.1f} s rel.err {r['physdl_err']:.1e}; "
                  f"NetKet {r.get('netket_run_s', float('nan')):.1f} s rel.err {r.get('netket_err', float('nan')):.1e}")
    for L in ((16, 20) if full else (14,)):
        e = ed_compare(L)
        print(f"ED build L={L} Sz=0: physdl {e['physdl_build']:.3f} s, NetKet {e.get('netket_build', float('nan')):.3f} s"
              f" ({e.get('netket_build', float('nan')) / e['physdl_build']:.1f}x)")
