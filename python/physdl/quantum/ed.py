"""Exact diagonalisation: the sparse Hamiltonian in a sector and its lowest states by Lanczos (eigsh).

Examples
--------
>>> from physdl.geometry import Lattice
>>> from physdl.quantum import heisenberg, SpinHilbert, ground_state
>>> res = ground_state(heisenberg(Lattice("chain", 4)), SpinHilbert(4, total_sz=0))
>>> round(float(res.energies[0]), 10)           # 4-site ring: E0 = -8 in Pauli units
-8.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _backend, _pieces
from .._validate import check_int
from .hilbert import SpinHilbert
from .operators import PauliSum

__all__ = ["EDResult", "ground_state", "expectation", "zz_correlations", "local_energies"]


@dataclass
class EDResult:
    """Lowest eigenvalues (ascending) and eigenvectors (columns) in ``hilbert``'s basis."""

    energies: np.ndarray
    vectors: np.ndarray
    hilbert: SpinHilbert

    @property
    def ground(self) -> np.ndarray:
        return self.vectors[:, 0]


def ground_state(H: PauliSum, hilbert: SpinHilbert, k: int = 1, backend: str | None = None,
                 max_bytes: float | None = None, tol: float = 0.0) -> EDResult:
    """The ``k`` lowest eigenpairs of ``H`` in ``hilbert`` (dense ``eigh`` below dimension 200, else eigsh)."""
    import scipy.linalg as sla
    import scipy.sparse.linalg as ssl

    if not isinstance(H, PauliSum):
        raise TypeError(f"H must be a PauliSum, got {type(H).__name__}")
    k = check_int(k, "k", minimum=1, maximum=max(1, hilbert.dim))
    M = H.to_sparse(hilbert, backend=backend, max_bytes=max_bytes)
    if hilbert.dim <= 200 or k >= hilbert.dim - 1:
        w, v = sla.eigh(M.toarray())
        return EDResult(w[:k], v[:, :k], hilbert)
    v0 = np.full(hilbert.dim, 1.0 / np.sqrt(hilbert.dim), dtype=M.dtype)
    w, v = ssl.eigsh(M, k=k, which="SA", v0=v0, tol=tol)
    order = np.argsort(w)
    return EDResult(w[order], v[:, order], hilbert)


def expectation(op: PauliSum, vector, hilbert: SpinHilbert, backend: str | None = None) -> float:
    """``<v|O|v> / <v|v>`` in ``hilbert``."""
    v = np.asarray(vector)
    if v.shape != (hilbert.dim,) or not np.all(np.isfinite(v)):
        raise ValueError(f"vector must be a finite array of length {hilbert.dim}")
    M = op.to_sparse(hilbert, backend=backend)
    val = np.vdot(v, M @ v) / np.vdot(v, v)
    return float(val.real)


def zz_correlations(vector, hilbert: SpinHilbert) -> np.ndarray:
    """``C[i, j] = <sigma^z_i sigma^z_j>`` in the state (diagonal in the basis, one vectorised pass)."""
    v = np.asarray(vector)
    if v.shape != (hilbert.dim,) or not np.all(np.isfinite(v)):
        raise ValueError(f"vector must be a finite array of length {hilbert.dim}")
    p = np.abs(v) ** 2
    p = p / p.sum()
    sz = hilbert.to_spins(hilbert.states()).astype(np.float64)
    return (sz * p[:, None]).T @ sz


def local_energies(H: PauliSum, vector, hilbert: SpinHilbert, states=None, backend: str | None = None) -> np.ndarray:
    """``E_loc(s) = sum_s' <s|H|s'> v(s') / v(s)`` of a state vector in ``hilbert`` (connected-element kernel).

    For an exact eigenstate every configuration gives the eigenvalue (zero variance).  ``states``
    defaults to the whole basis; configurations where ``v(s) = 0`` give NaN.
    """
    v = np.asarray(vector)
    if v.shape != (hilbert.dim,) or not np.all(np.isfinite(v)):
        raise ValueError(f"vector must be a finite array of length {hilbert.dim}")
    s = hilbert.states(backend) if states is None else np.asarray(states, dtype=np.uint64)
    if s.size == 0:
        return _local_energies(H, v, hilbert, s, backend)
    # in blocks of states of bounded duration (Ctrl-C is seen between them; each state's energy depends
    # on it alone), which also bounds the (states, n_groups) intermediates
    out = []

    def piece(a, k):
        e = _local_energies(H, v, hilbert, s[a:a + k], backend)
        if not out:
            out.append(e if k == s.size else np.empty(s.size, e.dtype))
        if k < s.size:
            out[0][a:a + k] = e

    _pieces.run(("quantum.ed_local_energies", _backend.resolve(backend, ("cpp", "numba")), H.n_groups), s.size,
                piece)
    return out[0]


def _local_energies(H, v, hilbert, s, backend):
    conn, mel, counts = H.connected(s, backend=backend)
    G = conn.shape[1]
    valid = np.arange(G)[None, :] < counts[:, None]
    r = hilbert.rank(conn.reshape(-1), backend=backend).reshape(conn.shape)
    if np.any(valid & (r < 0)):
        raise ValueError("H connects these states to configurations outside hilbert")
    amp = np.where(valid, v[np.where(valid, r, 0)], 0.0)
    num = (np.conj(mel) * amp).sum(axis=1)        # <s|H|s'> = conj(<s'|H|s>)
    den = v[hilbert.rank(s, backend=backend)]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den != 0, num / np.where(den != 0, den, 1), np.nan)
    return out.real if np.isrealobj(v) and H.is_real else out
