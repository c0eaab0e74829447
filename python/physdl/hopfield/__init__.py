"""Hopfield networks (book ch. 10): Hebb's rule, asynchronous and synchronous recall, capacity.

The network of ``N`` spins ``S_i = +-1`` with symmetric couplings ``J`` updates one spin at a time,
``S_i <- sgn(sum_j J_ij S_j)`` (eq. 10.5, 10.19), which never raises the Lyapunov function
``E = -1/2 sum_ij J_ij S_i S_j`` (eq. 10.8-10.10) when ``J_ii = 0``.  Hebb's rule stores ``P``
patterns, ``J_ij = 1/N sum_mu a_i^mu a_j^mu`` (eq. 10.14 with ``alpha/M = 1/N``; the fixed point of
eq. 10.18); below ``alpha = P/N ~ 0.138`` (Amit, Gutfreund and Sompolinsky) they are recalled.

The kernels (C++ with a Numba twin) run many initial states at once; every random number is
Philox(seed, ``streams.stream("hopfield", k)``) so a result does not depend on threads or backend.

Examples
--------
>>> import numpy as np
>>> from physdl import hopfield
>>> xi = hopfield.random_patterns(3, 200, seed=1)
>>> net = hopfield.Hopfield.from_patterns(xi)
>>> res = net.run(hopfield.corrupt(xi, 0.1, seed=2), seed=3)
>>> bool(np.all(hopfield.overlaps(res.states, xi).diagonal() == 1.0))
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _backend
from .._validate import check_array, check_float, check_int, check_seed
from ..lattice._spin_chains import MAX_ENUMERATED, all_states
from ..random import uniform
from ..random.streams import stream
from ..stats import Estimate

__all__ = ["Hopfield", "AsyncResult", "SyncResult", "random_patterns", "corrupt", "hebb", "overlaps",
           "mixture", "capacity_curve", "CapacityPoint", "ground_states", "triangle_antiferromagnet",
           "spin_glass_couplings"]

# stream layout inside the "hopfield" range: chains from 0, patterns and corruptions from 2**39
_CHAIN0 = 0
_PATTERNS = 1 << 39
_CORRUPT = (1 << 39) + 1
_GLASS = (1 << 39) + 2
MAX_UNITS = (1 << 24) - 1


def check_patterns(patterns, name: str = "patterns") -> np.ndarray:
    """A (P, N) array of +-1 (int8); ValueError otherwise."""
    a = np.asarray(patterns)
    if a.ndim == 1:
        a = a[None, :]
    a = check_array(a, name, ndim=2, nonempty=True, finite=True)
    if not np.all((a == 1) | (a == -1)):
        raise ValueError(f"{name} must hold only +1 and -1 values")
    P, N = a.shape
    if N > MAX_UNITS:
        raise ValueError(f"{name} has {N} units; at most {MAX_UNITS} are supported")
    if N < 63 and P > (1 << N):
        raise ValueError(f"{name}: P = {P} patterns cannot be distinct with N = {N} units (P <= 2**N)")
    return np.ascontiguousarray(a, dtype=np.int8)


def random_patterns(P: int, N: int, seed: int = 0) -> np.ndarray:
    """``P`` independent random +-1 patterns of ``N`` units (int8, shape (P, N)), Philox-drawn."""
    P = check_int(P, "P", minimum=1)
    N = check_int(N, "N", minimum=1, maximum=MAX_UNITS)
    if N < 63 and P > (1 << N):
        raise ValueError(f"P = {P} patterns cannot be distinct with N = {N} units (P <= 2**N)")
    u = uniform((P, N), seed=check_seed(seed), stream=stream("hopfield", _PATTERNS))
    return np.where(u < 0.5, 1, -1).astype(np.int8)


def corrupt(patterns, fraction: float, seed: int = 0) -> np.ndarray:
    """Copies of ``patterns`` with each spin flipped independently with probability ``fraction``."""
    a = check_patterns(patterns)
    f = check_float(fraction, "fraction", nonnegative=True)
    if f > 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {f}")
    u = uniform(a.shape, seed=check_seed(seed), stream=stream("hopfield", _CORRUPT))
    return np.where(u < f, -a, a).astype(np.int8)


def hebb(patterns, zero_diagonal: bool = True) -> np.ndarray:
    """Hebb's couplings ``J_ij = 1/N sum_mu a_i^mu a_j^mu`` (eq. 10.14, 10.18), diagonal zeroed."""
    a = check_patterns(patterns).astype(np.float64)
    W = a.T @ a / a.shape[1]
    if zero_diagonal:
        np.fill_diagonal(W, 0.0)
    return W


