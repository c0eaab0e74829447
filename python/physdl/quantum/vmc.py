"""Variational Monte Carlo with RBM wave functions (book ch. 11.1, eq. 11.3-11.4): the application.

``psi(s) = exp(sum_i a_i s_i) prod_j 2 cosh(b_j + sum_i W_ji s_i)`` with real parameters (enough
for the transverse-field Ising model and, with the Marshall sign rule, the Heisenberg model on a
bipartite lattice, book lines 4120-4140) or complex ones (``RBM(..., dtype="complex")``: the phase
of psi is learnt, so the Heisenberg sign structure needs no sign rule and complex Hamiltonians are
allowed).  For a complex RBM, |psi|^2 = exp(2 Re log psi) is sampled, local energies and the
(holomorphic) log-derivatives are complex, and SR solves ``(S + eps 1) dp = 2 F`` with
``S = <O* O> - <O*><O>`` and ``F = <O* E_loc> - <O*><E_loc>``; ``p -= lr dp`` updates real and
imaginary parts together (for real parameters this is the real rule, ``2 F`` the energy gradient).  |psi|^2 is sampled by
Metropolis chains (single flips or S^z-conserving exchanges on bonds) in C++ with the hidden sums
theta updated on each accepted move; local energies ``E_loc(s) = sum_s' H_ss' psi(s')/psi(s)`` and
log-derivatives ``O_k = d log psi / d p_k`` come from batched kernels; the update is stochastic
reconfiguration ``(S + eps 1) dp = g`` with ``S = cov(O, O)`` and ``g = 2 cov(O, E_loc)`` the energy
gradient, followed by SGD or Adam.

A driver step is one kernel call (``rbm_vmc_sample``: every chain's moves with per-bond tables, each
sample's local energy from the chain's live theta, the O matrix written in place) and one SR solve
(:func:`sr_solve`: float32 rank-k product and Cholesky in the smaller of parameter and sample space,
float64 iterative refinement).

Random numbers: chain ``c`` draws Philox stream ``streams.stream("quantum", 1 + c)`` at counter = its
move number, so a run is the same on any number of threads and on cpp or numba.

Examples
--------
>>> from physdl.geometry import Lattice
>>> from physdl import quantum
>>> from physdl.quantum.vmc import RBM, VMC
>>> lat = Lattice("chain", 6)
>>> H = quantum.transverse_field_ising(lat, h=1.0)
>>> vmc = VMC(H, RBM(6, alpha=1, seed=1), n_samples=256, n_chains=8, sampler="flip", lr=0.05, seed=0)
>>> hist = vmc.run(60)
>>> e0 = quantum.ground_state(H, quantum.SpinHilbert(6)).energies[0]
>>> bool(abs(hist["energy"][-10:].mean() - e0) / abs(e0) < 0.02)
True
"""

from __future__ import annotations


import math
import os
import sys
import time

import numpy as np

from .. import _backend, _pieces
from .._interrupt import deferred_sigint
from ..io import CorruptFileError, checkpoint_path, load_checkpoint, save_checkpoint
from .._validate import check_choice, check_float, check_int, check_seed
from ..random import Generator, streams
from ..stats import Estimate
from .hilbert import SpinHilbert, _states
from .operators import PauliSum

__all__ = ["RBM", "marshall_mask", "local_energy", "sample", "exact_energy", "energy_estimate", "VMC"]

CHAIN_STREAM0 = 1            # chain c: stream("quantum", 1 + c)
INIT_STREAM = 1 << 39        # initial chain states
MAX_CHAINS = (1 << 39) - 1


def marshall_mask(lattice) -> int:
    """Bit mask of sublattice A (colour 0) of a bipartite lattice: the Marshall sign is
    ``(-1)^(number of up spins on A)``."""
    from ..geometry import Lattice

    if not isinstance(lattice, Lattice) or lattice.n_colours() != 2 or not lattice.is_colourable():
        raise ValueError("the Marshall sign rule needs a bipartite (two-colourable) lattice")
    sub = lattice.sublattices()
    return int(sum(1 << int(i) for i in np.flatnonzero(sub == 0)))


