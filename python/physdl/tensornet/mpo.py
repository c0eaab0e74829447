"""Matrix product operators for spin chains in Pauli units (book eq. 11.5 on a chain).

A site tensor has the axes (left bond, out, in, right bond).  Conventions (open chains):
transverse-field Ising H = -J sum sz_i sz_{i+1} - h sum sx_i; Heisenberg H = J sum (sx sx + sy sy +
sz sz)_{i,i+1} - hz sum sz_i, with Pauli matrices (eigenvalues +-1).
"""

from __future__ import annotations

import numpy as np

from .._validate import check_array, check_float, check_int

__all__ = ["MPO", "ising_mpo", "heisenberg_mpo", "pauli_mpo", "PAULI"]

PAULI = {
    "I": np.eye(2),
    "X": np.array([[0.0, 1.0], [1.0, 0.0]]),
    "Y": np.array([[0.0, -1j], [1j, 0.0]]),
    "Z": np.array([[1.0, 0.0], [0.0, -1.0]]),
    "+": np.array([[0.0, 1.0], [0.0, 0.0]]),  # (X + iY)/2
    "-": np.array([[0.0, 0.0], [1.0, 0.0]]),
}


class MPO:
    """An open-boundary matrix product operator.

    Examples
    --------
    >>> from physdl.tensornet import ising_mpo
    >>> H = ising_mpo(4, J=1.0, h=0.5)
    >>> H.to_dense().shape
    (16, 16)
    """

    def __init__(self, tensors):
        ts = []
        for i, t in enumerate(tensors):
            a = check_array(np.asarray(t, dtype=np.result_type(np.asarray(t), np.float64)), f"tensors[{i}]", ndim=4,
                            finite=True, nonempty=True)
            if a.shape[1] != a.shape[2]:
                raise ValueError(f"tensors[{i}] must have equal out and in dimensions, got {a.shape}")
            ts.append(a)
        if not ts:
            raise ValueError("an MPO needs at least one tensor")
        if ts[0].shape[0] != 1 or ts[-1].shape[3] != 1:
            raise ValueError("the boundary bonds of an MPO must be 1")
        for i in range(len(ts) - 1):
            if ts[i].shape[3] != ts[i + 1].shape[0]:
                raise ValueError(f"MPO bond {i} does not match")
        self.tensors = ts

    @property
    def L(self):
        return len(self.tensors)

    def to_dense(self):
        """The full (d**L, d**L) matrix (small L only)."""
        d = self.tensors[0].shape[1]
        if d ** self.L > 4096:
            raise ValueError("to_dense: more than 4096 basis states")
        m = self.tensors[0][0]  # (out, in, r)
        for w in self.tensors[1:]:
            m = np.tensordot(m, w, axes=(m.ndim - 1, 0))  # (..., out, in, r)
        m = m[..., 0]
        L = self.L
        m = m.transpose(list(range(0, 2 * L, 2)) + list(range(1, 2 * L, 2)))
        return m.reshape(d ** L, d ** L)

    def compress(self, max_bond=None, cutoff=1e-14):
        """A smaller MPO of (nearly) the same operator, by SVD truncation; returns ``(mpo, discarded)``.

        The MPO is read as an MPS of the fused (out, in) legs: a QR sweep left to right makes every site
        but the last left-orthonormal, then a sweep right to left splits each bond by SVD keeping at most
        ``max_bond`` values, and dropping the smallest while their weight stays within ``cutoff`` (relative
        to the bond's total).  ``discarded`` is the discarded squared singular values summed over bonds
        relative to the squared Frobenius norm of the operator: an upper bound of
        ``||H - H'||_F^2 / ||H||_F^2``.  Exact redundancy (e.g. a Hamiltonian written with repeated terms)
        is removed with ``discarded`` at rounding level.

        Examples
        --------
        >>> from physdl.tensornet import heisenberg_mpo
        >>> small, disc = heisenberg_mpo(6).compress()
        >>> [w.shape[3] for w in small.tensors], disc < 1e-20
        ([4, 5, 5, 5, 4, 1], True)
        """
        from .mps import _svd

        if max_bond is not None:
            max_bond = check_int(max_bond, "max_bond", minimum=1, maximum=1 << 20)
        cutoff = check_float(cutoff, "cutoff", nonnegative=True)
        ts = [w.copy() for w in self.tensors]
        L = len(ts)
        for i in range(L - 1):                                   # left-orthonormal sites 0 .. L-2
            a, o, n, b = ts[i].shape
            q, r = np.linalg.qr(ts[i].reshape(a * o * n, b))
            ts[i] = q.reshape(a, o, n, -1)
            ts[i + 1] = np.tensordot(r, ts[i + 1], axes=(1, 0))
        norm2 = float(np.sum(np.abs(ts[-1]) ** 2))
        discarded = 0.0
        for i in range(L - 1, 0, -1):                            # split bond i-1 | i by SVD
            a, o, n, b = ts[i].shape
            u, sv, vh, disc = _svd(ts[i].reshape(a, o * n * b), max_bond, cutoff)
            discarded += disc * float(np.sum(sv ** 2)) / max(1.0 - disc, 1e-300) / norm2 if norm2 > 0 else 0.0
            ts[i] = vh.reshape(-1, o, n, b)
            ts[i - 1] = np.tensordot(ts[i - 1], u * sv, axes=(3, 0))
        return MPO(ts), discarded

    def expectation(self, mps):
        """<psi|H|psi>/<psi|psi>."""
        E = np.ones((1, 1, 1))
        for a, w in zip(mps.tensors, self.tensors):
            E = _grow_left(E, a, w)
        return float(np.real(E[0, 0, 0])) / mps.overlap(mps)