def overlaps(states, patterns) -> np.ndarray:
    """``m[r, mu] = 1/N sum_i S_i^r a_i^mu`` for every state ``r`` and pattern ``mu``."""
    s = check_patterns(states, "states").astype(np.float64)
    a = check_patterns(patterns).astype(np.float64)
    if s.shape[1] != a.shape[1]:
        raise ValueError(f"states have {s.shape[1]} units, patterns {a.shape[1]}")
    return s @ a.T / a.shape[1]


def mixture(patterns, which=(0, 1, 2)) -> np.ndarray:
    """The symmetric mixture ``sgn(a^mu1 + a^mu2 + a^mu3)`` of an odd number of patterns (a spurious state)."""
    a = check_patterns(patterns)
    idx = [check_int(i, "which", minimum=0, maximum=a.shape[0] - 1) for i in which]
    if len(idx) % 2 == 0 or len(idx) == 0:
        raise ValueError(f"which must name an odd number of patterns, got {len(idx)}")
    return np.where(a[idx].astype(np.int64).sum(axis=0) > 0, 1, -1).astype(np.int8)


@dataclass
class AsyncResult:
    """Outcome of asynchronous updates of ``m`` initial states.

    Attributes
    ----------
    states : (m, N) int8 final states.
    energy : (m, max_sweeps + 1) Lyapunov function (eq. 10.8) after each sweep.
    energy_steps : (m, max_sweeps N + 1) after every single update (when recorded), else None.
    sweeps : (m,) sweeps run (the last one without flips when converged).
    flips : (m,) spins flipped in all.
    converged : (m,) bool, a sweep without flips was reached (a fixed point).
    """

    states: np.ndarray
    energy: np.ndarray
    energy_steps: np.ndarray | None
    sweeps: np.ndarray
    flips: np.ndarray
    converged: np.ndarray


@dataclass
class SyncResult:
    """Outcome of synchronous updates: final state, the state before it, steps and period (1, 2 or 0)."""

    states: np.ndarray
    previous: np.ndarray
    steps: np.ndarray
    period: np.ndarray