class RBM:
    """Real RBM wave function, eq. 11.4, with ``m = alpha * n`` hidden units.

    Parameters
    ----------
    n_sites : int
    alpha : int or float > 0
        Hidden density; ``m = round(alpha * n_sites) >= 1``.
    seed : int
        Weights drawn as N(0, scale^2) from Philox stream ``stream("quantum", 0)``.
    scale : float
    sign_mask : int
        Sites whose up spins each contribute a factor -1 to psi (``marshall_mask(lattice)``), 0 for none.
    dtype : {"real", "complex"}
        Real (float64) or complex (complex128) parameters; complex ones are drawn with real and
        imaginary parts each N(0, scale^2).
    """

    def __init__(self, n_sites: int, alpha: float = 1, seed: int = 0, scale: float = 0.01, sign_mask: int = 0,
                 dtype: str = "real"):
        self.is_complex = check_choice(dtype, "dtype", ("real", "complex")) == "complex"
        self.n = check_int(n_sites, "n_sites", minimum=1, maximum=64)
        alpha = check_float(alpha, "alpha")
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0, got {alpha}")
        self.m = max(1, int(round(alpha * self.n)))
        scale = check_float(scale, "scale", nonnegative=True)
        sign_mask = check_int(sign_mask, "sign_mask", minimum=0, maximum=2**self.n - 1)
        self.sign_mask = sign_mask
        g = Generator(check_seed(seed), stream=streams.stream("quantum", 0))
        P = self.n_params * (2 if self.is_complex else 1)
        p = g.normal((P,), scale=scale) if scale > 0 else np.zeros(P)
        self.params = p.view(np.complex128) if self.is_complex else p

    @property
    def n_params(self) -> int:
        return self.n + self.m + self.m * self.n

    @property
    def params(self) -> np.ndarray:
        return self._p

    @property
    def dtype(self):
        return np.dtype(np.complex128 if self.is_complex else np.float64)

    @params.setter
    def params(self, p):
        p = np.asarray(p)
        if not self.is_complex and np.iscomplexobj(p):
            raise ValueError("params of a real RBM must be real (use RBM(..., dtype='complex'))")
        p = np.ascontiguousarray(p, dtype=self.dtype)
        if p.shape != (self.n_params,):
            raise ValueError(f"params must have shape ({self.n_params},), got {p.shape}")
        if not np.all(np.isfinite(p)):
            raise ValueError("params must be finite (got NaN or inf)")
        self._p = p.copy()

    def split(self):
        """Views ``a (n,), b (m,), W (m, n)`` of the parameter vector."""
        n, m = self.n, self.m
        p = self._p
        return p[:n], p[n:n + m], p[n + m:].reshape(m, n)

    def _check(self, states):
        s = _states(states, "states")
        if s.size and int(s.max()) >> self.n:
            raise ValueError(f"states have bits beyond site {self.n - 1}")
        return s

    def log_psi(self, states, backend: str | None = None) -> np.ndarray:
        """``log |psi(s)|`` for a batch (the sign, when ``sign_mask``, is :meth:`sign`); for a complex RBM
        the complex ``log psi`` (imaginary part on the branch of ``log(2 cosh)`` continuous near the real
        axis, not reduced mod 2 pi; ``sign`` not included)."""
        s = self._check(states)
        return self._over_states("log_psi", s, (), backend)

    def sign(self, states) -> np.ndarray:
        s = self._check(states)
        bits = np.bitwise_and(s, np.uint64(self.sign_mask))
        pc = np.unpackbits(bits.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)
        return np.where(pc % 2, -1.0, 1.0)

    def theta(self, states, backend: str | None = None) -> np.ndarray:
        """Hidden sums ``theta_j = b_j + sum_i W_ji s_i``, shape ``(B, m)``."""
        s = self._check(states)
        return self._over_states("theta", s, (self.m,), backend)

    def log_derivs(self, states, backend: str | None = None) -> np.ndarray:
        """``O_k(s) = d log psi / d p_k``: ``(B, n + m + m n)`` = ``[s_i, tanh theta_j, tanh theta_j s_i]``."""
        s = self._check(states)
        return self._over_states("log_derivs", s, (self.n_params,), backend)

    def _over_states(self, kernel, s, row, backend):
        """Kernel ``rbm_<kernel>`` over the states, in pieces of bounded duration (Ctrl-C is seen
        between them; every state's row depends on that state only, so the cut does not matter)."""
        a, b, W = self.split()
        W = np.ascontiguousarray(W)
        be = _backend.resolve(backend, ("cpp", "numba"))
        pre = "rbmc_" if self.is_complex else "rbm_"
        key = ("quantum." + pre + kernel, be, self.n, self.m)
        if be == "cpp":
            fn = getattr(_backend.module("cpp"), "quantum_" + pre + kernel)
            return _pieces.joined(key, s.size, lambda i, k: (fn(a, b, W, s[i:i + k]),), cpp=True)[0]
        from . import _numba

        fn = getattr(_numba, pre + kernel)
        out = np.empty((s.size,) + row, self.dtype)
        _pieces.run(key, s.size, lambda i, k: fn(a, b, W, s[i:i + k], out[i:i + k]))
        return out


def local_energy(H: PauliSum, psi: RBM, states, backend: str | None = None) -> np.ndarray:
    """``E_loc(s) = sum_s' <s|H|s'> psi(s') / psi(s)`` for a batch (needs a real operator)."""
    if not isinstance(H, PauliSum) or not isinstance(psi, RBM):
        raise TypeError("local_energy needs a PauliSum and an RBM")
    if H.n_sites != psi.n:
        raise ValueError(f"H has {H.n_sites} sites, psi {psi.n}")
    if not H.is_real and not psi.is_complex:
        raise ValueError("the real RBM supports real operators only (no imaginary matrix elements); use "
                         "RBM(..., dtype='complex')")
    s = psi._check(states)
    a, b, W = psi.split()
    W = np.ascontiguousarray(W)
    be = _backend.resolve(backend, ("cpp", "numba"))
    pre = "rbmc_" if psi.is_complex else "rbm_"
    # in pieces over the states (each state's energy depends on it alone): Ctrl-C is seen between them
    key = ("quantum." + pre + "local_energy", be, psi.n, psi.m, H.n_groups)
    if be == "cpp":
        fn, op = getattr(_backend.module("cpp"), "quantum_" + pre + "local_energy"), H.core()
        return _pieces.joined(key, s.size, lambda i, k: (fn(a, b, W, op, psi.sign_mask, s[i:i + k]),),
                              cpp=True)[0]
    from . import _numba

    out = np.empty(s.size, psi.dtype)
    args, mask = H.numba_args(), np.uint64(psi.sign_mask)
    fn = getattr(_numba, pre + "local_energy")
    _pieces.run(key, s.size, lambda i, k: fn(a, b, W, *args, mask, s[i:i + k], out[i:i + k]))
    return out


