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

from .. import _backend
from .._validate import check_int

__all__ = ["SpinHilbert", "MAX_SITES"]

MAX_SITES = 64


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
        if b == "cpp":
            return _backend.module("cpp").quantum_sector_states(self.n_sites, self.n_up)
        from . import _numba

        return _numba.sector_states(self.n_sites, self.n_up, self.dim)

    def rank(self, states, backend: str | None = None) -> np.ndarray:
        """Index of each state in :meth:`states` (-1 for a state outside the space)."""
        s = _states(states, "states")
        b = _backend.resolve(backend, ("cpp", "numba"))
        if b == "cpp":
            return _backend.module("cpp").quantum_rank(s, self.n_sites, self.n_up)
        from . import _numba

        out = np.empty(s.size, np.int64)
        _numba.rank_states(s, self.n_sites, self.n_up, _numba.binomial_table(), out)
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


def _states(states, name) -> np.ndarray:
    a = np.asarray(states)
    if a.dtype.kind not in "ui" or a.ndim > 1:
        raise TypeError(f"{name} must be a 1-D integer array of configurations, got dtype {a.dtype}, ndim {a.ndim}")
    if a.dtype.kind == "i" and a.size and a.min() < 0:
        raise ValueError(f"{name} must be non-negative configurations")
    return np.ascontiguousarray(a.reshape(-1), dtype=np.uint64)
