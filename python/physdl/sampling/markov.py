"""Finite Markov chains (book section 5.2.3-5.2.4, eq. 5.36-5.65).

Convention of the book (footnote 12): the transition matrix acts on probability *column* vectors,
``P_{n+1} = T P_n`` (eq. 5.55), ``T[i, j] = P(s_i | s_j)`` (eq. 5.57), and every *column* sums to 1.

* :class:`MarkovChain`: evolution ``T^n P_0`` (eq. 5.41), stationary distribution as the
  Perron-Frobenius eigenvector (eq. 5.43) or by the power method (footnotes 17, 22), spectral gap and
  relaxation time (footnote 23), irreducibility and aperiodicity (footnote 19), sample paths.
* :func:`master_equation_flux` (eq. 5.52, 5.64), :func:`transition_matrix_from_rates` (eq. 5.57-5.58).
* :func:`detailed_balance` (eq. 5.65) with a readable :class:`DetailedBalanceReport`.
* The book's weather models: :func:`gothenburg_weather` (eq. 5.37), :func:`los_angeles_weather` (eq. 5.45).
* :func:`ising_transition_matrix`: the full single-spin-flip Metropolis (eq. 5.70-5.72) or heat-bath
  (eq. 5.73-5.78) transition matrix of a small Ising system, to check the detailed balance of a kernel.

Examples
--------
>>> from physdl.sampling import markov
>>> chain = markov.los_angeles_weather()
>>> chain.stationary().round(4).tolist()          # eq. 5.48: (1/6, 5/6)
[0.1667, 0.8333]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg
from scipy.sparse import csgraph

from .._validate import check_array, check_choice, check_float, check_int, check_seed
from ..lattice.transition import ising_transition_matrix  # noqa: F401  (moved to the lattice engine)
from ..random import Generator

__all__ = [
    "check_transition_matrix",
    "MarkovChain",
    "gothenburg_weather",
    "los_angeles_weather",
    "master_equation_flux",
    "transition_matrix_from_rates",
    "DetailedBalanceReport",
    "detailed_balance",
    "ising_transition_matrix",
    "empirical_transition_matrix",
]

_TOL = 1e-10


def check_transition_matrix(T, name: str = "T", atol: float = _TOL) -> np.ndarray:
    """Validate a column-stochastic matrix (``T[i, j] = P(s_i|s_j)``, columns sum to 1, footnote 12).

    Raises
    ------
    ValueError
        Not square, not finite, a negative entry, or a column whose sum differs from 1 by more
        than ``atol`` (the message names the offending column and hints at a transposed matrix).

    Examples
    --------
    >>> check_transition_matrix([[0.5, 0.1], [0.5, 0.9]]).shape
    (2, 2)
    """
    T = check_array(T, name, dtype=np.float64, ndim=2, finite=True, nonempty=True)
    if T.shape[0] != T.shape[1]:
        raise ValueError(f"{name} must be square, got shape {T.shape}")
    if np.any(T < -atol):
        i, j = np.unravel_index(np.argmin(T), T.shape)
        raise ValueError(f"{name} has a negative probability {name}[{i}, {j}] = {T[i, j]!r}")
    cols = T.sum(axis=0)
    bad = np.abs(cols - 1) > atol
    if np.any(bad):
        j = int(np.argmax(np.abs(cols - 1)))
        rows_ok = np.all(np.abs(T.sum(axis=1) - 1) <= atol)
        hint = " (its rows sum to 1: pass the transpose, the book's T acts on column vectors)" if rows_ok else ""
        raise ValueError(f"{name} is not stochastic: column {j} sums to {cols[j]!r}, not 1{hint}")
    return np.clip(T, 0.0, None)


def _check_distribution(p, n, name="p"):
    p = check_array(p, name, dtype=np.float64, ndim=1, finite=True)
    if p.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {p.shape}")
    if np.any(p < -_TOL):
        raise ValueError(f"{name} has a negative probability {name}[{int(np.argmin(p))}] = {p.min()!r}")
    if abs(p.sum() - 1) > 1e-9:
        raise ValueError(f"{name} must sum to 1, got {p.sum()!r}")
    return p


@dataclass
class MarkovChain:
    """A finite Markov chain ``P_{n+1} = T P_n`` (eq. 5.55) with optional state names.

    Parameters
    ----------
    T : (N, N) column-stochastic matrix, ``T[i, j] = P(s_i | s_j)``
    states : sequence of str, optional

    Examples
    --------
    >>> g = gothenburg_weather()
    >>> g.evolve([1.0, 0.0], 2).tolist()      # eq. 5.40
    [0.625, 0.375]
    """

    T: np.ndarray
    states: tuple = field(default=())

    def __post_init__(self):
        self.T = check_transition_matrix(self.T)
        n = self.T.shape[0]
        self.states = tuple(self.states) if self.states else tuple(f"s{i + 1}" for i in range(n))
        if len(self.states) != n:
            raise ValueError(f"states must name all {n} states, got {len(self.states)}")

    @property
    def n_states(self) -> int:
        return self.T.shape[0]

    def evolve(self, p0, n_steps: int = 1) -> np.ndarray:
        """``P_n = T^n P_0`` (eq. 5.41) by repeated squaring."""
        p0 = _check_distribution(p0, self.n_states, "p0")
        n_steps = check_int(n_steps, "n_steps", minimum=0, maximum=2**4096)
        # repeated squaring, renormalising every product to a stochastic matrix / probability
        # vector: without it rounding errors double with each squaring (2^55 steps gave [1.54, 0.31])
        v, A = p0.copy(), self.T.copy()
        while n_steps:
            if n_steps & 1:
                v = np.clip(A @ v, 0.0, None)
                v /= v.sum()
            n_steps >>= 1
            if n_steps:
                A = np.clip(A @ A, 0.0, None)
                A /= A.sum(axis=0, keepdims=True)
        return v

    def trajectory(self, p0, n_steps: int) -> np.ndarray:
        """``[P_0, P_1, ..., P_n]`` as an ``(n_steps + 1, N)`` array (the master equation in time)."""
        p0 = _check_distribution(p0, self.n_states, "p0")
        n_steps = check_int(n_steps, "n_steps", minimum=0)
        out = np.empty((n_steps + 1, self.n_states))
        out[0] = p0
        for t in range(n_steps):  # loop over time steps of a distribution (N-vector), not samples
            out[t + 1] = self.T @ out[t]
        return out

    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues sorted by decreasing modulus (the first is the Perron-Frobenius root 1)."""
        ev = linalg.eigvals(self.T)
        return ev[np.argsort(-np.abs(ev), kind="stable")]

    def spectral_gap(self) -> float:
        """``1 - |lambda_2|``; the distance to equilibrium shrinks like ``|lambda_2|^n`` (footnote 23)."""
        ev = self.eigenvalues()
        return float(1 - abs(ev[1])) if ev.size > 1 else 1.0

    def relaxation_time(self) -> float:
        """``-1 / ln|lambda_2|`` in steps (inf when ``|lambda_2| = 1``)."""
        ev = self.eigenvalues()
        l2 = abs(ev[1]) if ev.size > 1 else 0.0
        if l2 >= 1 - 1e-15:
            return math.inf
        return 0.0 if l2 == 0 else float(-1 / math.log(l2))

    def is_irreducible(self) -> bool:
        """Every state reachable from every other (footnote 19, condition 1)."""
        n, _ = csgraph.connected_components(self.T > 0, directed=True, connection="strong")
        return n == 1

    def is_aperiodic(self) -> bool:
        """Primitive check: ``T^k > 0`` elementwise for ``k = (N-1)^2 + 1`` (Wielandt), if irreducible."""
        if not self.is_irreducible():
            return False
        n = self.n_states
        k = (n - 1) ** 2 + 1
        A = (self.T > 0).astype(np.float64)
        R = np.eye(n)
        while k:  # repeated squaring of the boolean pattern
            if k & 1:
                R = np.minimum(R @ A, 1.0)
            A = np.minimum(A @ A, 1.0)
            k >>= 1
        return bool(np.all(R > 0))

    def stationary(self, method: str = "eigen", tol: float = 1e-13, max_iter: int = 1_000_000,
                   p0=None) -> np.ndarray:
        """Stationary distribution ``T P_eq = P_eq`` (eq. 5.60).

        Parameters
        ----------
        method : {"eigen", "power"}
            ``"eigen"``: eigenvector of the eigenvalue 1, normalised (Perron-Frobenius, eq. 5.43);
            ``"power"``: iterate ``P <- T P`` from ``p0`` (uniform by default) until the L1 change
            is below ``tol`` (power method, footnotes 17 and 22).
        tol : float
        max_iter : int
        p0 : array, optional

        Returns
        -------
        ndarray (N,)

        Raises
        ------
        ValueError
            Reducible chain (stationary distribution not unique); power method without convergence
            (e.g. a periodic chain).
        """
        method = check_choice(method, "method", ("eigen", "power"))
        tol = check_float(tol, "tol", positive=True)
        max_iter = check_int(max_iter, "max_iter", minimum=1)
        if not self.is_irreducible():
            raise ValueError("the chain is reducible (T is block-triangular up to a relabelling): its "
                             "stationary distribution is not unique (footnote 19)")
        if method == "eigen":
            w, v = linalg.eig(self.T)
            i = int(np.argmin(np.abs(w - 1)))
            vec = np.real(v[:, i])
            vec = vec / vec.sum()
            return np.clip(vec, 0.0, None) / np.clip(vec, 0.0, None).sum()
        p = np.full(self.n_states, 1.0 / self.n_states) if p0 is None else _check_distribution(
            p0, self.n_states, "p0")
        for _ in range(max_iter):  # iterations of an N-vector product, not samples
            q = self.T @ p
            if np.abs(q - p).sum() < tol:
                return q
            p = q
        raise ValueError(f"power method did not converge in {max_iter} steps (a periodic chain "
                         f"oscillates: footnote 19, condition 2)")

    def sample_path(self, n_steps: int, start: int = 0, seed: int = 0, stream: int = 0) -> np.ndarray:
        """A realisation ``s_0, s_1, ..., s_n`` of the chain (state indices), from Philox uniforms.

        Examples
        --------
        >>> path = los_angeles_weather().sample_path(100_000, seed=1)
        >>> bool(abs((path == 1).mean() - 5 / 6) < 0.01)
        True
        """
        n_steps = check_int(n_steps, "n_steps", minimum=0)
        start = check_int(start, "start", minimum=0, maximum=self.n_states - 1)
        u = Generator(check_seed(seed), check_seed(stream, "stream")).uniform(n_steps)
        cdf = np.cumsum(self.T, axis=0)  # cdf[:, j]: cumulative distribution of the next state from j
        cdf[-1, :] = 1.0
        return _walk(np.ascontiguousarray(cdf.T), u, start)


