"""physdl.tensornet against opt_einsum (NumPy and torch backends), hand NumPy, TeNPy and quimb.

Problems: (1) 6-site periodic MPS amplitudes, bond 4, for a batch of configurations (one-hot legs
sliced); (2) 4x4 open PEPS amplitudes, bond 2, batched; (3) the norm of a 20-site MPS of bond 32
(one network of 40 tensors); (4) many small contractions of one structure (expression reuse);
(5) DMRG sweeps on the Heisenberg chain (``python benchmarks/bench_tensornet.py --dmrg``).  Every
implementation's result is asserted equal before timing, so the benchmark cannot go stale.
One thread everywhere (``PHYSDL_BENCH_THREADS`` to change).

``python benchmarks/bench_tensornet.py`` prints the table with ratios;
``pytest benchmarks/bench_tensornet.py --benchmark-enable`` gives pytest-benchmark statistics.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import opt_einsum as oe
import pytest
from threadpoolctl import threadpool_limits

from physdl import _backend
from physdl.tensornet import Expression, Sliced

THREADS = int(os.environ.get("PHYSDL_BENCH_THREADS", "1"))


def _sym(table, label):
    if label not in table:
        table[label] = oe.get_symbol(len(table))
    return table[label]


def _eq(inputs, output):
    t: dict = {}
    return ",".join("".join(_sym(t, l) for l in x) for x in inputs) + "->" + "".join(_sym(t, l) for l in output)


# ------------------------------------------------------------------ problems
def mps_ring(S, L=6, D=4, d=2, seed=0):
    rng = np.random.default_rng(seed)
    A = [rng.normal(size=(D, d, D)) for _ in range(L)]
    conf = rng.integers(0, d, size=(S, L))
    expr = Expression([[i, (i + 1) % L] for i in range(L)], *[(D, D)] * L, output=[])

    def physdl_():
        return expr.batched(*[Sliced(A[i], (1,), conf[:, i:i + 1]) for i in range(L)])

    def hand():
        M = A[0].transpose(1, 0, 2)[conf[:, 0]]
        for i in range(1, L):
            M = M @ A[i].transpose(1, 0, 2)[conf[:, i]]
        return np.trace(M, axis1=1, axis2=2)

    oex = oe.contract_expression(_eq([["z", i, (i + 1) % L] for i in range(L)], ["z"]), *[(S, D, D)] * L)

    def oe_numpy():
        return oex(*[A[i].transpose(1, 0, 2)[conf[:, i]] for i in range(L)])

    peers = {"hand NumPy gather+matmul": hand, "opt_einsum batched": oe_numpy}
    ctx = _cotengra_expression(_eq([["z", i, (i + 1) % L] for i in range(L)], ["z"]), [(S, D, D)] * L)
    if ctx is not None:
        peers["cotengra batched"] = lambda: ctx(*[A[i].transpose(1, 0, 2)[conf[:, i]] for i in range(L)])
    try:
        import torch

        At = [torch.from_numpy(a.transpose(1, 0, 2).copy()) for a in A]
        ct = torch.from_numpy(conf)

        def oe_torch():
            return oex(*[At[i][ct[:, i]] for i in range(L)], backend="torch").numpy()

        peers["opt_einsum batched (torch)"] = oe_torch
    except ImportError:  # pragma: no cover
        pass
    return physdl_, peers, S, _flops([[i, (i + 1) % L] for i in range(L)], [(D, D)] * L)


def peps(S, n=4, D=2, d=2, seed=1):
    """Open n x n PEPS; site (r, c) has legs (up, left, physical, right, down), boundary legs absent."""
    rng = np.random.default_rng(seed)
    tensors, labels, sel = [], [], []
    for r in range(n):
        for c in range(n):
            legs, shape = [], []
            if r > 0:
                legs.append(("v", r - 1, c)); shape.append(D)
            if c > 0:
                legs.append(("h", r, c - 1)); shape.append(D)
            phys_axis = len(shape)
            shape.append(d)
            if c < n - 1:
                legs.append(("h", r, c)); shape.append(D)
            if r < n - 1:
                legs.append(("v", r, c)); shape.append(D)
            tensors.append(rng.normal(size=shape) / np.sqrt(2))
            labels.append(legs)
            sel.append(phys_axis)
    conf = rng.integers(0, d, size=(S, n * n))
    shapes = [tuple(s for j, s in enumerate(t.shape) if j != a) for t, a in zip(tensors, sel)]
    expr = Expression(labels, *shapes, output=[], optimize="greedy")

    def physdl_():
        return expr.batched(*[Sliced(t, (a,), conf[:, i:i + 1]) for i, (t, a) in enumerate(zip(tensors, sel))])

    oex = oe.contract_expression(_eq([["z"] + l for l in labels], ["z"]), *[(S,) + s for s in shapes])

    def gathered():
        return [np.moveaxis(t, a, 0)[conf[:, i]] for i, (t, a) in enumerate(zip(tensors, sel))]

    def oe_numpy():
        return oex(*gathered())

    # every site as (up, left, right, down) with size-1 legs on the boundary, for the hand formulation
    full = [(D if r > 0 else 1, D if c > 0 else 1, D if c < n - 1 else 1, D if r < n - 1 else 1)
            for r in range(n) for c in range(n)]

    def rows_hand():
        """Row transfer matrices by batched matmul (the row's up legs to its down legs), then the
        boundary vector through the rows."""
        g = [x.reshape((S,) + f) for x, f in zip(gathered(), full)]
        v = np.ones((S, 1, 1))
        for r in range(n):
            t = g[r * n]  # (S, u, 1, h, d)
            R = t[:, :, 0].transpose(0, 1, 3, 2)  # (S, U, Dn, h)
            for c in range(1, n):
                t = g[r * n + c]  # (S, u, l, h', d)
                U, Dn, h = R.shape[1:]
                u, _, hh, d_ = t.shape[1:]
                P = R.reshape(S, U * Dn, h) @ t.transpose(0, 2, 1, 4, 3).reshape(S, h, u * d_ * hh)
                R = P.reshape(S, U, Dn, u, d_, hh).transpose(0, 1, 3, 2, 4, 5).reshape(S, U * u, Dn * d_, hh)
            v = v @ R[..., 0]
        return v[:, 0, 0]

    def boundary_hand():
        """The boundary vector (the previous row's down legs) taken through the row site by site, one
        batched matmul per site (legs (left, up) contracted); cheaper than whole row matrices."""
        g = [x.reshape((S,) + f) for x, f in zip(gathered(), full)]  # (S, u, l, h, d)
        v = np.ones((S, 1))
        for r in range(n):
            W = v.reshape(S, 1, 1, -1)  # (S, new down legs, left leg, old down legs still to take)
            for c in range(n):
                t = g[r * n + c]
                u, l, hh, d_ = t.shape[1:]
                Dnew, _, rest = W.shape[1:]
                rest //= u
                Wt = W.reshape(S, Dnew, l, u, rest).transpose(0, 1, 4, 2, 3).reshape(S, Dnew * rest, l * u)
                P = Wt @ t.transpose(0, 2, 1, 3, 4).reshape(S, l * u, hh * d_)
                W = P.reshape(S, Dnew, rest, hh, d_).transpose(0, 1, 4, 3, 2).reshape(S, Dnew * d_, hh, rest)
            v = W.reshape(S, -1)
        return v[:, 0]

    peers = {"opt_einsum batched": oe_numpy, "hand NumPy row transfer matrices": rows_hand,
             "hand NumPy boundary vector": boundary_hand}
    ctx = _cotengra_expression(_eq([["z"] + l for l in labels], ["z"]), [(S,) + s for s in shapes])
    if ctx is not None:
        peers["cotengra batched"] = lambda: ctx(*gathered())
    return physdl_, peers, S, _flops(labels, shapes)


def mps_norm(L=20, D=32, seed=2):
    rng = np.random.default_rng(seed)
    B = [rng.normal(size=(1 if i == 0 else D, 2, 1 if i == L - 1 else D)) / np.sqrt(2 * D) for i in range(L)]
    ins = []
    for i in range(L):
        ins += [[("k", i), ("s", i), ("k", i + 1)], [("b", i), ("s", i), ("b", i + 1)]]
    ops = [x for b in B for x in (b, b)]
    expr = Expression(ins, *[o.shape for o in ops], output=[])
    oex = oe.contract_expression(_eq(ins, []), *[o.shape for o in ops])

    def sweep():
        E = np.ones((1, 1))
        for b in B:
            E = np.tensordot(E, b, axes=(1, 0))
            E = np.tensordot(b, E, axes=([0, 1], [0, 1]))
        return E[0, 0]

    return ((lambda: expr(*ops)), {"hand tensordot sweep": sweep, "opt_einsum cached": lambda: oex(*ops)}, 1,
            _flops(ins, [o.shape for o in ops]))


def many_small(n_calls=200, seed=3):
    rng = np.random.default_rng(seed)
    mats = [[rng.normal(size=(4, 4)) for _ in range(4)] for _ in range(n_calls)]
    sub = "ab,bc,cd,da->"
    expr = Expression(sub, *[(4, 4)] * 4)
    oex = oe.contract_expression(sub, *[(4, 4)] * 4)

    def physdl_():
        return np.array([expr(*m) for m in mats])

    def oe_each():
        return np.array([oe.contract(sub, *m) for m in mats])

    def oe_expr():
        return np.array([oex(*m) for m in mats])

    return (physdl_, {"opt_einsum.contract each call": oe_each, "opt_einsum expression": oe_expr}, n_calls,
            _flops([["a", "b"], ["b", "c"], ["c", "d"], ["d", "a"]], [(4, 4)] * 4))


def _cotengra_expression(eq, shapes):
    """cotengra's batched expression (its own path search, 'auto' preset), or None when not installed."""
    try:
        import cotengra as ctg
    except ImportError:
        return None
    return ctg.contract_expression(eq, *shapes, optimize="auto")


def _flops(inputs, shapes):
    """Floating-point operations of one network (one sample): opt_einsum's path info (opt_cost, which
    counts a multiply and an add per multiply-add) on its 'auto' path."""
    _, info = oe.contract_path(_eq(inputs, []), *shapes, shapes=True)
    return float(info.opt_cost)


def blas_peak(n=2048, repeat=5):
    """The machine's one-thread BLAS peak in GFLOP/s: a large dgemm (2 n^3 flops), best of ``repeat``."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(n, n)), rng.normal(size=(n, n))
    c = np.empty((n, n))
    np.dot(a, b, out=c)
    t = _best(lambda: np.dot(a, b, out=c), repeat)
    return 2.0 * n ** 3 / t / 1e9


PROBLEMS = {
    "mps6_bond4_batched": lambda quick: mps_ring(500 if quick else 10_000),
    "peps4x4_bond2_batched": lambda quick: peps(200 if quick else 10_000),
    "mps20_bond32_norm": lambda quick: mps_norm(),
    "small_ring_4x4_reuse": lambda quick: many_small(50 if quick else 1000),
}


def _check(ours, peers):
    ref = np.asarray(ours())
    for name, f in peers.items():
        np.testing.assert_allclose(np.asarray(f()).reshape(ref.shape), ref, rtol=1e-9, atol=1e-12, err_msg=name)


def _best(f, repeat):
    f()
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


# ------------------------------------------------------------------ pytest
@pytest.fixture(autouse=True)
def _one_thread():
    core = _backend.module("cpp")
    n0 = core.max_threads()
    core.set_num_threads(THREADS)
    with threadpool_limits(THREADS):
        yield
    core.set_num_threads(n0)


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_physdl(benchmark, problem):
    ours, peers, _, _ = PROBLEMS[problem](True)
    _check(ours, peers)
    benchmark(ours)


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_peer(benchmark, problem):
    ours, peers, _, _ = PROBLEMS[problem](True)
    name, f = next(iter(peers.items()))
    benchmark.extra_info["peer"] = name
    benchmark(f)


# ------------------------------------------------------------------ table
def dmrg_table(L=64, chi=64, sweeps=2, repeat=3):
    """s/sweep of physdl, TeNPy and quimb on the same chain, schedule and sweep count, interleaved
    ``repeat`` times (medians; the machine is shared); energies per site side by side."""
    times, energies = {}, {}
    for _ in range(repeat):
        for name, run in (("physdl", _dmrg_physdl), ("TeNPy", _dmrg_tenpy), ("quimb", _dmrg_quimb)):
            out = run(L, chi, sweeps)
            if out is None:
                continue
            t, e = out
            times.setdefault(name, []).append(t)
            energies[name] = e
    ours = float(np.median(times["physdl"]))
    print(f"DMRG Heisenberg L={L} chi={chi}, schedule 16 then {chi}, {sweeps + 1} sweeps, {repeat} runs "
          f"(median s/sweep):")
    for name, ts in times.items():
        t = float(np.median(ts))
        print(f"  {name:7s} {t:.3f} s/sweep (runs {', '.join(f'{x:.2f}' for x in ts)}), E/L = "
              f"{energies[name]:.10f}, peer/physdl = {t / ours:.2f}")
    for name in ("TeNPy", "quimb"):
        if name not in times:
            print(f"  {name} not installed: no peer")


def _dmrg_physdl(L, chi, sweeps):
    from physdl.tensornet import dmrg, heisenberg_mpo

    t0 = time.perf_counter()
    r = dmrg(heisenberg_mpo(L), bond_dims=[16, chi, chi], sweeps=sweeps + 1, tol=1e-14, variance=False)
    return (time.perf_counter() - t0) / (sweeps + 1), r.energy / L


def _dmrg_tenpy(L, chi, sweeps):
    try:
        import warnings

        from tenpy.algorithms import dmrg as tdmrg
        from tenpy.models.xxz_chain import XXZChain
        from tenpy.networks.mps import MPS as TMPS
    except ImportError:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import logging

        logging.disable(logging.WARNING)
        model = XXZChain({"L": L, "Jxx": 4.0, "Jz": 4.0, "hz": 0.0, "bc_MPS": "finite"})
        st = TMPS.from_product_state(model.lat.mps_sites(), ["up", "down"] * (L // 2), bc="finite")
        t0 = time.perf_counter()
        info = tdmrg.run(st, model, {"trunc_params": {"chi_max": chi, "svd_min": 1e-14}, "min_sweeps": sweeps + 1,
                                     "max_sweeps": sweeps + 1, "mixer": False, "max_E_err": 1e-16})
        t = (time.perf_counter() - t0) / (sweeps + 1)
        logging.disable(logging.NOTSET)
    return t, info["E"] / L


def _dmrg_quimb(L, chi, sweeps):
    """quimb's two-site DMRG on the same chain (quimb's spin operators are sigma/2, so j = 4 is J = 1 here)."""
    try:
        import quimb.tensor as qtn
    except ImportError:
        return None
    # quimb's sweep is one direction (default sequence "R", re-canonising between sweeps); physdl's and
    # TeNPy's go right and back, so quimb runs "RL" with two of its sweeps per sweep here (its own local
    # eigensolver tolerance, 1e-3, left at quimb's default)
    H = qtn.MPO_ham_heis(L, j=4.0, cyclic=False)
    solver = qtn.DMRG2(H, bond_dims=[16, 16] + [chi] * (2 * sweeps), cutoffs=1e-14)
    t0 = time.perf_counter()
    solver.solve(max_sweeps=2 * (sweeps + 1), tol=1e-16, sweep_sequence="RL", verbosity=0)
    return (time.perf_counter() - t0) / (sweeps + 1), float(solver.energy.real) / L


def main():
    core = _backend.module("cpp")
    core.set_num_threads(THREADS)
    with threadpool_limits(THREADS):
        peak = blas_peak()
        print("load average %.1f %.1f %.1f" % os.getloadavg())
        print(f"BLAS peak: dgemm 2048^3 on {THREADS} thread(s) {peak:.1f} GFLOP/s; rates below from opt_einsum's "
              f"flop count of each network (per sample), fraction of that peak in brackets")
        for name, make in PROBLEMS.items():
            ours, peers, n, flops = make(False)
            _check(ours, peers)
            rep = 5 if n > 1 else 30
            t = _best(ours, rep)
            unit, scale = ("us/sample", 1e6 / n) if n > 1 else ("ms", 1e3)

            def rate(tt):
                g = flops * n / tt / 1e9
                return f"{g:7.3f} GFLOP/s ({100 * g / peak:5.2f}% of peak)"

            print(f"{name}: {flops:.4g} flops per network; physdl {t * scale:.3f} {unit}   {rate(t)}")
            fastest = None
            for pn, f in peers.items():
                tp = _best(f, rep)
                if fastest is None or tp < fastest[1]:
                    fastest = (pn, tp)
                print(f"    {pn:34s} {tp * scale:.3f} {unit}   peer/physdl = {tp / t:5.2f}   {rate(tp)}")
            print(f"    fastest peer: {fastest[0]}, peer/physdl = {fastest[1] / t:.2f}")
        print("load average %.1f %.1f %.1f" % os.getloadavg())
        if "--dmrg" in sys.argv:
            dmrg_table()


if __name__ == "__main__":
    main()
