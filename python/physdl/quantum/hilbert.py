"""Hilbert space of N spins 1/2, optionally one total-S^z sector (book ch. 11.1).

A configuration is a ``uint64`` whose bit ``i`` is 1 when spin ``i`` points up (``sigma^z_i = +1``).
In a sector with ``n_up`` up spins the basis is the ascending list of such integers and the rank of a
state is its position there (the combinatorial number system, computed in C++).

Examples
--------
>>> from physdl.quantum import SpinHilbert
>>> hs = SpinHilbert(4, total_sz=0)
>>> hs.dim, hs.states().tolist()
(6, [3, 5, 6, 9, 10, 12])
>>> hs.rank([9, 12]).tolist()
[3, 5]
>>> hs.to_spins([3])[0].tolist()
[1, 1, -1, -1]
"""

from __future__ import annotations

import math

import numpy as np

from .. import _backend, _pieces
from .._validate import check_int

__all__ = ["SpinHilbert", "MAX_SITES"]

MAX_SITES = 64
LEAF_STATES = 1 << 20  # the basis is enumerated in blocks of at most this many states (see _leaves)


class SpinHilbert:
    """N spins 1/2; ``total_sz`` (in units of hbar/2 per spin, i.e. sum of sigma^z) selects a sector.

    Parameters
    ----------
    n_sites : int
        Number of spins, 1..64 (enumerating the basis needs at most 40).
    total_sz : int, optional
        Sum of the ``sigma^z_i = +-1``; must have the parity of ``n_sites`` and ``|total_sz| <= n_sites``.
        ``None``: the full space of ``2**n_sites`` states.
    """

    def __init__(self, n_sites: int, total_sz: int | None = None):
        self.n_sites = check_int(n_sites, "n_sites", minimum=1, maximum=MAX_SITES)
        if total_sz is None:
            self.n_up = -1
        else:
            tz = check_int(total_sz, "total_sz", minimum=-self.n_sites, maximum=self.n_sites)
            if (tz + self.n_sites) % 2:
                raise ValueError(f"total_sz = {tz} is not a sector of {self.n_sites} spins "
                                 f"(it must have the parity of n_sites)")
            self.n_up = (tz + self.n_sites) // 2
        self.total_sz = total_sz

    @property
    def constrained(self) -> bool:
        return self.n_up >= 0

    @property
    def dim(self) -> int:
        return math.comb(self.n_sites, self.n_up) if self.constrained else 2**self.n_sites

    def __repr__(self) -> str:
        return f"SpinHilbert({self.n_sites}, total_sz={self.total_sz})"

    def states(self, backend: str | None = None) -> np.ndarray:
        """The basis states in ascending order (uint64)."""
        if self.n_sites > 40:
            raise ValueError(f"enumerating {self.n_sites} spins is out of reach (at most 40)")
        b = _backend.resolve(backend, ("cpp", "numba"))
        leaves = _leaves(self.n_sites, self.n_up, max(1, int(LEAF_STATES)))
        if len(leaves) == 1:
            return _enumerate(b, self.n_sites, self.n_up)
        # in blocks of states sharing their highest spins (a block of bounded duration between two
        # Ctrl-C checks); the blocks come in ascending order, so the joined basis is the same
        out = np.empty(self.dim, np.uint64)

        def piece(a, k):
            for prefix, n, n_up, o in leaves[a:a + k]:
                low = _enumerate(b, n, n_up)
                np.bitwise_or(low, np.uint64(prefix), out=out[o:o + low.size])

        _pieces.run(("quantum.sector_states", b), len(leaves), piece)
        return out

    def rank(self, states, backend: str | None = None) -> np.ndarray:
        """Index of each state in :meth:`states` (-1 for a state outside the space)."""
        s = _states(states, "states")
        b = _backend.resolve(backend, ("cpp", "numba"))
        key = ("quantum.rank", b)  # in pieces over the states (each rank depends on its state alone)
        if b == "cpp":
            fn, n, n_up = _backend.module("cpp").quantum_rank, self.n_sites, self.n_up
            return _pieces.joined(key, s.size, lambda i, k: (fn(s[i:i + k], n, n_up),), cpp=True)[0]
        from . import _numba

        out = np.empty(s.size, np.int64)
        B = _numba.binomial_table()
        _pieces.run(key, s.size, lambda i, k: _numba.rank_states(s[i:i + k], self.n_sites, self.n_up, B,
                                                                 out[i:i + k]))
        return out

    def to_spins(self, states) -> np.ndarray:
        """``(len(states), n_sites)`` int8 array of ``+-1``."""
        s = _states(states, "states")
        bits = (s[:, None] >> np.arange(self.n_sites, dtype=np.uint64)) & np.uint64(1)
        return (2 * bits.astype(np.int8) - 1).astype(np.int8)

    def from_spins(self, spins) -> np.ndarray:
        """Inverse of :meth:`to_spins`."""
        sp = np.asarray(spins)
        if sp.ndim != 2 or sp.shape[1] != self.n_sites or not np.isin(sp, (-1, 1)).all():
            raise ValueError(f"spins must be a (batch, {self.n_sites}) array of +-1")
        w = np.uint64(1) << np.arange(self.n_sites, dtype=np.uint64)
        return ((sp > 0).astype(np.uint64) * w).sum(axis=1).astype(np.uint64)

    def random_states(self, count: int, seed: int, stream: int) -> np.ndarray:
        """``count`` uniformly random states of the space from one Philox stream."""
        from ..random import Generator

        count = check_int(count, "count", minimum=1)
        g = Generator(seed, stream=stream)
        u = g.uniform((count, self.n_sites))
        if self.constrained:
            order = np.argsort(u, axis=1, kind="stable")
            up = np.zeros((count, self.n_sites), dtype=bool)
            np.put_along_axis(up, order[:, : self.n_up], True, axis=1)
        else:
            up = u < 0.5
        w = np.uint64(1) << np.arange(self.n_sites, dtype=np.uint64)
        return (up.astype(np.uint64) * w).sum(axis=1).astype(np.uint64)