def _walk(cdf_rows, u, start):
    from numba import njit  # sequential by nature: one compiled loop

    global _walk_jit
    if _walk_jit is None:
        @njit(cache=False)
        def walk(cdf_rows, u, start):
            out = np.empty(u.size + 1, np.int64)
            out[0] = start
            s = start
            n = cdf_rows.shape[1]
            for t in range(u.size):
                row = cdf_rows[s]
                k = 0
                while k < n - 1 and row[k] <= u[t]:
                    k += 1
                s = k
                out[t + 1] = s
            return out

        _walk_jit = walk
    return _walk_jit(cdf_rows, u, np.int64(start))


_walk_jit = None


def empirical_transition_matrix(from_states, to_states, n_states: int) -> np.ndarray:
    """Estimate ``T[i, j] = P(s_i | s_j)`` from observed transitions ``from_states[k] -> to_states[k]``.

    Counts transitions (one ``bincount``) and normalises each column; use it to check a sampler's
    update kernel against :func:`ising_transition_matrix` or :func:`detailed_balance` (with a
    tolerance of a few binomial standard errors).

    Parameters
    ----------
    from_states, to_states : 1D int arrays of equal length, values in ``[0, n_states)``
    n_states : int

    Returns
    -------
    ndarray (n_states, n_states), column-stochastic; raises if some state was never left.

    Examples
    --------
    >>> empirical_transition_matrix([0, 0, 1, 1], [0, 1, 1, 1], 2).tolist()
    [[0.5, 0.0], [0.5, 1.0]]
    """
    n_states = check_int(n_states, "n_states", minimum=1)
    a = np.asarray(from_states)
    b = np.asarray(to_states)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"from_states and to_states must be 1D of equal length, got {a.shape} and {b.shape}")
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
        raise TypeError("from_states and to_states must be integer state labels")
    if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_states):
        raise ValueError(f"state labels must lie in [0, {n_states})")
    counts = np.bincount(b.astype(np.int64) * n_states + a.astype(np.int64),
                         minlength=n_states * n_states).reshape(n_states, n_states).astype(np.float64)
    col = counts.sum(axis=0)
    if np.any(col == 0):
        raise ValueError(f"no transitions observed out of state(s) {np.flatnonzero(col == 0)[:10].tolist()}")
    return counts / col


