"""Energy-based models against the peers a physicist would use, in the same run.

* RBM training, PCD-1 (binary units, batch 100, learning rate 0.01) on Ising configurations:
  physdl (C++ Gibbs kernel with BLAS products, float64 and float32) against scikit-learn's
  ``BernoulliRBM`` (its float64 default and float32), seconds per epoch; the benchmark asserts that
  physdl's pseudo-log-likelihood after the same epochs is at least sklearn's (both scored by the
  same exact all-site pseudo-likelihood) minus a small tolerance.
* Hopfield asynchronous updates: physdl's kernel (fields kept up to date, O(N) per flip) against a
  NumPy loop of the same algorithm, single-spin updates per second, from corrupted patterns; both
  must recall the pattern.

Threads: BLAS and the core use ``PHYSDL_BENCH_THREADS`` (default 1).  ``python benchmarks/bench_ebm.py``
prints the table at the issue's sizes (400 x 400, 10,000 configurations, with the BLAS floor and the time
to a held-out AIS log-likelihood; Hopfield N = 10^4; ``--slmc`` adds tau_int against L = 16-48, minutes;
``--no-ais`` skips the likelihood race, ``--rbm-only`` prints only the speed table, ``--pll`` adds the pseudo-likelihood over 5 seeds); the pytest functions run small sizes and check correctness.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import physdl
from physdl import hopfield as H
from physdl.boltzmann import RBM

THREADS = int(os.environ.get("PHYSDL_BENCH_THREADS", "1"))
sklearn_rbm = pytest.importorskip("sklearn.neural_network", reason="the benchmark compares with scikit-learn")


def ising_data(L, n, T=2.5, seed=0):
    from physdl.lattice import Ising, Simulation
    X = Simulation(Ising((L, L)), T=T, seed=seed).configurations(n, every=2, burn_in=200)
    return (X.reshape(n, -1) > 0).astype(np.float64)  # {0, 1} units for BernoulliRBM


def train_physdl(X, nh, epochs, dtype, seed=1):
    rbm = RBM(X.shape[1], nh, units="binary", dtype=dtype, seed=seed, init_std=0.01)
    Xd = X.astype(dtype)  # the conversion is not training: outside the timer (for both libraries)
    t = time.perf_counter()
    rbm.fit(Xd, epochs=epochs, learning_rate=0.01, batch_size=100, k=1, method="pcd", monitor=False)
    return rbm, (time.perf_counter() - t) / epochs


def train_sklearn(X, nh, epochs, dtype, seed=1):
    m = sklearn_rbm.BernoulliRBM(n_components=nh, learning_rate=0.01, batch_size=100, n_iter=epochs,
                                 random_state=seed)
    Xd = X.astype(dtype)
    t = time.perf_counter()
    m.fit(Xd)
    sec = (time.perf_counter() - t) / epochs
    r = RBM(X.shape[1], nh, units="binary")
    r.set_parameters(m.components_.T, m.intercept_visible_, m.intercept_hidden_)
    return r, sec


def blas_floor(nv, nh, B, n_batches, dtype, repeats=3):
    """Seconds per epoch of the five B x nv x nh products of a PCD-1 step alone, with the same BLAS
    the core calls (SciPy's): V W, H W^T, V W and the rank-2B update A^T G (two products' worth)."""
    from scipy.linalg import blas
    gemm = blas.sgemm if dtype == np.float32 else blas.dgemm
    g = np.random.default_rng(0)
    W = np.asfortranarray(g.random((nv, nh), dtype=np.float64).astype(dtype))
    V = np.asfortranarray(g.random((B, nv)).astype(dtype))
    H = np.asfortranarray(g.random((B, nh)).astype(dtype))
    A = np.asfortranarray(g.random((2 * B, nv)).astype(dtype))
    G = np.asfortranarray(g.random((2 * B, nh)).astype(dtype))
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n_batches):
            gemm(1.0, V, W)
            gemm(1.0, H, W, trans_b=1)
            gemm(1.0, V, W)
            gemm(1.0, A, G, trans_a=1, beta=1.0, c=W, overwrite_c=1)
        best = min(best, time.perf_counter() - t)
    return best


def rbm_table(L=20, n=10000, nh=400, epochs=3, repeats=1):
    """Seconds per epoch (best of ``repeats``) and the held-out pseudo-log-likelihood per site (500
    configurations of an independent Monte Carlo run) after ``epochs`` epochs.  Each training run is
    followed at once by the BLAS floor of its precision over the same number of epochs, so that the
    two share the machine's load; ``ratio`` is the median over the repeats of time / that floor."""
    X = ising_data(L, n)
    held = ising_data(L, min(500, n), seed=7)
    cases = (("physdl f64", train_physdl, np.float64), ("physdl f32", train_physdl, np.float32),
             ("sklearn f64", train_sklearn, np.float64), ("sklearn f32", train_sklearn, np.float32))
    times = {name: [] for name, _, _ in cases}
    times.update({"BLAS floor f64": [], "BLAS floor f32": []})
    ratios = {name: [] for name, _, _ in cases}
    pll = {}
    with threadpool_limits(THREADS):
        physdl.set_num_threads(THREADS)
        for _ in range(repeats):
            for name, fn, dt in cases:
                r, sec = fn(X, nh, epochs, dt)
                fl = blas_floor(X.shape[1], nh, 100, epochs * (n // 100), dt, repeats=1) / epochs
                times[name].append(sec)
                times["BLAS floor f32" if dt == np.float32 else "BLAS floor f64"].append(fl)
                ratios[name].append(sec / fl)
                pll[name] = float(np.mean(r.pseudo_log_likelihood(held))) / X.shape[1]
    return {name: (min(t), pll.get(name, float("nan")), float(np.median(ratios[name])) if name in ratios else 1.0)
            for name, t in times.items()}


def train_sklearn_in_order(X, nh, epochs, dtype, seed=1):
    """scikit-learn's update, fed the minibatches in physdl's order: ``partial_fit`` per minibatch on
    the order physdl's ``fit`` draws for each epoch (sklearn's own ``fit`` visits the rows in their
    stored order every epoch; partial_fit scales the step by the minibatch size as fit does)."""
    from physdl.boltzmann import _SHUFFLE, _stream
    from physdl.random import uniform
    m = sklearn_rbm.BernoulliRBM(n_components=nh, learning_rate=0.01, batch_size=100, random_state=seed)
    Xd = X.astype(dtype)
    n = X.shape[0]
    for ep in range(epochs):
        order = np.argsort(uniform(n, seed=seed, stream=_stream(_SHUFFLE), offset=ep * n), kind="stable")
        for s0 in range(0, n - 99, 100):
            m.partial_fit(Xd[order[s0:s0 + 100]])
    r = RBM(X.shape[1], nh, units="binary")
    r.set_parameters(m.components_.T, m.intercept_visible_, m.intercept_hidden_)
    return r


def pll_over_seeds(L=20, n=10000, nh=400, epochs=3, seeds=(1, 2, 3, 4, 5)):
    """Held-out pseudo-log-likelihood per site after ``epochs`` epochs, mean and standard error over
    training seeds: physdl (f32, f64), sklearn's ``fit`` (its order: the stored one, no shuffling)
    and sklearn's update in physdl's shuffled order; on the training rows X[:500] too (the earlier
    comparison's set, which sklearn's unshuffled epochs visit first)."""
    X = ising_data(L, n)
    held = ising_data(L, 500, seed=7)
    out = {}
    with threadpool_limits(THREADS):
        physdl.set_num_threads(THREADS)
        for name in ("physdl f32", "physdl f64", "sklearn f64", "sklearn f64, physdl's order"):
            vals = []
            for sd in seeds:
                if name.startswith("physdl"):
                    r, _ = train_physdl(X, nh, epochs, np.float32 if name.endswith("f32") else np.float64, seed=sd)
                elif "order" in name:
                    r = train_sklearn_in_order(X, nh, epochs, np.float64, seed=sd)
                else:
                    r, _ = train_sklearn(X, nh, epochs, np.float64, seed=sd)
                vals.append((float(np.mean(r.pseudo_log_likelihood(held))) / X.shape[1],
                             float(np.mean(r.pseudo_log_likelihood(X[:500]))) / X.shape[1]))
            v = np.array(vals)
            out[name] = (v.mean(0), v.std(0, ddof=1) / np.sqrt(len(seeds)), v)
    return out


def time_to_likelihood(L=20, n=10000, nh=400, epochs=6, n_chains=100, n_betas=400):
    """Training seconds for each library to first reach the held-out AIS log-likelihood (per site) that
    scikit-learn float64 reaches after ``epochs`` epochs (minus two AIS errors)."""
    X = ising_data(L, n, seed=0)
    held = ising_data(L, 500, seed=7)
    curves = {}
    with threadpool_limits(THREADS):
        physdl.set_num_threads(THREADS)
        for name in ("physdl f32", "physdl f64", "sklearn f64", "sklearn f32"):
            dt = np.float32 if name.endswith("f32") else np.float64
            Xd = X.astype(dt)
            m = RBM(X.shape[1], nh, units="binary", dtype=dt, seed=1, init_std=0.01)
            t_train, pts = 0.0, []
            for ep in range(epochs):
                if name.startswith("physdl"):
                    t = time.perf_counter()
                    m.fit(Xd, epochs=1, learning_rate=0.01, batch_size=100, k=1, method="pcd", monitor=False)
                    t_train += time.perf_counter() - t
                    r = m
                else:
                    # a fresh fit of ep + 1 epochs (the same trajectory, its own fit loop, timed whole)
                    sk = sklearn_rbm.BernoulliRBM(n_components=nh, learning_rate=0.01, batch_size=100,
                                                  n_iter=ep + 1, random_state=1)
                    t = time.perf_counter()
                    sk.fit(Xd)
                    t_train = time.perf_counter() - t
                    r = RBM(X.shape[1], nh, units="binary")
                    r.set_parameters(sk.components_.T, sk.intercept_visible_, sk.intercept_hidden_)
                est = r.ais(n_chains=n_chains, n_betas=n_betas, seed=11)
                ll = (float(np.mean(-r.free_energy(held))) - est.value) / X.shape[1]
                pts.append((t_train, ll, est.error / X.shape[1]))
            curves[name] = pts
    target = curves["sklearn f64"][-1][1] - 2 * curves["sklearn f64"][-1][2]
    reach = {k: next((t for t, ll, _ in v if ll >= target), float("inf")) for k, v in curves.items()}
    return target, reach, curves


def hopfield_numpy(W, s, max_sweeps, rng):
    """The same algorithm in NumPy: random sequential sweeps, local fields updated on each flip."""
    s = s.astype(np.float64).copy()
    h = W @ s
    n = s.size
    updates = 0
    for _ in range(max_sweeps):
        flips = 0
        for i in rng.permutation(n):
            new = 1.0 if h[i] > 0 else -1.0
            updates += 1
            if new != s[i]:
                h += 2.0 * new * W[i]
                s[i] = new
                flips += 1
        if flips == 0:
            break
    return s.astype(np.int8), updates


def hopfield_table(N=5000, alpha=0.05, noise=0.2, n_starts=2):
    P = int(alpha * N)
    xi = H.random_patterns(P, N, seed=1)
    net = H.Hopfield.from_patterns(xi)
    start = H.corrupt(xi[:n_starts], noise, seed=2)
    with threadpool_limits(THREADS):
        physdl.set_num_threads(THREADS)
        t = time.perf_counter()
        res = net.run(start, seed=3)
        t_cpp = time.perf_counter() - t
        upd_cpp = int((res.sweeps * N).sum())
        t = time.perf_counter()
        rng = np.random.default_rng(0)
        outs, upd_np = [], 0
        for s in start:
            o, u = hopfield_numpy(net.J, s, 100, rng)
            outs.append(o)
            upd_np += u
        t_np = time.perf_counter() - t
    ok_cpp = np.all(H.overlaps(res.states, xi[:n_starts]).diagonal() == 1.0)
    ok_np = np.all(H.overlaps(np.array(outs), xi[:n_starts]).diagonal() == 1.0)
    return {"physdl cpp": (upd_cpp / t_cpp, ok_cpp), "numpy loop": (upd_np / t_np, ok_np)}


def slmc_table(Ls=(16, 24, 32, 40, 48), n_local=200000, n_slmc=50000, seed=1):
    """tau_int(|m|) at T_c of the plaquette model, local Metropolis (per sweep) against SLMC (per
    proposal), with the speed-up in sweeps and in wall time (tau x seconds per sweep / proposal)."""
    from physdl.slmc import autocorrelation_comparison
    rows = {}
    with threadpool_limits(THREADS):
        physdl.set_num_threads(THREADS)
        for L in Ls:
            r = autocorrelation_comparison(L, n_train=2000, n_local=n_local, n_slmc=n_slmc, seed=seed)
            tl, ts = r["tau_local"], r["tau_slmc"]
            ratio = tl.value / ts.value
            ratio_err = ratio * np.hypot(tl.error / tl.value, ts.error / ts.value)
            wall = (tl.value * r["seconds_per_local"]) / (ts.value * r["seconds_per_slmc"])
            rows[L] = (tl, ts, ratio, ratio_err, wall, r["acceptance"], r["mean_cluster"])
    return rows


@pytest.mark.slow
def test_slmc_tau_against_L():
    rows = slmc_table(Ls=(16, 32), n_local=60000, n_slmc=20000)
    for L, (tl, ts, ratio, err, wall, acc, cl) in rows.items():
        assert ratio > 1.0 and np.isfinite(wall), rows
    assert rows[32][2] > rows[16][2] - 2 * np.hypot(rows[32][3], rows[16][3])  # the gain does not fall with L


def test_rbm_speed_and_quality_small():
    rows = rbm_table(L=8, n=1000, nh=64, epochs=3)
    for name in ("physdl f64", "physdl f32"):
        assert rows[name][1] >= rows["sklearn f64"][1] - 0.02, rows
    assert all(np.isfinite(v[0]) and v[0] > 0 for v in rows.values())


def test_hopfield_updates_small():
    rows = hopfield_table(N=400, alpha=0.05, noise=0.15, n_starts=2)
    assert rows["physdl cpp"][1] and rows["numpy loop"][1]


def main():
    print(f"threads: {THREADS}  load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rows = rbm_table(repeats=3)
    print("RBM PCD-1 400x400, 10000 Ising configurations (20x20, T=2.5), batch 100, lr 0.01 (best of 3 runs of "
          "3 epochs; 'x floor' = best / best floor, 'paired' = median of each run / the floor run right after it)")
    for k, (sec, pll, ratio) in rows.items():
        f = rows["BLAS floor f32" if k.endswith("f32") else "BLAS floor f64"][0]
        print(f"  {k:15s} {sec:.3f} s/epoch  x floor {sec / f:.2f} (paired {ratio:.2f})  "
              f"sklearn-f64/this {rows['sklearn f64'][0] / sec:.2f}  sklearn-f32/this {rows['sklearn f32'][0] / sec:.2f}  "
              f"held-out PLL/site {pll:.4f}")
    print(f"  load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if "--rbm-only" in sys.argv:
        return 0
    if "--pll" in sys.argv:
        print("held-out (and training-row) pseudo-log-likelihood per site after 3 epochs, 5 seeds: mean +- s.e.")
        for k, (m, e, v) in pll_over_seeds().items():
            print(f"  {k:28s} held-out {m[0]:.5f} +- {e[0]:.5f}   X[:500] {m[1]:.5f} +- {e[1]:.5f}   "
                  f"per seed {' '.join(f'{x:.4f}' for x in v[:, 0])}")
    if "--no-ais" not in sys.argv:
        target, reach, curves = time_to_likelihood()
        print(f"time to the held-out AIS log-likelihood/site {target:.4f} (sklearn f64 after 6 epochs, less 2 errors)")
        for k, t in reach.items():
            print(f"  {k:12s} {t:.2f} s   curve " + " ".join(f"{ll:.4f}+-{e:.4f}" for _, ll, e in curves[k]))
    if "--slmc" in sys.argv:
        print("SLMC on the plaquette Ising model at T_c = 2.493: tau_int(|m|)")
        for L, (tl, ts, ratio, err, wall, acc, cl) in slmc_table().items():
            print(f"  L = {L:2d}  local {tl} sweeps  SLMC {ts} proposals  ratio {ratio:.1f} +- {err:.1f}  "
                  f"wall-time speed-up {wall:.2f}  acceptance {acc:.2f}  mean cluster {cl:.0f}")
    hop = hopfield_table(N=10000)
    print("Hopfield asynchronous updates, N = 10^4, alpha = 0.05, 20% noise")
    for k, (rate, ok) in hop.items():
        print(f"  {k:12s} {rate:.3e} updates/s  recalled={ok}")
    print(f"  ratio physdl/numpy = {hop['physdl cpp'][0] / hop['numpy loop'][0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