def _grow_left(E, A, W):
    T = np.tensordot(E, A, axes=(2, 0))                    # (a', w, s, b)
    T = np.tensordot(T, W, axes=([1, 2], [0, 2]))          # (a', b, s', w')
    T = np.tensordot(A.conj(), T, axes=([0, 1], [0, 2]))   # (b', b, w')
    return T.transpose(0, 2, 1)


def _grow_right(E, B, W):
    T = np.tensordot(B, E, axes=(2, 2))                    # (a, s, b', w)
    T = np.tensordot(T, W, axes=([1, 3], [2, 3]))          # (a, b', wl, s')
    T = np.tensordot(B.conj(), T, axes=([1, 2], [3, 1]))   # (a', a, wl)
    return T.transpose(0, 2, 1)


def _chain(L, bulk):
    L = check_int(L, "L", minimum=2, maximum=100_000)
    w = bulk.shape[0]
    first = bulk[:1].copy()
    last = bulk[:, :, :, w - 1:].copy()
    return MPO([first] + [bulk.copy() for _ in range(L - 2)] + [last])


def ising_mpo(L, J=1.0, h=1.0):
    """Transverse-field Ising chain H = -J sum sz sz - h sum sx (open), bond dimension 3."""
    J, h = check_float(J, "J"), check_float(h, "h")
    X, Z, I = PAULI["X"], PAULI["Z"], PAULI["I"]
    W = np.zeros((3, 2, 2, 3))
    W[0, :, :, 0] = I
    W[0, :, :, 1] = Z
    W[0, :, :, 2] = -h * X
    W[1, :, :, 2] = -J * Z
    W[2, :, :, 2] = I
    return _chain(L, W)


def heisenberg_mpo(L, J=1.0, hz=0.0):
    """Heisenberg chain H = J sum (sx sx + sy sy + sz sz) - hz sum sz (Pauli units, open), bond 5."""
    J, hz = check_float(J, "J"), check_float(hz, "hz")
    P, M, Z, I = PAULI["+"], PAULI["-"], PAULI["Z"], PAULI["I"]
    W = np.zeros((5, 2, 2, 5))
    W[0, :, :, 0] = I
    W[0, :, :, 1] = P
    W[0, :, :, 2] = M
    W[0, :, :, 3] = Z
    W[0, :, :, 4] = -hz * Z
    W[1, :, :, 4] = 2 * J * M   # sx sx + sy sy = 2 (s+ s- + s- s+)
    W[2, :, :, 4] = 2 * J * P
    W[3, :, :, 4] = J * Z
    W[4, :, :, 4] = I
    return _chain(L, W)


