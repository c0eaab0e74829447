"""Lattice geometry shared by every area: site numbering, neighbours, bonds and sublattices.

One :class:`Lattice` describes a chain, square, triangular or cubic lattice of any shape, periodic or
open along each axis.  Sites are numbered in C order over ``shape`` (the last axis runs fastest):
site ``i`` has coordinates ``np.unravel_index(i, shape)``.  Classical spin models
(:mod:`physdl.lattice`), exact enumeration, Hopfield networks, quantum spin operators and tensor
networks all take their sites, bonds and colourings from here, so a bond list means the same thing in
every area.

Bond directions are *forward* offsets in array-axis order: the chain has ``(1,)``; the square lattice
``(1, 0)`` and ``(0, 1)``; the triangular lattice adds ``(1, 1)``; the cubic lattice has the three
unit offsets.  Next-nearest neighbours (for J1-J2 models) are the diagonals ``(1, 1)`` and
``(1, -1)`` of the square lattice and ``(2,)`` on the chain.

Examples
--------
>>> from physdl.geometry import Lattice
>>> lat = Lattice("square", (2, 3))
>>> lat.n_sites, lat.z, len(lat.bonds())
(6, 4, 12)
>>> lat.neighbours()[0].tolist()        # forward/backward along axis 0, then along axis 1
[3, 3, 1, 2]
>>> Lattice("chain", 4, pbc=False).bonds().tolist()
[[0, 1], [1, 2], [2, 3]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import check_choice, check_int

KINDS = ("chain", "square", "triangular", "cubic")
NDIM = {"chain": 1, "square": 2, "triangular": 2, "cubic": 3}
FORWARD = {
    "chain": ((1,),),
    "square": ((1, 0), (0, 1)),
    "triangular": ((1, 0), (0, 1), (1, 1)),
    "cubic": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
}
NEXT_NEAREST = {
    "chain": ((2,),),
    "square": ((1, 1), (1, -1)),
}
# Largest lattice whose tables this module builds (int64 site indices; int32 neighbour tables).
MAX_SITES = 2**31 - 1

__all__ = ["KINDS", "NDIM", "FORWARD", "NEXT_NEAREST", "MAX_SITES", "Lattice"]


def _check_pbc(pbc, nd: int) -> tuple[bool, ...]:
    if isinstance(pbc, (bool, np.bool_)):
        return (bool(pbc),) * nd
    try:
        vals = tuple(pbc)
    except TypeError:
        raise TypeError(f"pbc must be a bool or a tuple of {nd} bools, got {type(pbc).__name__}") from None
    if len(vals) != nd or not all(isinstance(v, (bool, np.bool_)) for v in vals):
        raise ValueError(f"pbc must be a bool or a tuple of {nd} bools, got {pbc!r}")
    return tuple(bool(v) for v in vals)


@dataclass(frozen=True, eq=True)
class Lattice:
    """A chain, square, triangular or cubic lattice of any shape, periodic or open per axis.

    Parameters
    ----------
    kind : {"chain", "square", "triangular", "cubic"}
    shape : int or tuple of int
        Sides in array-axis order: ``(L,)``, ``(Ly, Lx)`` or ``(Lz, Ly, Lx)``; each >= 1
        (>= 2 along a periodic axis, >= 3 on a periodic triangular axis is not required).
    pbc : bool or tuple of bool
        Periodic boundary along each axis (default: all periodic).

    Notes
    -----
    On a periodic axis of length 2 the forward and backward neighbours coincide: the bond list then
    holds that pair twice (each bond is one term of the Hamiltonian), as the lattice kernels count it.
    """

    kind: str
    shape: tuple
    pbc: tuple = True

    def __init__(self, kind: str = "square", shape=(4, 4), pbc=True):
        kind = check_choice(kind, "kind", KINDS)
        nd = NDIM[kind]
        if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
            shape = (int(shape),) * nd
        try:
            shape = tuple(shape)
        except TypeError:
            raise TypeError(f"shape must be an int or a tuple of {nd} ints, got {type(shape).__name__}") from None
        if len(shape) != nd:
            raise ValueError(f"shape must have {nd} entries for a {kind} lattice, got {shape}")
        shape = tuple(check_int(s, f"shape[{i}]", minimum=1, maximum=MAX_SITES) for i, s in enumerate(shape))
        pbc = _check_pbc(pbc, nd)
        for i, (s, p) in enumerate(zip(shape, pbc)):
            if p and s < 2:
                raise ValueError(f"a periodic axis needs at least 2 sites, got shape[{i}] = {s}")
        if math.prod(shape) > MAX_SITES:
            raise ValueError(f"shape {shape} has {math.prod(shape)} sites, more than {MAX_SITES}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "pbc", pbc)

    # ------------------------------------------------------------------ sizes
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def n_sites(self) -> int:
        return math.prod(self.shape)

    @property
    def periodic(self) -> bool:
        """True when every axis is periodic."""
        return all(self.pbc)

    @property
    def z(self) -> int:
        """Coordination number of a bulk site."""
        return 2 * len(FORWARD[self.kind])

    def __repr__(self) -> str:
        pbc = self.pbc[0] if len(set(self.pbc)) == 1 else self.pbc
        return f"Lattice({self.kind!r}, {self.shape}, pbc={pbc})"

    # ------------------------------------------------------------------ numbering
    def coordinates(self) -> np.ndarray:
        """Integer coordinates of every site, int64 array of shape ``(n_sites, ndim)``."""
        return np.indices(self.shape, dtype=np.int64).reshape(self.ndim, -1).T.copy()

    def index(self, coords) -> np.ndarray:
        """Site index of coordinates (wrapped on periodic axes; ValueError outside open ones)."""
        c = np.asarray(coords, dtype=np.int64)
        if c.shape[-1:] != (self.ndim,):
            raise ValueError(f"coords must have last axis of length {self.ndim}, got shape {c.shape}")
        c = c.copy()
        for a, (s, p) in enumerate(zip(self.shape, self.pbc)):
            if p:
                c[..., a] %= s
            elif np.any((c[..., a] < 0) | (c[..., a] >= s)):
                raise ValueError(f"coords outside the open axis {a} of length {s}")
        return np.ravel_multi_index(tuple(np.moveaxis(c, -1, 0)), self.shape)

    def positions(self) -> np.ndarray:
        """Cartesian positions of the sites (triangular: 60-degree basis), float64 ``(n_sites, ndim)``."""
        x = self.coordinates().astype(np.float64)
        if self.kind == "triangular":
            # axis 0 is the second basis vector (1/2, sqrt(3)/2), axis 1 the first (1, 0)
            y0, x1 = x[:, 0], x[:, 1]
            return np.stack([x1 + 0.5 * y0, (math.sqrt(3) / 2) * y0], axis=1)
        return x

    # ------------------------------------------------------------------ bonds
    def _shifted(self, offset) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (i, i + offset) for every site i whose shifted partner exists."""
        coords = self.coordinates()
        tgt = coords + np.asarray(offset, dtype=np.int64)
        keep = np.ones(len(coords), dtype=bool)
        for a, (s, p) in enumerate(zip(self.shape, self.pbc)):
            if p:
                tgt[:, a] %= s
            else:
                keep &= (tgt[:, a] >= 0) & (tgt[:, a] < s)
        src = np.flatnonzero(keep)
        dst = np.ravel_multi_index(tuple(tgt[keep].T), self.shape)
        return src.astype(np.int64), dst.astype(np.int64)

    def bonds(self, *, next_nearest: bool = False, return_direction: bool = False):
        """Each nearest-neighbour bond once, as pairs ``(i, j)`` with ``j = i + offset``.

        Parameters
        ----------
        next_nearest : bool
            Give the next-nearest-neighbour bonds instead (chain and square lattices).
        return_direction : bool
            Also return the index of each bond's direction in ``FORWARD[kind]``.

        Returns
        -------
        bonds : ndarray of int64, shape (n_bonds, 2)
            Grouped by direction, sites in index order within a direction.
        direction : ndarray of int64, shape (n_bonds,), only when ``return_direction``.
        """
        if next_nearest:
            if self.kind not in NEXT_NEAREST:
                raise ValueError(f"next_nearest bonds are defined for chain and square lattices, not {self.kind!r}")
            offsets = NEXT_NEAREST[self.kind]
        else:
            offsets = FORWARD[self.kind]
        pairs, dirs = [], []
        for d, off in enumerate(offsets):
            src, dst = self._shifted(off)
            pairs.append(np.stack([src, dst], axis=1))
            dirs.append(np.full(len(src), d, dtype=np.int64))
        b = np.concatenate(pairs, axis=0) if pairs else np.zeros((0, 2), np.int64)
        if return_direction:
            return b, np.concatenate(dirs)
        return b

    def neighbours(self) -> np.ndarray:
        """Directed neighbour table, int32 ``(n_sites, z)``: forward then backward per direction.

        On open axes a missing neighbour is ``-1``.  For a fully periodic lattice this is the table the
        lattice Monte Carlo kernels use.
        """
        n = self.n_sites
        out = np.empty((n, self.z), np.int32)
        if self.periodic:  # column by column from one int32 index array: no (n, ndim) temporaries
            idx = np.arange(n, dtype=np.int32).reshape(self.shape)
            axes = tuple(range(self.ndim))
            for d, off in enumerate(FORWARD[self.kind]):
                for k, sign in enumerate((+1, -1)):
                    out[:, 2 * d + k] = np.roll(idx, tuple(-sign * o for o in off), axis=axes).reshape(-1)
            return out
        for d, off in enumerate(FORWARD[self.kind]):
            for k, sign in enumerate((+1, -1)):
                col = np.full(n, -1, dtype=np.int32)
                src, dst = self._shifted(tuple(sign * o for o in off))
                col[src] = dst
                out[:, 2 * d + k] = col
        return out

    def adjacency(self, J: float = 1.0, *, next_nearest: bool = False) -> np.ndarray:
        """Symmetric coupling matrix ``K`` (dense, ``(n_sites, n_sites)``): ``K_ij = J`` per bond.

        Repeated bonds (periodic axes of length 2) add up, so ``-sum_{i<j} K_ij s_i s_j`` equals the
        bond sum ``-J sum_b s_i s_j``.
        """
        n = self.n_sites
        if n > 20000:
            raise ValueError(f"a dense adjacency of {n} sites would need {n * n * 8 / 2**30:.1f} GiB; "
                             "use bonds() instead")
        b = self.bonds(next_nearest=next_nearest)
        K = np.zeros((n, n))
        off = b[:, 0] != b[:, 1]
        np.add.at(K, (b[off, 0], b[off, 1]), J)
        np.add.at(K, (b[off, 1], b[off, 0]), J)
        return K

    # ------------------------------------------------------------------ colouring
    def n_colours(self) -> int:
        """Colours of the checkerboard: 2 (chain, square, cubic) or 3 (triangular)."""
        return 3 if self.kind == "triangular" else 2

    def is_colourable(self) -> bool:
        """True when :meth:`sublattices` is a proper colouring (no bond joins two sites of one colour)."""
        m = self.n_colours()
        return all((not p) or s % m == 0 for s, p in zip(self.shape, self.pbc))

    def sublattices(self) -> np.ndarray:
        """Colour of every site, ``sum(coords) mod n_colours``, int64 ``(n_sites,)``.

        A proper colouring when :meth:`is_colourable`; the triangular lattice's three colours are the
        sublattices of its 3-colouring (offset (1, 1) changes the colour by 2).
        """
        m = self.n_colours()
        colour = np.zeros(self.shape, np.int8)  # built axis by axis in int8: no (n, ndim) temporary
        for ax, L in enumerate(self.shape):
            colour += (np.arange(L) % m).astype(np.int8).reshape((L,) + (1,) * (self.ndim - 1 - ax))
            colour %= m
        return colour.reshape(-1).astype(np.int64)

    def colour_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Sites ordered by colour (int32) and the colour offsets (int64, length n_colours + 1)."""
        m = self.n_colours()
        colour = self.sublattices().astype(np.int8)
        order = np.argsort(colour, kind="stable").astype(np.int32)  # colour 0 sites in order, then 1, ...
        off = np.concatenate([[0], np.cumsum(np.bincount(colour, minlength=m))]).astype(np.int64)
        return order, off

    # ------------------------------------------------------------------ distances
    def displacement(self, i, j) -> np.ndarray:
        """Coordinate difference ``x_j - x_i`` (minimum image on periodic axes)."""
        ci = np.asarray(np.unravel_index(np.asarray(i), self.shape)).T
        cj = np.asarray(np.unravel_index(np.asarray(j), self.shape)).T
        d = (cj - ci).astype(np.int64)
        for a, (s, p) in enumerate(zip(self.shape, self.pbc)):
            if p:
                d[..., a] = (d[..., a] + s // 2) % s - s // 2
        return d