def gothenburg_weather() -> MarkovChain:
    """The Gothenburg weather model, eq. 5.37: same weather tomorrow with probability 0.75.

    States ``("rainy", "sunny")``; stationary ``(1/2, 1/2)`` (eq. 5.42-5.43).
    """
    return MarkovChain(np.array([[0.75, 0.25], [0.25, 0.75]]), ("rainy", "sunny"))


def los_angeles_weather() -> MarkovChain:
    """The Los Angeles weather model, eq. 5.45; stationary ``(1/6, 5/6)`` (eq. 5.48).

    States ``("rainy", "sunny")``.
    """
    return MarkovChain(np.array([[0.5, 0.1], [0.5, 0.9]]), ("rainy", "sunny"))


def master_equation_flux(T, p) -> np.ndarray:
    """Net probability flow into each state, the right side of the master equation (eq. 5.52).

    ``dP_i = -sum_{j != i} P_i P(s_j|s_i) + sum_{j != i} P_j P(s_i|s_j)``; zero for every ``i``
    exactly when ``p`` is stationary (eq. 5.64).

    Examples
    --------
    >>> import numpy as np
    >>> bool(np.allclose(master_equation_flux([[0.5, 0.1], [0.5, 0.9]], [1 / 6, 5 / 6]), 0, atol=1e-15))
    True
    """
    T = check_transition_matrix(T)
    p = _check_distribution(p, T.shape[0])
    off = T - np.diag(np.diag(T))
    return off @ p - off.sum(axis=0) * p