class Hopfield:
    """A Hopfield network with symmetric couplings ``J`` (N x N).

    Parameters
    ----------
    J : (N, N) array, symmetric and finite.
    tie : {"minus", "keep"}
        ``sgn(0)``: -1 as in eq. 10.7 (default) or keep the spin.
    """

    def __init__(self, J, tie: str = "minus"):
        J = check_array(J, "J", dtype=np.float64, ndim=2, finite=True, nonempty=True)
        if J.shape[0] != J.shape[1]:
            raise ValueError(f"J must be square, got shape {J.shape}")
        if J.shape[0] > MAX_UNITS:
            raise ValueError(f"J has {J.shape[0]} units; at most {MAX_UNITS} are supported")
        if not np.array_equal(J, J.T):
            raise ValueError("J must be symmetric (eq. 10.3)")
        if tie not in ("minus", "keep"):
            raise ValueError(f"tie must be 'minus' or 'keep', got {tie!r}")
        self.J = J
        self.tie = tie

        self._Jint = None  # integer couplings J = _scale * _Jint (Hebb's rule), for the exact kernel
        self._scale = 1.0

    @classmethod
    def from_patterns(cls, patterns, zero_diagonal: bool = True, tie: str = "minus") -> "Hopfield":
        """The network storing ``patterns`` by Hebb's rule (:func:`hebb`).

        Asynchronous updates then run on the integer couplings ``N J_ij = sum_mu a_i a_j`` (int16,
        exact int32 fields, so ties ``sgn(0)`` are exact) when ``P <= 32767``.
        """
        a = check_patterns(patterns)
        P, N = a.shape
        net = cls(hebb(a, zero_diagonal), tie)
        if P <= 32767 and P * N < (1 << 31):
            Wint = np.rint(net.J * N)
            if np.array_equal(Wint / N, net.J):
                net._Jint = Wint.astype(np.int16)
                net._scale = 1.0 / N
        return net

    @property
    def n(self) -> int:
        return self.J.shape[0]

    def _states(self, S):
        S = check_patterns(S, "S")
        if S.shape[1] != self.n:
            raise ValueError(f"S must have {self.n} units per state, got {S.shape[1]}")
        return S.copy()

    def energy(self, S) -> np.ndarray:
        """Lyapunov function ``E = -1/2 S.J.S`` (eq. 10.8) of each state."""
        s = self._states(S).astype(np.float64)
        return -0.5 * np.einsum("ri,ij,rj->r", s, self.J, s)

    def run(self, S, max_sweeps: int = 100, seed: int = 0, record_steps: bool = False,
            backend: str | None = None) -> AsyncResult:
        """Asynchronous (random sequential) updates of every state in ``S`` until a fixed point.

        Each sweep visits the spins in a fresh Philox permutation; a state stops after a sweep
        without flips.  ``record_steps`` keeps the energy after every update (memory
        ``m * max_sweeps * N`` doubles).
        """
        S = self._states(S)
        max_sweeps = check_int(max_sweeps, "max_sweeps", minimum=1, maximum=1 << 30)
        seed = check_seed(seed)
        if record_steps and S.shape[0] * max_sweeps * self.n > 1 << 28:
            raise ValueError("record_steps would need more than 2**28 energies; lower max_sweeps or the states")
        b = _backend.resolve(backend, ("cpp", "numba"))
        st0 = stream("hopfield", _CHAIN0)
        keep = self.tie == "keep"
        es, est, sw, fl = self._run_pieces(b, S, max_sweeps, keep, seed, st0, record_steps)
        if self._Jint is not None:
            # exact integer fields: a sweep without flips is a fixed point; check only the chains
            # that used every sweep
            conv = sw < max_sweeps
            full = np.flatnonzero(~conv)
            if full.size:
                conv[full] = self._is_fixed(S[full])
        else:
            conv = self._is_fixed(S)
        return AsyncResult(S, es, est if record_steps else None, sw, fl, conv)

    def _run_pieces(self, backend, S, max_sweeps, keep, seed, st0, record_steps):
        """The kernel (C++ or its Numba twin) over blocks of chains of bounded duration, so that
        Ctrl-C is seen between them.

        Chain ``c`` draws from stream ``st0 + c`` whatever block it is in (the kernels count its
        sweeps from 0 and take ``stream0`` per call), so the result does not depend on how the
        chains are cut (tested against a single call and the other backend).  One chain with all
        its sweeps is the smallest piece.
        """
        from .. import _pieces
        if backend == "cpp":
            mod = _backend.module("cpp").ebm
        else:
            from . import _numba as mod
        m, n = S.shape
        es = np.empty((m, max_sweeps + 1))
        est = np.empty((m, max_sweeps * n + 1)) if record_steps else np.empty((0, 0))
        sw = np.zeros(m, np.int64)
        fl = np.zeros(m, np.int64)

        def piece(a, k):
            rows = S[a:a + k]  # a contiguous view: the kernel updates the states in place
            if self._Jint is not None:
                r = mod.hopfield_async_int(self._Jint, self._scale, rows, max_sweeps, keep, np.uint64(seed),
                                           np.uint64(st0 + a), record_steps)
            else:
                r = mod.hopfield_async(self.J, rows, max_sweeps, keep, np.uint64(seed), np.uint64(st0 + a),
                                       record_steps)
            es[a:a + k] = r[0]
            if record_steps:
                est[a:a + k] = r[1]
            sw[a:a + k] = r[2]
            fl[a:a + k] = r[3]

        _pieces.run(("hopfield.async", backend, n, max_sweeps, self._Jint is not None, record_steps), m, piece,
                    cpp=backend == "cpp")
        return es, est, sw, fl

    def _is_fixed(self, S) -> np.ndarray:
        if self._Jint is not None:  # exact integer fields, in row blocks
            # float64 products of integers below 2**53 are exact
            Sd = S.astype(np.float64)
            h = np.concatenate([Sd @ self._Jint[i:i + 2048].astype(np.float64).T
                                for i in range(0, self.n, 2048)], axis=1)
        else:
            h = S.astype(np.float64) @ self.J
        new = np.where(h > 0, 1, np.where(h < 0, -1, S if self.tie == "keep" else -1))
        return np.all(new == S, axis=1)

    def run_sync(self, S, max_steps: int = 100, backend: str | None = None) -> SyncResult:
        """Synchronous updates ``S <- sgn(J S)`` until a fixed point or a period-2 cycle."""
        S = self._states(S)
        max_steps = check_int(max_steps, "max_steps", minimum=1, maximum=1 << 30)
        b = _backend.resolve(backend, ("cpp", "numba"))
        keep = self.tie == "keep"
        # the kernel (C++ or its Numba twin) over blocks of chains of bounded duration (Ctrl-C is
        # seen between them); the chains are independent, so the cut does not change the result
        from .. import _pieces
        if b == "cpp":
            sync = _backend.module("cpp").ebm.hopfield_sync
        else:
            from ._numba import hopfield_sync as sync
        m = S.shape[0]
        prev = np.empty_like(S, dtype=np.int8)
        steps = np.zeros(m, np.int64)
        per = np.zeros(m, np.int32)

        def piece(a, k):
            prev[a:a + k], steps[a:a + k], per[a:a + k] = sync(self.J, S[a:a + k], max_steps, keep)

        _pieces.run(("hopfield.sync", b, S.shape[1], max_steps), m, piece, cpp=b == "cpp")
        return SyncResult(S, prev, steps, per)