# XZ = -iY, so Y = i XZ: writing Y through this real matrix keeps an MPO of a real Hamiltonian real (the
# factors of i collect into each term's coefficient, which is real for every Hermitian real operator).
_REAL_FACTOR = {"X": (PAULI["X"], 1.0), "Z": (PAULI["Z"], 1.0), "Y": (PAULI["X"] @ PAULI["Z"], 1j)}


def pauli_mpo(op, tol=1e-13):
    """The MPO of a ``physdl.quantum.PauliSum`` (any sum of Pauli strings), so DMRG, VMC and ED share one
    Hamiltonian object.

    Finite-state-automaton construction: every bond carries the states "nothing placed yet" and
    "term complete" plus one channel per term whose support crosses the bond (the operators of a term are
    placed in order along the chain, identities in between).  Site ``i`` of the PauliSum is site ``i`` of
    the chain; the local basis index 0 is Z = +1 (bit 1 of the PauliSum's basis states), as in the other
    MPOs here.  The bond dimension is
    ``2 + (number of terms crossing the bond)``; nearest-neighbour chains give the hand-written sizes.

    Examples
    --------
    >>> from physdl.geometry import Lattice
    >>> from physdl.quantum import heisenberg
    >>> H = pauli_mpo(heisenberg(Lattice("chain", 6, pbc=False)))
    >>> [w.shape[3] for w in H.tensors]
    [5, 5, 5, 5, 5, 1]
    """
    from ..quantum.operators import PauliSum  # engine -> engine, imported on use (quantum never imports us)

    if not isinstance(op, PauliSum):
        raise TypeError(f"op must be a physdl.quantum.PauliSum, got {type(op).__name__}")
    L = op.n_sites
    terms = []
    for c, factors in op.terms:
        per_site: dict[int, np.ndarray] = {}
        coef = complex(c)
        for site, letter in factors:  # the product in the order written, same-site factors multiplied
            m, ph = _REAL_FACTOR[letter]
            coef *= ph
            per_site[site] = per_site[site] @ m if site in per_site else m
        if abs(coef) > tol:
            terms.append((coef, dict(sorted(per_site.items()))))
    real = all(abs(c.imag) <= tol * max(1.0, abs(c)) for c, _ in terms)
    dtype = np.float64 if real else np.complex128
    # channels: bond b (between sites b and b+1) -> {term index: channel}
    chan = [dict() for _ in range(max(L - 1, 0))]
    for t, (_, sites) in enumerate(terms):
        if sites:
            lo, hi = min(sites), max(sites)
            for b in range(lo, hi):
                chan[b][t] = 2 + len(chan[b])
    I2 = np.eye(2)
    tensors = []
    for j in range(L):
        left = 1 if j == 0 else 2 + len(chan[j - 1])
        right = 1 if j == L - 1 else 2 + len(chan[j])
        W = np.zeros((left, 2, 2, right), dtype)
        start, done = 0, (0 if j == L - 1 else 1)   # the last site keeps only the "done" column
        if j < L - 1:
            W[0, :, :, 0] = I2                      # nothing placed yet
        if j > 0:
            W[1, :, :, done] = I2                   # already complete
        for t, (c, sites) in enumerate(terms):
            cc = c.real if real else c
            if not sites:                           # identity term: placed on site 0
                if j == 0:
                    W[start, :, :, done] += cc * I2
                continue
            lo, hi = min(sites), max(sites)
            if j < lo or j > hi:
                continue
            O = sites.get(j, I2)
            row = start if j == lo else chan[j - 1][t]
            col = done if j == hi else chan[j][t]
            W[row, :, :, col] += (cc * O) if j == lo else O
        tensors.append(W)
    return MPO(tensors)
