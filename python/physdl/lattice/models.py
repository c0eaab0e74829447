"""Lattice spin models: Ising on periodic chain / square / triangular / cubic lattices,
Edwards-Anderson and Sherrington-Kirkpatrick spin glasses (book eq. 8.7 and sec. 5.3).

A model is a fixed-coordination graph (a directed neighbour table) with couplings; the kernels
in :mod:`physdl.lattice.simulation` update it.  Nothing large is allocated when a model is
created: the tables are built on first use, after :class:`~physdl.lattice.Simulation` has checked
that they fit in memory.
"""

from __future__ import annotations

import math

import numpy as np

from ..geometry import FORWARD as _FORWARD
from ..geometry import KINDS as GEOMETRIES
from ..geometry import NDIM as _NDIM
from ..geometry import Lattice
from ..random import streams as _streams
from .._validate import (check_array, check_choice, check_float, check_int, check_memory, check_seed,
                         check_shape, check_spins)
from .exact import SQUARE_TC, TRIANGULAR_TC  # noqa: F401  (defined once, in exact; re-exported)

# Philox stream of quenched disorder (EA and SK couplings), from the stream register.
DISORDER_STREAM = _streams.stream("lattice.disorder")


class Model:
    """Base class: a periodic graph with n sites, coordination z and couplings."""

    geometry: str
    shape: tuple[int, ...]

    @property
    def n_sites(self) -> int:
        return math.prod(self.shape)

    @property
    def z(self) -> int:
        raise NotImplementedError

    @property
    def uniform(self) -> bool:
        """True when all couplings equal J and all fields equal h (threshold tables apply)."""
        raise NotImplementedError

    @property
    def ferromagnetic(self) -> bool:
        """True when every coupling is >= 0 and there is no field (cluster updates apply)."""
        raise NotImplementedError

    def table_bytes(self) -> int:
        """Memory of the neighbour table, colour order and (non-uniform) coupling arrays."""
        n, z = self.n_sites, self.z
        b = n * z * 4 + n * 4 + n * 4
        if not self.uniform:
            b += n * z * 8 + n * 8
        return b

    # Built lazily and cached.
    _nbr: np.ndarray | None = None

    def neighbours(self) -> np.ndarray:
        """Directed neighbour table, int32 of shape (n_sites, z)."""
        raise NotImplementedError

    def colouring(self, sweep: str) -> tuple[np.ndarray, np.ndarray]:
        """Sites ordered by colour and the colour offsets for a checkerboard or sequential sweep."""
        raise NotImplementedError

    def bond_couplings(self) -> np.ndarray:
        """Coupling of every directed bond, float64 of shape (n_sites * z,)."""
        raise NotImplementedError

    def fields(self) -> np.ndarray:
        """Field on every site, float64 of shape (n_sites,)."""
        raise NotImplementedError

    def energy(self, spins) -> np.ndarray:
        """Energy H[s] = -sum_<ij> J_ij s_i s_j - sum_i h_i s_i of configurations (book eq. 8.7).

        Parameters
        ----------
        spins : array_like of +-1, shape ``(..., *shape)``

        Returns
        -------
        ndarray of float64 with the leading shape of ``spins``.
        """
        s = np.asarray(spins)
        lead = s.shape[: s.ndim - len(self.shape)]
        if s.ndim < len(self.shape) or s.shape[len(lead):] != self.shape:
            raise ValueError(f"spins must have trailing shape {self.shape}, got {s.shape}")
        s = check_spins(s, "spins")
        check_memory(s.size * 8 * (self.z + 3), f"the energy of {s.size // max(self.n_sites, 1)} configurations")
        flat = s.reshape(lead + (self.n_sites,)).astype(np.float64)
        nbr = self.neighbours()
        Jb = self.bond_couplings().reshape(self.n_sites, self.z)
        loc = np.einsum("...ik,ik->...i", flat[..., nbr], Jb)
        return -(0.5 * np.sum(flat * loc, axis=-1) + flat @ self.fields())


_BY_NDIM = {1: "chain", 2: "square", 3: "cubic"}


def _infer_geometry(shape: tuple, geometry):
    """The geometry named, or the one the number of sides implies (1 chain, 2 square, 3 cubic)."""
    if geometry is not None:
        return geometry
    if len(shape) not in _BY_NDIM:
        raise ValueError(f"shape must have 1, 2 or 3 sides to infer the geometry, got {shape}")
    return _BY_NDIM[len(shape)]