@dataclass
class CapacityPoint:
    """Retrieval at one load ``alpha = P/N``: mean overlap and fraction of perfect recalls."""

    alpha: float
    P: int
    overlap: Estimate
    retrieved: Estimate


def capacity_curve(N: int, alphas, n_sets: int = 2, n_starts: int = 8, flip: float = 0.0, seed: int = 0,
                   max_sweeps: int = 200, backend: str | None = None) -> list[CapacityPoint]:
    """Retrieval overlap against ``alpha = P/N`` (the storage capacity, alpha_c ~ 0.138).

    For each ``alpha``, ``n_sets`` independent pattern sets of ``P = round(alpha N)`` patterns are
    stored by Hebb's rule; from each of the first ``n_starts`` patterns (corrupted by ``flip``)
    asynchronous updates run to a fixed point and the overlap with that pattern is measured.  The
    error bars are standard errors over sets and starts.
    """
    N = check_int(N, "N", minimum=8, maximum=20000)
    alphas = check_array(alphas, "alphas", dtype=np.float64, ndim=1, finite=True, nonempty=True)
    if np.any(alphas <= 0) or np.any(alphas * N < 1):
        raise ValueError("alphas must be positive with alpha * N >= 1")
    n_sets = check_int(n_sets, "n_sets", minimum=1, maximum=1000)
    n_starts = check_int(n_starts, "n_starts", minimum=1)
    seed = check_seed(seed)
    out = []
    for ia, a in enumerate(alphas):
        P = max(1, int(round(a * N)))
        ov = []
        for s in range(n_sets):
            sd = (seed * 1000003 + ia * 1009 + s) % (1 << 63)
            xi = random_patterns(P, N, seed=sd)
            net = Hopfield.from_patterns(xi)
            k = min(n_starts, P)
            start = corrupt(xi[:k], flip, seed=sd) if flip > 0 else xi[:k]
            res = net.run(start, max_sweeps=max_sweeps, seed=sd, backend=backend)
            ov.append(np.einsum("ri,ri->r", res.states.astype(np.float64), xi[:k].astype(np.float64)) / N)
        ov = np.concatenate(ov)
        n = ov.size
        err = float(ov.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        hit = (ov > 0.99).astype(np.float64)
        herr = float(hit.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        out.append(CapacityPoint(float(a), P, Estimate(float(ov.mean()), err, n=n), Estimate(float(hit.mean()), herr, n=n)))
    return out


def ground_states(J, h=None) -> tuple[float, np.ndarray]:
    """Minimum of ``E = -1/2 S.J.S - h.S`` and all its minimisers, by enumeration (N <= 24).

    Examples
    --------
    >>> E0, gs = ground_states(triangle_antiferromagnet())
    >>> float(E0), len(gs)                  # three-way frustration: sixfold degeneracy (ch. 10)
    (-1.0, 6)
    """
    J = check_array(J, "J", dtype=np.float64, ndim=2, finite=True, nonempty=True)
    n = J.shape[0]
    if J.shape != (n, n) or not np.allclose(J, J.T):
        raise ValueError("J must be a symmetric square matrix")
    if n > MAX_ENUMERATED:
        raise ValueError(f"ground_states enumerates 2**N states; N must be <= {MAX_ENUMERATED}, got {n}")
    hv = np.zeros(n) if h is None else check_array(h, "h", dtype=np.float64, shape=(n,), finite=True)
    S = all_states(n).astype(np.float64)
    E = -0.5 * np.einsum("ri,ij,rj->r", S, J, S) - S @ hv
    E0 = float(E.min())
    tol = 1e-9 * max(1.0, abs(E0))
    return E0, S[E <= E0 + tol].astype(np.int8)


def triangle_antiferromagnet(J: float = 1.0) -> np.ndarray:
    """Three spins with ``J_12 = J_13 = -J_23 = J`` (the frustrated triangle of ch. 10)."""
    J = check_float(J, "J", positive=True)
    W = np.array([[0, J, J], [J, 0, -J], [J, -J, 0]], dtype=np.float64)
    return W


def spin_glass_couplings(n: int, seed: int = 0) -> np.ndarray:
    """Symmetric +-1 couplings of an ``n``-spin Sherrington-Kirkpatrick-type glass (zero diagonal)."""
    n = check_int(n, "n", minimum=2, maximum=4096)
    u = uniform((n, n), seed=check_seed(seed), stream=stream("hopfield", _GLASS))
    W = np.where(u < 0.5, 1.0, -1.0)
    W = np.triu(W, 1)
    return W + W.T