def _leaves(n: int, n_up: int, limit: int) -> list:
    """The basis of ``n`` spins (``n_up`` up, or all states when negative) as blocks in ascending order.

    Each block is ``(prefix, n_low, k_up, offset)``: the states whose spins above ``n_low`` are the
    bits of ``prefix`` and whose low ``n_low`` spins run over the sector of ``k_up`` up spins
    (all states when negative), starting at position ``offset`` of the basis.  A sector larger than
    ``limit`` is split on its highest spin (down first: those states are the smaller ones).
    """
    out: list = []

    def size(m, k):
        return 1 << m if k < 0 else math.comb(m, k)

    def split(m, k, prefix):
        if size(m, k) <= limit or m <= 1 or k == 0 or k == m:
            out.append((prefix, m, k, 0))
            return
        split(m - 1, k, prefix)
        split(m - 1, k - 1 if k > 0 else k, prefix | (1 << (m - 1)))

    split(n, n_up, 0)
    offsets = np.cumsum([0] + [size(m, k) for _, m, k, _ in out])
    return [(p, m, k, int(o)) for (p, m, k, _), o in zip(out, offsets)]


def _enumerate(backend: str, n: int, n_up: int) -> np.ndarray:
    if backend == "cpp":
        return _backend.module("cpp").quantum_sector_states(n, n_up)
    from . import _numba

    return _numba.sector_states(n, n_up, 1 << n if n_up < 0 else math.comb(n, n_up))


def _states(states, name) -> np.ndarray:
    a = np.asarray(states)
    if a.dtype.kind not in "ui" or a.ndim > 1:
        raise TypeError(f"{name} must be a 1-D integer array of configurations, got dtype {a.dtype}, ndim {a.ndim}")
    if a.dtype.kind == "i" and a.size and a.min() < 0:
        raise ValueError(f"{name} must be non-negative configurations")
    return np.ascontiguousarray(a.reshape(-1), dtype=np.uint64)
