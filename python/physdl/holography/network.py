"""The holographic network (book sec. 12.2-12.4): spacetime metric as the weights of a deep network."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import _backend
from ..io import CorruptFileError, checkpoint_path
from .._progress import enabled as _progress_enabled
from .._validate import check_array, check_choice, check_float, check_int, check_seed
from ..random import streams as _streams

INPUT_MAPS = ("direct", "qcd")
HORIZONS = ("pi", "full")
OUTPUTS = ("tanh", "window")
_CHECKPOINT_KIND = "physdl.holography.fit"

__all__ = ["HolographicNetwork", "FitResult", "INPUT_MAPS", "HORIZONS", "OUTPUTS"]


@dataclass
class FitResult:
    """Trained parameters of every trial and the loss of every epoch.

    Attributes
    ----------
    h : ndarray (trials, n_layers)
    lam, R : ndarray (trials,)
    history : ndarray (trials, epochs)
        Mean training loss (data + regularisers) of each epoch.
    final_loss : ndarray (trials,)
        Loss on the whole training set after the last epoch.
    epochs : int
    seconds : float
    """

    h: np.ndarray
    lam: np.ndarray
    R: np.ndarray
    history: np.ndarray
    final_loss: np.ndarray
    epochs: int
    seconds: float
    extra: dict = field(default_factory=dict)


class HolographicNetwork:
    """The bulk scalar field's equation of motion as a network (eq. 12.5-12.8).

    ``phi_{n+1} = phi_n + d pi_n``, ``pi_{n+1} = pi_n + d (-h_n pi_n + m2 phi_n + lam phi_n^3)`` with
    ``d = (eta_fin - eta_ini) / n_layers`` (the network runs from the AdS boundary to the horizon),
    ``V = lam phi^4 / 4``, and layer ``n`` at ``eta_n = eta_ini + n d``.

    Parameters
    ----------
    n_layers : int
    eta_ini, eta_fin : float
        Boundary and horizon cutoffs, ``eta_ini > eta_fin > 0``.
    m2 : float
        Bulk mass squared (``-1`` for the AdS-Schwarzschild test of sec. 12.3.1, ``-3`` for QCD).
    lam : float
        Coupling of ``V = lam phi^4 / 4``.
    R : float
        AdS radius in GeV^-1 (used by the QCD input map, eq. 12.22).
    input_map : {"direct", "qcd"}
        ``"direct"``: inputs are ``(phi, pi)`` at ``eta_ini``; ``"qcd"``: inputs are (quark mass [GeV],
        chiral condensate [GeV^3]) mapped by eq. 12.22-12.24.
    horizon : {"pi", "full"}
        Output ``F = pi`` at the horizon (eq. 12.12) or the full condition of eq. 12.11.
    output : {"tanh", "window"}
        ``y = tanh(|F|)`` (the book's squashing), or a smooth window ``~0`` for ``|F| < eps``, ``~1``
        outside, of steepness ``sharpness``.
    c_smooth, c_bdry, d_bdry, c_horizon : float
        Regularisers: eq. 12.14/12.25 ``c_smooth sum eta_n^4 (h_{n+1} - h_n)^2``, eq. 12.26
        ``c_bdry (d_bdry - h_0)^2`` and eq. 12.17 ``c_horizon (h_{N-1} - 1/eta_{N-1})^2``.
    h : array of n_layers, optional
        Initial metric (default: ``d_bdry`` everywhere).
    backend : {None, "cpp", "numba"}

    Examples
    --------
    >>> import numpy as np
    >>> from physdl.holography import HolographicNetwork, ads_schwarzschild_metric
    >>> net = HolographicNetwork(10, m2=-1.0, lam=1.0)
    >>> net.h = ads_schwarzschild_metric(net.eta)
    >>> F, y = net.forward(np.array([[0.1, -0.05]]))
    >>> F.shape, bool(0 <= y[0] < 1)
    ((1,), True)
    """

    def __init__(self, n_layers: int = 10, eta_ini: float = 1.0, eta_fin: float = 0.1, m2: float = -1.0,
                 lam: float = 1.0, R: float = 1.0, *, input_map: str = "direct", horizon: str = "pi",
                 output: str = "tanh", eps: float = 0.1, sharpness: float = 10.0, c_smooth: float = 0.0,
                 c_bdry: float = 0.0, d_bdry: float = 4.0, c_horizon: float = 0.0, h=None, nc: float = 3.0,
                 backend: str | None = None):
        self.n_layers = check_int(n_layers, "n_layers", minimum=1, maximum=100_000)
        self.eta_ini = check_float(eta_ini, "eta_ini", positive=True)
        self.eta_fin = check_float(eta_fin, "eta_fin", positive=True)
        if not self.eta_ini > self.eta_fin:
            raise ValueError(f"eta_ini must be > eta_fin (the grid runs from the boundary down to the horizon), "
                             f"got eta_ini={self.eta_ini}, eta_fin={self.eta_fin}")
        self.m2 = check_float(m2, "m2")
        self.input_map = check_choice(input_map, "input_map", INPUT_MAPS)
        self.horizon = check_choice(horizon, "horizon", HORIZONS)
        self.output = check_choice(output, "output", OUTPUTS)
        self.eps = check_float(eps, "eps", nonnegative=True)
        self.sharpness = check_float(sharpness, "sharpness", positive=True)
        self.c_smooth = check_float(c_smooth, "c_smooth", nonnegative=True)
        self.c_bdry = check_float(c_bdry, "c_bdry", nonnegative=True)
        self.d_bdry = check_float(d_bdry, "d_bdry")
        self.c_horizon = check_float(c_horizon, "c_horizon", nonnegative=True)
        self.nc = check_float(nc, "nc", positive=True)
        self.backend = _backend.resolve(backend, ("cpp", "numba"))
        self._p = np.empty(self.n_layers + 2)
        self.h = np.full(self.n_layers, self.d_bdry) if h is None else h
        self.lam = lam
        self.R = R

    # ------------------------------------------------------------------ parameters
    @property
    def eta(self) -> np.ndarray:
        """Coordinate ``eta_n`` of each layer (decreasing from ``eta_ini``)."""
        d = (self.eta_fin - self.eta_ini) / self.n_layers
        return self.eta_ini + d * np.arange(self.n_layers)

    @property
    def step(self) -> float:
        """The (negative) step ``d`` of the recurrence."""
        return (self.eta_fin - self.eta_ini) / self.n_layers

    @property
    def h(self) -> np.ndarray:
        return self._p[: self.n_layers].copy()

    @h.setter
    def h(self, value):
        self._p[: self.n_layers] = check_array(value, "h", dtype=np.float64, shape=(self.n_layers,), finite=True)

    @property
    def lam(self) -> float:
        return float(self._p[self.n_layers])

    @lam.setter
    def lam(self, value):
        self._p[self.n_layers] = check_float(value, "lam")

    @property
    def R(self) -> float:
        return float(self._p[self.n_layers + 1])

    @R.setter
    def R(self, value):
        self._p[self.n_layers + 1] = check_float(value, "R", positive=True)

    @property
    def params(self) -> np.ndarray:
        """All parameters: ``h`` (n_layers), ``lam``, ``R``."""
        return self._p.copy()

    def config(self) -> dict:
        return {"n_layers": self.n_layers, "eta_ini": self.eta_ini, "eta_fin": self.eta_fin, "m2": self.m2,
                "input_map": INPUT_MAPS.index(self.input_map), "nc": self.nc,
                "horizon": HORIZONS.index(self.horizon), "output": OUTPUTS.index(self.output), "eps": self.eps,
                "sharpness": self.sharpness, "c_smooth": self.c_smooth, "c_bdry": self.c_bdry,
                "d_bdry": self.d_bdry, "c_horizon": self.c_horizon}

    def _x(self, x, name="x"):
        x = check_array(x, name, dtype=np.float64, ndim=2, finite=True, nonempty=True)
        if x.shape[1] != 2:
            raise ValueError(f"{name} must have shape (n, 2): (phi, pi) at eta_ini, or (m_q, condensate) for "
                             f"input_map='qcd'; got {x.shape}")
        return x

    def _labels(self, labels, n):
        y = check_array(labels, "labels", dtype=np.float64, shape=(n,), finite=True)
        if not np.all((y == 0.0) | (y == 1.0)):
            raise ValueError("labels must be 0 (positive data: the horizon condition holds) or 1 (negative data)")
        return y

    # ------------------------------------------------------------------ passes
    def forward(self, x, *, trajectories: bool = False):
        """Horizon value ``F`` and network output ``y`` of inputs ``x`` (n, 2).

        With ``trajectories=True`` also the field ``(phi_k, pi_k)`` at every layer, shape (n, N + 1, 2).
        """
        x = self._x(x)
        n = x.shape[0]
        F, y = np.empty(n), np.empty(n)
        traj = np.empty((n, self.n_layers + 1, 2)) if trajectories else None
        if self.backend == "cpp":
            _backend.module("cpp").holography.forward(self.config(), self._p, x, F, y, traj)
        else:
            from . import _numba

            _numba.forward(_numba.pack_config(self.config()), self._p, x, F, y,
                           traj if traj is not None else np.empty((1, 1, 2)), traj is not None)
        return (F, y, traj) if trajectories else (F, y)

    def predict(self, x) -> np.ndarray:
        """1 where the output says 'positive data' (y < 1/2), else 0."""
        return (self.forward(x)[1] < 0.5).astype(np.int64)

    def loss_and_grad(self, x, labels):
        """Total loss (data + regularisers), data loss, and the gradient ``(dh, dlam, dR)`` as one vector."""
        x = self._x(x)
        y = self._labels(labels, x.shape[0])
        grad = np.empty(self.n_layers + 2)
        if self.backend == "cpp":
            total, data = _backend.module("cpp").holography.loss_grad(self.config(), self._p, x, y, grad)
        else:
            from . import _numba

            total, data = _numba.loss_grad(_numba.pack_config(self.config()), self._p, x, y, grad)
        return float(total), float(data), grad

    # ------------------------------------------------------------------ training
    def fit(self, x, labels, *, epochs: int = 100, batch: int = 10, lr: float = 1e-3, trials: int = 1,
            h_init=None, h_spread: float = 0.0, train=("h",), seed: int = 0, checkpoint=None,
            checkpoint_every: int = 50, progress: bool = False) -> FitResult:
        """Train ``trials`` independent copies with Adam on minibatches (epochs fused in one kernel call).

        Parameters
        ----------
        x, labels : training inputs (n, 2) and labels (0 positive, 1 negative).
        epochs, batch, lr : Adam settings (betas 0.9, 0.999).
        trials : int
            Independent trainings run in parallel; trial ``t`` starts from ``h_init`` (default: the
            current ``h``) plus ``h_spread`` times a standard normal per layer, and shuffles with its
            own Philox stream.
        train : tuple of {"h", "lam", "R"}
            What is trained (``lam`` is kept >= 0, as the book requires).
        seed : int
        checkpoint : path, optional
            Written atomically every ``checkpoint_every`` epochs; a fit started with an existing
            checkpoint of the same settings resumes from it, and ends equal to an uninterrupted fit
            bit for bit.

        Returns
        -------
        FitResult (the network keeps trial 0's parameters).
        """
        x = self._x(x)
        y = self._labels(labels, x.shape[0])
        epochs = check_int(epochs, "epochs", minimum=1, maximum=10**7)
        batch = check_int(batch, "batch", minimum=1, maximum=x.shape[0])
        lr = check_float(lr, "lr", positive=True)
        trials = check_int(trials, "trials", minimum=1, maximum=4096)
        h_spread = check_float(h_spread, "h_spread", nonnegative=True)
        seed = check_seed(seed)
        checkpoint_every = check_int(checkpoint_every, "checkpoint_every", minimum=1, maximum=10**7)
        if isinstance(train, str):
            train = (train,)
        for t in train:
            check_choice(t, "train", ("h", "lam", "R"))
        if h_init is None:
            h0 = self.h
        else:
            h0 = check_array(h_init, "h_init", dtype=np.float64, shape=(self.n_layers,), finite=True)
        from .. import random as prandom

        P = self.n_layers + 2
        z = prandom.normal(trials * self.n_layers, seed=seed, stream=_streams.stream("holography", 0))
        p = np.tile(self._p, (trials, 1))
        p[:, : self.n_layers] = h0 + h_spread * z.reshape(trials, self.n_layers)
        m, v = np.zeros((trials, P)), np.zeros((trials, P))
        steps = np.zeros(trials, dtype=np.int64)
        history = np.zeros((trials, epochs))
        options = {"epochs": 0, "batch": batch, "lr": lr, "beta1": 0.9, "beta2": 0.999, "adam_eps": 1e-8,
                   "seed": seed, "stream": _streams.stream("holography", 1), "train_h": "h" in train,
                   "train_lam": "lam" in train, "train_R": "R" in train, "lam_nonnegative": True}
        ident = self._fit_identity(x, y, options, epochs, trials, h0, h_spread)
        e0 = 0
        if checkpoint is not None and checkpoint_path(checkpoint, existing=True).exists():
            e0, p, m, v, steps, history = _load_checkpoint(checkpoint, ident, p.shape, epochs)
        t0 = time.perf_counter()
        bar = None
        if _progress_enabled(progress):  # off when stderr is not a terminal (physdl._progress)
            from tqdm.auto import tqdm

            bar = tqdm(total=epochs, initial=e0, desc="holography fit", unit="epoch", leave=False)
        # chunks of bounded work: Ctrl-C is seen between chunks and leaves whole epochs done
        work_per_epoch = x.shape[0] * self.n_layers * trials
        chunk = max(1, min(checkpoint_every, int(2e7 // max(work_per_epoch, 1))))
        try:
            e = e0
            while e < epochs:
                k = min(chunk, epochs - e)
                if checkpoint is not None:
                    k = min(k, checkpoint_every - e % checkpoint_every)
                h_chunk = np.zeros((trials, k))
                self._train_chunk(x, y, p, m, v, steps, options | {"epochs": k}, e, h_chunk)
                history[:, e:e + k] = h_chunk
                e += k
                if bar is not None:
                    bar.update(k)
                if checkpoint is not None and (e % checkpoint_every == 0 or e == epochs):
                    _save_checkpoint(checkpoint, ident, e, p, m, v, steps, history)
        finally:
            if bar is not None:
                bar.close()
        seconds = time.perf_counter() - t0
        final = np.empty(trials)
        keep = self._p.copy()
        for t in range(trials):
            self._p[:] = p[t]
            final[t] = self.loss_and_grad(x, y)[0]
        self._p[:] = p[0] if trials else keep
        return FitResult(h=p[:, : self.n_layers].copy(), lam=p[:, self.n_layers].copy(),
                         R=p[:, self.n_layers + 1].copy(), history=history, final_loss=final, epochs=epochs,
                         seconds=seconds)

    def _train_chunk(self, x, y, p, m, v, steps, options, epoch0, history):
        if self.backend == "cpp":
            _backend.module("cpp").holography.train(self.config(), p, m, v, steps, x, y, options, epoch0, history)
        else:
            from . import _numba

            opt = np.array([options["lr"], options["beta1"], options["beta2"], options["adam_eps"]])
            flags = np.array([options["batch"], options["train_h"], options["train_lam"], options["train_R"],
                              options["lam_nonnegative"]], dtype=np.int64)
            _numba.train(_numba.pack_config(self.config()), p, m, v, steps, x, y, opt, flags,
                         np.uint64(options["seed"]), np.uint64(options["stream"]), epoch0, options["epochs"], history)

    def _fit_identity(self, x, y, options, epochs, trials, h0, h_spread) -> str:
        h = hashlib.sha256()
        h.update(json.dumps({"config": self.config(), "options": {k: options[k] for k in sorted(options) if k != "epochs"},
                             "epochs": epochs, "trials": trials, "h_spread": h_spread,
                             "p": self._p.tolist()}, sort_keys=True).encode())
        h.update(np.ascontiguousarray(x).tobytes())
        h.update(np.ascontiguousarray(y).tobytes())
        h.update(np.ascontiguousarray(h0).tobytes())
        return h.hexdigest()


def _save_checkpoint(path, ident, epoch, p, m, v, steps, history):
    """Through io.save_checkpoint: atomic, kind-tagged, SHA-256 over metadata and arrays."""
    from ..io import save_checkpoint

    save_checkpoint(path, _CHECKPOINT_KIND, {"identity": ident, "epoch": int(epoch)},
                    {"p": p, "m": m, "v": v, "steps": steps, "history": history})


class CheckpointError(CorruptFileError):
    """A checkpoint file that cannot be used (damaged, foreign, or of another fit); names the file.

    A :class:`physdl.io.CorruptFileError`, hence a ``ValueError``."""


def _legacy_checkpoint(z):
    """Fit checkpoints of the first format (kind, identity, epoch and a SHA-256 over the five arrays
    as plain entries): ``(meta, arrays)`` in today's layout once the checksum holds, else None."""
    import hashlib

    names = ("p", "m", "v", "steps", "history")
    if not set(names) | {"kind", "identity", "epoch", "checksum"} <= set(z):
        return None
    if z["kind"].ndim or str(z["kind"]) != _CHECKPOINT_KIND or z["epoch"].ndim or z["epoch"].dtype.kind != "i":
        return None
    arrays = {k: z[k] for k in names}
    got = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays.values())).hexdigest()
    if got != str(z["checksum"]):
        raise ValueError("checksum mismatch (the checkpoint of the first format is damaged)")
    return {"identity": str(z["identity"]), "epoch": int(z["epoch"])}, arrays