def sample(psi: RBM, states, n_per_chain: int, *, move: str = "flip", bonds=None, sweep: int | None = None,
           n_discard: int = 0, seed: int = 0, counter: int = 0, backend: str | None = None):
    """Metropolis chains on |psi|^2 from ``states`` (one per chain).

    Returns ``(samples (chains, n_per_chain), final_states, theta (chains, m), accepted (chains,))``;
    ``theta`` is the incrementally updated hidden sum of each chain's final state.
    """
    move = check_choice(move, "move", ("flip", "exchange"))
    if not isinstance(psi, RBM):
        raise TypeError("sample needs an RBM")
    if psi.is_complex:
        raise ValueError("sample() is for real RBMs; a complex RBM is sampled by VMC (VMC.step, VMC.estimate)")
    st = psi._check(states).copy()
    if st.size > MAX_CHAINS:
        raise ValueError(f"at most {MAX_CHAINS} chains")
    n_per_chain = check_int(n_per_chain, "n_per_chain", minimum=1)
    sweep = psi.n if sweep is None else check_int(sweep, "sweep", minimum=1)
    n_discard = check_int(n_discard, "n_discard", minimum=0)
    seed = check_seed(seed)
    counter = check_int(counter, "counter", minimum=0, maximum=2**63)
    if move == "exchange":
        if bonds is None:
            raise ValueError("the exchange move needs bonds (an (E, 2) array of site pairs)")
        bonds = np.ascontiguousarray(bonds, dtype=np.int64)
        if bonds.ndim != 2 or bonds.shape[1] != 2 or bonds.shape[0] < 1 or bonds.min() < 0 or bonds.max() >= psi.n:
            raise ValueError(f"bonds must be an (E, 2) array of sites in 0..{psi.n - 1}")
    else:
        bonds = np.zeros((1, 2), np.int64)
    mv = 0 if move == "flip" else 1
    a, b, W = psi.split()
    W = np.ascontiguousarray(W)
    s0 = streams.stream("quantum", CHAIN_STREAM0)
    be = _backend.resolve(backend, ("cpp", "numba"))
    # in pieces over blocks of chains, so that Ctrl-C is seen between them: chain c draws stream s0 + c
    # whatever block it is in (the kernel takes the block's first stream), so the cut does not matter
    key = ("quantum.sample", be, psi.n, psi.m, mv, n_per_chain, sweep, n_discard)
    if be == "cpp":
        fn = _backend.module("cpp").quantum_rbm_sample
        smp, th, acc = _pieces.joined(key, st.size, lambda c, k: fn(a, b, W, mv, bonds, st[c:c + k], n_per_chain,
                                                                    sweep, n_discard, seed, s0 + c, counter),
                                      cpp=True)
    else:
        from . import _numba

        smp = np.zeros((st.size, n_per_chain), np.uint64)
        th = np.zeros((st.size, psi.m))
        acc = np.zeros(st.size, np.int64)
        _pieces.run(key, st.size, lambda c, k: _numba.rbm_sample(
            a, b, W, mv, bonds, st[c:c + k], n_per_chain, sweep, n_discard, np.uint64(seed), np.uint64(s0 + c),
            np.uint64(counter), smp[c:c + k], th[c:c + k], acc[c:c + k]))
    return smp, st, th, acc


def exact_energy(H: PauliSum, psi: RBM, hilbert: SpinHilbert | None = None) -> float:
    """``<psi|H|psi> / <psi|psi>`` by full enumeration of ``hilbert`` (small systems)."""
    hilbert = SpinHilbert(psi.n) if hilbert is None else hilbert
    basis = hilbert.states()
    lp = psi.log_psi(basis)
    v = psi.sign(basis) * np.exp(lp - lp.real.max())
    M = H.to_sparse(hilbert)
    return float(np.real(np.vdot(v, M @ v)) / np.real(np.vdot(v, v)))