class Ising(Model):
    """Ising model H = -sum_<ij> J_ij s_i s_j - sum_i h_i s_i on a periodic lattice (book eq. 8.7).

    Parameters
    ----------
    shape : int or tuple of int
        Lattice sides: (L,) chain, (Ly, Lx) square or triangular, (Lz, Ly, Lx) cubic.
    geometry : {"chain", "square", "triangular", "cubic"}, optional
        Default: inferred from the number of sides, 1 chain, 2 square, 3 cubic (``Ising((16, 16, 16))``
        is cubic); the triangular lattice is always asked for by name.
    J : float or array of shape ``(*shape, d)``
        Coupling; an array gives the bond from each site to its forward neighbour along direction
        d (axis d of the array; the triangular lattice's third direction is (+1, +1)).
    h : float or array of shape ``shape``
        Magnetic field.
    """

    def __init__(self, shape=(64, 64), geometry: str | None = None, J=1.0, h=0.0):
        shape = check_shape(shape)
        geometry = _infer_geometry(shape, geometry)
        self.geometry = check_choice(geometry, "geometry", GEOMETRIES)
        nd = _NDIM[geometry]
        if len(shape) != nd:
            raise ValueError(f"shape must have {nd} entries for geometry {geometry!r}, got {shape}")
        if any(s < 2 for s in shape):
            raise ValueError(f"every side must be >= 2, got shape {shape}")
        self.shape = shape
        nf = len(_FORWARD[geometry])
        if np.ndim(J) == 0:
            self.J = check_float(J, "J")
        else:
            self.J = check_array(J, "J", dtype=np.float64, shape=shape + (nf,), finite=True)
        if np.ndim(h) == 0:
            self.h = check_float(h, "h")
        else:
            self.h = check_array(h, "h", dtype=np.float64, shape=shape, finite=True)
        self._nbr = None

    def __repr__(self) -> str:
        j = self.J if np.ndim(self.J) == 0 else "array"
        hh = self.h if np.ndim(self.h) == 0 else "array"
        return f"{type(self).__name__}(shape={self.shape}, geometry={self.geometry!r}, J={j}, h={hh})"

    @property
    def z(self) -> int:
        return 2 * len(_FORWARD[self.geometry])

    @property
    def uniform(self) -> bool:
        return np.ndim(self.J) == 0 and np.ndim(self.h) == 0

    @property
    def ferromagnetic(self) -> bool:
        return bool(np.all(np.asarray(self.J) >= 0) and np.all(np.asarray(self.h) == 0))

    @property
    def lattice(self) -> Lattice:
        """The periodic :class:`physdl.geometry.Lattice` the model lives on (its sites and bonds)."""
        return Lattice(self.geometry, self.shape, pbc=True)

    def neighbours(self) -> np.ndarray:
        """Directed neighbour table of :meth:`physdl.geometry.Lattice.neighbours`, int32 (n_sites, z)."""
        if self._nbr is None:
            self._nbr = self.lattice.neighbours()
        return self._nbr

    def colours(self) -> int:
        return 3 if self.geometry == "triangular" else 2

    def check_checkerboard(self) -> None:
        """Raise ValueError unless the lattice admits the checkerboard colouring."""
        if self.geometry == "triangular":
            if any(s % 3 for s in self.shape):
                raise ValueError(
                    f"the 3-colour checkerboard of the triangular lattice needs every side divisible by 3, "
                    f"got shape {self.shape}; use update='wolff'/'swendsen_wang' or sweep='sequential'")
        elif any(s % 2 for s in self.shape):
            raise ValueError(
                f"the checkerboard of the {self.geometry} lattice needs every side even, got shape "
                f"{self.shape}; use update='wolff'/'swendsen_wang' or sweep='sequential'")

    def colouring(self, sweep: str):
        n = self.n_sites
        if sweep == "sequential":
            return np.arange(n, dtype=np.int32), np.arange(n + 1, dtype=np.int64)
        self.check_checkerboard()
        return self.lattice.colour_order()

    def bond_couplings(self) -> np.ndarray:
        n, forward = self.n_sites, _FORWARD[self.geometry]
        if np.ndim(self.J) == 0:
            return np.full(n * self.z, self.J, dtype=np.float64)
        cols = []
        for d, off in enumerate(forward):
            Jd = self.J[..., d]
            cols.append(Jd.reshape(-1))
            cols.append(np.roll(Jd, off, axis=tuple(range(len(self.shape)))).reshape(-1))
        return np.ascontiguousarray(np.stack(cols, axis=1).reshape(-1))

    def fields(self) -> np.ndarray:
        if np.ndim(self.h) == 0:
            return np.full(self.n_sites, self.h, dtype=np.float64)
        return self.h.reshape(-1).copy()


