"""Spin operators as sums of Pauli strings (eq. 11.5, Pauli units) and their sparse matrices.

A term is ``c * prod_k sigma^{a_k}_{i_k}``; products on the same site are multiplied out, equal
strings merged, and the sum is checked Hermitian (every Pauli string is Hermitian and they are
linearly independent, so the sum is Hermitian exactly when the merged coefficients are real).  Each
string is stored as ``c' X^x Z^z`` with bit masks ``x``, ``z`` (``Y = i X Z``) and strings with the
same flip mask ``x`` are grouped: the C++ kernel (:func:`connected`) gives, for a batch of
configurations, every connected configuration ``s ^ x`` and element ``<s ^ x|O|s>``.

Examples
--------
>>> from physdl.geometry import Lattice
>>> from physdl.quantum import heisenberg, transverse_field_ising, PauliSum
>>> H = heisenberg(Lattice("chain", 4))
>>> H.n_sites, len(H.terms)
(4, 12)
>>> conn, mel, n = H.connected([0b0101])
>>> sorted(zip(conn[0, :n[0]].tolist(), mel[0, :n[0]].real.tolist()))
[(3, 2.0), (5, -4.0), (6, 2.0), (9, 2.0), (12, 2.0)]
>>> PauliSum(2, [(1.0, "X0 Y1")]).is_hermitian
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _backend, _pieces
from .._validate import check_float, check_int
from .hilbert import MAX_SITES, SpinHilbert, _states

__all__ = ["PauliSum", "transverse_field_ising", "heisenberg", "j1j2", "memory_estimate"]

_PAULI = {"X": (1, 0, 1.0 + 0j), "Y": (1, 1, 1j), "Z": (0, 1, 1.0 + 0j)}


def _parse(term, n):
    """'X0 Z3' or [(0, 'X'), (3, 'Z')] -> list of (site, letter)."""
    if isinstance(term, str):
        out = []
        for tok in term.split():
            letter, site = tok[0].upper(), tok[1:]
            if letter not in _PAULI or not site.isdigit():
                raise ValueError(f"cannot read Pauli factor {tok!r}: write e.g. 'X0 Z3'")
            out.append((int(site), letter))
    else:
        out = []
        for f in term:
            site, letter = f
            if not isinstance(letter, str) or letter.upper() not in _PAULI:
                raise ValueError(f"Pauli factor {f!r} must be (site, 'X'|'Y'|'Z')")
            out.append((check_int(site, "site", minimum=0), letter.upper()))
    for site, _ in out:
        if not 0 <= site < n:
            raise ValueError(f"site {site} is outside 0..{n - 1}")
    return out


@dataclass(frozen=True)
class _Compiled:
    flips: np.ndarray
    offsets: np.ndarray
    zmasks: np.ndarray
    coef: np.ndarray


class PauliSum:
    """A Hermitian operator ``sum_t c_t prod_k sigma^{a_k}_{i_k}`` on ``n_sites`` spins 1/2.

    Parameters
    ----------
    n_sites : int
        1..64.
    terms : list of (coefficient, factors)
        ``factors`` is a string like ``"X0 X1"`` or a list ``[(0, "X"), (1, "X")]``; an empty string is the
        identity.  Coefficients may be complex; the sum must be Hermitian (ValueError otherwise).
    """

    def __init__(self, n_sites: int, terms):
        self.n_sites = check_int(n_sites, "n_sites", minimum=1, maximum=MAX_SITES)
        merged: dict[tuple[int, int], complex] = {}
        self.terms = []
        for t in terms:
            try:
                c, f = t
            except (TypeError, ValueError):
                raise TypeError(f"each term must be (coefficient, factors), got {t!r}") from None
            if not isinstance(c, (int, float, complex, np.number)) or isinstance(c, bool):
                raise TypeError(f"coefficient must be a number, got {c!r}")
            try:
                c = complex(c)
            except OverflowError:  # an integer beyond the float range
                raise ValueError(f"coefficient must be finite, got {c!r}") from None
            if not (math.isfinite(c.real) and math.isfinite(c.imag)):
                raise ValueError(f"coefficient must be finite, got {c!r}")
            factors = _parse(f, self.n_sites)
            self.terms.append((c, factors))
            x = z = 0
            phase = c
            for site, letter in factors:
                a, b, ph = _PAULI[letter]
                if (z >> site) & 1 and a:       # Z^z X^a = (-1)^{z a} X^a Z^z on one site
                    phase = -phase
                x ^= a << site
                z ^= b << site
                phase *= ph
            merged[(x, z)] = merged.get((x, z), 0.0) + phase
        # Hermitian Pauli string: i^{popcount(x & z)} X^x Z^z; its coefficient must be real.
        for (x, z), c in merged.items():
            herm = c / (1j ** bin(x & z).count("1"))
            if abs(herm.imag) > 1e-12 * max(1.0, abs(herm)):
                raise ValueError(f"the operator is not Hermitian: the Pauli string with flip mask {x:#x} and "
                                 f"z mask {z:#x} has the non-real coefficient {herm:.6g}")
        items = sorted((k, v) for k, v in merged.items() if v != 0)
        flips = sorted({x for (x, _), _ in items})
        offs = [0]
        zm, co = [], []
        for fx in flips:
            for (x, z), v in items:
                if x == fx:
                    zm.append(z)
                    co.append(v)
            offs.append(len(zm))
        self._compiled = _Compiled(np.array(flips, np.uint64), np.array(offs, np.int64), np.array(zm, np.uint64),
                                   np.array(co, np.complex128))
        self._cpp = None

    # ------------------------------------------------------------------ properties
    @property
    def is_hermitian(self) -> bool:
        return True  # checked on construction

    @property
    def is_real(self) -> bool:
        """True when every matrix element in the z basis is real."""
        return bool(np.all(self._compiled.coef.imag == 0))

    @property
    def n_groups(self) -> int:
        """Most connected configurations of one configuration (distinct flip masks)."""
        return int(self._compiled.flips.size)

    def __add__(self, other: "PauliSum") -> "PauliSum":
        if not isinstance(other, PauliSum) or other.n_sites != self.n_sites:
            raise TypeError("can only add a PauliSum on the same number of sites")
        return PauliSum(self.n_sites, self.terms + other.terms)

    def __mul__(self, k) -> "PauliSum":
        return PauliSum(self.n_sites, [(c * k, f) for c, f in self.terms])

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"PauliSum({self.n_sites} sites, {len(self.terms)} terms, {self.n_groups} flip groups)"

    def core(self):
        """The compiled C++ operator."""
        if self._cpp is None:
            c = self._compiled
            self._cpp = _backend.module("cpp").PauliOperator(self.n_sites, c.flips, c.offsets, c.zmasks,
                                                             np.ascontiguousarray(c.coef.real),
                                                             np.ascontiguousarray(c.coef.imag))
        return self._cpp

    def numba_args(self):
        c = self._compiled
        return (c.flips, c.offsets, c.zmasks, np.ascontiguousarray(c.coef.real), np.ascontiguousarray(c.coef.imag))

    # ------------------------------------------------------------------ kernels
    def connected(self, states, backend: str | None = None):
        """Connected configurations and elements ``<s'|O|s>`` for a batch (C++ kernel, Numba twin).

        Returns
        -------
        conn : (B, n_groups) uint64, mels : (B, n_groups) complex128, counts : (B,) int64
            Row ``b`` holds ``counts[b]`` valid entries (zero elements are dropped).
        """
        s = _states(states, "states")
        if s.size and int(s.max()) >> self.n_sites:
            raise ValueError(f"states have bits beyond site {self.n_sites - 1}")
        b = _backend.resolve(backend, ("cpp", "numba"))
        # in pieces over the states (each row depends on its state alone), so that Ctrl-C is seen
        key = ("quantum.connected", b, self.n_groups)
        if b == "cpp":
            fn, op = _backend.module("cpp").quantum_connected, self.core()
            conn, re, im, counts = _pieces.joined(key, s.size, lambda i, k: fn(op, s[i:i + k]), cpp=True)
        else:
            from . import _numba

            G = self.n_groups
            conn = np.zeros((s.size, G), np.uint64)
            re = np.zeros((s.size, G))
            im = np.zeros((s.size, G))
            counts = np.zeros(s.size, np.int64)
            args = self.numba_args()
            _pieces.run(key, s.size, lambda i, k: _numba.connected(*args, s[i:i + k], conn[i:i + k], re[i:i + k],
                                                                   im[i:i + k], counts[i:i + k]))
        return conn, re + 1j * im, counts

    def to_sparse(self, hilbert: SpinHilbert, backend: str | None = None, max_bytes: float | None = None):
        """The matrix in ``hilbert`` (a sector must be conserved by the operator) as scipy.sparse CSR.

        Memory is estimated first (:func:`memory_estimate`) and a MemoryError raised above ``max_bytes``
        (default: half the machine's memory).  Elements leaving the sector raise ValueError.
        """
        import scipy.sparse as sp

        if not isinstance(hilbert, SpinHilbert) or hilbert.n_sites != self.n_sites:
            raise ValueError(f"hilbert must be a SpinHilbert of {self.n_sites} sites")
        if hilbert.dim >= 2**31:
            raise ValueError(f"dimension {hilbert.dim} is beyond 32-bit column indices")
        est = memory_estimate(self, hilbert)
        limit = _available_bytes() / 2 if max_bytes is None else check_float(max_bytes, "max_bytes", positive=True)
        if est > limit:
            raise MemoryError(f"the sparse matrix needs about {est / 2**30:.2f} GiB, more than the limit "
                              f"{limit / 2**30:.2f} GiB")
        if hilbert.constrained:
            # an odd number of flipped spins always changes the number of up spins; other elements that
            # leave the sector are counted by the kernel and raise there
            for fx in self._compiled.flips:
                if bin(int(fx)).count("1") % 2:
                    raise ValueError("the operator does not conserve total S^z (it has a term flipping an odd "
                                     "number of spins); use SpinHilbert(n) without a sector")
        basis = hilbert.states(backend)
        b = _backend.resolve(backend, ("cpp", "numba"))
        if b == "cpp":
            indptr, indices, data = self._csr_cpp(basis, hilbert.n_up)
        else:
            indptr, indices, data = self._csr_numba(basis, hilbert.n_up)
        return sp.csr_matrix((data, indices, indptr), shape=(hilbert.dim, hilbert.dim))

    def _data(self, re, im):
        # row s holds <s|O|s'> = conj(<s'|O|s>) (the kernel lists <s ^ x|O|s> for each s)
        return re if self.is_real else re - 1j * im

    def _csr_cpp(self, basis, n_up):
        """The C++ CSR build over blocks of rows of bounded duration (Ctrl-C is seen between them).

        Columns are ranks in the sector, not positions in the block, so a block's rows are those of
        the whole matrix: each block is copied, while still in cache, to its place in arrays sized
        for ``n_groups`` elements a row (the bound of :func:`memory_estimate`; the pages past the
        last element are never touched, so they take no memory), and its row pointers are shifted
        by the elements before it.  One call, no copy, when the matrix is one block.
        """
        fn, op = _backend.module("cpp").quantum_csr, self.core()
        D, G = basis.size, max(1, self.n_groups)
        indptr = np.zeros(D + 1, np.int64)
        buf: list = []
        whole: list = []

        def piece(a, k):
            ip, ind, re, im = fn(op, basis[a:a + k], n_up)
            data = self._data(re, im)
            if k == D:
                whole.extend((ip, ind, data))
                return
            if not buf:
                buf.extend((np.empty(D * G, np.int32), np.empty(D * G, data.dtype)))
            o, n = int(indptr[a]), int(ip[-1])
            indptr[a + 1:a + k + 1] = ip[1:] + o
            buf[0][o:o + n] = ind
            buf[1][o:o + n] = data

        _pieces.run(("quantum.csr", "cpp", self.n_groups), D, piece, cpp=True)
        if whole:
            return tuple(whole)
        nnz = int(indptr[-1])
        return indptr, buf[0][:nnz], buf[1][:nnz]

    def _csr_numba(self, basis, n_up):
        """The Numba CSR build: counts, then values, over blocks of rows of bounded duration, written in
        place into the arrays of the whole matrix (columns are ranks in the sector)."""
        from . import _numba

        args, B = self.numba_args(), _numba.binomial_table()
        D = basis.size
        indptr = np.zeros(D + 1, np.int64)
        dropped = [0]

        def count(a, k):  # row_nnz of rows a..a+k-1 land in indptr[a+1:a+k+1]
            dropped[0] += _numba._csr_count(*args, self.n_sites, basis[a:a + k], n_up, B, indptr[a:a + k + 1])

        _pieces.run(("quantum.csr_count", "numba", self.n_groups), D, count)
        if dropped[0]:
            raise ValueError(f"the operator does not conserve the sector: {dropped[0]} nonzero elements leave it")
        np.cumsum(indptr, out=indptr)
        nnz = int(indptr[-1])
        indices = np.empty(nnz, np.int32)
        re = np.empty(nnz)
        im = np.empty(nnz)
        _pieces.run(("quantum.csr_fill", "numba", self.n_groups), D, lambda a, k: _numba._csr_fill(
            *args, self.n_sites, basis[a:a + k], n_up, B, indptr[a:a + k + 1], indices, re, im))
        return indptr, indices, self._data(re, im)


def _available_bytes() -> float:
    try:
        import os

        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 8.0 * 2**30


def memory_estimate(op: PauliSum, hilbert: SpinHilbert) -> float:
    """Bytes of the CSR matrix of ``op`` in ``hilbert``: an upper bound from the number of flip groups.

    Each row has at most ``n_groups`` nonzeros (4-byte index + 8 or 16-byte value), plus the basis
    and row pointers; for Heisenberg-type operators in the S^z = 0 sector about half the bonds connect,
    so the bound is within a factor ~2.
    """
    per = 4 + (8 if op.is_real else 16)
    return float(hilbert.dim) * (op.n_groups * per + 8 + 8)


# ---------------------------------------------------------------------------- model Hamiltonians
def _bonds(lattice, next_nearest=False):
    from ..geometry import Lattice

    if not isinstance(lattice, Lattice):
        raise TypeError(f"lattice must be a physdl.geometry.Lattice, got {type(lattice).__name__}")
    if lattice.n_sites > MAX_SITES:
        raise ValueError(f"at most {MAX_SITES} spins, the lattice has {lattice.n_sites}")
    return lattice.bonds(next_nearest=next_nearest).tolist()


def transverse_field_ising(lattice, J: float = 1.0, h: float = 1.0) -> PauliSum:
    """``H = -J sum_<ij> sigma^z_i sigma^z_j - h sum_i sigma^x_i`` (Pauli units, eq. 11.5 area).

    Examples
    --------
    >>> from physdl.geometry import Lattice
    >>> transverse_field_ising(Lattice("chain", 6), h=0.5).n_groups
    7
    """
    J = check_float(J, "J")
    h = check_float(h, "h")
    terms = [(-J, [(i, "Z"), (j, "Z")]) for i, j in _bonds(lattice)]
    terms += [(-h, [(i, "X")]) for i in range(lattice.n_sites)]
    return PauliSum(lattice.n_sites, terms)


def heisenberg(lattice, J: float = 1.0) -> PauliSum:
    """``H = J sum_<ij> (sigma^x sigma^x + sigma^y sigma^y + sigma^z sigma^z)`` (eq. 11.5, Pauli units)."""
    J = check_float(J, "J")
    bonds = _bonds(lattice)
    return _heis(lattice.n_sites, bonds, J)


def j1j2(lattice, J1: float = 1.0, J2: float = 0.5) -> PauliSum:
    """Heisenberg ``J1`` on nearest and ``J2`` on next-nearest bonds (diagonals / second neighbours)."""
    J1 = check_float(J1, "J1")
    J2 = check_float(J2, "J2")
    b1, b2 = _bonds(lattice), _bonds(lattice, True)
    n = lattice.n_sites
    return PauliSum(n, _heis(n, b1, J1).terms + _heis(n, b2, J2).terms)


def _heis(n, bonds, J):
    terms = []
    for i, j in bonds:
        for a in "XYZ":
            terms.append((J, [(i, a), (j, a)]))
    return PauliSum(n, terms)
