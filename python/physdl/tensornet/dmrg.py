"""Two-site DMRG for the ground state of an MPO (beyond the book; what a tensor-network user expects).

Each sweep goes left to right and back; at every bond the two-site wave function is the lowest
eigenvector of the effective Hamiltonian (dense ``eigh`` when small, Lanczos on the
three-GEMM product otherwise),
split by SVD truncated to the bond dimension of the sweep.  Energy, variance <H^2> - <H>^2 and the
largest discarded weight are recorded per sweep.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla

from .._interrupt import deferred_sigint
from .._validate import check_float, check_int
from .mpo import MPO, _grow_left, _grow_right, pauli_mpo
from .mps import MPS, _svd

__all__ = ["dmrg", "DMRGResult"]


@dataclass
class DMRGResult:
    """Energies, variances and truncation errors per sweep, and the final state."""

    energy: float
    mps: MPS
    energies: list = field(default_factory=list)
    variances: list = field(default_factory=list)
    truncation_errors: list = field(default_factory=list)
    bond_dims: list = field(default_factory=list)

    def to_dict(self):
        return {"energy": self.energy, "energies": list(self.energies), "variances": list(self.variances),
                "truncation_errors": list(self.truncation_errors), "bond_dims": list(self.bond_dims)}


class _Heff:
    """The two-site effective Hamiltonian as three GEMMs per product.

    Built once per bond (the two MPO sites fused into one (w, s', t', s, t, u) operator, the environments
    reshaped to matrices) and applied at every Lanczos step: L-env (A w, a) x theta (a, s t b), the fused
    MPO (s' t' u, w s t) x the result laid out as (w s t, A b), then (s' t' A, u b) x R-env (u b, B).  The
    two re-layouts between the products move D^2 d^2 w numbers each, against D^3 d^2 w multiply-adds
    in each of the outer products.
    """

    def __init__(self, Le, W1, W2, Re):
        A, w, a = Le.shape
        B, u, b = Re.shape
        d1, d2 = W1.shape[1], W2.shape[1]
        W12 = np.tensordot(W1, W2, axes=(3, 0))                       # (w, s', s, t', t, u)
        self.Wm = np.ascontiguousarray(W12.transpose(1, 3, 5, 0, 2, 4).reshape(d1 * d2 * u, w * d1 * d2))
        self.Lm = np.ascontiguousarray(Le.reshape(A * w, a))
        self.Rm = np.ascontiguousarray(Re.transpose(1, 2, 0).reshape(u * b, B))
        self.dims = (A, w, a, B, u, b, d1, d2)

    def __call__(self, theta):
        A, w, a, B, u, b, d1, d2 = self.dims
        X = self.Lm @ theta.reshape(a, d1 * d2 * b)                      # (A, w s t, b)
        X = X.reshape(A, w * d1 * d2, b).transpose(1, 0, 2).reshape(w * d1 * d2, A * b)
        Y = self.Wm @ X                                                 # (s' t', u, A, b)
        Y = Y.reshape(d1 * d2, u, A, b).transpose(0, 2, 1, 3).reshape(d1 * d2 * A, u * b)
        Z = Y @ self.Rm                                                 # (s', t', A, B)
        return Z.reshape(d1, d2, A, B).transpose(2, 0, 1, 3)


def _lowest(Le, W1, W2, Re, theta, tol):
    shape = theta.shape
    n = theta.size
    if n <= 96:
        H = np.einsum("AwB,wSsv,vTtu,CuD->ASTCBstD", Le, W1, W2, Re, optimize=True).reshape(n, n)
        H = 0.5 * (H + H.conj().T)
        vals, vecs = sla.eigh(H, subset_by_index=(0, 0))
        return float(vals[0]), vecs[:, 0].reshape(shape)
    heff = _Heff(Le, W1, W2, Re)
    dtype = np.result_type(Le, W1, W2, Re, theta)
    energy, x = _lanczos(lambda v: heff(v.reshape(shape)).reshape(-1), theta.reshape(-1).astype(dtype), tol)
    return energy, x.reshape(shape)


# the Ritz value of Lanczos falls monotonically: a step that lowers it by less than this (relative) ends the
# iteration -- the eigenvalue is then converged far below what a sweep can resolve, while the residual
# criterion alone would ask for ~25 products at every bond of a long chain
_RITZ_STALL = 1e-13


def _lanczos(apply, v0, tol, krylov=32, restarts=20):
    """Lowest eigenpair of a Hermitian operator by Lanczos with full reorthogonalisation.

    The residual ``||H x - E x||`` of the Ritz pair is known at every step (the last Lanczos coefficient
    times the last component of the tridiagonal eigenvector), so the iteration stops as soon as it is below
    ``tol * max(1, |E|)`` -- with the previous sweep's two-site tensor as the start this takes a handful
    of products, where a fixed Krylov space of 24 costs 24.  Not converged after ``krylov`` steps, it
    restarts from the Ritz vector.  The Krylov basis is one preallocated array reused across restarts.
    """
    n = v0.size
    m = min(krylov, n)
    done = False
    V = np.empty((m, n), dtype=v0.dtype)
    x = v0 / np.linalg.norm(v0)
    energy = np.inf
    for _ in range(restarts):
        V[0] = x
        alpha, beta, energy = [], [], np.inf
        for k in range(m):
            w = apply(V[k])
            a = float(np.vdot(V[k], w).real)
            w -= a * V[k]
            if k > 0:
                w -= beta[-1] * V[k - 1]
            Vk = V[:k + 1]
            w -= (Vk.conj() @ w) @ Vk           # full reorthogonalisation against the basis
            alpha.append(a)
            b = float(np.linalg.norm(w))
            T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
            vals, vecs = np.linalg.eigh(T)
            previous, energy = energy, float(vals[0])
            res = b * abs(vecs[-1, 0])
            done = (res <= tol * max(1.0, abs(energy)) or b <= 1e-14 * max(1.0, abs(a))
                    or previous - energy <= _RITZ_STALL * max(1.0, abs(energy)))
            if done or k == m - 1:
                break
            beta.append(b)
            V[k + 1] = w / b
        x = vecs[:, 0].astype(V.dtype) @ V[:k + 1]
        x /= np.linalg.norm(x)
        if done:
            break
    return energy, x


def _variance(mpo, mps, energy):
    E = np.ones((1, 1, 1, 1))
    for A, W in zip(mps.tensors, mpo.tensors):
        T = np.tensordot(E, A, axes=(3, 0))                     # (a', w1, w2, s, b)
        T = np.tensordot(T, W, axes=([2, 3], [0, 2]))           # (a', w1, b, s', w2')
        T = np.tensordot(T, W, axes=([1, 3], [0, 2]))           # (a', b, w2', s'', w1')
        T = np.tensordot(A.conj(), T, axes=([0, 1], [0, 3]))    # (b', b, w2', w1')
        E = T.transpose(0, 3, 2, 1)
    h2 = float(np.real(E[0, 0, 0, 0])) / mps.overlap(mps)
    return max(h2 - energy ** 2, 0.0)


def dmrg(mpo: MPO, bond_dims=32, sweeps=10, tol=1e-10, cutoff=1e-14, seed=0, variance=True, progress=False,
         callback=None, blas_threads=1, checkpoint=None) -> DMRGResult:
    """Ground state of ``mpo`` by two-site DMRG.

    Parameters
    ----------
    mpo : MPO
    bond_dims : int or list of int
        Bond dimension of each sweep (a schedule; the last value repeats).
    sweeps : int
        Most sweeps (one sweep = left to right and back).
    tol : float
        Stop when the energy changes by less than ``tol * max(1, |E|)`` at the final bond dimension.
    cutoff : float
        Discarded weight allowed at each SVD.
    seed : int
        Seed of the random initial MPS (Philox).
    variance : bool
        Compute <H^2> - <H>^2 after every sweep (cost ~ D^2 w^2 per site).
    progress : bool
        Show a progress bar of sweeps.
    callback : callable, optional
        ``callback(sweep, result)`` after every sweep.
    blas_threads : int or None
        BLAS threads during the run (threadpoolctl, when installed); the per-bond products are small,
        and on a shared machine extra threads cost far more than they give.  ``None`` leaves BLAS alone.

    Examples
    --------
    ``checkpoint`` (a path) saves the state after every sweep through ``physdl.io.save_checkpoint``
    (atomic, checksummed); a later call with the same arguments and path resumes from the last completed
    sweep and returns bit for bit what the uninterrupted run returns.  A file written for other arguments
    is refused.

    >>> from physdl.tensornet import dmrg, ising_mpo
    >>> r = dmrg(ising_mpo(8, J=1.0, h=1.0), bond_dims=16, sweeps=4)
    >>> round(r.energy, 6)  # exact ground state of the open 8-site critical chain
    -9.837951
    """
    if not isinstance(mpo, MPO):
        from ..quantum.operators import PauliSum  # the Hamiltonian objects VMC and ED take

        if not isinstance(mpo, PauliSum):
            raise TypeError("mpo must be a physdl.tensornet.MPO or a physdl.quantum.PauliSum")
        mpo = pauli_mpo(mpo)
    sched = [bond_dims] if np.isscalar(bond_dims) else list(bond_dims)
    if not sched:
        raise ValueError("bond_dims must not be empty")
    sched = [check_int(c, "bond_dims", minimum=1, maximum=1 << 14) for c in sched]
    sweeps = check_int(sweeps, "sweeps", minimum=1, maximum=10_000)
    if blas_threads is not None:
        from .._config import blas_limit

        with blas_limit(check_int(blas_threads, "blas_threads", minimum=1, maximum=4096)):
            return dmrg(mpo, bond_dims, sweeps, tol, cutoff, seed, variance, progress, callback, None,
                        checkpoint)
    tol = check_float(tol, "tol", positive=True)
    cutoff = check_float(cutoff, "cutoff", nonnegative=True)
    L = mpo.L
    d = mpo.tensors[0].shape[1]
    seed = check_int(seed, "seed", minimum=0)
    W = mpo.tensors
    fingerprint = {"L": L, "d": d, "schedule": sched, "sweeps": sweeps, "tol": tol, "cutoff": cutoff,
                   "seed": seed, "variance": bool(variance),
                   "mpo": _digest(W)}
    start, saved = 0, None
    if checkpoint is not None:
        from .. import io

        if io.checkpoint_path(checkpoint).is_file():
            meta, arrays = io.load_checkpoint(checkpoint, "tensornet/dmrg")
            if meta.get("fingerprint") != fingerprint:
                raise ValueError(f"checkpoint {io.checkpoint_path(checkpoint)} was written for other DMRG "
                                 "arguments (MPO, schedule, sweeps, tolerances or seed)")
            start, saved = int(meta["sweep"]), meta
            psi = MPS([arrays[f"A{i}"] for i in range(L)])
            psi.center = 0
    if saved is None:
        psi = MPS.random(L, d, min(sched[0], 8), seed=seed)
        psi.canonicalize("right").normalize()
    Renv = [None] * (L + 1)
    Lenv = [None] * (L + 1)
    Renv[L] = np.ones((1, 1, 1))
    Lenv[0] = np.ones((1, 1, 1))
    for i in range(L - 1, 0, -1):
        Renv[i] = _grow_right(Renv[i + 1], psi.tensors[i], W[i])
    result = DMRGResult(energy=np.inf, mps=psi)
    energy = np.inf
    if saved is not None:
        for k in ("energies", "variances", "truncation_errors", "bond_dims"):
            getattr(result, k).extend(saved[k])
        result.energy = energy = float(saved["energy"])
        if saved["converged"]:
            return result
    from .._progress import bar as progress_bar

    bar = progress_bar(range(start, sweeps), progress=progress, desc="DMRG sweeps", leave=False, initial=start,
                       total=sweeps)
    for sw in bar:
        chi = sched[min(sw, len(sched) - 1)]
        trunc = 0.0
        # the sweep updates its own list of site tensors: psi (which a callback may hold) stays as after
        # the last whole sweep until this one is complete, and is then replaced with Ctrl-C held together
        # with the records, so an interrupt anywhere leaves the state and the records of the same sweep
        T = list(psi.tensors)
        for direction in (1, -1):
            bonds = range(L - 1) if direction == 1 else range(L - 2, -1, -1)
            for i in bonds:
                theta = np.tensordot(T[i], T[i + 1], axes=(2, 0))
                energy, theta = _lowest(Lenv[i], W[i], W[i + 1], Renv[i + 2], theta, max(tol, 1e-9))
                Dl, _, _, Dr = theta.shape
                u, s, vh, disc = _svd(theta.reshape(Dl * d, d * Dr), chi, cutoff)
                s = s / np.linalg.norm(s)
                trunc = max(trunc, disc)
                if direction == 1:
                    T[i] = u.reshape(Dl, d, -1)
                    T[i + 1] = (s[:, None] * vh).reshape(-1, d, Dr)
                    Lenv[i + 1] = _grow_left(Lenv[i], T[i], W[i])
                else:
                    # the tensors a sweep leaves are C-contiguous, as a checkpoint gives them back: BLAS
                    # rounds differently on other layouts, and resuming must redo the same arithmetic
                    T[i] = (u * s).reshape(Dl, d, -1)
                    T[i + 1] = np.ascontiguousarray(vh.reshape(-1, d, Dr))
                    Renv[i + 1] = _grow_right(Renv[i + 2], T[i + 1], W[i + 1])
        T[0] = np.ascontiguousarray(T[0])
        new = copy.copy(psi)
        new.tensors, new.center = T, 0
        var = _variance(mpo, new, energy) if variance else None
        prev = result.energies[-1] if result.energies else np.inf
        with deferred_sigint():
            psi.tensors, psi.center = T, 0
            result.energies.append(float(energy))
            result.truncation_errors.append(trunc)
            result.bond_dims.append(max(psi.bonds))
            if variance:
                result.variances.append(var)
            result.energy = float(energy)
        bar.set_postfix(E=f"{energy:.10f}", chi=max(psi.bonds))
        if callback is not None:
            callback(sw, result)
        converged = sw + 1 >= len(sched) and abs(prev - energy) < tol * max(1.0, abs(energy))
        if checkpoint is not None:
            from .. import io

            meta = dict(result.to_dict(), sweep=sw + 1, converged=bool(converged), fingerprint=fingerprint)
            io.save_checkpoint(checkpoint, "tensornet/dmrg", meta, {f"A{i}": a for i, a in enumerate(psi.tensors)})
        if converged:
            break
    return result


def _digest(tensors):
    import hashlib

    h = hashlib.sha256()
    for t in tensors:
        a = np.ascontiguousarray(t)
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes())
    return h.hexdigest()
