"""`Sequential`: a stack of layers trained with one fused engine call per minibatch.

The whole forward pass, loss, backpropagation (eq. 3.59-3.69) and optimizer update run inside one
call of the C++ network (backend ``"cpp"``) or of its Numba twin (backend ``"numba"``).
"""

from __future__ import annotations

import json
import math
import weakref
from collections import OrderedDict

import numpy as np

from .. import _backend
from .._validate import check_array, check_choice, check_int, check_seed
from ..random import Generator
from . import layers as _layers
from .layers import Layer
from .optim import Optimizer

__all__ = ["Sequential", "History", "LOSSES"]

LOSSES = {
    "mse": 0, "mean_squared_error": 0,
    "binary_cross_entropy": 1, "bce": 1,
    "binary_cross_entropy_with_logits": 2, "bce_with_logits": 2,
    "softmax_cross_entropy": 3, "cross_entropy": 3,
}
IGNORE_LABEL = -100


class History:
    """Per-epoch training record (``history["loss"]``, ``["val_loss"]``, ``["val_accuracy"]``)."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def _add(self, epoch, **values):
        self.epoch.append(epoch)
        for k, v in values.items():
            self.history.setdefault(k, []).append(float(v))

    def __getitem__(self, key):
        return self.history[key]

    def __repr__(self):
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


def _loss_code(loss) -> int:
    check_choice(loss, "loss", tuple(LOSSES))
    return LOSSES[loss]


class Sequential:
    """A feed-forward stack of layers (book eq. 3.44-3.51) with a scikit-learn/Keras-like API.

    Parameters
    ----------
    layers : list of physdl.nn layers
    input_shape : tuple of int, optional
        Per-sample input shape.  Inferred from a leading :class:`Dense`; otherwise taken from the
        first data passed to ``fit``/``predict``/``train_step``.
    seed : int
        Philox seed: initial weights use stream 0, minibatch shuffling stream 1.
    dtype : {"float32", "float64"}
    backend : {None, "cpp", "numba"}

    Examples
    --------
    >>> from physdl import nn
    >>> model = nn.Sequential([nn.Dense(2, 8), nn.Tanh(), nn.Dense(8, 1)], seed=0, dtype="float64")
    >>> model.predict(np.zeros((3, 2))).shape
    (3, 1)
    """

    def __init__(self, layers, input_shape=None, seed: int = 0, dtype="float32", backend: str | None = None):
        if isinstance(layers, Layer) or not isinstance(layers, (list, tuple)):
            raise TypeError("layers must be a list of physdl.nn layers")
        if len(layers) == 0:
            raise ValueError("layers must not be empty")
        for i, l in enumerate(layers):
            if not isinstance(l, Layer):
                raise TypeError(f"layers[{i}] must be a physdl.nn layer, got {type(l).__name__}")
        self.layers = list(layers)
        self.seed = check_seed(seed)
        if str(dtype) not in ("float32", "float64") and dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.dtype = np.dtype(dtype)
        self.backend = _backend.resolve(backend, ("cpp", "numba"))
        self._engine = None
        self._shuffle = Generator(self.seed, stream=1)
        self._check_dense_chain()
        if input_shape is None and isinstance(self.layers[0], _layers.Dense):
            input_shape = (self.layers[0].n_in,)
        self.input_shape = None
        if input_shape is not None:
            self._build(tuple(check_int(d, f"input_shape[{i}]", minimum=1) for i, d in enumerate(
                input_shape if isinstance(input_shape, (tuple, list)) else (input_shape,))))

    # ------------------------------------------------------------------ construction
    def _check_dense_chain(self):
        prev = None
        for i, l in enumerate(self.layers):
            if isinstance(l, _layers.Dense):
                if prev is not None and prev[1].n_out != l.n_in:
                    raise ValueError(f"layer {i} ({l!r}) does not chain with layer {prev[0]} ({prev[1]!r}): "
                                     f"{prev[1].n_out} outputs feed {l.n_in} inputs")
                prev = (i, l)
            elif not isinstance(l, _layers._Activation):
                prev = None

    def _shapes(self, in_shape):
        shapes = [tuple(in_shape)]
        for i, l in enumerate(self.layers):
            try:
                shapes.append(tuple(l.output_shape(shapes[-1])))
            except ValueError as exc:
                raise ValueError(f"layer {i} ({l!r}) does not accept the output of the layer before it: {exc}") from None
        return shapes

    def _build(self, in_shape, max_batch: int = 64):
        self.shapes = self._shapes(in_shape)
        self.input_shape = tuple(in_shape)
        self.output_shape = self.shapes[-1]
        kinds = [l.kind for l in self.layers]
        settings = [l.settings(s) for l, s in zip(self.layers, self.shapes)]
        if self.backend == "cpp":
            core = _backend.module("cpp").nn
            from ._blas import ensure_blas

            ensure_blas(core)
            cls = core.Network64 if self.dtype == np.float64 else core.Network32
            self._engine = cls(kinds, settings, list(in_shape), max_batch)
        else:
            from . import _numba

            self._engine = _numba.Network(kinds, settings, list(in_shape), self.dtype, max_batch)
        # parameter layout, and initial values from Philox stream 0
        gen = Generator(self.seed, stream=0)
        flat = self._engine.params()
        self._blocks = []
        off = 0
        for i, (l, s) in enumerate(zip(self.layers, self.shapes)):
            ps = l.param_shapes(s)
            n = sum(math.prod(sh) for _, sh in ps)
            if self._engine.param_offset(i) != off or self._engine.param_count(i) != n:
                raise RuntimeError(f"internal error: parameter layout of layer {i} disagrees with the engine")
            vals = l.init_params(gen, s)
            flat[off:off + n] = vals
            o = off
            for name, sh in ps:
                self._blocks.append((i, name, o, sh))
                o += math.prod(sh)
            off += n
        self.n_params = off
        self._label_shape = self.output_shape[:-1]
        self._optimizers = weakref.WeakSet()

    def _ensure_built(self, X):
        if self._engine is None:
            if X.ndim < 2:
                raise ValueError(f"X must have a sample axis and per-sample axes, got shape {X.shape}")
            self._build(X.shape[1:], max(64, X.shape[0]))

    # ------------------------------------------------------------------ parameters
    @property
    def params(self) -> np.ndarray:
        """All parameters as one flat array (a view: writing to it changes the model)."""
        self._need_engine()
        return self._engine.params()

    def parameters(self) -> OrderedDict:
        """Parameter blocks as views keyed ``"{layer}.{name}"`` (PyTorch's layout and names)."""
        self._need_engine()
        flat = self._engine.params()
        return OrderedDict((f"{i}.{name}", flat[o:o + math.prod(sh)].reshape(sh)) for i, name, o, sh in self._blocks)

    def _need_engine(self):
        if self._engine is None:
            raise RuntimeError("the model is not built yet: pass input_shape or call predict/fit first")

    def to_torch_state_dict(self):
        """Parameters as a PyTorch state dict for the equivalent ``torch.nn.Sequential``.

        RNN/LSTM biases map to ``bias_ih_l0`` (the value) and ``bias_hh_l0`` (zeros).
        """
        import torch

        sd = OrderedDict()
        for key, arr in self.parameters().items():
            i, name = key.split(".", 1)
            if name == "bias" and isinstance(self.layers[int(i)], _layers._Recurrent):
                sd[f"{i}.bias_ih_l0"] = torch.from_numpy(arr.copy())
                sd[f"{i}.bias_hh_l0"] = torch.zeros(arr.shape, dtype=sd[f"{i}.bias_ih_l0"].dtype)
            else:
                sd[key] = torch.from_numpy(arr.copy())
        return sd

    def from_torch_state_dict(self, state_dict):
        """Load parameters from a PyTorch state dict (as written by :meth:`to_torch_state_dict`)."""
        params = self.parameters()
        for key, arr in params.items():
            i, name = key.split(".", 1)
            if name == "bias" and isinstance(self.layers[int(i)], _layers._Recurrent):
                v = _to_numpy(state_dict[f"{i}.bias_ih_l0"]) + _to_numpy(state_dict[f"{i}.bias_hh_l0"])
            else:
                if key not in state_dict:
                    raise ValueError(f"state_dict is missing {key!r}")
                v = _to_numpy(state_dict[key])
            if v.shape != arr.shape:
                raise ValueError(f"state_dict[{key!r}] has shape {v.shape}, expected {arr.shape}")
            arr[...] = v

    # ------------------------------------------------------------------ checks
    def _check_X(self, X, name="X"):
        if not (isinstance(X, np.ndarray) and X.dtype == self.dtype and X.flags.c_contiguous):
            if isinstance(X, np.ndarray) and X.dtype.kind not in "fiub":
                raise TypeError(f"{name} must be a real array, got dtype {X.dtype}")
            X = check_array(X, name, dtype=self.dtype)
        self._ensure_built(X)
        if X.shape[1:] != self.input_shape:
            raise ValueError(f"{name} must have shape (n, {', '.join(map(str, self.input_shape))}), got {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"{name} must not be empty")
        if self.backend != "cpp" and not np.isfinite(X).all():
            raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
        return X

    def _check_y(self, y, n, code, name="y"):
        if code == 3:
            if not (isinstance(y, np.ndarray) and y.dtype == np.int64 and y.flags.c_contiguous):
                y = np.asarray(y)
                if y.dtype.kind not in "iu":
                    raise TypeError(f"{name} must hold integer class labels for softmax_cross_entropy, got dtype {y.dtype}")
                y = np.ascontiguousarray(y, dtype=np.int64)
            want = (n,) + self._label_shape
            if y.shape != want:
                raise ValueError(f"{name} must have shape {want} (one label per output row), got {y.shape}")
            if self.backend != "cpp":
                C = self.output_shape[-1]
                bad = (y != IGNORE_LABEL) & ((y < 0) | (y >= C))
                if bad.any():
                    raise ValueError(f"{name}: labels must be in [0, {C}) or -100 (ignored), got {y[bad][0]}")
            return y
        if not (isinstance(y, np.ndarray) and y.dtype == self.dtype and y.flags.c_contiguous):
            y = check_array(y, name, dtype=self.dtype)
        want = (n,) + self.output_shape
        if y.shape != want:
            if y.size == math.prod(want) and y.ndim == 1 and self.output_shape == (1,):
                y = y.reshape(want)
            else:
                raise ValueError(f"{name} must have shape {want}, got {y.shape}")
        if self.backend != "cpp" and not np.isfinite(y).all():
            raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
        return y

    # ------------------------------------------------------------------ computation
    def predict(self, X, batch_size: int = 4096) -> np.ndarray:
        """Network output for inputs ``X`` of shape ``(n, *input_shape)``.

        Parameters
        ----------
        X : array
        batch_size : int
            Samples per engine call (bounds the workspace).

        Returns
        -------
        ndarray of shape ``(n, *output_shape)``
        """
        X = self._check_X(X)
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        out = np.empty((X.shape[0],) + self.output_shape, self.dtype)
        for s in range(0, X.shape[0], batch_size):
            self._engine.forward(X[s:s + batch_size], out[s:s + batch_size])
        return out

    __call__ = predict

    def gradients(self, X, y, loss: str, input_grad: bool = False):
        """Loss and its gradient with respect to every parameter (and optionally to ``X``).

        Parameters
        ----------
        X, y : arrays
        loss : str
            One of ``LOSSES``.
        input_grad : bool

        Returns
        -------
        loss : float
        grads : ndarray, flat (copy), same layout as :attr:`params`
        dX : ndarray or None
        """
        code = _loss_code(loss)
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0], code)
        dx = np.empty(X.shape if input_grad else (0,), self.dtype)
        if code == 3:
            L = self._engine.gradients_labels(X, y, bool(input_grad), dx)
        else:
            L = self._engine.gradients_values(X, y, code, bool(input_grad), dx)
        return float(L), self._engine.grads().copy(), (dx if input_grad else None)

    def _make_optimizer_state(self, opt: Optimizer):
        h = opt._hyper()
        if self.backend == "cpp":
            core = _backend.module("cpp").nn
            cls = core.Optimizer64 if self.dtype == np.float64 else core.Optimizer32
        else:
            from . import _numba

            cls = _numba.optimizer_class(self.dtype)
        return cls(h["kind"], h["lr"], h["momentum"], h["beta1"], h["beta2"], h["eps"], h["weight_decay"],
                   h["clip_norm"], h["nesterov"], self.n_params)

    def train_step(self, X, y, loss: str, optimizer: Optimizer) -> float:
        """One minibatch: forward, loss, backward and optimizer update in one engine call.

        Parameters
        ----------
        X, y : arrays (one minibatch)
        loss : str
            ``"mse"``, ``"binary_cross_entropy"``, ``"binary_cross_entropy_with_logits"`` or
            ``"softmax_cross_entropy"`` (eq. 3.14-3.43).
        optimizer : physdl.nn.SGD or physdl.nn.Adam

        Returns
        -------
        float : the minibatch loss before the update
        """
        code = LOSSES.get(loss) if isinstance(loss, str) else None
        if code is None:
            code = _loss_code(loss)
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a physdl.nn optimizer (SGD, Adam), got {type(optimizer).__name__}")
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0], code)
        state = optimizer._state if optimizer._state is not None and optimizer._owner() is self else optimizer._bind(self)
        if code == 3:
            return self._engine.train_labels(X, y, state)
        return self._engine.train_values(X, y, code, state)

    def evaluate(self, X, y, loss: str) -> dict:
        """Mean loss (and accuracy for classification losses) on ``(X, y)`` without training.

        Returns
        -------
        dict with ``"loss"`` and, for cross entropies, ``"accuracy"``
        """
        code = _loss_code(loss)
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0], code)
        out = self.predict(X).astype(np.float64)
        return _numpy_loss(out, y, code)

    def fit(self, X, y, loss: str = "mse", optimizer: Optimizer | None = None, epochs: int = 1,
            batch_size: int = 32, validation=None, shuffle: bool = True, progress: bool = False) -> History:
        """Train on ``(X, y)`` by minibatches; returns the per-epoch :class:`History`.

        Parameters
        ----------
        X, y : arrays
        loss : str
        optimizer : Optimizer, default Adam()
        epochs, batch_size : int
        validation : (X_val, y_val), optional
            Evaluated after every epoch (``val_loss``, ``val_accuracy``).
        shuffle : bool
            Reshuffle every epoch with Philox stream 1 of the model's seed (deterministic).
        progress : bool
            Show a progress bar.

        Returns
        -------
        History
        """
        from .optim import Adam

        code = _loss_code(loss)
        optimizer = Adam() if optimizer is None else optimizer
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a physdl.nn optimizer (SGD, Adam), got {type(optimizer).__name__}")
        epochs = check_int(epochs, "epochs", minimum=1)
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0], code)
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) != 2:
                raise ValueError("validation must be a pair (X_val, y_val)")
            Xv = self._check_X(validation[0], "validation[0]")
            yv = self._check_y(validation[1], Xv.shape[0], code, "validation[1]")
        n = X.shape[0]
        bs = min(batch_size, n)
        xb = np.empty((bs,) + X.shape[1:], X.dtype)
        yb = np.empty((bs,) + y.shape[1:], y.dtype)
        hist = History()
        from tqdm.auto import tqdm

        bar = tqdm(range(epochs), desc="fit", disable=not progress, leave=False)
        for ep in bar:
            order = self._shuffle.permutation(n) if shuffle else np.arange(n)
            total = 0.0
            for s in range(0, n, bs):
                idx = order[s:s + bs]
                m = idx.shape[0]
                np.take(X, idx, axis=0, out=xb[:m])
                np.take(y, idx, axis=0, out=yb[:m])
                total += self.train_step(xb[:m], yb[:m], loss, optimizer) * m
            rec = {"loss": total / n}
            if validation is not None:
                ev = _numpy_loss(self.predict(Xv).astype(np.float64), yv, code)
                rec.update({f"val_{k}": v for k, v in ev.items()})
            hist._add(ep, **rec)
            if progress:
                bar.set_postfix({k: f"{v:.4g}" for k, v in rec.items()})
        return hist

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Write architecture, dtype, seed and parameters to an ``.npz`` file."""
        self._need_engine()
        config = [[type(l).__name__, list(l._init_args[0]), l._init_args[1]] for l in self.layers]
        meta = json.dumps({"layers": config, "input_shape": list(self.input_shape), "dtype": str(self.dtype),
                           "seed": self.seed})
        np.savez(path, params=self.params, meta=np.array(meta))

    @classmethod
    def load(cls, path, backend: str | None = None) -> "Sequential":
        """Rebuild a model written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            params = f["params"]
            layers = []
            for name, args, kwargs in meta["layers"]:
                if name not in _layers.__all__:
                    raise ValueError(f"{path}: unknown layer {name!r}")
                layers.append(getattr(_layers, name)(*[tuple(a) if isinstance(a, list) else a for a in args],
                                                     **{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}))
            model = cls(layers, input_shape=tuple(meta["input_shape"]), seed=meta["seed"], dtype=meta["dtype"],
                        backend=backend)
            if params.shape != model.params.shape:
                raise ValueError(f"{path}: parameter count {params.shape} does not match the architecture")
            model.params[:] = params
        return model

    def __repr__(self):
        inner = ", ".join(map(repr, self.layers))
        return f"Sequential([{inner}], dtype={self.dtype.name}, backend={self.backend!r})"


