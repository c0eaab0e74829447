"""Self-learning Monte Carlo (the column of ch. 6, eq. 6.111-6.115) on the plaquette Ising model.

The target is the plaquette Ising model of Liu, Qi, Meng and Fu (PRB 95, 041101) on an L x L torus,

    H = -J sum_<ij> s_i s_j - K sum_plaquettes s_i s_j s_k s_l      (J = 1, K = 0.2, T_c ~ 2.493),

whose four-spin term forbids plain Wolff clusters.  SLMC (1) samples it with local Metropolis
updates, (2) fits an effective Ising Hamiltonian ``H_eff = E0 - J1 f1 - J2 f2 - J3 f3`` (nearest,
next-nearest and third-neighbour pair sums) by linear regression on the sampled energies, and (3)
proposes Wolff clusters grown with the effective couplings, accepted with the exact correction of
eq. 6.114, ``min(1, exp(-beta [(H(x') - H(x)) - (H_c(x') - H_c(x))]))``, where ``H_c`` is the
part of ``H_eff`` the clusters are built with (couplings clipped at 0).  The chain then samples
``exp(-beta H)`` exactly, however rough the fit.  Kernels: C++ with Numba twins, many chains at
once, Philox from ``stream("slmc", k)``.

Examples
--------
>>> from physdl.slmc import PlaquetteIsing, local_metropolis, fit_effective, SLMC
>>> model = PlaquetteIsing(8)
>>> run = local_metropolis(model, beta=1 / 2.493, n_sweeps=400, n_chains=4, seed=1)
>>> eff = fit_effective(model, run.states_history[:, 100:].reshape(-1, model.n), run.energy[:, 100:].ravel())
>>> bool(1.0 < eff.J[0] < 1.2)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _backend
from .._validate import check_array, check_float, check_int, check_seed
from ..geometry import Lattice
from ..lattice._spin_chains import MAX_ENUMERATED, all_states
from ..random import uniform
from ..random.streams import stream
from ..stats import Estimate

__all__ = ["PlaquetteIsing", "ChainResult", "EffectiveModel", "local_metropolis", "fit_effective", "SLMC",
           "exact_distribution", "autocorrelation_comparison", "TC_PLAQUETTE"]

TC_PLAQUETTE = 2.493  # Liu et al., PRB 95, 041101 (J = 1, K = 0.2)
_LOCAL, _CLUSTER, _START = 0, 1 << 38, 1 << 39
MAX_CHAINS = 1 << 30


class PlaquetteIsing:
    """The plaquette Ising model on an ``L x L`` torus (``L >= 4``): tables for the kernels.

    Attributes
    ----------
    nbr : (n, 4) int32 nearest neighbours (from :class:`physdl.geometry.Lattice`).
    plaq : (n, 4, 3) int32 the other three sites of each of the four plaquettes of a site.
    cnbr : (n, 12) int32 cluster neighbours: 4 nearest, 4 diagonal, 4 at distance 2 along the axes.
    """

    def __init__(self, L: int, J: float = 1.0, K: float = 0.2):
        self.L = check_int(L, "L", minimum=4, maximum=2048)
        self.J = check_float(J, "J")
        self.K = check_float(K, "K")
        self.lattice = Lattice("square", (self.L, self.L))
        self.n = self.L * self.L
        self.nbr = np.ascontiguousarray(self.lattice.neighbours(), np.int32)
        y, x = np.divmod(np.arange(self.n), self.L)

        def site(dy, dx):
            return (((y + dy) % self.L) * self.L + (x + dx) % self.L).astype(np.int32)

        # plaquette with lower-left corner (y0, x0): (y0,x0), (y0,x0+1), (y0+1,x0), (y0+1,x0+1)
        pl = []
        for oy, ox in ((0, 0), (0, -1), (-1, 0), (-1, -1)):  # lower-left corners of the four plaquettes
            corners = [(oy + a, ox + b) for a in (0, 1) for b in (0, 1) if (oy + a, ox + b) != (0, 0)]
            pl.append(np.stack([site(dy, dx) for dy, dx in corners], axis=1))
        self.plaq = np.ascontiguousarray(np.stack(pl, axis=1), np.int32)
        offsets = [(0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, -1), (1, -1), (-1, 1),
                   (0, 2), (0, -2), (2, 0), (-2, 0)]
        self.cnbr = np.ascontiguousarray(np.stack([site(dy, dx) for dy, dx in offsets], axis=1), np.int32)
        self._corner = np.stack([site(0, 0), site(0, 1), site(1, 0), site(1, 1)], axis=1)

    def __repr__(self) -> str:
        return f"PlaquetteIsing(L={self.L}, J={self.J}, K={self.K})"

    def check_states(self, S, name: str = "S") -> np.ndarray:
        a = np.asarray(S)
        if a.ndim == 1:
            a = a[None, :]
        a = check_array(a.reshape(a.shape[0], -1), name, ndim=2, shape=(None, self.n), nonempty=True, finite=True)
        if not np.all((a == 1) | (a == -1)):
            raise ValueError(f"{name} must hold only +1 and -1 spins")
        return np.ascontiguousarray(a, dtype=np.int8)

    def features(self, S) -> np.ndarray:
        """``(m, 3)`` pair sums ``f_n = 1/2 sum_i sum_{cols of type n} s_i s_j`` (nearest, diagonal, distance 2)."""
        s = self.check_states(S)
        out = np.empty((s.shape[0], 3))
        for t in range(3):
            acc = np.zeros(s.shape[0], np.int64)
            for col in range(4 * t, 4 * t + 4):
                acc += (s * s[:, self.cnbr[:, col]]).sum(axis=1, dtype=np.int64)
            out[:, t] = 0.5 * acc
        return out

    def plaquette_sum(self, S) -> np.ndarray:
        s = self.check_states(S)
        c = self._corner
        return (s[:, c[:, 0]] * s[:, c[:, 1]] * s[:, c[:, 2]] * s[:, c[:, 3]]).sum(axis=1, dtype=np.int64)

    def energy(self, S) -> np.ndarray:
        """``H(s)`` of each configuration."""
        return -self.J * self.features(S)[:, 0] - self.K * self.plaquette_sum(S)


@dataclass
class ChainResult:
    """Time series of ``m`` chains: energy, magnetisation (per step), final states, acceptance."""

    energy: np.ndarray
    magnetization: np.ndarray
    states: np.ndarray
    acceptance: np.ndarray
    cluster_size: np.ndarray | None = None
    states_history: np.ndarray | None = None
    seconds: float = 0.0


@dataclass
class EffectiveModel:
    """``H_eff = E0 - J[0] f1 - J[1] f2 - J[2] f3`` and the rms residual of the fit (per configuration)."""

    E0: float
    J: np.ndarray
    residual: float

    def energy(self, model: PlaquetteIsing, S) -> np.ndarray:
        return self.E0 - model.features(S) @ self.J


def _start(model, n_chains, seed, start):
    if start is None:
        u = uniform((n_chains, model.n), seed=seed, stream=stream("slmc", _START))
        return np.where(u < 0.5, 1, -1).astype(np.int8)
    S = model.check_states(start, "start").copy()
    if S.shape[0] != n_chains:
        raise ValueError(f"start must hold n_chains = {n_chains} configurations, got {S.shape[0]}")
    return S


def local_metropolis(model: PlaquetteIsing, beta: float, n_sweeps: int, n_chains: int = 1, seed: int = 0,
                     start=None, keep_states: bool = True, sweep_offset: int = 0,
                     backend: str | None = None) -> ChainResult:
    """Typewriter Metropolis sweeps of the plaquette model; energy and magnetisation after each sweep.

    ``keep_states`` also returns every sweep's configuration in ``states_history`` (m, n_sweeps, n)
    when that is below 2**27 spins.
    """
    import time
    if not isinstance(model, PlaquetteIsing):
        raise TypeError(f"model must be a PlaquetteIsing, got {type(model).__name__}")
    beta = check_float(beta, "beta", positive=True)
    n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=1, maximum=1 << 36)
    n_chains = check_int(n_chains, "n_chains", minimum=1, maximum=MAX_CHAINS)
    seed = check_seed(seed)
    sweep_offset = check_int(sweep_offset, "sweep_offset", minimum=0, maximum=1 << 38)
    S = _start(model, n_chains, seed, start)
    b = _backend.resolve(backend, ("cpp", "numba"))
    st = stream("slmc", _LOCAL)
    keep = keep_states and n_chains * n_sweeps * model.n <= 1 << 27
    hist = np.empty((n_chains, n_sweeps, model.n), np.int8) if keep else None
    t0 = time.perf_counter()
    if b == "cpp":
        fn = _backend.module("cpp").ebm.plaquette_metropolis
        call = lambda S, ns, off: fn(model.nbr, model.plaq, model.J, model.K, S, beta, ns, seed, st, off)
    else:
        from ._numba import plaquette_metropolis
        call = lambda S, ns, off: plaquette_metropolis(model.nbr, model.plaq, model.J, model.K, S, beta, ns,
                                                       np.uint64(seed), np.uint64(st), np.uint64(off))
    if keep:
        E = np.empty((n_chains, n_sweeps))
        M = np.empty((n_chains, n_sweeps), np.int64)
        acc = np.zeros(n_chains, np.int64)
        for t in range(n_sweeps):  # one kernel call per sweep to record the configurations
            e, m, a = call(S, 1, sweep_offset + t)
            E[:, t], M[:, t] = e[:, 0], m[:, 0]
            acc += a
            hist[:, t] = S
    else:  # the kernel (C++ or its Numba twin) in pieces of bounded duration (Ctrl-C is seen between them)
        E, M, acc = _in_pieces(lambda a, k: call(S, k, sweep_offset + a), n_chains, n_sweeps, 2)
    secs = time.perf_counter() - t0
    return ChainResult(E, M, S, acc / (n_sweeps * model.n), None, hist, secs)


def fit_effective(model: PlaquetteIsing, S, E, nonnegative: bool = True) -> EffectiveModel:
    """Least-squares fit of ``E = E0 - sum_n J_n f_n(S)`` (the self-learning step).

    ``nonnegative`` (default) constrains ``J_n >= 0`` (bounded least squares): the best effective
    model among those whose clusters can be grown.  The unconstrained fit puts a negative ``J2``
    beside a larger ``J1``; dropping the negative part afterwards would leave clusters grown with a
    too-strong ``J1`` (they percolate and hardly change ``|m|``).
    """
    F = model.features(S)
    E = check_array(E, "E", dtype=np.float64, ndim=1, shape=(F.shape[0],), finite=True)
    if F.shape[0] < 4:
        raise ValueError(f"fit_effective needs at least 4 configurations, got {F.shape[0]}")
    A = np.column_stack([np.ones(F.shape[0]), -F])
    if nonnegative:
        from scipy.optimize import lsq_linear
        coef = lsq_linear(A, E, bounds=([-np.inf, 0.0, 0.0, 0.0], np.inf)).x
    else:
        coef, *_ = np.linalg.lstsq(A, E, rcond=None)
    res = float(np.sqrt(np.mean((A @ coef - E) ** 2)))
    return EffectiveModel(float(coef[0]), coef[1:].copy(), res)


class SLMC:
    """Cumulative Wolff updates under an effective model with the exact correction (eq. 6.114).

    Parameters
    ----------
    model : PlaquetteIsing
    effective : EffectiveModel or array of 3 couplings (J1, J2, J3)
    beta : float
    """

    def __init__(self, model: PlaquetteIsing, effective, beta: float):
        if not isinstance(model, PlaquetteIsing):
            raise TypeError(f"model must be a PlaquetteIsing, got {type(model).__name__}")
        J = effective.J if isinstance(effective, EffectiveModel) else effective
        J = check_array(J, "effective", dtype=np.float64, shape=(3,), finite=True)
        self.model = model
        self.couplings = J
        self.Jc = np.ascontiguousarray(np.repeat(np.maximum(J, 0.0), 4))
        self.beta = check_float(beta, "beta", positive=True)

    def run(self, n_steps: int, n_chains: int = 1, seed: int = 0, start=None, step_offset: int = 0,
            n_clusters: int = 1, backend: str | None = None) -> ChainResult:
        """``n_steps`` proposals per chain; energy, magnetisation and spins flipped per step.

        Each proposal flips ``n_clusters`` Wolff clusters of the effective model in turn (the
        cumulative update; any number keeps detailed balance, since the composite of moves reversible
        for ``H_c`` is reversible for ``H_c``) and is accepted once with the exact correction.
        """
        import time
        n_steps = check_int(n_steps, "n_steps", minimum=1, maximum=1 << 36)
        n_chains = check_int(n_chains, "n_chains", minimum=1, maximum=MAX_CHAINS)
        seed = check_seed(seed)
        step_offset = check_int(step_offset, "step_offset", minimum=0, maximum=1 << 38)
        nc = check_int(n_clusters, "n_clusters", minimum=1, maximum=64)
        m = self.model
        if m.n * 13 * nc >= 1 << 24:
            raise ValueError(f"n * 13 * n_clusters must be below 2**24 (L = {m.L}, n_clusters = {nc})")
        S = _start(m, n_chains, seed, start)
        b = _backend.resolve(backend, ("cpp", "numba"))
        st = stream("slmc", _CLUSTER)
        t0 = time.perf_counter()
        if b == "cpp":
            wolff = _backend.module("cpp").ebm.slmc_wolff
        else:
            from ._numba import slmc_wolff as wolff
        # the kernel (C++ or its Numba twin) in pieces of bounded duration (Ctrl-C is seen between them)
        E, M, C, acc = _in_pieces(
            lambda a, k: wolff(m.nbr, m.plaq, m.J, m.K, m.cnbr, self.Jc, S, self.beta, k, nc, np.uint64(seed),
                               np.uint64(st), np.uint64(step_offset + a)),
            n_chains, n_steps, 3)
        return ChainResult(E, M, S, acc / n_steps, C, None, time.perf_counter() - t0)


def _in_pieces(call, n_chains, n_steps, n_series):
    """Run ``call(start, count)`` (a chain kernel over sweeps ``start .. start+count`` that returns
    ``n_series`` (chains, count) series and then the (chains,) acceptance counts) through
    :func:`physdl._interrupt.run_in_pieces`, joining the series.  The kernels (C++ and Numba) take
    the absolute sweep number and recompute their sums (integer bond and plaquette sums, the cluster
    energy) from the states at the start of a call, so the result does not depend on the cut.
    """
    from .._interrupt import run_in_pieces
    out = [None] * n_series
    acc = np.zeros(n_chains, np.int64)

    def piece(a, k):
        r = call(a, k)
        for i, x in enumerate(r[:n_series]):
            if out[i] is None:
                out[i] = np.empty((n_chains, n_steps), x.dtype)
            out[i][:, a:a + k] = x
        acc[:] += r[n_series]

    run_in_pieces(piece, n_steps)
    return (*out, acc)


def exact_distribution(model: PlaquetteIsing, beta: float):
    """Exact Boltzmann weights of all ``2**n`` states (n <= 24): ``(states, energies, probabilities)``."""
    beta = check_float(beta, "beta", positive=True)
    if model.n > MAX_ENUMERATED:
        raise ValueError(f"exact_distribution enumerates 2**n states; n must be <= {MAX_ENUMERATED}, got {model.n}")
    S = all_states(model.n)
    E = model.energy(S)
    w = np.exp(-beta * (E - E.min()))
    return S, E, w / w.sum()


def _tau(x):
    from ..sampling.mcmc import integrated_autocorrelation_time
    r = integrated_autocorrelation_time(x)
    return r


def autocorrelation_comparison(L: int, T: float = TC_PLAQUETTE, n_train: int = 2000, n_local: int = 40000,
                               n_slmc: int = 20000, seed: int = 0, backend: str | None = None) -> dict:
    """Integrated autocorrelation time of ``|m|`` for local Metropolis (per sweep) and SLMC (per step).

    Trains the effective model on ``n_train`` local sweeps (after as many for equilibration), then
    runs ``n_local`` sweeps and ``n_slmc`` cluster steps from equilibrated starts.  Returns a dict
    with ``tau_local``, ``tau_slmc`` (Estimates, error by Madras-Sokal), the effective model, the
    acceptance, the mean cluster size and the seconds per sweep / step.
    """
    L = check_int(L, "L", minimum=4, maximum=512)
    model = PlaquetteIsing(L)
    beta = 1.0 / check_float(T, "T", positive=True)
    eq = local_metropolis(model, beta, n_train, 1, seed, keep_states=False, backend=backend)
    tr = local_metropolis(model, beta, n_train, 1, seed, start=eq.states, keep_states=True, sweep_offset=n_train,
                          backend=backend)
    eff = fit_effective(model, tr.states_history[0], tr.energy[0])
    loc = local_metropolis(model, beta, n_local, 1, seed, start=tr.states, keep_states=False,
                           sweep_offset=2 * n_train, backend=backend)
    sl = SLMC(model, eff, beta).run(n_slmc, 1, seed, start=tr.states, backend=backend)
    out = {}
    for name, run, n in (("local", loc, n_local), ("slmc", sl, n_slmc)):
        x = np.abs(run.magnetization[0]).astype(np.float64) / model.n
        r = _tau(x)
        out[f"tau_{name}"] = Estimate(r.tau, r.error, variance=float(x.var()), n=r.n)
        out[f"converged_{name}"] = r.converged
        out[f"seconds_per_{name}"] = run.seconds / n
    out["effective"] = eff
    out["acceptance"] = float(sl.acceptance[0])
    out["mean_cluster"] = float(sl.cluster_size.mean())
    return out
