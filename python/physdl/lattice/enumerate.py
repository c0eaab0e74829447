"""Brute-force enumeration of all 2**N states of a small Ising system (book eq. 5.79-5.81, 5.85-5.86).

Conventions (shared with the lattice Monte Carlo engine, keep them in sync):

* Hamiltonian ``H = -J sum_<ij> s_i s_j - h sum_i s_i`` (eq. 5.80, 5.85), each bond counted once;
  for a general coupling matrix ``H = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i`` (eq. 5.86 with the
  symmetric J and each pair counted once; the diagonal of J is ignored).
* Sites, bonds and numbering are those of :class:`physdl.geometry.Lattice` (periodic), the same as
  the Monte Carlo models of :mod:`physdl.lattice.models`: ``shape`` is in array-axis order,
  ``(L,)``, ``(Ly, Lx)`` or ``(Lz, Ly, Lx)``, and site ``i`` is the C-order index of a lattice array
  of that shape (``i = x + Lx*y`` in 2D, the last axis fastest), so
  ``coupling_matrix(shape)`` is the adjacency of ``Ising(shape).neighbours()``.
* State integer: bit ``i`` is spin ``i``; bit 1 means ``s_i = +1``, bit 0 means ``s_i = -1``.
* Bonds, all periodic: every site is bonded *forward* along the offsets of
  :data:`physdl.geometry.FORWARD` (array axes):

  - chain: ``(1,)``  (N bonds);
  - square: ``(1, 0)`` and ``(0, 1)``  (2N bonds);
  - triangular (eq. 8.8, the square lattice plus one diagonal): ``(1, 0)``, ``(0, 1)``, ``(1, 1)``
    (3N bonds, coordination 6);
  - cubic: the three unit offsets  (3N bonds).

  With a side of length 2 the forward and backward neighbour coincide and the pair is bonded twice
  (as on any periodic lattice where each site sums over all its neighbours with wrap-around); a side
  of length 1 gives a bond of a spin with itself, a constant.  This is the convention of Kaufman's
  torus partition function, see :func:`physdl.lattice.exact.kaufman_log_z`.

Everything is vectorised over states with NumPy bit operations, in chunks of ``2**20`` states, so
memory stays small; only the joint histogram of (energy, magnetisation) is kept.

Examples
--------
>>> from physdl.lattice.enumerate import enumerate_ising
>>> ens = enumerate_ising((3,), geometry="chain")
>>> ens.n_states, sorted(set(ens.energies.tolist()))   # the book's L = 3 table (after eq. 5.80)
(8, [-3.0, 1.0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validate import check_array, check_choice, check_float, check_int, check_shape
from ..geometry import FORWARD
from ..geometry import KINDS as GEOMETRIES
from ..geometry import NDIM as _NDIM
from ..geometry import Lattice

__all__ = [
    "GEOMETRIES",
    "MAX_LATTICE_SPINS",
    "MAX_GENERAL_SPINS",
    "Enumeration",
    "lattice_bonds",
    "enumerate_ising",
    "enumerate_couplings",
    "state_spins",
    "state_energies",
    "coupling_matrix",
    "lattice_state_energies",
    "spins_to_states",
    "boltzmann_probabilities",
    "energy_chi_square",
]

MAX_LATTICE_SPINS = 30
MAX_GENERAL_SPINS = 24
_CHUNK_BITS = 20


def _check_geometry(shape, geometry):
    geometry = check_choice(geometry, "geometry", GEOMETRIES)
    shape = check_shape(shape)
    nd = _NDIM[geometry]
    if len(shape) != nd:
        raise ValueError(f"geometry {geometry!r} needs a {nd}-dimensional shape, got shape {shape}")
    if any(s < 1 for s in shape):
        raise ValueError(f"every side of shape must be >= 1, got {shape}")
    return shape, geometry


def lattice_bonds(shape, geometry: str = "square") -> np.ndarray:
    """The bond list ``(n_bonds, 2)`` of a periodic lattice, each bond counted once (forward bonds).

    Parameters
    ----------
    shape : tuple of int
        ``(L,)``, ``(Ly, Lx)`` or ``(Lz, Ly, Lx)`` (array axes, as for :class:`physdl.geometry.Lattice`).
    geometry : {"chain", "square", "triangular", "cubic"}

    Returns
    -------
    ndarray of int64, shape (n_bonds, 2)
        Pairs ``(i, j)`` of site indices; bonds come grouped by direction, sites in index order.

    Examples
    --------
    >>> lattice_bonds((3, 3), "square").shape
    (18, 2)
    """
    shape, geometry = _check_geometry(shape, geometry)
    if min(shape) >= 2:
        return Lattice(geometry, shape, pbc=True).bonds()
    # A periodic side of length 1 (allowed here, for Kaufman's torus; geometry.Lattice refuses it):
    # the same numbering and forward offsets, wrapped, so a bond along that side joins a site to itself.
    coords = np.indices(shape).reshape(len(shape), -1)
    pairs = [np.stack([np.arange(coords.shape[1]),
                       np.ravel_multi_index(tuple(coords + np.array(off)[:, None]), shape, mode="wrap")], axis=1)
             for off in FORWARD[geometry]]
    return np.concatenate(pairs, axis=0).astype(np.int64)


def coupling_matrix(shape, geometry: str = "square", J: float = 1.0) -> np.ndarray:
    """The symmetric coupling matrix ``(N, N)`` of a periodic lattice (doubled bonds add up).

    ``H = -sum_{i<j} K_ij s_i s_j`` with this ``K`` equals the lattice Hamiltonian of eq. 5.80.

    Examples
    --------
    >>> coupling_matrix((4,), "chain")[0].tolist()
    [0.0, 1.0, 0.0, 1.0]
    """
    J = check_float(J, "J")
    bonds = lattice_bonds(shape, geometry)  # those of physdl.geometry.Lattice(geometry, shape)
    n = int(bonds.max()) + 1
    K = np.zeros((n, n))
    off = bonds[:, 0] != bonds[:, 1]
    np.add.at(K, (bonds[off, 0], bonds[off, 1]), J)
    np.add.at(K, (bonds[off, 1], bonds[off, 0]), J)
    return K


def _popcount(a: np.ndarray) -> np.ndarray:
    return np.bitwise_count(a).astype(np.int64)


@dataclass(frozen=True)
class Enumeration:
    """Exact density of states ``g(E, M)`` of a small Ising system, with thermodynamics at any beta.

    Attributes
    ----------
    n_spins : int
    energies : ndarray (K,)
        Energy ``E`` of each distinct (energy, magnetisation) level.
    magnetizations : ndarray (K,) of int64
        Total magnetisation ``M = sum_i s_i`` of each level.
    counts : ndarray (K,) of int64
        Number of states in each level (sum is ``2**n_spins``).
    """

    n_spins: int
    energies: np.ndarray
    magnetizations: np.ndarray
    counts: np.ndarray

    @property
    def n_states(self) -> int:
        return int(self.counts.sum())

    def energy_levels(self):
        """Distinct energies and their degeneracies ``(E_levels, g(E))``, magnetisation summed out."""
        levels, inv = np.unique(self.energies, return_inverse=True)
        return levels, np.bincount(inv, weights=self.counts).astype(np.int64)

    def _log_weights(self, beta):
        beta = np.asarray(beta, dtype=np.float64)
        if not np.all(np.isfinite(beta)) or np.any(beta < 0):
            raise ValueError("beta must be finite and >= 0 (beta = 1/T with T > 0)")
        b = beta[..., None]
        logw = np.log(self.counts.astype(np.float64)) - b * self.energies
        shift = logw.max(axis=-1, keepdims=True)
        return beta, logw, shift

    def log_z(self, beta):
        """ln Z(beta) = ln sum_E,M g(E,M) exp(-beta E) (eq. 5.79), stable in log space."""
        beta, logw, shift = self._log_weights(beta)
        return (shift[..., 0] + np.log(np.exp(logw - shift).sum(axis=-1)))

    def level_probabilities(self, beta):
        """Exact Boltzmann probability of each distinct energy (eq. 5.81 summed over each level).

        Returns
        -------
        (E_levels, P) : P has shape ``beta.shape + (n_levels,)``
        """
        levels, inv = np.unique(self.energies, return_inverse=True)
        _, w = self._moments(beta)
        indicator = np.zeros((self.energies.size, levels.size))
        indicator[np.arange(self.energies.size), inv] = 1.0
        p = w @ indicator
        return levels, p

    def _moments(self, beta):
        beta, logw, shift = self._log_weights(beta)
        w = np.exp(logw - shift)
        w /= w.sum(axis=-1, keepdims=True)
        return beta, w

    def expectation(self, beta, f_energy_magnetization):
        """Exact ``<f(E, M)>`` for a vectorised ``f(E, M)`` of total energy and magnetisation."""
        _, w = self._moments(beta)
        vals = np.asarray(f_energy_magnetization(self.energies, self.magnetizations.astype(np.float64)))
        return (w * vals).sum(axis=-1)

    def thermodynamics(self, beta) -> dict:
        """Exact per-spin observables at inverse temperature(s) ``beta``.

        Returns
        -------
        dict with arrays of ``beta``'s shape:
            ``log_z``, ``energy`` (<E>/N), ``specific_heat`` (beta^2 (<E^2>-<E>^2)/N),
            ``abs_m`` (<|m|>), ``m2`` (<m^2>), ``m4`` (<m^4>), ``susceptibility``
            (beta N (<m^2> - <|m|>^2)), ``binder`` (1 - <m^4>/(3 <m^2>^2)), with ``m = M/N``.
        """
        n = self.n_spins
        beta, w = self._moments(beta)
        e = self.energies
        mean_e = (w * e).sum(axis=-1)
        var_e = (w * (e - mean_e[..., None]) ** 2).sum(axis=-1)
        m = self.magnetizations.astype(np.float64) / n
        abs_m = (w * np.abs(m)).sum(axis=-1)
        m2 = (w * m**2).sum(axis=-1)
        m4 = (w * m**4).sum(axis=-1)
        return {
            "log_z": self.log_z(beta),
            "energy": mean_e / n,
            "specific_heat": beta**2 * var_e / n,
            "abs_m": abs_m,
            "m2": m2,
            "m4": m4,
            "susceptibility": beta * n * (m2 - abs_m**2),
            "binder": 1.0 - m4 / (3.0 * m2**2),
        }


def _check_n(n, limit, what):
    if n > limit:
        raise ValueError(
            f"{what} has {n} spins: enumerating 2**{n} states is too large (limit {limit} spins, "
            f"2**{limit} states); use Monte Carlo instead")
    if n < 1:
        raise ValueError(f"{what} must have at least one spin")


def enumerate_ising(shape, geometry: str = "square", J: float = 1.0, h: float = 0.0) -> Enumeration:
    """Enumerate all ``2**N`` states of a periodic Ising lattice with uniform ``J`` and ``h`` (eq. 5.80).

    Parameters
    ----------
    shape : tuple of int
        ``(L,)``, ``(Ly, Lx)`` or ``(Lz, Ly, Lx)`` (array axes); at most ``MAX_LATTICE_SPINS`` = 30
        spins in all.
    geometry : {"chain", "square", "triangular", "cubic"}
        Bond conventions in the module docstring.
    J, h : float
        Coupling and field in ``H = -J sum_<ij> s_i s_j - h sum_i s_i``.

    Returns
    -------
    Enumeration
        Exact joint density of states ``g(E, M)``.

    Examples
    --------
    >>> ens = enumerate_ising((4, 4), "square")
    >>> int(ens.counts.sum()), float(ens.energies.min())
    (65536, -32.0)
    """
    shape, geometry = _check_geometry(shape, geometry)
    J = check_float(J, "J")
    h = check_float(h, "h")
    n = math.prod(shape)
    _check_n(n, MAX_LATTICE_SPINS, f"shape {shape}")
    bonds = lattice_bonds(shape, geometry)
    nb = bonds.shape[0]
    # histogram over (n_unsatisfied in [0, nb], n_up in [0, n])
    hist = np.zeros((nb + 1) * (n + 1), dtype=np.int64)
    total = 1 << n
    chunk = min(total, 1 << _CHUNK_BITS)
    for start in range(0, total, chunk):  # loop over chunks of 2**20 states, not over states
        st = np.arange(start, start + chunk, dtype=np.uint64)
        unsat, up = _unsatisfied_and_up(st, bonds, n)
        hist += np.bincount(unsat * (n + 1) + up, minlength=hist.size)
    hist = hist.reshape(nb + 1, n + 1)
    u_idx, up_idx = np.nonzero(hist)
    counts = hist[u_idx, up_idx]
    mag = 2 * up_idx - n
    energies = -J * (nb - 2 * u_idx) - h * mag + 0.0  # + 0.0: no negative zeros
    return Enumeration(n, energies.astype(np.float64), mag.astype(np.int64), counts.astype(np.int64))


def _unsatisfied_and_up(st: np.ndarray, bonds: np.ndarray, n: int):
    """Number of unsatisfied bonds and of up spins of each state integer (bit tricks, no state loop).

    For each lattice direction, site j = perm(i); unsatisfied bonds are popcount(state XOR permuted),
    where permuted has bit i = bit perm(i) of state.
    """
    bit = np.arange(n, dtype=np.uint64)
    unsat = np.zeros(st.shape, dtype=np.int64)
    for d in range(bonds.shape[0] // n):
        j = bonds[d * n:(d + 1) * n, 1].astype(np.uint64)
        unsat += _popcount(st ^ _permute_bits(st, j, bit))
    return unsat, _popcount(st)


def lattice_state_energies(shape, geometry: str = "square", J: float = 1.0, h: float = 0.0, states=None):
    """Energy and total magnetisation of every state (or of given states) of a periodic Ising lattice.

    Parameters
    ----------
    shape, geometry, J, h
        As in :func:`enumerate_ising`.
    states : array of int, optional
        State integers (bit i = spin i); default all ``2**N`` states (N <= ``MAX_GENERAL_SPINS``).

    Returns
    -------
    (E, M) : float64 and int64 arrays of ``states``' shape

    Examples
    --------
    >>> E, M = lattice_state_energies((2, 2))
    >>> float(E[0]), int(M[0]), float(E[0b0101]), int(M[0b0101])    # all down; one stripe pattern
    (-8.0, -4, 0.0, 0)
    """
    shape, geometry = _check_geometry(shape, geometry)
    J = check_float(J, "J")
    h = check_float(h, "h")
    n = math.prod(shape)
    if states is None:
        _check_n(n, MAX_GENERAL_SPINS, f"shape {shape}")
        states = np.arange(1 << n, dtype=np.uint64)
    else:
        _check_n(n, 63, f"shape {shape}")
        states = _check_states(states, n)
    bonds = lattice_bonds(shape, geometry)
    unsat, up = _unsatisfied_and_up(states, bonds, n)
    mag = 2 * up - n
    return -J * (bonds.shape[0] - 2 * unsat) - h * mag + 0.0, mag  # + 0.0: no negative zeros


def spins_to_states(spins) -> np.ndarray:
    """State integers of spin configurations ``(..., N)`` in {-1, +1} (bit i = 1 where spin i = +1).

    Site order as in the module docstring: a lattice array indexed ``[y, x]`` (or ``[z, y, x]``)
    flattened in C order, i.e. ``spins.reshape(n_samples, -1)``.

    Examples
    --------
    >>> spins_to_states([[1, -1, 1], [-1, -1, -1]]).tolist()
    [5, 0]
    """
    s = np.asarray(spins)
    if s.ndim < 1 or s.shape[-1] < 1 or s.shape[-1] > 63:
        raise ValueError(f"spins must have shape (..., N) with 1 <= N <= 63, got {s.shape}")
    if not np.all((s == 1) | (s == -1)):
        raise ValueError("spins must contain only -1 and +1")
    bits = (s > 0).astype(np.uint64)
    return (bits << np.arange(s.shape[-1], dtype=np.uint64)).sum(axis=-1, dtype=np.uint64)


def boltzmann_probabilities(energies, beta: float) -> np.ndarray:
    """``exp(-beta E) / Z`` of a list of state energies (eq. 5.81), computed stably.

    Examples
    --------
    >>> boltzmann_probabilities([0.0, 0.0], 1.0).tolist()
    [0.5, 0.5]
    """
    E = check_array(energies, "energies", dtype=np.float64, ndim=1, finite=True, nonempty=True)
    beta = check_float(beta, "beta", nonnegative=True)
    w = np.exp(-beta * (E - E.min()))
    return w / w.sum()


def energy_chi_square(sampled_energies, enumeration: "Enumeration", beta: float, min_expected: float = 5.0,
                      correlation_factor: float = 1.0):
    """Pearson chi-square test of sampled total energies against the exact level probabilities.

    Levels with expected count below ``min_expected`` are pooled (from both tails inwards) so the
    chi-square approximation holds.  Markov-chain samples are correlated: either thin them to
    roughly independent ones or pass ``correlation_factor = 2 tau_int`` (of the energy), by which the
    statistic is divided (an approximation that keeps the test's size close to nominal).

    Parameters
    ----------
    sampled_energies : 1D array
        Total energies ``E`` (not per spin) of the samples; each must equal an exact level to 1e-8.
    enumeration : Enumeration
    beta : float >= 0
    min_expected : float, default 5
    correlation_factor : float >= 1, default 1

    Returns
    -------
    (statistic, dof, p_value)

    Examples
    --------
    >>> import numpy as np
    >>> ens = enumerate_ising((2, 2))
    >>> lv, p = ens.level_probabilities(0.3)
    >>> rng = np.random.default_rng(0)
    >>> stat, dof, pval = energy_chi_square(rng.choice(lv, size=20_000, p=p), ens, 0.3)
    >>> dof, bool(pval > 1e-3)
    (2, True)
    """
    from scipy import stats

    if not isinstance(enumeration, Enumeration):
        raise TypeError("enumeration must be an Enumeration (from enumerate_ising or enumerate_couplings)")
    e = check_array(sampled_energies, "sampled_energies", dtype=np.float64, ndim=1, finite=True, nonempty=True)
    beta = check_float(beta, "beta", nonnegative=True)
    min_expected = check_float(min_expected, "min_expected", positive=True)
    correlation_factor = check_float(correlation_factor, "correlation_factor", positive=True)
    if correlation_factor < 1:
        raise ValueError("correlation_factor must be >= 1 (it is 2 tau_int)")
    levels, p = enumeration.level_probabilities(beta)
    idx = np.searchsorted(levels, e)
    idx = np.clip(idx, 0, levels.size - 1)
    left = np.clip(idx - 1, 0, levels.size - 1)
    closer = np.where(np.abs(levels[left] - e) < np.abs(levels[idx] - e), left, idx)
    tol = 1e-8 * max(1.0, np.abs(levels).max())
    if np.any(np.abs(levels[closer] - e) > tol):
        bad = e[np.argmax(np.abs(levels[closer] - e))]
        raise ValueError(f"sampled energy {bad!r} is not an energy level of this system")
    counts = np.bincount(closer, minlength=levels.size).astype(np.float64)
    expected = p * e.size
    # pool sparse levels: walk from the low-energy end, merging until each bin reaches min_expected
    edges = np.flatnonzero(np.diff(np.floor(np.cumsum(expected) / min_expected)) > 0) + 1
    groups = np.split(np.arange(levels.size), edges)
    obs = np.array([counts[g].sum() for g in groups])
    exp_ = np.array([expected[g].sum() for g in groups])
    if exp_.size > 1 and exp_[-1] < min_expected:  # fold a sparse last group into its neighbour
        obs[-2] += obs[-1]
        exp_[-2] += exp_[-1]
        obs, exp_ = obs[:-1], exp_[:-1]
    if obs.size < 2:
        raise ValueError("too few samples for a chi-square test: fewer than two pooled energy bins")
    stat = float(((obs - exp_) ** 2 / exp_).sum() / correlation_factor)
    dof = obs.size - 1
    return stat, dof, float(stats.chi2.sf(stat, dof))


def _permute_bits(s: np.ndarray, src: np.ndarray, bit: np.ndarray) -> np.ndarray:
    """Word with bit i = bit src[i] of s, done by grouping equal shifts (few groups on a lattice)."""
    shift = src.astype(np.int64) - bit.astype(np.int64)
    out = np.zeros_like(s)
    one = np.uint64(1)
    for sh in np.unique(shift):  # at most a handful of distinct shifts per lattice direction
        sel = bit[shift == sh]
        mask = np.uint64(np.bitwise_or.reduce(one << sel))
        if sh >= 0:
            out |= (s >> np.uint64(sh)) & mask
        else:
            out |= (s << np.uint64(-sh)) & mask
    return out


def _check_states(states, n: int, name: str = "states") -> np.ndarray:
    """Integer states in [0, 2**n) as uint64 (floats, bools and out-of-range bits refused)."""
    a = np.asarray(states)
    if a.dtype.kind not in "iu":
        if a.dtype == object and all(isinstance(v, int) and not isinstance(v, bool) for v in a.ravel().tolist()):
            if a.size and (min(a.ravel().tolist()) < 0 or max(a.ravel().tolist()) >= (1 << n)):
                raise ValueError(f"{name} must be integers in [0, 2**{n})")
            return a.astype(np.uint64)
        raise TypeError(f"{name} must be integers (state bits), got dtype {a.dtype}")
    if a.size and (int(a.min()) < 0 or int(a.max()) >= (1 << n)):
        raise ValueError(f"{name} must be integers in [0, 2**{n}) for {n} spins")
    return a.astype(np.uint64)


def state_spins(states, n_spins: int) -> np.ndarray:
    """Spins ``(len(states), n_spins)`` int8 in {-1, +1} of state integers (bit i = spin i)."""
    n_spins = check_int(n_spins, "n_spins", minimum=1, maximum=63)
    states = _check_states(states, n_spins)
    bits = (states[..., None] >> np.arange(n_spins, dtype=np.uint64)) & np.uint64(1)
    return (2 * bits.astype(np.int8) - 1).astype(np.int8)


def _check_couplings(J, h):
    J = check_array(J, "J", dtype=np.float64, ndim=2, finite=True, nonempty=True)
    n = J.shape[0]
    if J.shape != (n, n):
        raise ValueError(f"J must be a square (N, N) matrix, got shape {J.shape}")
    if not np.allclose(J, J.T, rtol=0, atol=1e-12 * max(1.0, np.abs(J).max())):
        raise ValueError("J must be symmetric (J_ij = J_ji); pass (J + J.T)/2 if each pair is listed once")
    if h is None:
        h = np.zeros(n)
    if np.ndim(h) == 0:
        h = np.full(n, check_float(h, "h"))
    h = check_array(h, "h", dtype=np.float64, finite=True)
    if h.shape != (n,):
        raise ValueError(f"h must be a scalar or have shape ({n},), got {h.shape}")
    return J, h, n


def state_energies(J, h=None, states=None) -> np.ndarray:
    """Energies ``H(s) = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i`` of given (or all) states (eq. 5.86).

    Parameters
    ----------
    J : (N, N) symmetric array
        Couplings; each pair counted once, the diagonal ignored.  Build it from a lattice with
        :func:`coupling_matrix`-style code or ``lattice_bonds``.
    h : float or (N,) array, optional
    states : array of int, optional
        State integers (bit i = spin i); default all ``2**N`` (N <= ``MAX_GENERAL_SPINS``).

    Returns
    -------
    ndarray of float64, the energy of each state.
    """
    J, h, n = _check_couplings(J, h)
    if states is None:
        _check_n(n, MAX_GENERAL_SPINS, "J")
        states = np.arange(1 << n, dtype=np.uint64)
    states = np.asarray(states)
    if states.size and (states.min() < 0 or int(states.max()) >= (1 << n)):
        raise ValueError(f"states must be integers in [0, 2**{n})")
    states = states.astype(np.uint64)
    Ju = np.triu(J, 1)
    out = np.empty(states.shape, dtype=np.float64)
    flat = states.ravel()
    o = out.ravel()
    chunk = max(1, (1 << 22) // n)
    for a in range(0, flat.size, chunk):  # chunks of states, vectorised inside
        s = state_spins(flat[a:a + chunk], n).astype(np.float64)
        o[a:a + chunk] = -np.einsum("ki,ij,kj->k", s, Ju, s, optimize=True) - s @ h
    return out


def enumerate_couplings(J, h=None, decimals: int = 9) -> Enumeration:
    """Enumerate all ``2**N`` states of ``H = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i`` (eq. 5.86).

    Parameters
    ----------
    J : (N, N) symmetric array, N <= ``MAX_GENERAL_SPINS`` = 24
    h : float or (N,) array, optional
    decimals : int, default 9
        Energies are grouped into levels after rounding ``E / scale`` to this many decimals
        (``scale = sum |J_ij| + sum |h_i|``), so that rounding noise does not split a level.

    Returns
    -------
    Enumeration

    Examples
    --------
    >>> import numpy as np
    >>> J = np.ones((3, 3)) - np.eye(3)           # the 3-site periodic chain
    >>> sorted(set(enumerate_couplings(J).energies.tolist()))
    [-3.0, 1.0]
    """
    J, h, n = _check_couplings(J, h)
    _check_n(n, MAX_GENERAL_SPINS, "J")
    decimals = check_int(decimals, "decimals", minimum=0, maximum=15)
    scale = np.abs(np.triu(J, 1)).sum() + np.abs(h).sum()
    scale = scale if scale > 0 else 1.0
    total = 1 << n
    chunk = min(total, 1 << _CHUNK_BITS)
    reps_e, keys_e, keys_m, cnts = [], [], [], []
    for start in range(0, total, chunk):
        s = np.arange(start, start + chunk, dtype=np.uint64)
        e = state_energies(J, h, s)
        mag = (2 * _popcount(s) - n).astype(np.float64)
        key = np.round(e / scale, decimals)
        (ke, km), first, c = np.unique(np.stack([key, mag]), axis=1, return_index=True, return_counts=True)
        reps_e.append(e[first]), keys_e.append(ke), keys_m.append(km), cnts.append(c)
    re_, ke, km, c = (np.concatenate(a) for a in (reps_e, keys_e, keys_m, cnts))
    (_, um), first, inv = np.unique(np.stack([ke, km]), axis=1, return_index=True, return_inverse=True)
    counts = np.bincount(inv.ravel(), weights=c).astype(np.int64)
    # each level keeps the unrounded energy of one of its states (the key only groups them)
    return Enumeration(n, re_[first], um.astype(np.int64), counts)
