"""Boltzmann machines (book ch. 6.1-6.2): restricted machines with CD-k, PCD and AIS, and the fully
visible machine learnt by moment matching.

The restricted Boltzmann machine (eq. 6.11) has visible units ``v`` and hidden units ``h``, either
{0, 1} (``units="binary"``) or +-1 (``units="spin"``), and energy

    E(v, h) = -b.v - c.h - v.W.h          (the book's H_J with J_i = -b_i, J_a = -c_a, J_ia = -W_ia)

so that ``Q(v) = exp(-F(v)) / Z`` with the free energy ``F(v) = -b.v - sum_a log sum_h exp(h a_a)``,
``a = c + v.W`` (eq. 6.12-6.13).  The conditionals (eq. 6.15-6.16) factorise, so block Gibbs
sampling (eq. 6.20-6.23) alternates ``h ~ P(h|v)`` and ``v ~ P(v|h)``; the kernel (C++ with BLAS
products, Numba twin) runs many chains at once with Philox numbers from ``stream("boltzmann", k)``.
Training ascends the log-likelihood with the gradient of eq. 6.14: the data phase with ``E[h|v]``
exactly, the model phase from CD-k chains started at the data (eq. 6.17-6.19) or from persistent
chains (PCD, whose state is the chains' hidden sample).  A whole epoch (every minibatch's data
phase, chain steps and the in-place update ``W += A^T G`` with stacked data and model rows) runs in
the kernel (C++ ``physdl::ebm::rbm_epoch`` or its Numba twin), called on pieces of a few minibatches
so that Ctrl-C is seen within a second; an interrupted epoch is undone whole.  On machines small
enough to enumerate, :meth:`RBM.log_partition`, :meth:`RBM.exact_gradient` and
:meth:`RBM.log_likelihood` are exact; :meth:`RBM.ais` estimates ``log Z`` by annealed importance
sampling with its error.

Examples
--------
>>> import numpy as np
>>> from physdl.boltzmann import RBM
>>> rbm = RBM(6, 4, units="spin", seed=1, init_std=0.5)
>>> est = rbm.ais(n_chains=400, n_betas=300, seed=2)
>>> bool(est.within(rbm.log_partition(), 4.0))
True
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import _backend
from .. import _interrupt
from .._interrupt import deferred_sigint, run_in_pieces
from .._validate import check_array, check_choice, check_float, check_int, check_seed
from ..lattice._spin_chains import all_states
from ..random import normal, uniform
from ..random.streams import stream
from ..stats import Estimate

__all__ = ["RBM", "FitHistory", "FullyVisibleBM"]

# stream layout inside the "boltzmann" range: purpose << 32 | chain
_SAMPLE, _CD, _PCD, _AIS, _INIT, _SHUFFLE, _START = range(7)
MAX_UNITS = (1 << 25) - 1
MAX_CHAINS = 1 << 32
MAX_ENUM = 20
_EPOCH_PIECE = 12.5  # a training piece lasts this many PIECE_SECONDS (0.25 s by default)


def _stream(purpose: int) -> int:
    return stream("boltzmann", purpose << 32)


def _gibbs_kernel(backend: str, dtype):
    """``rbm_gibbs(W, b, c, pm, v, h, k, seed, stream0, t0)`` of the backend (C++ or its Numba twin)."""
    if backend == "cpp":
        core = _backend.module("cpp")
        from ..nn._blas import ensure_blas
        ensure_blas(core.nn)
        return core.ebm.rbm_gibbs_f64 if np.dtype(dtype) == np.float64 else core.ebm.rbm_gibbs_f32
    from ._numba import rbm_gibbs
    return rbm_gibbs


def _epoch_kernel(backend: str, dtype):
    """``rbm_epoch(W, b, c, pm, data, order, B, persistent, k, lr, vchain, hchain, seed, stream0, t0)``
    of the backend: the minibatches ``order[s B : s B + B)`` with the half-steps of minibatch ``s``
    at ``2 (t0 + s k)``, so a run over a range of minibatches is the same as within the whole epoch."""
    if backend == "cpp":
        core = _backend.module("cpp")
        from ..nn._blas import ensure_blas
        ensure_blas(core.nn)
        return core.ebm.rbm_epoch_f64 if np.dtype(dtype) == np.float64 else core.ebm.rbm_epoch_f32
    from ._numba import rbm_epoch
    return rbm_epoch


_PRODUCT_THREADS = []


@contextmanager
def _product_threads(blas_threads=None):
    """The threads of the RBM kernels' products and loops inside the block.

    BLAS gets ``blas_threads`` threads (default: the core's thread count, :func:`physdl.set_num_threads`);
    when it has more than one, the kernels' own OpenMP loops (sampling, sigmoids) run on one thread.
    Both pools side by side compete for the cores: on two cores an epoch at 400 x 400 took 1.4 s instead
    of 0.12 s, and 300 Gibbs steps of 200 chains 4.8 s instead of 1.0 s.  Training gives the threads to
    the products (0.086 s per epoch on two against 0.113 on one); Gibbs sampling and AIS keep BLAS on
    one thread and share the loops (0.72 s against 0.98 with the products threaded).  Results do not
    depend on it.  Nested uses keep the outermost setting.
    """
    from .._config import blas_limit, get_num_threads, set_num_threads

    if _PRODUCT_THREADS:  # already inside (fit or ais calling the Gibbs kernel): keep the outer setting
        yield
        return
    threads = get_num_threads()
    bt = threads if blas_threads is None else blas_threads
    _PRODUCT_THREADS.append(bt)
    try:
        with blas_limit(bt):  # validates bt (named blas_threads)
            if bt == 1 or threads == 1:
                yield
                return
            set_num_threads(1)
            try:
                yield
            finally:
                set_num_threads(threads)
    finally:
        _PRODUCT_THREADS.pop()


def _softplus(x):
    return np.logaddexp(0.0, x)


def _log2cosh(x):
    return np.logaddexp(x, -x)


@dataclass
class FitHistory:
    """Per-epoch record of :meth:`RBM.fit`: pseudo-log-likelihood and reconstruction error."""

    epoch: list = field(default_factory=list)
    pseudo_log_likelihood: list = field(default_factory=list)
    reconstruction_error: list = field(default_factory=list)


class RBM:
    """A restricted Boltzmann machine (eq. 6.11) with binary or +-1 units.

    Parameters
    ----------
    n_visible, n_hidden : int
    units : {"binary", "spin"}
        {0, 1} or +-1 units on both layers.
    dtype : float64 or float32
        Precision of the weights and the Gibbs kernel.
    seed : int
        Seed of the initial weights and of every chain the machine runs (calls continue the
        Philox counters, so a sequence of calls is reproducible).
    init_std : float
        Standard deviation of the initial weights (biases start at 0).
    """

    def __init__(self, n_visible: int, n_hidden: int, units: str = "binary", dtype=np.float64, seed: int = 0,
                 init_std: float = 0.01):
        self.n_visible = check_int(n_visible, "n_visible", minimum=1, maximum=MAX_UNITS)
        self.n_hidden = check_int(n_hidden, "n_hidden", minimum=1, maximum=MAX_UNITS)
        self.units = check_choice(units, "units", ("binary", "spin"))
        dt = np.dtype(dtype)
        if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
            raise TypeError(f"dtype must be float64 or float32, got {dt}")
        self.dtype = dt
        self.seed = check_seed(seed)
        std = check_float(init_std, "init_std", nonnegative=True)
        self.W = (std * normal((self.n_visible, self.n_hidden), seed=self.seed, stream=_stream(_INIT))).astype(dt)
        self.b = np.zeros(self.n_visible, dt)
        self.c = np.zeros(self.n_hidden, dt)
        self._t = 0          # Gibbs steps drawn so far (the Philox counter of the next call)
        self._chains = None  # persistent chains of PCD (visible states)
        self._hchains = None  # and their hidden states (the state a PCD step starts from)
        self.history = FitHistory()

    # ---- parameters and checks ------------------------------------------------------------
    @property
    def _lo(self) -> float:
        return -1.0 if self.units == "spin" else 0.0

    def set_parameters(self, W, b, c) -> "RBM":
        """Set ``W`` (n_visible, n_hidden), ``b`` (n_visible,), ``c`` (n_hidden,) (finite)."""
        self.W = check_array(W, "W", dtype=np.float64, shape=(self.n_visible, self.n_hidden), finite=True).astype(self.dtype)
        self.b = check_array(b, "b", dtype=np.float64, shape=(self.n_visible,), finite=True).astype(self.dtype)
        self.c = check_array(c, "c", dtype=np.float64, shape=(self.n_hidden,), finite=True).astype(self.dtype)
        return self

    def check_data(self, v, name: str = "v", n: int | None = None) -> np.ndarray:
        """A (m, n) array of the units' values (0/1 or -1/+1), as the machine's dtype."""
        n = self.n_visible if n is None else n
        a = np.asarray(v)
        if a.ndim == 1:
            a = a[None, :]
        a = check_array(a, name, ndim=2, shape=(None, n), nonempty=True)
        if not np.all((a == 1) | (a == self._lo)):  # also rejects NaN and inf; the message names them
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
            vals = "{-1, +1}" if self.units == "spin" else "{0, 1}"
            raise ValueError(f"{name} must hold only the values {vals} of {self.units} units")
        return np.ascontiguousarray(a, dtype=self.dtype)

    # ---- exact formulas --------------------------------------------------------------------
    def _act(self, a):
        return np.tanh(a) if self.units == "spin" else 1.0 / (1.0 + np.exp(-a))

    def _logsum(self, a):
        return _log2cosh(a) if self.units == "spin" else _softplus(a)

    def energy(self, v, h) -> np.ndarray:
        """``E(v, h) = -b.v - c.h - v.W.h`` per row."""
        v = self.check_data(v).astype(np.float64)
        h = self.check_data(h, "h", self.n_hidden).astype(np.float64)
        if v.shape[0] != h.shape[0]:
            raise ValueError("v and h must have the same number of rows")
        W = self.W.astype(np.float64)
        return -(v @ self.b.astype(np.float64)) - h @ self.c.astype(np.float64) - np.einsum("ri,ij,rj->r", v, W, h)

    def free_energy(self, v) -> np.ndarray:
        """``F(v) = -log sum_h exp(-E(v, h))`` (eq. 6.12 without log Z)."""
        v = self.check_data(v).astype(np.float64)
        a = self.c.astype(np.float64) + v @ self.W.astype(np.float64)
        return -(v @ self.b.astype(np.float64)) - self._logsum(a).sum(axis=1)

    def hidden_expectation(self, v) -> np.ndarray:
        """``E[h | v]`` (eq. 6.15): sigmoid(a) for binary, tanh(a) for spin units."""
        v = self.check_data(v).astype(np.float64)
        return self._act(self.c.astype(np.float64) + v @ self.W.astype(np.float64))

    transform = hidden_expectation

    def _enumeration(self):
        """(states, log weights, side) over the smaller layer for exact sums."""
        nv, nh = self.n_visible, self.n_hidden
        if min(nv, nh) > MAX_ENUM:
            raise ValueError(f"exact sums enumerate 2**min(n_visible, n_hidden) states; min must be <= {MAX_ENUM}")
        W, b, c = (x.astype(np.float64) for x in (self.W, self.b, self.c))
        lo = int(self._lo)
        if nv <= nh:
            v = all_states(nv, (lo, 1)).astype(np.float64)
            return v, v @ b + self._logsum(c + v @ W).sum(axis=1), "visible"
        h = all_states(nh, (lo, 1)).astype(np.float64)
        return h, h @ c + self._logsum(b + h @ W.T).sum(axis=1), "hidden"

    def log_partition(self) -> float:
        """Exact ``log Z`` by enumerating the smaller layer (``min(n_visible, n_hidden) <= 20``)."""
        from scipy.special import logsumexp
        _, lw, _ = self._enumeration()
        return float(logsumexp(lw))

    def log_likelihood(self, v) -> float:
        """Exact mean ``log Q(v)`` over the rows of ``v`` (needs :meth:`log_partition`)."""
        return float(np.mean(-self.free_energy(v)) - self.log_partition())

    def _moments(self, v, ph):
        m = v.shape[0]
        return v.T @ ph / m, v.mean(axis=0), ph.mean(axis=0)

    def model_moments(self):
        """Exact ``<v h^T>``, ``<v>``, ``<h>`` under the machine, by enumeration."""
        from scipy.special import softmax
        s, lw, side = self._enumeration()
        p = softmax(lw)
        W, b, c = (x.astype(np.float64) for x in (self.W, self.b, self.c))
        if side == "visible":
            eh = self._act(c + s @ W)
            return (s * p[:, None]).T @ eh, p @ s, p @ eh
        ev = self._act(b + s @ W.T)
        return (ev * p[:, None]).T @ s, p @ ev, p @ s

    def exact_gradient(self, v):
        """Exact gradient of the mean log-likelihood (eq. 6.14): ``(dW, db, dc)``."""
        v = self.check_data(v).astype(np.float64)
        pos = self._moments(v, self.hidden_expectation(v))
        neg = self.model_moments()
        return tuple(p - q for p, q in zip(pos, neg))

    # ---- sampling ---------------------------------------------------------------------------
    def _gibbs(self, v, k: int, purpose: int, backend):
        """k block-Gibbs steps in place on v (m, n_visible); returns the last hidden sample."""
        m = v.shape[0]
        if m > MAX_CHAINS:
            raise ValueError(f"at most {MAX_CHAINS} chains, got {m}")
        h = np.empty((m, self.n_hidden), self.dtype)
        b = _backend.resolve(backend, ("cpp", "numba"))
        pm = self.units == "spin"
        W, bb, cc = (np.ascontiguousarray(x, self.dtype) for x in (self.W, self.b, self.c))
        kernel = _gibbs_kernel(b, self.dtype)
        seed, st = np.uint64(self.seed), np.uint64(_stream(purpose))

        # in pieces of bounded duration (either backend), so that Ctrl-C is seen between them; each
        # piece takes the absolute step number, so the draws do not depend on the cut, and the step
        # counter advances with the chains
        def piece(a, cnt):
            kernel(W, bb, cc, pm, v, h, cnt, seed, st, self._t)
            self._t += cnt

        with _product_threads(1):  # Gibbs chains: the kernel's loops share the threads, BLAS one
            run_in_pieces(piece, k)
        return h

    def random_visible(self, n: int) -> np.ndarray:
        """``n`` uniformly random visible configurations (Philox)."""
        n = check_int(n, "n", minimum=1, maximum=MAX_CHAINS)
        u = uniform((n, self.n_visible), seed=self.seed, stream=_stream(_START), offset=self._t * self.n_visible)
        self._t += 1
        return np.where(u < 0.5, 1.0, self._lo).astype(self.dtype)

    def gibbs(self, v, k: int = 1, backend: str | None = None):
        """``k`` block-Gibbs steps (eq. 6.22-6.23) from each row of ``v``: returns ``(v_k, h_k)``.

        ``h_k`` is the hidden sample drawn from ``v_{k-1}``.
        """
        v = self.check_data(v).copy()
        k = check_int(k, "k", minimum=1, maximum=1 << 30)
        with self._undone_on_error():
            h = self._gibbs(v, k, _SAMPLE, backend)
        return v, h

    def sample(self, n: int, k: int = 1000, backend: str | None = None):
        """``n`` independent chains from uniform starts, ``k`` Gibbs steps each: ``(v, h)``."""
        k = check_int(k, "k", minimum=1, maximum=1 << 30)
        with self._undone_on_error():
            v = self.random_visible(n)
            h = self._gibbs(v, k, _SAMPLE, backend)
        return v, h

    @contextmanager
    def _undone_on_error(self):
        """Run the block; when it raises (Ctrl-C, seen between pieces of Gibbs steps, included), put
        the seed, the step counter and the persistent chains back as they were, so that the call
        leaves no trace and running it again gives what an uninterrupted call would have."""
        cp = lambda x: None if x is None else x.copy()  # noqa: E731
        before = (self.seed, self._t, cp(self._chains), cp(self._hchains))
        try:
            yield
        except BaseException:
            with deferred_sigint():
                self.seed, self._t, self._chains, self._hchains = before
            raise

    # ---- scores -------------------------------------------------------------------------------
    def pseudo_log_likelihood(self, v) -> np.ndarray:
        """``sum_i log Q(v_i | v_-i)`` of each row, every site flipped (not sklearn's one random site)."""
        v = self.check_data(v).astype(np.float64)
        W, b, c = (x.astype(np.float64) for x in (self.W, self.b, self.c))
        a = c + v @ W
        F = -(v @ b) - self._logsum(a).sum(axis=1)
        delta = (-2.0 * v) if self.units == "spin" else (1.0 - 2.0 * v)
        out = np.zeros(v.shape[0])
        S = self._logsum(a).sum(axis=1)
        for i in range(self.n_visible):  # one vectorised pass per site over all rows
            a2 = a + delta[:, i:i + 1] * W[i]
            F2 = F - delta[:, i] * b[i] + S - self._logsum(a2).sum(axis=1)
            out -= _softplus(F - F2)
        return out

    score_samples = pseudo_log_likelihood

    def reconstruction_error(self, v) -> float:
        """Mean squared difference between ``v`` and ``E[v | E[h|v]]`` (mean-field reconstruction)."""
        v = self.check_data(v).astype(np.float64)
        ph = self.hidden_expectation(v)
        rv = self._act(self.b.astype(np.float64) + ph @ self.W.astype(np.float64).T)
        return float(np.mean((v - rv) ** 2))

    # ---- learning ----------------------------------------------------------------------------
    def cd_gradient(self, v, k: int = 1, persistent: bool = False, n_chains: int | None = None,
                    backend: str | None = None):
        """Stochastic gradient ``(dW, db, dc)`` of eq. 6.19: CD-k from ``v``, or PCD chains."""
        v = self.check_data(v)
        k = check_int(k, "k", minimum=1, maximum=1 << 20)
        pos = self._moments(v.astype(np.float64), self.hidden_expectation(v))
        nc = None
        if persistent:
            nc = v.shape[0] if n_chains is None else check_int(n_chains, "n_chains", minimum=1, maximum=MAX_CHAINS)
        with self._undone_on_error():
            if persistent:
                if self._chains is None or self._chains.shape[0] != nc:
                    self._chains = self.random_visible(nc)
                vk = self._chains
                self._gibbs(vk, k, _PCD, backend)
            else:
                vk = v.copy()
                self._gibbs(vk, k, _CD, backend)
        vk64 = vk.astype(np.float64)
        neg = self._moments(vk64, self.hidden_expectation(vk))
        return tuple(p - q for p, q in zip(pos, neg))

    def _epoch(self, data, order, bs, lr, k, persistent, nc, backend):
        """All minibatches of one epoch, in pieces of a few minibatches (C++ or its Numba twin).

        A piece is the range of minibatches ``s0 .. s0 + cnt`` (``order[s0 B : (s0 + cnt) B]`` with
        ``t0 = _t + s0 k``): the kernels address every draw by the absolute half-step, and W, b, c
        and the persistent chains carry over, so the cut does not change the result.  Ctrl-C is seen
        between pieces; :meth:`fit` then puts the machine back as at the start of the epoch.
        """
        be = _backend.resolve(backend, ("cpp", "numba"))
        if persistent:
            if self._chains is None or self._chains.shape[0] != nc or self._hchains is None:
                self._chains = self.random_visible(nc)
                self._hchains = self._gibbs(self._chains.copy(), 1, _PCD, backend)
            vch, hch = self._chains, self._hchains
            purpose = _PCD
        else:
            nc = bs
            vch = np.empty((0, self.n_visible), self.dtype)
            hch = np.empty((bs, self.n_hidden), self.dtype)
            purpose = _CD
        pm = self.units == "spin"
        for name in ("W", "b", "c"):
            setattr(self, name, np.ascontiguousarray(getattr(self, name), self.dtype))
        kernel = _epoch_kernel(be, self.dtype)
        order = np.ascontiguousarray(order, np.int64)
        t0, st = self._t, _stream(purpose)

        def piece(s0, cnt):
            kernel(self.W, self.b, self.c, pm, data, order[s0 * bs:(s0 + cnt) * bs], bs, persistent, k, lr, vch,
                   hch, self.seed, st, t0 + s0 * k)
            self._t = t0 + (s0 + cnt) * k

        # pieces of about a quarter of a second (Ctrl-C is still seen well within a second): each call
        # costs a work buffer, the chains' copies and the signal bookkeeping
        run_in_pieces(piece, order.shape[0] // bs, target=_EPOCH_PIECE * _interrupt.PIECE_SECONDS)

    def _snapshot(self):
        """Copies of everything an epoch changes (see :meth:`_restore`)."""
        cp = lambda x: None if x is None else x.copy()  # noqa: E731
        return self.W.copy(), self.b.copy(), self.c.copy(), cp(self._chains), cp(self._hchains), self._t

    def _restore(self, snap) -> None:
        self.W, self.b, self.c, self._chains, self._hchains, self._t = snap

    def fit(self, data, epochs: int = 10, learning_rate: float = 0.01, batch_size: int = 100, k: int = 1,
            method: str = "pcd", n_chains: int | None = None, monitor=None, progress: bool = False,
            checkpoint=None, backend: str | None = None, blas_threads: int | None = None) -> "RBM":
        """Train by stochastic gradient ascent on the log-likelihood (eq. 6.18-6.19).

        Parameters
        ----------
        data : (n, n_visible) array of the units' values.
        epochs, learning_rate, batch_size, k : training settings (k Gibbs steps per update).
        method : {"cd", "pcd"}
            Contrastive divergence from the minibatch, or persistent chains (``n_chains``,
            default the batch size).
        monitor : array or False, optional
            Rows whose mean pseudo-log-likelihood and reconstruction error go into ``history``
            after each epoch (default: up to 256 rows of ``data``; False: none).
        checkpoint : path, optional
            ``save`` after every epoch (resume with :meth:`load` and another ``fit``).
        blas_threads : int or None
            BLAS threads during training (threadpoolctl); default: the core's thread count
            (:func:`physdl.set_num_threads`).  When BLAS has more than one thread the kernel's own
            loops (sampling, sigmoids) run on one: the two thread pools side by side compete for the
            cores (an epoch at 400 x 400 took 1.4 s instead of 0.12 s with two of each on two cores),
            while the products alone on two BLAS threads make it 0.082 s.  The result is the same
            bit for bit whatever the threads (tested).
        """
        data = self.check_data(data, "data")
        epochs = check_int(epochs, "epochs", minimum=1)
        lr = check_float(learning_rate, "learning_rate", positive=True)
        bs = check_int(batch_size, "batch_size", minimum=1, maximum=data.shape[0])
        k = check_int(k, "k", minimum=1, maximum=1 << 20)
        method = check_choice(method, "method", ("cd", "pcd"))
        nc = bs if n_chains is None else check_int(n_chains, "n_chains", minimum=1, maximum=MAX_CHAINS)
        if monitor is False:
            mon = None
        else:
            mon = data[:256] if monitor is None else self.check_data(monitor, "monitor")
        with _product_threads(blas_threads):  # checks blas_threads before any kernel runs
            return self._fit(data, epochs, lr, bs, k, method, nc, mon, progress, checkpoint, backend)

    def _fit(self, data, epochs, lr, bs, k, method, nc, mon, progress, checkpoint, backend) -> "RBM":
        n = data.shape[0]
        start = (self.history.epoch[-1] + 1) if self.history.epoch else 0
        for ep in range(start, start + epochs):
            # an epoch lands whole or not at all: on Ctrl-C (seen between pieces of minibatches) or any
            # error before its history entry is written, the parameters, chains and step counter go
            # back to the epoch's start, so a later fit (or save, load and fit) continues bit for bit
            snap = self._snapshot()
            recorded = False
            try:
                u = uniform(n, seed=self.seed, stream=_stream(_SHUFFLE), offset=ep * n)
                order = np.argsort(u, kind="stable")
                self._epoch(data, order.astype(np.int64), bs, lr, k, method == "pcd", nc, backend)
                if mon is not None:
                    pll = float(np.mean(self.pseudo_log_likelihood(mon)))
                    rec = self.reconstruction_error(mon)
                else:
                    pll = rec = float("nan")
                with deferred_sigint():
                    self.history.epoch.append(ep)
                    self.history.pseudo_log_likelihood.append(pll)
                    self.history.reconstruction_error.append(rec)
                    recorded = True
                    if checkpoint is not None:
                        self.save(checkpoint)
            except BaseException:
                if not recorded:
                    with deferred_sigint():
                        self._restore(snap)
                raise
            if progress:
                print(f"[rbm] epoch {ep + 1}: pseudo-log-likelihood {self.history.pseudo_log_likelihood[-1]:.4f}",
                      flush=True)
        return self

    # ---- AIS ---------------------------------------------------------------------------------
    def ais(self, n_chains: int = 1000, n_betas: int = 1000, seed: int | None = None,
            backend: str | None = None) -> Estimate:
        """Annealed importance sampling estimate of ``log Z`` (Neal; Salakhutdinov and Murray).

        Intermediate machines ``p_beta(v) ~ exp(b.v) prod_a sum_h exp(beta h a_a(v))`` run from the
        independent-unit machine at ``beta = 0`` (exact ``Z_0``) to the machine at ``beta = 1``, one
        Gibbs step per temperature.  The error is the delta-method standard error of the log of the
        mean importance weight.
        """
        nc = check_int(n_chains, "n_chains", minimum=2, maximum=MAX_CHAINS)
        nb = check_int(n_betas, "n_betas", minimum=2, maximum=1 << 24)
        seed = None if seed is None else check_seed(seed)
        # an interrupted estimate leaves the machine as before; BLAS on one thread (measured faster)
        with self._undone_on_error(), _product_threads(1):
            return self._ais(nc, nb, seed, backend)

    def _ais(self, nc, nb, seed, backend) -> Estimate:
        from scipy.special import logsumexp
        if seed is not None:
            self.seed = seed
        W, b, c = (x.astype(np.float64) for x in (self.W, self.b, self.c))
        spin = self.units == "spin"
        logz0 = self.n_hidden * np.log(2.0) + (self._logsum(b).sum())
        p1 = 1.0 / (1.0 + np.exp(-(2.0 * b if spin else b)))
        u = uniform((nc, self.n_visible), seed=self.seed, stream=_stream(_AIS), offset=self._t * self.n_visible)
        self._t += 1
        v = np.where(u < p1, 1.0, self._lo).astype(self.dtype)
        betas = np.linspace(0.0, 1.0, nb)
        logw = np.zeros(nc)

        def logp(v, beta):
            v64 = v.astype(np.float64)
            return v64 @ b + self._logsum(beta * (c + v64 @ W)).sum(axis=1)

        saved = (self.W, self.c)
        try:
            for i in range(1, nb):
                logw += logp(v, betas[i]) - logp(v, betas[i - 1])
                if i < nb - 1:
                    self.W = (betas[i] * saved[0]).astype(self.dtype)
                    self.c = (betas[i] * saved[1]).astype(self.dtype)
                    self._gibbs(v, 1, _AIS, backend)
        finally:
            self.W, self.c = saved
        lmean = logsumexp(logw) - np.log(nc)
        w = np.exp(logw - lmean)
        err = float(w.std(ddof=1) / np.sqrt(nc))
        return Estimate(float(logz0 + lmean), err, variance=float(w.var(ddof=1)), n=nc)

    # ---- persistence ---------------------------------------------------------------------------
    KIND = "boltzmann/rbm"

    def save(self, path) -> None:
        """Write the parameters, settings, Philox counter, chains and history as a checkpoint.

        Through :func:`physdl.io.save_checkpoint`: atomic, kind tag ``"boltzmann/rbm"``, SHA-256;
        ``.npz`` is appended unless the name ends in it.  :meth:`load` (and ``fit`` continued after
        it) resumes bit for bit.
        """
        from ..io import save_checkpoint

        save_checkpoint(path, self.KIND, {"t": int(self._t), "seed": int(self.seed), "units": self.units},
                        dict(W=self.W, b=self.b, c=self.c,
                             chains=self._chains if self._chains is not None else np.zeros((0, 0)),
                             hchains=self._hchains if self._hchains is not None else np.zeros((0, 0)),
                             epoch=np.array(self.history.epoch, np.int64),
                             pll=np.array(self.history.pseudo_log_likelihood),
                             rec=np.array(self.history.reconstruction_error)))

    @classmethod
    def load(cls, path) -> "RBM":
        """Read a machine written by :meth:`save` (or by the earlier plain ``np.savez`` format).

        Anything wrong (not a file of this kind, truncated, edited, inconsistent shapes or values)
        raises :class:`physdl.io.CorruptFileError` (a ``ValueError``) naming the file.
        """
        from ..io import CorruptFileError, checkpoint_path, load_checkpoint

        p = checkpoint_path(path, existing=True)
        meta, d = load_checkpoint(p, cls.KIND, legacy=_legacy_rbm)
        try:
            return cls._from_saved(meta, d)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise CorruptFileError(f"{p}: not a valid RBM file: {what}") from None

    @classmethod
    def _from_saved(cls, meta, d) -> "RBM":
        need = {"W", "b", "c", "chains", "epoch", "pll", "rec"}
        if not need <= set(d) or not {"t", "seed", "units"} <= set(meta):
            raise ValueError(f"missing {sorted((need - set(d)) | ({'t', 'seed', 'units'} - set(meta)))}")
        W = d["W"]
        if W.dtype not in (np.float32, np.float64) or W.ndim != 2 or not np.all(np.isfinite(W)):
            raise ValueError("W must be a finite 2-D float32 or float64 array")
        rbm = cls(W.shape[0], W.shape[1], str(meta["units"]), W.dtype, check_seed(meta["seed"]), 0.0)
        rbm.set_parameters(W, d["b"], d["c"])
        rbm._t = check_int(meta["t"], "t", minimum=0)
        ch = d["chains"]
        if ch.size:
            if ch.ndim != 2 or ch.shape[1] != W.shape[0] or not np.all((ch == 1) | (ch == rbm._lo)):
                raise ValueError(f"chains must be (n_chains, {W.shape[0]}) of the units' two values")
            rbm._chains = ch.astype(W.dtype)
        hc = d.get("hchains")
        rbm._hchains = hc.astype(W.dtype) if hc is not None and hc.size else None
        if rbm._hchains is not None and (rbm._chains is None or rbm._hchains.shape != (rbm._chains.shape[0], W.shape[1])):
            raise ValueError("hchains must have shape (n_chains, n_hidden)")
        ep, pll, rec = d["epoch"], d["pll"], d["rec"]
        if not (ep.ndim == pll.ndim == rec.ndim == 1 and ep.size == pll.size == rec.size) or ep.dtype.kind != "i":
            raise ValueError("the history arrays must be 1-D of one length (integer epochs)")
        rbm.history = FitHistory(ep.tolist(), pll.tolist(), rec.tolist())
        return rbm


def _legacy_rbm(z):
    """RBM files of the first format (plain ``np.savez``): ``(meta, arrays)``, or None."""
    if not {"W", "b", "c", "t", "seed", "units", "chains", "epoch", "pll", "rec"} <= set(z):
        return None
    if z["t"].ndim or z["seed"].ndim or z["units"].ndim or z["units"].dtype.kind != "U":
        raise ValueError("an RBM file of the first format with malformed settings")
    meta = {"t": int(z["t"]), "seed": int(z["seed"]), "units": str(z["units"])}
    return meta, {k: v for k, v in z.items() if k not in meta}


class FullyVisibleBM:
    """A fully visible Boltzmann machine on ``n`` +-1 spins, ``Q(s) ~ exp(h.s + 1/2 s.J.s)`` (eq. 6.4-6.5).

    Learnt by moment matching, the gradient of eq. 6.7 (``<s_i s_j>_data - <s_i s_j>_model`` and
    ``<s_i>_data - <s_i>_model``), with the model phase summed exactly over the ``2**n`` states
    (``n <= 20``).
    """

    def __init__(self, n: int):
        self.n = check_int(n, "n", minimum=1, maximum=MAX_ENUM)
        self.J = np.zeros((self.n, self.n))
        self.h = np.zeros(self.n)
        self.steps_done = 0  # gradient steps taken by fit so far
        self._S = all_states(self.n).astype(np.float64)

    def _check(self, s, name="data"):
        a = check_array(np.atleast_2d(s), name, ndim=2, shape=(None, self.n), nonempty=True, finite=True)
        if not np.all((a == 1) | (a == -1)):
            raise ValueError(f"{name} must hold only +1 and -1 values")
        return a.astype(np.float64)

    def log_weights(self) -> np.ndarray:
        S = self._S
        return S @ self.h + 0.5 * np.einsum("ri,ij,rj->r", S, self.J, S)

    def probabilities(self) -> np.ndarray:
        """``Q(s)`` of every state, in the order of ``all_states(n)``."""
        from scipy.special import softmax
        return softmax(self.log_weights())

    def moments(self):
        """Exact ``(<s>, <s s^T>)`` under the machine."""
        p = self.probabilities()
        return p @ self._S, (self._S * p[:, None]).T @ self._S

    def log_likelihood(self, data) -> float:
        from scipy.special import logsumexp
        s = self._check(data)
        return float(np.mean(s @ self.h + 0.5 * np.einsum("ri,ij,rj->r", s, self.J, s)) - logsumexp(self.log_weights()))

    def fit(self, data, steps: int = 2000, learning_rate: float = 0.1) -> "FullyVisibleBM":
        """Gradient ascent on the log-likelihood by moment matching (eq. 6.6-6.7, exact model phase)."""
        s = self._check(data)
        steps = check_int(steps, "steps", minimum=1)
        lr = check_float(learning_rate, "learning_rate", positive=True)
        m1d, m2d = s.mean(axis=0), s.T @ s / s.shape[0]
        for _ in range(steps):
            m1, m2 = self.moments()
            g = m2d - m2
            np.fill_diagonal(g, 0.0)
            with deferred_sigint():  # J, h and the step count change together (Ctrl-C between steps)
                self.J += lr * g
                self.h += lr * (m1d - m1)
                self.steps_done += 1
        return self

    def sample_exact(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` independent exact samples (inverse transform on the enumerated distribution)."""
        n = check_int(n, "n", minimum=1)
        u = uniform(n, seed=check_seed(seed), stream=_stream(_SAMPLE) + (1 << 31))
        cdf = np.cumsum(self.probabilities())
        idx = np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), cdf.size - 1)
        return self._S[idx].astype(np.int8)