def _to_numpy(t):
    if hasattr(t, "detach"):
        t = t.detach().cpu().numpy()
    return np.asarray(t)


def _numpy_loss(out: np.ndarray, y: np.ndarray, code: int) -> dict:
    """Loss (and accuracy) evaluated with NumPy, for validation and evaluate()."""
    if code == 0:
        return {"loss": float(np.mean((out - y) ** 2))}
    if code == 1:
        lp = np.maximum(np.log(np.clip(out, 0, None)), -100)
        l1 = np.maximum(np.log1p(-np.clip(out, None, 1)), -100)
        return {"loss": float(-np.mean(y * lp + (1 - y) * l1)), "accuracy": float(np.mean((out > 0.5) == (y > 0.5)))}
    if code == 2:
        loss = np.maximum(out, 0) - out * y + np.log1p(np.exp(-np.abs(out)))
        return {"loss": float(np.mean(loss)), "accuracy": float(np.mean((out > 0) == (y > 0.5)))}
    C = out.shape[-1]
    z = out.reshape(-1, C)
    lab = y.reshape(-1)
    keep = lab != IGNORE_LABEL
    z, lab = z[keep], lab[keep]
    mx = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - mx).sum(axis=1)) + mx[:, 0]
    return {"loss": float(np.mean(lse - z[np.arange(len(lab)), lab])),
            "accuracy": float(np.mean(z.argmax(axis=1) == lab))}