# ---------------------------------------------------------------------------- statistics
def _tau_chains(x: np.ndarray, c: float = 6.0):
    """Integrated autocorrelation time of ``x (chains, n)``, autocorrelation averaged over chains."""
    C, n = x.shape
    y = x - x.mean(axis=1, keepdims=True)
    size = 1 << int(math.ceil(math.log2(2 * n)))
    f = np.fft.rfft(y, size, axis=1)
    acf = np.fft.irfft(f * np.conj(f), size, axis=1)[:, :n].mean(axis=0) / np.arange(n, 0, -1)
    if acf[0] <= 0:
        return 0.5, 0.0
    rho = acf / acf[0]
    tau = 0.5 + np.cumsum(rho[1:n // 2 + 1]) if n >= 4 else np.array([0.5])
    w = np.arange(1, tau.size + 1)
    ok = w >= c * tau
    W = int(w[np.argmax(ok)]) if ok.any() else int(w[-1])
    t = float(max(tau[W - 1], 0.5))
    return t, t * math.sqrt((4 * W + 2) / (C * n))


def split_rhat(x: np.ndarray) -> float:
    """Split-R-hat (Gelman-Rubin on half chains) of ``x (chains, n)``; ~1 when the chains agree."""
    C, n = x.shape
    h = n // 2
    if h < 2:
        return float("nan")
    z = np.concatenate([x[:, :h], x[:, h:2 * h]], axis=0)
    wv = z.var(axis=1, ddof=1).mean()
    bv = h * z.mean(axis=1).var(ddof=1)
    if wv == 0:
        return 1.0
    return float(math.sqrt(((h - 1) / h * wv + bv / h) / wv))


def energy_estimate(eloc: np.ndarray) -> tuple[Estimate, float]:
    """Mean of local energies ``(chains, n)`` with error ``sqrt(2 tau var / N)`` and split-R-hat."""
    e = np.asarray(eloc, dtype=np.float64)
    N = e.size
    var = float(e.var(ddof=1)) if N > 1 else 0.0
    tau, tau_err = _tau_chains(e) if e.shape[1] >= 4 else (0.5, 0.0)
    err = math.sqrt(2.0 * tau * var / N) if N > 1 else 0.0
    return Estimate(float(e.mean()), err, var, tau, tau_err, N), split_rhat(e)



# ---------------------------------------------------------------------------- SR solve
def _blas_limit(n: int | None):
    """BLAS limited to ``n`` threads inside the block (:func:`physdl._config.blas_limit`).

    SR's products (a rank-k update and a Cholesky factor of a few hundred rows) gain nothing from BLAS
    threads: measured on the 2-core machine at the issue's L = 22 shape, a step took 6.6 ms with one
    OpenBLAS thread and 22 ms with two (the threads' hand-offs cost more than the work they share)."""
    from .._config import blas_limit

    return blas_limit(n)


def _sr_inputs(O: np.ndarray, ec, shift):
    """``(N, P, ec, shift)`` of an SR solve: ``ec`` as an ``(N,)`` array of ``O``'s dtype, ``shift`` > 0.

    Only the checks are shared: the real solve's float32 product and factor with float64 refinement
    (twice the speed) has no complex counterpart, so :func:`sr_solve_complex` stays a solve of its own."""
    N, P = O.shape
    ec = np.asarray(ec, dtype=O.dtype)
    if ec.shape != (N,):
        raise ValueError(f"ec must have shape ({N},), got {ec.shape}")
    return N, P, ec, check_float(shift, "shift", positive=True)


def sr_solve(O: np.ndarray, ec: np.ndarray, shift: float, mixed: bool = True, mean=None) -> np.ndarray:
    """Solve ``(Oc^T Oc / N + shift 1) x = 2 Oc^T ec / N`` exactly (to float64 rounding).

    ``O (N, P)`` log-derivatives, centred (``Oc = O``) or, with ``mean`` (their column means), not
    (``Oc = O - mean``, never formed in float64); ``ec (N,)`` centred local energies.  The matrix is
    built in the smaller of parameter space (``P x P``, when ``N >= P``) and sample space (the
    ``N x N`` Gram ``Oc Oc^T / N``, with ``x = Oc^T y``), as one symmetric rank-k product and a
    Cholesky factor.  With ``mixed`` the product and factor are float32 (twice the speed) and the
    float64 solution comes from iterative refinement with float64 residuals ``r = rhs - A x`` (each
    two matrix-vector products with ``O``), stopped when the error left, estimated from the geometric
    decrease of the corrections, is below 1e-13 of the solution; should it stall, the float64 factor is
    used.  (At the issue's shape, N = 1008 >= P = 528, this dense parameter-space solve is the cheapest
    exact one: matrix-free CG needs 40-65 iterations of two matrix-vector products each once the
    optimisation is under way, and the sample-space Gram is N x N; see benchmarks/RESULTS.md.)
    """
    import scipy.linalg as sla
    from scipy.linalg import lapack
    from scipy.linalg.blas import dsyrk, ssyrk

    O = np.asarray(O)
    if O.ndim != 2 or O.dtype != np.float64 or not O.flags.c_contiguous:
        raise ValueError("O must be a C-contiguous float64 (N, P) array")
    N, P, ec, shift = _sr_inputs(O, ec, shift)
    mu = np.zeros(P) if mean is None else np.asarray(mean, dtype=np.float64)
    if mu.shape != (P,):
        raise ValueError(f"mean must have shape ({P},), got {mu.shape}")
    param = N >= P
    K = P if param else N

    def ov(x):                                   # Oc x
        return O @ x - mu @ x

    def otv(y):                                  # Oc^T y
        return O.T @ y - mu * y.sum()

    rhs = 2.0 * otv(ec) / N if param else 2.0 * ec / N

    def apply(x):
        if param:
            return otv(ov(x)) / N + shift * x
        return ov(otv(x)) / N + shift * x

    if mixed:
        O32 = np.empty((P, N), np.float32, order="F")
        np.subtract(O.T, mu[:, None], out=O32, casting="unsafe")
        A = ssyrk(np.float32(1.0 / N), O32, trans=0 if param else 1, lower=0)
        A[np.diag_indices(K)] += np.float32(shift)
        c, info = lapack.spotrf(A, lower=0, clean=0, overwrite_a=1)
        if info == 0:
            x = lapack.spotrs(c, rhs.astype(np.float32), lower=0)[0].astype(np.float64)
            prev = math.inf
            for _ in range(12):
                dx = lapack.spotrs(c, (rhs - apply(x)).astype(np.float32), lower=0)[0]
                x += dx
                # the corrections shrink geometrically by q = |dx_k| / |dx_k-1| (~1e-5 here), so the error
                # left is about |dx| q / (1 - q): stop once that (or |dx| itself) is below 1e-13 of x
                ndx, nx = float(np.linalg.norm(dx)), float(np.linalg.norm(x))
                q = ndx / prev if math.isfinite(prev) and prev > 0 else 1.0  # no rate after one step
                if ndx <= 1e-13 * nx or (q < 0.1 and ndx * q / (1 - q) <= 1e-13 * nx):
                    return x if param else otv(x)
                prev = ndx
    Oc = O - mu
    A = dsyrk(1.0 / N, Oc.T, trans=0 if param else 1, lower=0)
    A[np.diag_indices(K)] += shift
    x = sla.cho_solve((sla.cholesky(A, lower=False, overwrite_a=True, check_finite=False), False), rhs,
                      check_finite=False)
    return x if param else otv(x)


def sr_solve_complex(O: np.ndarray, ec: np.ndarray, shift: float, mean=None) -> np.ndarray:
    """Holomorphic SR: solve ``(Oc^H Oc / N + shift 1) x = 2 Oc^H ec / N`` for complex ``O (N, P)``.

    ``Oc = O - mean`` (``mean`` the column means, or None for an already centred ``O``), ``ec (N,)``
    centred complex local energies; so ``S = <O* O> - <O*><O>`` and the right side is twice
    ``F = <O* E_loc> - <O*><E_loc>``.  Hermitian positive definite: one Cholesky factor, in parameter
    space when ``N >= P``, else in sample space (``x = Oc^H y`` with ``(Oc Oc^H / N + shift) y = 2 ec / N``).
    """
    import scipy.linalg as sla

    O = np.asarray(O)
    if O.ndim != 2 or O.dtype != np.complex128:
        raise ValueError("O must be a complex128 (N, P) array")
    N, P, ec, shift = _sr_inputs(O, ec, shift)
    Oc = O if mean is None else O - np.asarray(mean, dtype=np.complex128)
    if Oc.shape != (N, P):
        raise ValueError(f"mean must have shape ({P},)")
    if N >= P:
        A = Oc.conj().T @ Oc / N
        A[np.diag_indices(P)] += shift
        rhs = 2.0 * (Oc.conj().T @ ec) / N
        return sla.cho_solve(sla.cho_factor(A, lower=False, overwrite_a=True, check_finite=False), rhs,
                             check_finite=False)
    A = Oc @ Oc.conj().T / N
    A[np.diag_indices(N)] += shift
    y = sla.cho_solve(sla.cho_factor(A, lower=False, overwrite_a=True, check_finite=False), 2.0 * ec / N,
                      check_finite=False)
    return Oc.conj().T @ y


# ---------------------------------------------------------------------------- driver
CHECKPOINT_KIND = "quantum/vmc"


def _legacy_vmc(z):
    """VMC files of the first format (plain ``np.savez``: fingerprint, params, states, counter =
    [counter, steps_done], m, v, lr_sr, h_*): ``(meta, arrays)`` in today's layout, else None."""
    if not {"fingerprint", "params", "states", "counter", "m", "v", "lr_sr"} <= set(z):
        return None
    fp, ctr, lr_sr = z["fingerprint"], z["counter"], z["lr_sr"]
    if fp.dtype.kind != "i" or fp.ndim != 1 or ctr.dtype.kind != "i" or ctr.shape != (2,) or lr_sr.shape != (2,):
        raise ValueError("a VMC file of the first format with malformed counters or fingerprint")
    meta = {"counter": int(ctr[0]), "steps_done": int(ctr[1]), "fingerprint": fp.tolist(), "lr": float(lr_sr[0]),
            "sr": None if lr_sr[1] < 0 else float(lr_sr[1])}
    return meta, {k: v for k, v in z.items() if k not in ("fingerprint", "counter", "lr_sr")}


class VMC:
    """Variational Monte Carlo driver: sample, local energies, SR, update; checkpoint and resume.

    Parameters
    ----------
    H : PauliSum (real; complex allowed for a complex RBM)
    psi : RBM (real or complex parameters)
    n_samples : int
        Samples per step, a multiple of ``n_chains``.
    n_chains : int
    sampler : {"flip", "exchange"}
        ``"exchange"`` conserves total S^z (swaps the spins of a bond of ``bonds``); chains start in the
        sector ``total_sz`` (default 0 for exchange).
    bonds : (E, 2) array, optional
        Exchange pairs; default: the pairs of sites flipped together by two-site terms of ``H``.
    sr : float or None
        Diagonal shift of stochastic reconfiguration; None for the plain gradient.
    lr : float
    optimizer : {"sgd", "adam"}
    sweep : int, optional
        Moves between recorded samples (default n_sites); ``n_discard`` moves are made at the start of
        each step (default ``(n_samples // n_chains) // 10 * sweep``).
    seed : int
    blas_threads : int or None
        BLAS threads during the SR solve (default 1; threadpoolctl).  The solve's products are too small
        to share: on the 2-core machine a two-thread OpenBLAS made the L = 22 step 3x slower.  ``None``
        leaves BLAS alone (the optimisation was equal bit for bit either way in the test, L = 10).

    Recipe for the Heisenberg ring at L = 22 (S^z = 0, 1e-3 relative accuracy in well under a minute
    on one core): ``RBM(22, alpha=1, seed=1, sign_mask=marshall_mask(lat))``,
    ``n_samples=1008``, ``n_chains=16``, ``sampler="exchange"``, ``sr=0.01``, ``lr=0.02`` (constant
    learning rate, SGD), 300 steps.
    Measured: relative error 2.1e-4 against exact diagonalisation (8064-sample estimate) after 9.0 s
    on one thread of a loaded 2-core machine (``benchmarks/bench_quantum.py --recipe``; checked in
    ``tests/quantum/test_vmc.py::test_recipe_l22_reaches_1e3``).
    """

    def __init__(self, H: PauliSum, psi: RBM, n_samples: int = 1008, n_chains: int = 16, sampler: str = "flip",
                 sr: float | None = 0.1, lr: float = 0.01, seed: int = 0, optimizer: str = "sgd", bonds=None,
                 total_sz: int | None = None, sweep: int | None = None, n_discard: int | None = None,
                 backend: str | None = None, blas_threads: int | None = 1):
        if not isinstance(H, PauliSum) or not isinstance(psi, RBM):
            raise TypeError("VMC needs a PauliSum H and an RBM psi")
        if H.n_sites != psi.n:
            raise ValueError(f"H has {H.n_sites} sites, psi {psi.n}")
        if not H.is_real and not psi.is_complex:
            raise ValueError("the real RBM supports real operators only; use RBM(..., dtype='complex')")
        self.H, self.psi = H, psi
        self.n_chains = check_int(n_chains, "n_chains", minimum=1, maximum=MAX_CHAINS)
        self.n_samples = check_int(n_samples, "n_samples", minimum=1)
        if self.n_samples % self.n_chains:
            raise ValueError(f"n_samples = {self.n_samples} is not divisible by n_chains = {self.n_chains}")
        self.per_chain = self.n_samples // self.n_chains
        self.sampler = check_choice(sampler, "sampler", ("flip", "exchange"))
        self.sr = None if sr is None else check_float(sr, "sr", positive=True)
        self.lr = check_float(lr, "lr", positive=True)
        self.optimizer = check_choice(optimizer, "optimizer", ("sgd", "adam"))
        self.seed = check_seed(seed)
        self.sweep = psi.n if sweep is None else check_int(sweep, "sweep", minimum=1)
        self.n_discard = (self.per_chain // 10) * self.sweep if n_discard is None else check_int(
            n_discard, "n_discard", minimum=0)
        self.backend = _backend.resolve(backend, ("cpp", "numba"))
        self.blas_threads = None if blas_threads is None else check_int(blas_threads, "blas_threads", minimum=1,
                                                                         maximum=4096)
        if self.sampler == "exchange":
            if bonds is None:
                fl = H._compiled.flips
                pairs = [[int(i) for i in range(psi.n) if (int(f) >> i) & 1] for f in fl if bin(int(f)).count("1") == 2]
                if not pairs:
                    raise ValueError("H has no two-site flip terms: give bonds for the exchange sampler")
                bonds = np.array(pairs, np.int64)
            self.bonds = np.ascontiguousarray(bonds, dtype=np.int64)
            total_sz = 0 if total_sz is None and psi.n % 2 == 0 else total_sz
        else:
            self.bonds = None
        self.hilbert = SpinHilbert(psi.n, total_sz)
        self.states = self.hilbert.random_states(self.n_chains, self.seed, streams.stream("quantum", INIT_STREAM))
        self.counter = 0
        self.steps_done = 0
        self._m = np.zeros(psi.n_params, psi.dtype)
        self._v = np.zeros(psi.n_params, psi.dtype)  # complex RBM: real and imaginary parts' moments
        self.history: dict[str, list] = {k: [] for k in ("energy", "error", "variance", "tau", "acceptance", "rhat")}
        self.last_samples = None

    # ------------------------------------------------------------------ one step
    def _update_direction(self, O: np.ndarray, e: np.ndarray) -> np.ndarray:
        """SR direction ``(S + eps 1)^-1 g`` with ``S = cov(O, O)``, ``g = 2 cov(O, E_loc)`` (``g`` without SR)."""
        N = O.shape[0]
        mu = O.mean(axis=0)
        ec = e - e.mean()
        if self.psi.is_complex:
            if self.sr is None:
                return 2.0 * (O.conj().T @ ec) / N
            return sr_solve_complex(O, ec, self.sr, mean=mu)
        if self.sr is None:
            return 2.0 * (O.T @ ec) / N
        return sr_solve(O, ec, self.sr, mean=mu)

    def _sample_step(self, n_per_chain: int, with_O: bool):
        """:meth:`_sample_kernel` without the final hidden sums."""
        return self._sample_kernel(n_per_chain, with_O)[:5]

    def _sample_kernel(self, n_per_chain: int, with_O: bool):
        """The chains' moves, samples, local energies (and the O matrix) from the current states and
        counter; returns ``(samples, eloc, O, accepted, new_states, theta)`` and changes nothing of the driver
        (``theta (chains, m)``: the chains' final hidden sums, as updated move by move, for a complex RBM;
        None for a real one).

        The kernel runs over blocks of chains of bounded duration, so that Ctrl-C is seen between them;
        chain ``c`` draws stream ``s0 + c`` at counter ``self.counter + move`` whatever block it is in
        (the kernel takes the block's first stream), so the result does not depend on the cut.
        """
        psi = self.psi
        a, b, W = psi.split()
        W = np.ascontiguousarray(W)
        mv = 0 if self.sampler == "flip" else 1
        bonds = self.bonds if self.bonds is not None else np.zeros((1, 2), np.int64)
        st = self.states.copy()
        C = st.size
        s0 = streams.stream("quantum", CHAIN_STREAM0)
        key = ("quantum.vmc_sample", self.backend, psi.n, psi.m, mv, n_per_chain, self.sweep, self.n_discard,
               bool(with_O), psi.is_complex)
        pre = "rbmc_" if psi.is_complex else "rbm_"  # the complex kernel also returns the final theta
        if self.backend == "cpp":
            fn, op = getattr(_backend.module("cpp"), "quantum_" + pre + "vmc_sample"), self.H.core()

            def call(c, k):  # st[c:c + k] is a view: the kernel advances those chains in place
                return fn(a, b, W, op, psi.sign_mask, mv, bonds, st[c:c + k], n_per_chain, self.sweep,
                          self.n_discard, self.seed, s0 + c, self.counter, with_O)

            out = _pieces.joined(key, C, call, cpp=True)
            return (*out[:4], st, out[4] if psi.is_complex else None)
        from . import _numba

        fn = getattr(_numba, pre + "vmc_sample")
        smp = np.zeros((C, n_per_chain), np.uint64)
        eloc = np.zeros((C, n_per_chain), psi.dtype)
        O = np.zeros((C * n_per_chain, psi.n_params) if with_O else (1, 1), psi.dtype)
        acc = np.zeros(C, np.int64)
        th = np.zeros((C, psi.m), psi.dtype) if psi.is_complex else None
        args, mask = self.H.numba_args(), np.uint64(psi.sign_mask)

        def call(c, k):
            rows = O[c * n_per_chain:(c + k) * n_per_chain] if with_O else O
            fn(a, b, W, *args, mask, mv, bonds, st[c:c + k], n_per_chain, self.sweep, self.n_discard,
               np.uint64(self.seed), np.uint64(s0 + c), np.uint64(self.counter), with_O, smp[c:c + k], eloc[c:c + k],
               rows, acc[c:c + k], *(() if th is None else (th[c:c + k],)))

        _pieces.run(key, C, call)
        return smp, eloc, (O if with_O else None), acc, st, th

    def _advance(self, states, n_per_chain: int) -> None:
        """The chains' new states and the move counter, together (callers hold Ctrl-C around it)."""
        self.states = states
        self.counter += self.n_discard + n_per_chain * self.sweep

    def step(self) -> dict:
        """One VMC step: sample, estimate, SR direction, update.

        Nothing of the driver changes until the step is complete; then parameters, optimiser moments,
        chain states, move counter, step counter and history are updated together with Ctrl-C held, so
        an interrupt leaves the driver exactly as after a whole number of steps.
        """
        psi = self.psi
        smp, eloc, O, acc, st = self._sample_step(self.per_chain, True)
        est, rhat = energy_estimate(eloc.real)
        with _blas_limit(self.blas_threads):
            d = self._update_direction(O, eloc.reshape(-1))
        p = psi.params
        m, v = self._m, self._v
        if self.optimizer == "sgd":
            p = p - self.lr * d
        elif psi.is_complex:  # Adam on the real and imaginary parts as separate real parameters
            t = self.steps_done + 1
            m = 0.9 * m + 0.1 * d
            v = 0.999 * v + 0.001 * (d.real * d.real + 1j * (d.imag * d.imag))
            mh, vh = m / (1 - 0.9**t), v / (1 - 0.999**t)
            p = p - self.lr * (mh.real / (np.sqrt(vh.real) + 1e-8) + 1j * (mh.imag / (np.sqrt(vh.imag) + 1e-8)))
        else:
            t = self.steps_done + 1
            m = 0.9 * m + 0.1 * d
            v = 0.999 * v + 0.001 * d * d
            p = p - self.lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        if not np.all(np.isfinite(p)):
            raise FloatingPointError(f"VMC step {self.steps_done}: the parameters became non-finite; lower lr "
                                     "or raise the SR shift")
        moves = self.n_discard + self.per_chain * self.sweep
        out = {"energy": est, "variance": est.variance, "acceptance": float(acc.sum()) / (moves * self.n_chains),
               "rhat": rhat}
        rec = [(k, float(x)) for k, x in (("energy", est.value), ("error", est.error), ("variance", est.variance),
                                          ("tau", est.tau), ("acceptance", out["acceptance"]), ("rhat", rhat))]
        with deferred_sigint():
            psi.params = p
            self._m, self._v = m, v
            self._advance(st, self.per_chain)
            self.steps_done += 1
            self.last_samples = smp
            for k, x in rec:
                self.history[k].append(x)
        return out

    # ------------------------------------------------------------------ checkpoints
    def _fingerprint(self) -> np.ndarray:
        fp = [self.psi.n, self.psi.m, self.n_samples, self.n_chains, self.seed, self.sweep,
              self.n_discard, int(self.sampler == "exchange"), int(self.optimizer == "adam")]
        return np.array(fp + ([1] if self.psi.is_complex else []), np.int64)

    def save(self, path) -> None:
        """Write the full state (parameters, chains, counters, optimiser moments, history) atomically,
        through :func:`physdl.io.save_checkpoint` (kind ``"quantum/vmc"``, checksummed)."""
        meta = {"counter": int(self.counter), "steps_done": int(self.steps_done), "lr": self.lr,
                "sr": self.sr, "fingerprint": self._fingerprint().tolist()}
        save_checkpoint(path, CHECKPOINT_KIND, meta,
                        dict(params=self.psi.params, states=self.states, m=self._m, v=self._v,
                             **{"h_" + k: np.array(v, np.float64) for k, v in self.history.items()}))

    def load(self, path) -> None:
        """Restore a state written by :meth:`save` by a driver with the same settings; a file of another
        kind, damaged, or written with other settings raises an error naming it."""
        p = checkpoint_path(path, existing=True)
        meta, z = load_checkpoint(p, CHECKPOINT_KIND, legacy=_legacy_vmc)
        need = {"params", "states", "m", "v"} | {"h_" + k for k in self.history}
        if not need <= set(z) or not {"counter", "steps_done", "fingerprint"} <= set(meta):
            raise CorruptFileError(f"{p} is not a complete VMC checkpoint")
        if list(meta["fingerprint"]) != self._fingerprint().tolist():
            raise ValueError(f"{p} was written by a VMC with other settings")
        st = z["states"]
        if st.shape != (self.n_chains,) or st.dtype != np.uint64:
            raise CorruptFileError(f"{p}: chain states have the wrong shape or type")
        for k in ("m", "v"):
            if z[k].shape != (self.psi.n_params,):
                raise CorruptFileError(f"{p}: optimiser moment {k} has the wrong shape")
        try:
            self.psi.params = z["params"]
        except ValueError as exc:
            raise CorruptFileError(f"{p}: {exc}") from None
        self.states = st.copy()
        self.counter, self.steps_done = int(meta["counter"]), int(meta["steps_done"])
        for k in ("m", "v"):
            if np.iscomplexobj(z[k]) and not self.psi.is_complex:
                raise CorruptFileError(f"{p}: optimiser moment {k} is complex for a real RBM")
        self._m, self._v = z["m"].astype(self.psi.dtype), z["v"].astype(self.psi.dtype)
        for k in self.history:
            self.history[k] = z["h_" + k].tolist()

    def run(self, n_steps: int, progress: bool = False, checkpoint=None, checkpoint_every: int = 10) -> dict:
        """Run until ``n_steps`` steps have been taken in total, resuming from ``checkpoint`` when it exists.

        Returns the history: arrays ``energy, error, variance, tau, acceptance, rhat`` per step.  A run
        resumed from a checkpoint equals an uninterrupted one bit for bit.
        """
        n_steps = check_int(n_steps, "n_steps", minimum=0)
        checkpoint_every = check_int(checkpoint_every, "checkpoint_every", minimum=1)
        if checkpoint is not None and checkpoint_path(checkpoint, existing=True).exists():
            self.load(checkpoint)
        t0 = time.perf_counter()
        start = self.steps_done
        while self.steps_done < n_steps:
            r = self.step()
            if checkpoint is not None and (self.steps_done % checkpoint_every == 0 or self.steps_done == n_steps):
                self.save(checkpoint)
            if progress and (self.steps_done == n_steps or self.steps_done % max(1, n_steps // 20) == 0):
                el = time.perf_counter() - t0
                print(f"  vmc step {self.steps_done}/{n_steps}  E = {r['energy']}  acc {r['acceptance']:.2f}  "
                      f"{el / max(1, self.steps_done - start) * 1e3:.1f} ms/step", file=sys.stderr, flush=True)
        return {k: np.array(v) for k, v in self.history.items()}

    def estimate(self, n_samples: int | None = None) -> Estimate:
        """Energy of the current state from a fresh set of samples (parameters unchanged)."""
        per = self.per_chain if n_samples is None else max(1, check_int(n_samples, "n_samples", minimum=1)
                                                           // self.n_chains)
        _, e, _, _, st = self._sample_step(per, False)
        with deferred_sigint():
            self._advance(st, per)
        return energy_estimate(e.real)[0]
