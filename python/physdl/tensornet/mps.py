"""Matrix product states with open boundaries: canonical forms, norms, overlaps, expectation
values, SVD compression and amplitudes (the tensor networks of book ch. 11.2, beyond its text).

A site tensor has the axes (left bond, physical, right bond); the boundary bonds have dimension 1.
QR and SVD go through SciPy's LAPACK; products through :func:`physdl.tensornet.contract` and
NumPy's BLAS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from .._validate import check_array, check_choice, check_float, check_int
from .contract import Expression, Sliced

__all__ = ["MPS", "TruncationInfo"]


@dataclass(frozen=True)
class TruncationInfo:
    """What a compression threw away: the discarded weight (sum of squared dropped singular values
    of the normalised state, summed over bonds) and the largest bond kept."""

    discarded_weight: float
    max_bond: int


def _svd(theta, max_bond, cutoff):
    try:
        u, s, vh = sla.svd(theta, full_matrices=False, lapack_driver="gesdd")
    except np.linalg.LinAlgError:  # pragma: no cover - gesdd rarely fails; gesvd is the fallback
        u, s, vh = sla.svd(theta, full_matrices=False, lapack_driver="gesvd")
    norm2 = float(np.sum(s ** 2))
    keep = len(s) if max_bond is None else min(len(s), max_bond)
    if cutoff > 0 and norm2 > 0:
        tail = np.cumsum((s[::-1] ** 2)) / norm2  # weight of the smallest j values
        drop = int(np.searchsorted(tail, cutoff, side="right"))
        keep = max(1, min(keep, len(s) - drop))
    keep = max(1, keep)
    disc = float(np.sum(s[keep:] ** 2)) / norm2 if norm2 > 0 else 0.0
    return u[:, :keep], s[:keep], vh[:keep], disc


class MPS:
    """An open-boundary matrix product state |psi> = sum_s A1[s1] A2[s2] ... AL[sL] |s>.

    Parameters
    ----------
    tensors : sequence of arrays
        Site tensors of shape (D_left, d, D_right), D_left of the first and D_right of the last = 1.

    Examples
    --------
    >>> from physdl.tensornet import MPS
    >>> psi = MPS.random(6, 2, 4, seed=1)
    >>> round(psi.normalize().norm(), 12)
    1.0
    """

    def __init__(self, tensors):
        if not isinstance(tensors, (list, tuple)) or len(tensors) == 0:
            raise ValueError("tensors must be a non-empty list of (D_left, d, D_right) arrays")
        ts = []
        for i, t in enumerate(tensors):
            a = np.asarray(t)
            if a.dtype.kind not in "fc":
                a = a.astype(np.float64)
            a = check_array(a, f"tensors[{i}]", ndim=3, finite=True, nonempty=True)
            ts.append(a)
        if ts[0].shape[0] != 1 or ts[-1].shape[2] != 1:
            raise ValueError("the first tensor's left bond and the last tensor's right bond must be 1")
        for i in range(len(ts) - 1):
            if ts[i].shape[2] != ts[i + 1].shape[0]:
                raise ValueError(f"bond {i}: tensors[{i}] has right bond {ts[i].shape[2]} but tensors[{i + 1}] "
                                 f"has left bond {ts[i + 1].shape[0]}")
        dt = np.result_type(*ts)
        self.tensors = [t.astype(dt, copy=False) for t in ts]
        self.center: int | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def random(cls, L, d, bond, seed=0, dtype=np.float64):
        """Random MPS with Philox normals (stream 0 of ``seed``), bonds capped at the exact maximum."""
        from ..random import Generator

        L = check_int(L, "L", minimum=1, maximum=100_000)
        d = check_int(d, "d", minimum=1, maximum=1024)
        bond = check_int(bond, "bond", minimum=1, maximum=1 << 16)
        g = Generator(seed)
        dims = [1] + [min(bond, d ** min(i, L - i)) for i in range(1, L)] + [1]
        ts = []
        for i in range(L):
            shape = (dims[i], d, dims[i + 1])
            x = g.normal(int(np.prod(shape))).reshape(shape)
            if np.dtype(dtype).kind == "c":
                x = x + 1j * g.normal(int(np.prod(shape))).reshape(shape)
            ts.append(np.asarray(x, dtype=dtype))
        return cls(ts)

    @classmethod
    def product(cls, local_states):
        """Product state from one local vector (or basis index) per site."""
        ts = []
        for i, v in enumerate(local_states):
            v = np.asarray(v)
            if v.ndim == 0:
                raise ValueError("product: give local vectors; for basis states use MPS.basis_state")
            v = check_array(v, f"local_states[{i}]", ndim=1, finite=True, nonempty=True)
            ts.append(v.astype(np.result_type(v, np.float64)).reshape(1, -1, 1))
        return cls(ts)

    @classmethod
    def basis_state(cls, config, d=2):
        """The product state |s1 s2 ... sL> for integer labels 0..d-1."""
        c = check_array(config, "config", ndim=1, nonempty=True)
        d = check_int(d, "d", minimum=1)
        if c.dtype.kind not in "iu" or c.min() < 0 or c.max() >= d:
            raise ValueError(f"config must hold integers 0..{d - 1}")
        return cls.product(list(np.eye(d)[c]))

    # ------------------------------------------------------------------ properties
    @property
    def L(self) -> int:
        return len(self.tensors)

    @property
    def bonds(self) -> list[int]:
        return [t.shape[2] for t in self.tensors[:-1]]

    @property
    def dtype(self):
        return self.tensors[0].dtype

    def copy(self) -> "MPS":
        m = MPS([t.copy() for t in self.tensors])
        m.center = self.center
        return m

    def __repr__(self):
        return f"MPS(L={self.L}, d={self.tensors[0].shape[1]}, bonds={self.bonds}, center={self.center})"

    # ------------------------------------------------------------------ canonical forms
    def canonicalize(self, form="left", center=None) -> "MPS":
        """Bring into left-, right- or mixed-canonical form by QR sweeps (in place; returns self).

        ``left``: every tensor but the last is a left isometry (sum_{a,s} A*[a,s,b] A[a,s,c] =
        delta_bc); ``right``: every tensor but the first a right isometry; ``mixed``: left of
        ``center`` left isometries, right of it right isometries, the norm on the center tensor.
        """
        form = check_choice(form, "form", ("left", "right", "mixed"))
        if form == "left":
            c = self.L - 1
        elif form == "right":
            c = 0
        else:
            c = check_int(center, "center", minimum=0, maximum=self.L - 1)
        for i in range(c):
            Dl, d, Dr = self.tensors[i].shape
            q, r = sla.qr(self.tensors[i].reshape(Dl * d, Dr), mode="economic")
            self.tensors[i] = q.reshape(Dl, d, q.shape[1])
            self.tensors[i + 1] = np.tensordot(r, self.tensors[i + 1], axes=(1, 0))
        for i in range(self.L - 1, c, -1):
            Dl, d, Dr = self.tensors[i].shape
            q, r = sla.qr(self.tensors[i].reshape(Dl, d * Dr).T, mode="economic")
            self.tensors[i] = q.T.reshape(q.shape[1], d, Dr)
            self.tensors[i - 1] = np.tensordot(self.tensors[i - 1], r.T, axes=(2, 0))
        self.center = c
        return self

    def norm(self) -> float:
        """sqrt(<psi|psi>)."""
        return float(np.sqrt(abs(self.overlap(self))))

    def normalize(self) -> "MPS":
        n = self.norm()
        if n == 0:
            raise ValueError("cannot normalise the zero state")
        k = self.center if self.center is not None else 0
        self.tensors[k] = self.tensors[k] / n
        return self

    def overlap(self, other: "MPS"):
        """<self|other> by a transfer-matrix sweep (cost L d D^3)."""
        if not isinstance(other, MPS) or other.L != self.L:
            raise ValueError("other must be an MPS of the same length")
        E = np.ones((1, 1), dtype=np.result_type(self.dtype, other.dtype))
        for a, b in zip(self.tensors, other.tensors):
            if a.shape[1] != b.shape[1]:
                raise ValueError("physical dimensions differ")
            E = np.tensordot(E, b, axes=(1, 0))                    # (a', s, b)
            E = np.tensordot(a.conj(), E, axes=([0, 1], [0, 1]))    # (a'r, b r)
        val = E[0, 0]
        return float(val.real) if np.isrealobj(val) else complex(val)

    # ------------------------------------------------------------------ observables
    def _envs(self):
        """Left and right environments of <psi|psi> at every bond."""
        left = [np.ones((1, 1), self.dtype)]
        for a in self.tensors:
            E = np.tensordot(left[-1], a, axes=(1, 0))
            left.append(np.tensordot(a.conj(), E, axes=([0, 1], [0, 1])))
        right = [np.ones((1, 1), self.dtype)]
        for a in reversed(self.tensors):
            E = np.tensordot(a, right[-1], axes=(2, 0))            # (l, s, r_bra)
            right.append(np.tensordot(E, a.conj(), axes=([1, 2], [1, 2])))
        return left, right[::-1]

    def expectation(self, op, site=None):
        """<psi|O_i|psi>/<psi|psi> of a one-site operator at ``site`` (or at every site when None)."""
        op = check_array(op, "op", ndim=2, finite=True)
        d = self.tensors[0].shape[1]
        if op.shape != (d, d):
            raise ValueError(f"op must have shape ({d}, {d}), got {op.shape}")
        left, right = self._envs()
        nrm = left[-1][0, 0]
        sites = range(self.L) if site is None else [check_int(site, "site", minimum=0, maximum=self.L - 1)]
        vals = []
        for i in sites:
            a = self.tensors[i]
            E = np.tensordot(left[i], a, axes=(1, 0))              # (l', s, r)
            E = np.tensordot(E, op, axes=(1, 1))                   # (l', r, s')
            E = np.tensordot(a.conj(), E, axes=([0, 1], [0, 2]))  # (r', r)
            vals.append(np.sum(E * right[i + 1].T) / nrm)  # right env is (ket, bra)
        vals = np.array(vals)
        if np.allclose(vals.imag, 0):
            vals = vals.real
        return vals if site is None else vals[0]

    def correlation(self, op_a, op_b, i, j):
        """<psi|A_i B_j|psi>/<psi|psi> for i != j (two-point function)."""
        i = check_int(i, "i", minimum=0, maximum=self.L - 1)
        j = check_int(j, "j", minimum=0, maximum=self.L - 1)
        if i == j:
            raise ValueError("i and j must differ; use expectation(A @ B, i) for one site")
        ops = {i: check_array(op_a, "op_a", ndim=2, finite=True), j: check_array(op_b, "op_b", ndim=2, finite=True)}
        E = np.ones((1, 1), self.dtype)
        nrm = self.overlap(self)
        for k, a in enumerate(self.tensors):
            b = np.tensordot(ops[k], a, axes=(1, 1)).transpose(1, 0, 2) if k in ops else a
            E = np.tensordot(E, b, axes=(1, 0))
            E = np.tensordot(a.conj(), E, axes=([0, 1], [0, 1]))
        v = E[0, 0] / nrm
        return float(v.real) if abs(np.imag(v)) < 1e-14 * max(1, abs(v)) else complex(v)

    def entanglement_entropy(self, bond=None):
        """Von Neumann entropy -sum p ln p of the Schmidt spectrum across ``bond`` (all bonds if None)."""
        m = self.copy().canonicalize("left")
        m.normalize()
        ent = []
        # right-to-left SVD sweep: the singular values across each bond
        for k in range(m.L - 1, 0, -1):
            Dl, d, Dr = m.tensors[k].shape
            u, s, vh = sla.svd(m.tensors[k].reshape(Dl, d * Dr), full_matrices=False)
            m.tensors[k] = vh.reshape(-1, d, Dr)
            m.tensors[k - 1] = np.tensordot(m.tensors[k - 1], u * s, axes=(2, 0))
            p = s ** 2 / np.sum(s ** 2)
            p = p[p > 1e-300]
            ent.append(float(-np.sum(p * np.log(p))))
        ent = np.array(ent[::-1])
        return ent if bond is None else float(ent[check_int(bond, "bond", minimum=0, maximum=self.L - 2)])

    # ------------------------------------------------------------------ compression
    def compress(self, max_bond=None, cutoff=0.0) -> TruncationInfo:
        """Truncate every bond by SVD (left-canonical first, then a right-to-left SVD sweep).

        Returns the discarded weight (relative to the norm squared, summed over bonds) and the largest
        bond kept; the state is left right-canonical with its norm unchanged on the first tensor.
        """
        if max_bond is not None:
            max_bond = check_int(max_bond, "max_bond", minimum=1)
        cutoff = check_float(cutoff, "cutoff", nonnegative=True)
        self.canonicalize("left")
        total = 0.0
        for k in range(self.L - 1, 0, -1):
            Dl, d, Dr = self.tensors[k].shape
            u, s, vh, disc = _svd(self.tensors[k].reshape(Dl, d * Dr), max_bond, cutoff)
            total += disc
            self.tensors[k] = vh.reshape(-1, d, Dr)
            self.tensors[k - 1] = np.tensordot(self.tensors[k - 1], u * s, axes=(2, 0))
        self.center = 0
        return TruncationInfo(total, max(self.bonds) if self.L > 1 else 1)

    # ------------------------------------------------------------------ amplitudes
    def to_dense(self) -> np.ndarray:
        """The full state vector (d**L entries; for small L), site 1 the most significant."""
        if self.tensors[0].shape[1] ** self.L > 1 << 24:
            raise ValueError("to_dense: the state vector would have more than 2**24 entries")
        v = self.tensors[0]
        for a in self.tensors[1:]:
            v = np.tensordot(v, a, axes=(v.ndim - 1, 0))
        return v.reshape(-1)

    def amplitude(self, config):
        """<s|psi> for one configuration (integers 0..d-1)."""
        return self.amplitudes(np.asarray(config)[None, :])[0]

    def amplitudes(self, configs, backend=None) -> np.ndarray:
        """<s|psi> for a batch of configurations (S, L) in one batched contraction (one-hot legs sliced)."""
        c = check_array(configs, "configs", ndim=2, nonempty=True)
        d = self.tensors[0].shape[1]
        if c.shape[1] != self.L:
            raise ValueError(f"configs must have shape (n, {self.L}), got {c.shape}")
        if c.dtype.kind not in "iu" or c.min() < 0 or c.max() >= d:
            raise ValueError(f"configs must hold integers 0..{d - 1}")
        key = ("amp", tuple(t.shape for t in self.tensors), backend)
        cache = self.__dict__.setdefault("_exprs", {})
        if key not in cache:
            ins = [[i, i + 1] for i in range(self.L)]
            cache[key] = Expression(ins, *[(t.shape[0], t.shape[2]) for t in self.tensors], output=[0, self.L],
                                    backend=backend)
        out = cache[key].batched(*[Sliced(t, (1,), c[:, i:i + 1]) for i, t in enumerate(self.tensors)])
        return out.reshape(-1)