def transition_matrix_from_rates(rates, dt: float = 1.0) -> np.ndarray:
    """Transition matrix from transition probabilities per unit time (eq. 5.57-5.58).

    ``a_ij = P(s_i|s_j) dt`` for ``i != j`` and ``a_ii = 1 - sum_{j != i} P(s_j|s_i) dt``.

    Parameters
    ----------
    rates : (N, N) array, ``rates[i, j] = P(s_i | s_j)`` for ``i != j`` (diagonal ignored), >= 0
    dt : float > 0

    Examples
    --------
    >>> transition_matrix_from_rates([[0, 0.1], [0.5, 0]]).tolist()     # the Los Angeles model
    [[0.5, 0.1], [0.5, 0.9]]
    """
    W = check_array(rates, "rates", dtype=np.float64, ndim=2, finite=True, nonempty=True)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"rates must be square, got shape {W.shape}")
    dt = check_float(dt, "dt", positive=True)
    W = W - np.diag(np.diag(W))
    if np.any(W < 0):
        raise ValueError("rates must be non-negative")
    A = W * dt
    out = np.sum(A, axis=0)
    if np.any(out > 1 + 1e-12):
        j = int(np.argmax(out))
        raise ValueError(f"dt too large: the probability of leaving state {j} is {out[j]!r} > 1")
    A[np.diag_indices_from(A)] = 1 - out
    return A


@dataclass(frozen=True)
class DetailedBalanceReport:
    """Outcome of :func:`detailed_balance`.

    Attributes
    ----------
    holds : bool
    max_violation : float
        ``max_ij |T_ij p_j - T_ji p_i|``.
    worst_pair : tuple (i, j)
    flux : ndarray
        ``F[i, j] = T[i, j] p[j]``, the probability flow ``j -> i``; detailed balance is ``F = F^T``.
    stationary : bool
        Whether ``T p = p`` (the weaker global balance of eq. 5.60).
    p : ndarray
    atol : float
    """

    holds: bool
    max_violation: float
    worst_pair: tuple
    flux: np.ndarray
    stationary: bool
    p: np.ndarray
    atol: float

    def __bool__(self):
        return self.holds

    def __str__(self):
        i, j = self.worst_pair
        head = "detailed balance HOLDS" if self.holds else "detailed balance FAILS"
        return (f"{head} (eq. 5.65, tolerance {self.atol:.1e}): max |P(s_i|s_j)P(s_j) - P(s_j|s_i)P(s_i)| = "
                f"{self.max_violation:.3e} at (i, j) = ({i}, {j}): flow {j}->{i} = {self.flux[i, j]:.6g}, "
                f"flow {i}->{j} = {self.flux[j, i]:.6g}; p is {'' if self.stationary else 'NOT '}stationary "
                f"(global balance T p = p {'holds' if self.stationary else 'fails'}).")


def detailed_balance(T, p=None, atol: float = 1e-12) -> DetailedBalanceReport:
    """Check ``P(s_i|s_j) P(s_j) = P(s_j|s_i) P(s_i)`` for all pairs (eq. 5.65).

    Parameters
    ----------
    T : (N, N) column-stochastic matrix
    p : (N,) distribution, optional
        Default: the stationary distribution of ``T``.
    atol : float
        Absolute tolerance on the flux difference.

    Returns
    -------
    DetailedBalanceReport (truthy when detailed balance holds; ``str()`` explains)

    Examples
    --------
    >>> bool(detailed_balance([[0.5, 0.1], [0.5, 0.9]]))     # every 2-state chain is reversible
    True
    >>> cyc = [[0, 0, 1], [1, 0, 0], [0, 1, 0]]              # rotation: stationary but not reversible
    >>> r = detailed_balance(cyc, [1 / 3] * 3); (r.holds, r.stationary)
    (False, True)
    """
    T = check_transition_matrix(T)
    atol = check_float(atol, "atol", positive=True)
    if p is None:
        p = MarkovChain(T).stationary()
    p = _check_distribution(p, T.shape[0])
    F = T * p[None, :]
    D = np.abs(F - F.T)
    k = int(np.argmax(D))
    i, j = np.unravel_index(k, D.shape)
    stationary = bool(np.abs(T @ p - p).max() <= atol * max(1, T.shape[0]))
    return DetailedBalanceReport(bool(D.max() <= atol), float(D.max()), (int(i), int(j)), F, stationary, p, atol)