def _load_checkpoint(path, ident, shape, epochs):
    from ..io import checkpoint_path, load_checkpoint

    path = checkpoint_path(path, existing=True)
    try:  # truncated, foreign, old-format (no checksum), edited or other-kind files: one error naming the file
        meta, arrays = load_checkpoint(path, _CHECKPOINT_KIND, legacy=_legacy_checkpoint)
    except CorruptFileError as e:
        raise CheckpointError(str(e)) from None
    if meta.get("identity") != ident:
        raise CheckpointError(f"{path}: checkpoint of a different fit (other data, settings or seed)")
    missing = [k for k in ("p", "m", "v", "steps", "history") if k not in arrays]
    epoch = meta.get("epoch")
    if missing or not isinstance(epoch, int):
        raise CheckpointError(f"{path}: not a complete holography checkpoint (missing {missing or ['epoch']})")
    if (arrays["p"].shape != shape or arrays["history"].shape != (shape[0], epochs) or not 0 <= epoch <= epochs
            or arrays["steps"].dtype != np.int64 or not np.all(np.isfinite(arrays["p"]))):
        raise CheckpointError(f"{path}: checkpoint arrays do not fit this fit")
    return (epoch, arrays["p"].astype(np.float64), arrays["m"].astype(np.float64), arrays["v"].astype(np.float64),
            arrays["steps"].copy(), arrays["history"].astype(np.float64))