class EdwardsAnderson(Ising):
    """Edwards-Anderson spin glass: nearest-neighbour couplings +-J or Gaussian, square or cubic.

    Parameters
    ----------
    shape : tuple of int
    geometry : {"square", "cubic"}, optional (inferred from the number of sides)
    couplings : {"pm", "gaussian"}
        "pm": J_ij = +-J with probability 1/2 each; "gaussian": J_ij ~ N(0, J^2).
    J : float
        Coupling scale.
    h : float
        Uniform field.
    seed : int
        Seed of the disorder (Philox stream 2^62, apart from every Monte Carlo stream).
    """

    COUPLINGS = ("pm", "gaussian")

    def __init__(self, shape=(32, 32), geometry: str | None = None, couplings: str = "pm", J: float = 1.0,
                 h: float = 0.0, seed: int = 0):
        from .. import random as prandom

        geometry = _infer_geometry(check_shape(shape), geometry)
        geometry = check_choice(geometry, "geometry", ("square", "cubic"))
        couplings = check_choice(couplings, "couplings", self.COUPLINGS)
        J = check_float(J, "J", positive=True)
        seed = check_seed(seed)
        shape = check_shape(shape)
        nf = len(_FORWARD[geometry])
        if len(shape) != _NDIM[geometry]:
            raise ValueError(f"shape must have {_NDIM[geometry]} entries for geometry {geometry!r}, got {shape}")
        size = math.prod(shape) * nf
        # the couplings (float64), their random draws and the checks of Ising.__init__: ~3 copies
        check_memory(size * 8 * 3, f"EdwardsAnderson{shape}'s couplings")
        if couplings == "pm":
            bits = prandom.uint32(size, seed=seed, stream=DISORDER_STREAM) & 1
            Jb = J * (2.0 * bits - 1.0)
        else:
            Jb = J * prandom.normal(size, seed=seed, stream=DISORDER_STREAM)
        super().__init__(shape, geometry, J=Jb.reshape(shape + (nf,)), h=h)
        self.couplings = couplings
        self.seed = seed


class SherringtonKirkpatrick(Model):
    """Sherrington-Kirkpatrick model: all-to-all couplings J_ij ~ N(J0/n, J^2/n), sequential sweeps.

    Parameters
    ----------
    n : int
        Number of spins (>= 2).
    J : float
        Coupling scale (standard deviation J / sqrt(n)).
    J0 : float
        Mean coupling times n.
    h : float
        Uniform field.
    seed : int
        Seed of the disorder (Philox stream 2^62).
    """

    geometry = "complete"

    def __init__(self, n: int = 64, J: float = 1.0, J0: float = 0.0, h: float = 0.0, seed: int = 0):
        from .. import random as prandom

        n = check_int(n, "n", minimum=2)
        self.shape = (n,)
        self.Jscale = check_float(J, "J", positive=True)
        self.J0 = check_float(J0, "J0")
        self.h = check_float(h, "h")
        self.seed = check_seed(seed)
        if n > 20000:
            raise ValueError(f"n = {n} is too large for a dense SK coupling matrix (at most 20000)")
        # draws (n^2/2 float64), the matrix, the triangle indices (2 x n^2/2 int64), a temporary and mat + mat.T
        check_memory(n * n * 32, f"SherringtonKirkpatrick({n})'s coupling matrix")
        g = prandom.normal(n * (n - 1) // 2, seed=self.seed, stream=DISORDER_STREAM)
        mat = np.zeros((n, n))
        iu = np.triu_indices(n, 1)
        mat[iu] = self.J0 / n + self.Jscale / math.sqrt(n) * g
        self.matrix = mat + mat.T
        self._nbr = None

    def __repr__(self) -> str:
        return f"SherringtonKirkpatrick(n={self.shape[0]}, J={self.Jscale}, J0={self.J0}, h={self.h})"

    @property
    def z(self) -> int:
        return self.shape[0] - 1

    @property
    def uniform(self) -> bool:
        return False

    @property
    def ferromagnetic(self) -> bool:
        return bool(np.all(self.matrix >= 0) and self.h == 0)

    def neighbours(self) -> np.ndarray:
        if self._nbr is None:
            n = self.shape[0]
            full = np.broadcast_to(np.arange(n, dtype=np.int32), (n, n))
            self._nbr = np.ascontiguousarray(full[~np.eye(n, dtype=bool)].reshape(n, n - 1))
        return self._nbr

    def colouring(self, sweep: str):
        n = self.shape[0]
        if sweep != "sequential":
            raise ValueError("the Sherrington-Kirkpatrick model has no checkerboard: use sweep='sequential'")
        return np.arange(n, dtype=np.int32), np.arange(n + 1, dtype=np.int64)

    def bond_couplings(self) -> np.ndarray:
        n = self.shape[0]
        return np.ascontiguousarray(self.matrix[~np.eye(n, dtype=bool)])

    def fields(self) -> np.ndarray:
        return np.full(self.shape[0], self.h, dtype=np.float64)
