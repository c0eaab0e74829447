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
from ..random import streams as _streams
from . import layers as _layers
from .layers import Layer
from ._kinds import LOSS_KINDS
from .optim import Optimizer

__all__ = ["Sequential", "History", "Gradients", "LOSSES"]

_LK = LOSS_KINDS  # codes from the one registry (src/physdl/nn/layer_kinds.hpp)
LOSSES = {
    "mse": _LK["mse"], "mean_squared_error": _LK["mse"],
    "binary_cross_entropy": _LK["bce"], "bce": _LK["bce"],
    "binary_cross_entropy_with_logits": _LK["bce_logits"], "bce_with_logits": _LK["bce_logits"],
    "softmax_cross_entropy": _LK["softmax_ce"], "cross_entropy": _LK["softmax_ce"],
}
_CE = _LK["softmax_ce"]
IGNORE_LABEL = -100


class Gradients:
    """Parameter gradients from :meth:`Sequential.backward` / :meth:`Sequential.double_backward`.

    Attributes
    ----------
    flat : ndarray
        All parameter gradients in the layout of :attr:`Sequential.params`.
    layers : OrderedDict
        Views of ``flat`` keyed ``"{layer}.{name}"`` as :meth:`Sequential.parameters`.
    input : ndarray or None
        The gradient with respect to the input ``X`` when asked for (always set by
        ``double_backward``: there it is the input gradient ``g`` whose function was differentiated).
    """

    def __init__(self, flat, blocks, input=None):
        self.flat = flat
        self._blocks = blocks
        self._layers = None
        self.input = input

    @property
    def layers(self) -> OrderedDict:
        if self._layers is None:  # the views are made when first asked for (a training step never asks)
            flat = self.flat
            self._layers = OrderedDict((f"{i}.{name}", flat[o:o + math.prod(sh)].reshape(sh))
                                       for i, name, o, sh in self._blocks)
        return self._layers

    def __repr__(self):
        return f"Gradients(n_params={self.flat.size}, input={'None' if self.input is None else self.input.shape})"


class History:
    """Per-epoch training record (``history["loss"]``, ``["accuracy"]``, ``["val_loss"]``, ``["val_accuracy"]``).

    Attributes
    ----------
    history : dict of lists
    epoch : list of int
        The epochs recorded (counting from 0).
    best_epoch : int or None
        With early stopping (``fit(patience=...)``): the epoch of the lowest validation loss, whose
        parameters the model holds after ``fit``.
    stopped_epoch : int or None
        The epoch after which training stopped early (by ``patience`` or ``callback``).
    stop_reason : {None, "patience", "callback"}
    """

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.stop_reason: str | None = None

    def _add(self, epoch, **values):
        self.epoch.append(epoch)
        for k, v in values.items():
            self.history.setdefault(k, []).append(float(v))

    def __getitem__(self, key):
        return self.history[key]

    def __repr__(self):
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"

    _KIND = "nn/history"

    def to_dict(self) -> dict:
        """Plain dict: ``epoch``, ``history`` (lists) and the early-stopping fields."""
        return {"epoch": [int(e) for e in self.epoch], "history": {k: list(v) for k, v in self.history.items()},
                "best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch, "stop_reason": self.stop_reason}

    def save(self, path, seed: int | None = None, parameters: dict | None = None) -> None:
        """Write the history to ``path`` (``.h5``/``.hdf5`` or ``.npz``) through :func:`physdl.io.save_run`,
        with kind ``"nn/history"``, ``seed`` and ``parameters`` (JSON-serialisable, optional)."""
        from .. import io

        d = self.to_dict()
        params = {k: d[k] for k in ("best_epoch", "stopped_epoch", "stop_reason")}
        params["seed"] = None if seed is None else check_seed(seed)
        params["parameters"] = dict(parameters or {})
        params["keys"] = sorted(self.history)
        arrays = {"epoch": np.asarray(self.epoch, dtype=np.int64)}
        arrays.update({"h_" + k: np.asarray(v, dtype=np.float64) for k, v in self.history.items()})
        io.save_run(path, arrays, params, kind=self._KIND)

    @classmethod
    def load(cls, path) -> "History":
        """Read a history written by :meth:`save`; a file of another kind, edited or damaged is refused
        with a ``ValueError`` naming it."""
        from .. import io

        arrays, p = io.load_run(path, kind=cls._KIND)
        h = cls()
        try:
            epoch = arrays["epoch"]
            keys = list(p["keys"])
            if epoch.ndim != 1 or set(arrays) != {"epoch"} | {"h_" + k for k in keys}:
                raise ValueError(f"entries {sorted(arrays)} do not match the keys {keys}")
            for k in keys:
                if arrays["h_" + k].shape != epoch.shape:
                    raise ValueError(f"{k!r} has {arrays['h_' + k].shape[0]} values for {epoch.size} epochs")
                h.history[k] = arrays["h_" + k].tolist()
            h.epoch = epoch.tolist()
            h.best_epoch, h.stopped_epoch, h.stop_reason = p["best_epoch"], p["stopped_epoch"], p["stop_reason"]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise io.CorruptFileError(f"{path}: not a valid training history ({exc})") from None
        return h

    def plot(self, ax=None):
        """Loss (and accuracy, on a second axis) against the epoch; returns the matplotlib Axes of the loss."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        ep = np.asarray(self.epoch) + 1
        for k in ("loss", "val_loss"):
            if k in self.history:
                ax.plot(ep, self.history[k], marker="o", ms=3, label=k)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        acc = [k for k in ("accuracy", "val_accuracy") if k in self.history]
        if acc:
            ax2 = ax.twinx()
            for k in acc:
                ax2.plot(ep, self.history[k], ls="--", marker="s", ms=3, label=k)
            ax2.set_ylabel("accuracy")
            ax2.legend(loc="center right")
        if self.best_epoch is not None:
            ax.axvline(self.best_epoch + 1, color="k", lw=0.8, ls=":", label="best epoch")
        ax.set_title("training history")
        ax.legend(loc="upper right")
        return ax


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
    backend : {None, "cpp", "numba", "cuda"}
        ``"cuda"`` keeps parameters, optimizer state and workspaces on the GPU and replays each
        training step as one CUDA graph (Dense, Sigmoid, Tanh, ReLU, Flatten, RNN and LSTM layers so
        far, the recurrent time loop inside the graph; the others raise ``ValueError``).  Its steps agree with ``"cpp"`` to float rounding (the
        reductions run in another order); ``per_sample_gradients`` and ``double_backward`` need
        ``"cpp"`` or ``"numba"``.

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
        self.backend = _backend.resolve(backend, ("cpp", "numba", "cuda"))
        if self.backend == "cuda":
            cn = _backend.module("cuda").nn
            why = cn.unavailable_reason()
            if why:
                raise RuntimeError(f"backend='cuda' is unavailable for physdl.nn: {why}; or use backend='cpp'")
            for i, l in enumerate(self.layers):
                if getattr(l, "spectral_norm", False):
                    raise ValueError(f"layers[{i}] ({type(l).__name__}, spectral_norm=True): spectral "
                                     "normalisation has no CUDA implementation yet; use backend='cpp'")
                if not cn.supports_layer(l.kind):
                    raise ValueError(f"layers[{i}] ({type(l).__name__}) has no CUDA implementation yet; "
                                     "backend='cuda' takes Dense, Sigmoid, Tanh, ReLU, Flatten, RNN and LSTM layers "
                                     "(use backend='cpp' for the others)")
        self._engine = None
        self._last_loss = None  # the loss of the last fit/train_step (predict_proba, score)
        self._subs = {}  # sub-networks of the initial-state path (see _forward_states)
        self._shuffle = Generator(self.seed, stream=_streams.stream("nn.shuffle"))
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

    def _one_channel(self) -> bool:
        """Whether per-sample inputs ``(H, W)`` are taken as one channel ``(1, H, W)`` (first layer an
        image layer with ``in_channels=1``)."""
        first = self.layers[0]
        return isinstance(first, (_layers.Conv2d, _layers.ConvTranspose2d)) and first.in_channels == 1

    def _shapes(self, in_shape):
        shapes = [tuple(in_shape)]
        for i, l in enumerate(self.layers):
            try:
                shapes.append(tuple(l.output_shape(shapes[-1])))
            except ValueError as exc:
                src = "the input" if i == 0 else f"the output of layer {i - 1} ({self.layers[i - 1]!r})"
                hint = ""
                if isinstance(l, (_layers.Conv2d, _layers.ConvTranspose2d, _layers._Pool)) and len(shapes[-1]) != 3:
                    C = getattr(l, "in_channels", "C")
                    hint = (f"; layer {i} ({type(l).__name__}) takes images (channels, H, W) per sample: "
                            + (f"pass X of shape (n, {C}, H, W) (only a first image layer with in_channels=1 "
                               "takes configurations (n, H, W) as one channel)" if i == 0 else
                               "an image layer cannot follow a layer whose output per sample is not (channels, H, W)"))
                raise ValueError(f"layer {i} ({l!r}) does not accept {src}: {exc}{hint}") from None
        return shapes

    def _build(self, in_shape, max_batch: int = 64):
        in_shape = tuple(in_shape)
        if len(in_shape) == 2 and self._one_channel():
            in_shape = (1,) + in_shape  # configurations (H, W) as one channel
        self.shapes = self._shapes(in_shape)
        self.input_shape = tuple(in_shape)
        self.output_shape = self.shapes[-1]
        # the engine's layers: a stacked RNN/LSTM runs as its single-layer units, one after another
        self._units, self._unit_shapes, owner = [], [], []
        for i, (l, sh) in enumerate(zip(self.layers, self.shapes)):
            for u in l._units():
                self._units.append(u)
                self._unit_shapes.append(sh)
                owner.append(i)
                sh = tuple(u.output_shape(sh))
        self._first_unit = [owner.index(i) for i in range(len(self.layers))]
        self._unit_owner = owner
        kinds = [u.kind for u in self._units]
        settings = [u.settings(sh) for u, sh in zip(self._units, self._unit_shapes)]
        # memory estimate in Python integers (no overflow) before the engine allocates anything:
        # parameters, gradients, two optimizer moments; activations and gradient buffers per sample
        n_par = sum(math.prod(sh) for l, s in zip(self.layers, self.shapes) for _, sh in l.param_shapes(s))
        all_shapes = self._unit_shapes + [self.output_shape]
        per_sample = sum(math.prod(s) for s in all_shapes) + 2 * max(math.prod(s) for s in all_shapes)
        _check_memory(self.dtype.itemsize * (4 * n_par + max_batch * per_sample),
                      f"a model with {n_par} parameters and per-sample shapes {self.shapes}")
        if self.backend == "cpp":
            core = _backend.module("cpp").nn
            from ._blas import ensure_blas

            ensure_blas(core)
            cls = core.Network64 if self.dtype == np.float64 else core.Network32
            self._engine = cls(kinds, settings, list(in_shape), max_batch)
        elif self.backend == "cuda":
            # parameters, optimizer state and workspaces on the device; the device memory is checked
            # before anything is allocated there (RuntimeError naming the sizes)
            cn = _backend.module("cuda").nn
            cls = cn.Network64 if self.dtype == np.float64 else cn.Network32
            self._engine = cls(kinds, settings, list(in_shape), max_batch)
        else:
            from . import _numba

            self._engine = _numba.Network(kinds, settings, list(in_shape), self.dtype, max_batch)
        # parameter layout, and initial values from Philox stream 0
        gen = Generator(self.seed, stream=_streams.stream("nn.weights"))
        flat = self._engine.params()
        self._blocks = []
        self._layer_offsets = []
        off = 0
        for i, (l, s) in enumerate(zip(self.layers, self.shapes)):
            self._layer_offsets.append(off)
            ps = l.param_shapes(s)
            n = sum(math.prod(sh) for _, sh in ps)
            units = [j for j, o in enumerate(owner) if o == i]
            if (self._engine.param_offset(units[0]) != off
                    or sum(self._engine.param_count(j) for j in units) != n):
                raise RuntimeError(f"internal error: parameter layout of layer {i} disagrees with the engine")
            vals = l.init_params(gen, s)
            flat[off:off + n] = vals
            o = off
            for name, sh in ps:
                self._blocks.append((i, name, o, sh))
                o += math.prod(sh)
            off += n
        self._layer_offsets.append(off)
        self.n_params = off
        self._sn_layers = [i for i, l in enumerate(self.layers) if getattr(l, "spectral_norm", False)]
        for i in self._sn_layers:  # u, v drawn after every weight (other layers' values unchanged)
            self._engine.set_spectral_norm(self._first_unit[i], 1e-12)
            for vec in (self._engine.sn_u(self._first_unit[i]), self._engine.sn_v(self._first_unit[i])):
                r = gen.normal(vec.shape[0])
                vec[:] = r / max(np.linalg.norm(r), 1e-12)
        if self._sn_layers:
            self._engine.power_iteration(15)  # as torch's spectral_norm on construction
        self._label_shape = self.output_shape[:-1]
        self._optimizers = weakref.WeakSet()

    def _ensure_built(self, X):
        if self._engine is None:
            if X.ndim < 2:
                raise ValueError(f"X must have a sample axis and per-sample axes, got shape {X.shape}")
            # workspaces start small and grow to the largest batch actually passed to the engine
            self._build(X.shape[1:], 64)

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

        Keys are ``"{layer index}.{name}"``: Dense -> ``torch.nn.Linear``, Conv2d -> ``torch.nn.Conv2d``
        (``padding_mode="circular"`` for periodic), ConvTranspose2d, and RNN/LSTM -> ``torch.nn.RNN``/``LSTM``
        with ``batch_first=True`` (and the same ``num_layers``), whose bias of layer k maps to
        ``bias_ih_l{k}`` (the value) and ``bias_hh_l{k}`` (zeros).  Attention has no PyTorch module
        with this layout; its keys are ``wq``, ``wk``, ``wv``.
        """
        import torch

        sd = OrderedDict()
        for key, arr in self.parameters().items():
            i, name = key.split(".", 1)
            k = self._recurrent_bias(i, name)
            if k is not None:
                sd[f"{i}.bias_ih_l{k}"] = torch.from_numpy(arr.copy())
                sd[f"{i}.bias_hh_l{k}"] = torch.zeros(arr.shape, dtype=sd[f"{i}.bias_ih_l{k}"].dtype)
            else:
                sd[key] = torch.from_numpy(arr.copy())
        return sd

    def _recurrent_bias(self, i: str, name: str):
        """Stacked-layer number k of a recurrent layer's bias block ``name`` (None for other blocks)."""
        if not isinstance(self.layers[int(i)], _layers._Recurrent):
            return None
        if name == "bias":
            return 0
        return int(name[6:]) if name.startswith("bias_l") else None

    def from_torch_state_dict(self, state_dict):
        """Load parameters from a PyTorch state dict (as written by :meth:`to_torch_state_dict`)."""
        params = self.parameters()
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"state_dict must be a mapping of names to tensors, got {type(state_dict).__name__}")
        expected = set()
        for key in params:
            i, name = key.split(".", 1)
            k = self._recurrent_bias(i, name)
            if k is not None:
                expected |= {f"{i}.bias_ih_l{k}", f"{i}.bias_hh_l{k}"}
            else:
                expected.add(key)
        extra, missing = sorted(set(map(str, state_dict.keys())) - expected), sorted(expected - set(state_dict.keys()))
        if extra or missing:
            raise ValueError("state_dict does not match the model: " + "; ".join(
                ([f"unexpected keys {extra}"] if extra else []) + ([f"missing keys {missing}"] if missing else [])))
        for key in state_dict:
            v = _to_numpy(state_dict[key])
            if v.dtype.kind not in "fiu" or (v.dtype.kind == "f" and not np.isfinite(v).all()):
                raise ValueError(f"state_dict[{key!r}] must hold finite real numbers")
        for key, arr in params.items():
            i, name = key.split(".", 1)
            k = self._recurrent_bias(i, name)
            if k is not None:
                v = _to_numpy(state_dict[f"{i}.bias_ih_l{k}"]) + _to_numpy(state_dict[f"{i}.bias_hh_l{k}"])
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
            one = self._one_channel()
            if one and X.shape[1:] == self.input_shape[1:]:
                X = X.reshape((X.shape[0],) + self.input_shape)  # (n, H, W) as one channel (a view)
            else:
                alt = (f" or (n, {', '.join(map(str, self.input_shape[1:]))}) (one channel)" if one else "")
                first = self.layers[0]
                where = (f" (the input of layer 0, {type(first).__name__})"
                         if isinstance(first, (_layers.Conv2d, _layers.ConvTranspose2d, _layers._Pool)) else "")
                raise ValueError(f"{name} must have shape (n, {', '.join(map(str, self.input_shape))}){alt}{where}, "
                                 f"got {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"{name} must not be empty")
        if self.backend != "cpp" and not np.isfinite(X).all():
            raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
        return X

    def _check_y(self, y, n, code, name="y"):
        if code == _CE:
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

    def _full_check(self, X, y, code, xname, yname):
        """Value checks over a whole data set, before any training step runs."""
        if not np.isfinite(X).all():
            raise ValueError(f"{xname} must contain only finite values (found NaN or inf)")
        if code == _CE:
            C = self.output_shape[-1]
            bad = (y != IGNORE_LABEL) & ((y < 0) | (y >= C))
            if bad.any():
                raise ValueError(f"{yname}: labels must be in [0, {C}) or -100 (ignored), got {y[bad][0]}")
            if (y == IGNORE_LABEL).all():
                raise ValueError(f"{yname}: every label is -100 (ignored); nothing to fit")
        elif not np.isfinite(y).all():
            raise ValueError(f"{yname} must contain only finite values (found NaN or inf)")

    # ------------------------------------------------------------------ computation
    def predict(self, X, batch_size: int = 1024, initial_state=None, return_state: bool = False):
        """Network output for inputs ``X`` of shape ``(n, *input_shape)``.

        Parameters
        ----------
        X : array
        batch_size : int
            Samples per engine call (bounds the workspace).
        initial_state : optional
            States the RNN/LSTM layers start from instead of zeros (PyTorch's ``h0`` / ``(h0, c0)``):
            for RNN ``h0``, for LSTM a pair ``(h0, c0)``, each ``(n, hidden)`` or, for a layer with
            ``num_layers = K``, ``(K, n, hidden)`` (layer k of the stack starts from ``h0[k]``).  A
            model with several recurrent layers takes ``{layer index: state}`` (layers left out
            start from zeros).
        return_state : bool
            Also return the final states: ``h_T`` (RNN) or ``(h_T, c_T)`` (LSTM), each
            ``(num_layers, n, hidden)``, and ``{layer index: state}`` for a model with several
            recurrent layers (the form ``initial_state`` takes): the ``initial_state`` that continues the
            sequences (``predict(X2, initial_state=state)`` after ``predict(X1, return_state=True)``
            is the output on ``X1`` followed by ``X2``).

        With ``initial_state`` or ``return_state`` the recurrent layers are run by NumPy here (a loop
        over the time steps, vectorised over the samples and the gates), the other layers by the
        engine; the outputs agree with the engine's to rounding.  Training always starts from zero
        states (the engines have no initial state).

        Returns
        -------
        ndarray of shape ``(n, *output_shape)`` (and the dict of final states with ``return_state``)
        """
        X = self._check_X(X)
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        if initial_state is not None or return_state:
            states = self._check_states(initial_state, X.shape[0])
            outs, finals = [], []
            for s in range(0, X.shape[0], batch_size):
                o, f = self._forward_states(X[s:s + batch_size], {i: tuple(None if a is None else a[:, s:s + batch_size]
                                                                           for a in st) for i, st in states.items()})
                outs.append(o)
                finals.append(f)
            out = np.concatenate(outs)
            if not return_state:
                return out
            cat = lambda i, k: (None if finals[0][i][k] is None  # noqa: E731
                                else np.concatenate([f[i][k] for f in finals], axis=1))
            fin = {i: (cat(i, 0) if finals[0][i][1] is None else (cat(i, 0), cat(i, 1))) for i in finals[0]}
            return out, (next(iter(fin.values())) if len(fin) == 1 else fin)
        out = np.empty((X.shape[0],) + self.output_shape, self.dtype)
        for s in range(0, X.shape[0], batch_size):
            self._engine.forward(X[s:s + batch_size], out[s:s + batch_size])
        return out

    __call__ = predict

    # ------------------------------------------------------------------ recurrent states
    def _recurrent_indices(self) -> list[int]:
        return [i for i, l in enumerate(self.layers) if isinstance(l, _layers._Recurrent)]

    def _check_states(self, initial_state, n: int) -> dict:
        """``{layer: (h0, c0 or None)}``, arrays ``(num_layers, n, hidden)`` of the model's dtype."""
        rec = self._recurrent_indices()
        if not rec:
            raise ValueError("initial_state and return_state need an RNN or LSTM layer; the model has none")
        if initial_state is None:
            return {}
        if not isinstance(initial_state, dict):
            if len(rec) != 1:
                raise ValueError(f"the model has several recurrent layers ({rec}): pass initial_state as "
                                 "{layer index: state}")
            initial_state = {rec[0]: initial_state}
        out = {}
        for i, st in initial_state.items():
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or int(i) not in rec:
                raise ValueError(f"initial_state: {i!r} is not the index of a recurrent layer (those are {rec})")
            i = int(i)
            l = self.layers[i]
            lstm = isinstance(l, _layers.LSTM)
            if lstm:
                if not isinstance(st, (tuple, list)) or len(st) != 2:
                    raise ValueError(f"initial_state of layer {i} ({l!r}) must be a pair (h0, c0)")
                parts = st
            else:
                parts = (st,)
            arrs = []
            for nm, a in zip(("h0", "c0"), parts):
                a = check_array(a, f"initial_state[{i}] {nm}", dtype=self.dtype, finite=True)
                K, H = l.num_layers, l.hidden_size
                if a.shape == (n, H) and K == 1:
                    a = a[None]
                if a.shape != (K, n, H):
                    want = f"(n, {H}) or (1, n, {H})" if K == 1 else f"({K}, n, {H})"
                    raise ValueError(f"initial_state[{i}] {nm} of layer {i} ({l!r}) must have shape {want} with "
                                     f"n = {n}, got {a.shape}")
                arrs.append(np.ascontiguousarray(a))
            out[i] = (arrs[0], arrs[1] if lstm else None)
        return out

    def _sub(self, a: int, b: int, in_shape: tuple) -> "Sequential":
        """Layers ``a:b`` as a network of their own on per-sample inputs ``in_shape``, with the current parameters."""
        key = (a, b, tuple(in_shape))
        sub = self._subs.get(key)
        if sub is None:
            sub = Sequential(self.layers[a:b], input_shape=in_shape, seed=self.seed, dtype=self.dtype,
                             backend=self.backend)
            self._subs[key] = sub
        sub.params[:] = self.params[self._layer_offsets[a]:self._layer_offsets[b]]
        for i in self._sn_layers:
            if a <= i < b:
                for nm in ("u", "v"):
                    getattr(sub._engine, f"sn_{nm}")(sub._first_unit[i - a])[:] = \
                        getattr(self._engine, f"sn_{nm}")(self._first_unit[i])
        return sub

    def _forward_states(self, x: np.ndarray, states: dict):
        """Forward pass with the recurrent layers started from ``states``; returns (output, final states).

        The recurrent layers run here (NumPy, a loop over time steps); the runs of other layers between
        them run as sub-networks on the engine.  ``x`` is ``(n, T, ...)`` for any sequence length T
        the layers accept.
        """
        h = x
        finals = {}
        i, nl = 0, len(self.layers)
        while i < nl:
            l = self.layers[i]
            if isinstance(l, _layers._Recurrent):
                h0, c0 = states.get(i, (None, None))
                p = self.params[self._layer_offsets[i]:self._layer_offsets[i + 1]]
                h, finals[i] = _recurrent_forward(l, p, h, h0, c0)
                i += 1
                continue
            j = next((k for k in range(i, nl) if isinstance(self.layers[k], _layers._Recurrent)), nl)
            h = self._sub(i, j, h.shape[1:]).predict(h)
            i = j
        return h, finals

    def generate(self, X, steps: int, feedback=None, mode: str = "window", initial_state=None) -> np.ndarray:
        """Roll a sequence model forward: feed its prediction back as the next input, ``steps`` times.

        For a model whose per-sample input is a sequence ``(T, F)`` and whose output is the next
        step ``(F_out,)`` (or a sequence ``(T, F_out)``, whose last step is taken).

        Parameters
        ----------
        X : array ``(n, T, F)``
            The sequences to continue.
        steps : int
        feedback : callable, optional
            ``feedback(y) -> x``: the next input ``(n, F)`` from the prediction ``y`` ``(n, F_out)``
            (e.g. a one-hot of the argmax for a classifier of the next symbol).  Default: ``y``
            itself (needs ``F_out == F``).
        mode : {"window", "state"}
            ``"window"``: every step predicts from the last ``T`` inputs (the window slides by one),
            exactly ``predict`` in a loop, for any sequence model.  ``"state"``: the recurrent
            layers carry their state from step to step, so step k sees the whole sequence so far
            (``T + k`` inputs), as the model applied to the grown sequence would; one time step per
            prediction.  Needs a stack of RNN/LSTM layers with only Dense and element-wise layers
            around them (which act on each time step).
        initial_state : optional
            With ``mode="state"``: the states the recurrent layers start ``X`` from (as :meth:`predict`).

        Returns
        -------
        ndarray ``(n, steps, F)``: the generated inputs (with the default feedback, the predictions).
        """
        X = self._check_X(X)
        steps = check_int(steps, "steps", minimum=1, maximum=2**40)
        mode = check_choice(mode, "mode", ("window", "state"))
        if len(self.input_shape) != 2 or len(self.output_shape) not in (1, 2):
            raise ValueError(f"generate needs a sequence model: per-sample input (T, F) and output (F_out,) or "
                             f"(T, F_out), got input {self.input_shape} and output {self.output_shape}")
        n, F = X.shape[0], self.input_shape[1]
        F_out = self.output_shape[-1]
        if feedback is None:
            if F_out != F:
                raise ValueError(f"the model predicts {F_out} features per step but takes {F}: pass feedback= to "
                                 "turn a prediction into the next input")
            feedback = lambda y: y  # noqa: E731
        elif not callable(feedback):
            raise TypeError(f"feedback must be callable as feedback(y) -> x, got {type(feedback).__name__}")
        last = (lambda out: out) if len(self.output_shape) == 1 else (lambda out: out[:, -1])  # noqa: E731

        def step_input(y):
            x = feedback(y)
            x = check_array(x, "feedback(y)", dtype=self.dtype, finite=True)
            if x.shape != (n, F):
                raise ValueError(f"feedback(y) must have shape ({n}, {F}) (the next input of each sequence), got {x.shape}")
            return x

        gen = np.empty((n, steps, F), self.dtype)
        if mode == "window":
            if initial_state is not None:
                raise ValueError("initial_state goes with mode='state' (in mode='window' every window starts afresh)")
            x = X.copy()
            for k in range(steps):
                gen[:, k] = step_input(last(self.predict(x)))
                x[:, :-1] = x[:, 1:]
                x[:, -1] = gen[:, k]
            return gen
        rec = self._recurrent_indices()
        for i, l in enumerate(self.layers):
            if not isinstance(l, (_layers._Recurrent, _layers.Dense, _layers._Activation)):
                raise ValueError(f"mode='state' needs layers that act on each time step (RNN, LSTM, Dense, "
                                 f"element-wise); layer {i} is {l!r}; use mode='window'")
        if not rec:
            raise ValueError("mode='state' needs an RNN or LSTM layer; use mode='window'")
        states = self._check_states(initial_state, n)
        out, states = self._forward_states(X, states)
        for k in range(steps):
            gen[:, k] = step_input(last(out))
            out, states = self._forward_states(gen[:, k:k + 1], states)
        return gen

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
        given = np.shape(X)
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0], code)
        dx = np.empty(X.shape if input_grad else (0,), self.dtype)
        if code == _CE:
            L = self._engine.gradients_labels(X, y, bool(input_grad), dx)
        else:
            L = self._engine.gradients_values(X, y, code, bool(input_grad), dx)
        return float(L), self._engine.grads().copy(), (dx.reshape(given) if input_grad else None)

    # ------------------------------------------------------------------ given output gradients
    def _check_dY(self, dY, n, name="dY"):
        if dY is None:
            if self.output_shape != (1,):
                raise ValueError(f"{name} is needed: the output per sample has shape {self.output_shape}, not (1,)")
            return np.ones((n, 1), self.dtype)
        if not (isinstance(dY, np.ndarray) and dY.dtype == self.dtype and dY.flags.c_contiguous):
            if isinstance(dY, np.ndarray) and dY.dtype.kind not in "fiub":
                raise TypeError(f"{name} must be a real array, got dtype {dY.dtype}")
            dY = check_array(dY, name, dtype=self.dtype)
        want = (n,) + self.output_shape
        if dY.shape != want:
            if dY.ndim == 1 and dY.size == n and self.output_shape == (1,):
                dY = dY.reshape(want)
            else:
                raise ValueError(f"{name} must have shape {want} (one output gradient per sample), got {dY.shape}")
        if self.backend != "cpp" and not np.isfinite(dY).all():  # the C++ engine checks dY itself
            raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
        return dY

    # ------------------------------------------------------------------ spectral normalisation
    def spectral_norm_step(self, k: int = 1) -> None:
        """``k`` power-iteration steps on the kept vectors ``u, v`` of every spectrally normalised layer.

        PyTorch's ``spectral_norm`` runs one at every forward pass in training mode; here the caller
        says when (a GAN trainer: once per step of that network; :meth:`train_step` and :meth:`fit`
        run one per minibatch).  Other calls use ``u, v`` as they are.
        """
        self._need_engine()
        self._engine.power_iteration(check_int(k, "k", minimum=0, maximum=10**6))

    def spectral_norm_state(self) -> dict:
        """``{layer: (u, v, sigma)}`` of the spectrally normalised layers (copies; sigma = u^T W v)."""
        self._need_engine()
        e = self._first_unit
        return {i: (self._engine.sn_u(e[i]).copy(), self._engine.sn_v(e[i]).copy(), float(self._engine.sn_sigma(e[i])))
                for i in self._sn_layers}

    def set_spectral_norm_state(self, state: dict) -> None:
        """Set ``u, v`` of the spectrally normalised layers from ``{layer: (u, v[, sigma])}``."""
        self._need_engine()
        if not isinstance(state, dict) or sorted(state) != sorted(self._sn_layers):
            raise ValueError(f"state must map exactly the spectrally normalised layers {self._sn_layers}")
        for i, val in state.items():
            j = self._first_unit[i]
            for vec, new, nm in zip((self._engine.sn_u(j), self._engine.sn_v(j)), val[:2], ("u", "v")):
                new = np.asarray(new, dtype=np.float64)
                if new.shape != vec.shape or not np.isfinite(new).all():
                    raise ValueError(f"state[{i}] {nm} must hold {vec.shape[0]} finite values, got shape {new.shape}")
                vec[:] = new

    def _sn_arrays(self) -> dict:
        return {f"sn_{nm}{i}": np.array(getattr(self._engine, f"sn_{nm}")(self._first_unit[i]), copy=True)
                for i in getattr(self, "_sn_layers", []) for nm in ("u", "v")}

    def _sn_restore(self, p, arrays) -> None:
        from . import _files

        for i in self._sn_layers:
            for nm in ("u", "v"):
                vec = getattr(self._engine, f"sn_{nm}")(self._first_unit[i])
                vec[:] = _files.real_array(p, arrays, f"sn_{nm}{i}", vec.shape)

    def backward(self, X, dY=None, input_grad: bool = False, *, outputs: bool = False,
                 param_grad: bool = True) -> Gradients:
        """Vector-Jacobian product for a caller-supplied output gradient (backpropagation, eq. 3.59-3.69).

        Runs the forward pass on ``X`` and backpropagates ``dY = dF/dY`` of any objective ``F`` of the
        outputs, in one engine call: the parameter gradient is ``sum_s dY_s . dY_s/dparams``.  This is
        what a loss not built in needs, and a GAN's generator step (the critic's input gradient is the
        generator's output gradient, book eq. 6.80-6.85).

        Parameters
        ----------
        X : array ``(n, *input_shape)``
        dY : array ``(n, *output_shape)`` or callable, optional
            Gradient of the objective with respect to the outputs; ones when omitted (scalar output only).
            A callable ``dY(Y) -> array`` receives the outputs of this forward pass (a loss's gradient
            at the outputs): one forward pass, then the backward pass from it.
        input_grad : bool
            Also return ``dF/dX`` (``Gradients.input``).
        outputs : bool
            Also return the outputs ``Y`` of the forward pass (``Gradients.outputs``).
        param_grad : bool
            ``False``: the input gradient only (``input_grad`` implied; ``Gradients.flat`` is None);
            Dense and Conv2d layers then skip their weight-gradient products.

        Returns
        -------
        Gradients

        Examples
        --------
        >>> import numpy as np
        >>> from physdl import nn
        >>> m = nn.Sequential([nn.Dense(3, 4), nn.Tanh(), nn.Dense(4, 1)], seed=0, dtype="float64")
        >>> X = np.ones((2, 3))
        >>> g = m.backward(X, 2 * m.predict(X), input_grad=True)   # gradient of sum(y^2)
        >>> bool(np.allclose(g.flat, m.gradients(X, np.zeros((2, 1)), "mse")[1] * 2 * 2 / 2))
        True
        """
        given = np.shape(X)
        X = self._check_X(X)
        if not param_grad:
            input_grad = True
        if not callable(dY) and not outputs and param_grad:
            dY = self._check_dY(dY, X.shape[0])
            dx = np.empty(X.shape if input_grad else (0,), self.dtype)
            self._engine.backward(X, dY, bool(input_grad), dx)
            return Gradients(self._engine.grads().copy(), self._blocks, dx.reshape(given) if input_grad else None)
        Y = np.empty((X.shape[0],) + self.output_shape, self.dtype)
        self._engine.forward(X, Y)
        if callable(dY):
            dY = dY(Y)
        dY = self._check_dY(dY, X.shape[0])
        dx = np.empty(X.shape if input_grad else (0,), self.dtype)
        self._engine.backward_from_forward(X, dY, bool(input_grad), bool(param_grad), dx)
        g = Gradients(self._engine.grads().copy() if param_grad else None, self._blocks if param_grad else [],
                      dx.reshape(given) if input_grad else None)
        g.outputs = Y if outputs else None
        return g

    def input_gradient(self, X, dY=None) -> np.ndarray:
        """``dF/dX`` for ``F = sum_s dY_s . y_s`` (``dD/dx`` of a scalar critic when ``dY`` is omitted)."""
        return self.backward(X, dY, input_grad=True, param_grad=False).input

    def per_sample_gradients(self, X, dY=None) -> np.ndarray:
        """Gradient of each sample's output with respect to the parameters, as one ``(n, n_params)`` matrix.

        Row ``s`` is ``d(dY_s . y_s)/dparams`` for sample ``s`` alone: for a scalar output and ``dY``
        omitted, the gradient of the output ``y_s`` itself (the matrix ``O_sk = d log psi_s / d theta_k``
        of stochastic reconfiguration and natural-gradient methods).  For vector outputs pass ``dY``
        (one output gradient per sample); for the full Jacobian, call once per output component with
        one-hot ``dY``.  One engine call: Dense, Conv2d and parameter-free layers form the per-sample
        products in batch; stacks with RNN/LSTM/attention/transposed convolutions run the samples one
        at a time inside the engine.

        Returns
        -------
        ndarray ``(n, n_params)`` in the layout of :attr:`params`
        """
        X = self._check_X(X)
        dY = self._check_dY(dY, X.shape[0])
        n = X.shape[0]
        nbytes = n * self.n_params * self.dtype.itemsize
        _check_memory(nbytes, f"per_sample_gradients of {n} samples x {self.n_params} parameters")
        G = np.empty((n, self.n_params), self.dtype)
        self._engine.per_sample_gradients(X, dY, G)
        return G

    def double_backward(self, X, H, dY=None) -> Gradients:
        """Gradient with respect to the parameters of ``sum_s H_s . g_s``, with ``g_s = d(dY_s . y_s)/dx_s``.

        With ``H = dphi/dg`` this is, by the chain rule, ``dphi/dparams`` for any function ``phi`` of the
        input gradient: the WGAN-GP penalty (book eq. 6.91, see :meth:`gradient_penalty`), ``dH/dq``
        terms of a Hamiltonian network's loss (eq. 9.21-9.30), Sobolev losses.  Computed by
        forward-mode differentiation of the backward pass along ``H`` (one engine call).  Supported
        layers: Dense, Conv2d (zero or periodic padding), MaxPool2d, AvgPool2d, Flatten and the
        element-wise layers other than Softmax (ReLU, Step and max pooling are piecewise linear: their
        second derivative is zero almost everywhere).  ConvTranspose2d, RNN, LSTM, Attention and
        Softmax are refused with an error naming the layer.

        Parameters
        ----------
        X : array ``(n, *input_shape)``
        H : array ``(n, *input_shape)``
        dY : array ``(n, *output_shape)``, optional (ones for a scalar output)

        Returns
        -------
        Gradients
            ``flat``/``layers``: the parameter gradient; ``input``: the input gradient ``g`` itself.
        """
        given = np.shape(X)
        X = self._check_X(X)
        dY = self._check_dY(dY, X.shape[0])
        H = self._check_X(H, "H")
        if H.shape != X.shape:
            raise ValueError(f"H must have the shape of X {given}, got {np.shape(H)}")
        dx = np.empty(X.shape, self.dtype)
        self._engine.double_backward(X, dY, H, dx)
        return Gradients(self._engine.grads().copy(), self._blocks, dx.reshape(given))

    def input_gradient_objective(self, X, fn, dY=None):
        """Value and parameter gradient of ``phi(g)`` for the input gradient ``g = dD/dX``.

        Parameters
        ----------
        X : array
        fn : callable
            ``fn(g) -> (value, dvalue_dg)`` with ``g`` of the shape of ``X``; ``dvalue_dg`` of the same shape.
        dY : array, optional (as :meth:`double_backward`)

        Returns
        -------
        value : float
        grads : Gradients (``input`` holds ``g``)
        """
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        given = np.shape(X)
        X = self._check_X(X)
        given = (X.shape[0],) + tuple(given[1:])
        dY = self._check_dY(dY, X.shape[0])
        # one forward pass: input gradient from it, then the double backward from the same state
        Y = np.empty((X.shape[0],) + self.output_shape, self.dtype)
        self._engine.forward(X, Y)
        g = np.empty(X.shape, self.dtype)
        self._engine.backward_from_forward(X, dY, True, False, g)
        g = g.reshape(given)  # in the caller's shape ((n, H, W) configurations as given)
        out = fn(g)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError("fn must return a pair (value, dvalue/dg)")
        value, H = out
        H = np.asarray(H)
        if H.shape != g.shape:
            raise ValueError(f"fn's dvalue/dg must have the shape of X {g.shape}, got {H.shape}")
        H = self._check_X(H, "H")
        dx = np.empty(X.shape, self.dtype)
        self._engine.double_backward_from_forward(X, dY, H, dx)
        return float(value), Gradients(self._engine.grads().copy(), self._blocks, dx.reshape(given))

    def gradient_penalty(self, X, target: float = 1.0, dY=None):
        """WGAN-GP gradient penalty ``mean_s (||dD/dx_s|| - target)^2`` and its parameter gradient (eq. 6.91).

        ``D`` is this model's scalar output (or ``dY_s . y_s``); the norm runs over all per-sample input
        axes.  Multiply both by the penalty weight lambda.  Where ``||g_s|| = 0`` its (sub)gradient is
        taken as 0.

        Returns
        -------
        value : float
        grads : Gradients (``input`` holds ``g = dD/dX``)

        Examples
        --------
        >>> import numpy as np
        >>> from physdl import nn
        >>> critic = nn.Sequential([nn.Dense(2, 8), nn.Tanh(), nn.Dense(8, 1)], seed=0, dtype="float64")
        >>> gp, grads = critic.gradient_penalty(np.zeros((4, 2)))
        >>> grads.flat.shape == critic.params.shape
        True
        """
        t = float(target) if isinstance(target, (int, float, np.floating)) and not isinstance(target, bool) else None
        if t is None or not np.isfinite(t):
            raise ValueError(f"target must be a finite real number, got {target!r}")
        if dY is not None:
            core = self._penalty_core()
            return self.input_gradient_objective(X, lambda g: _penalty_terms(g, t, core), dY)
        given = np.shape(X)
        X = self._check_X(X)
        if self.output_shape != (1,):
            self._check_dY(None, X.shape[0])  # the error asking for dY
        value, flat, g = self._gradient_penalty(X, t)
        return value, Gradients(flat.copy(), self._blocks, g.reshape((X.shape[0],) + tuple(given[1:])))

    # ------------------------------------------------------------------ internal paths (inputs checked by the caller)
    def _ones(self, n: int) -> np.ndarray:
        """``(n, 1)`` ones of the model's dtype (read-only, kept for the next call of the same size)."""
        o = getattr(self, "_ones_n", None)
        if o is None or o.shape[0] != n:
            o = np.ones((n, 1), self.dtype)
            o.flags.writeable = False
            self._ones_n = o
        return o

    def _penalty_core(self):
        """The C++ module for the penalty's terms on the cpp backend (the NumPy path on the others)."""
        return _backend.module("cpp").nn if self.backend == "cpp" else None

    def _gradient_penalty(self, X, t: float):
        """:meth:`gradient_penalty` of checked inputs ``X`` (engine shape) of a scalar-output model:
        the engine calls and arithmetic of ``input_gradient_objective`` with the penalty's terms.
        Returns the value, the parameter gradient (the engine's array, valid until its next call) and
        the input gradient ``g``."""
        n = X.shape[0]
        dY = self._ones(n)
        Y = np.empty((n, 1), self.dtype)
        self._engine.forward(X, Y)
        g = np.empty(X.shape, self.dtype)
        self._engine.backward_from_forward(X, dY, True, False, g)
        value, H = _penalty_terms(g, t, self._penalty_core())
        if self.backend != "cpp":  # (the C++ engine checks H itself)
            H = self._check_X(H, "H")
        dx = np.empty(X.shape, self.dtype)
        self._engine.double_backward_from_forward(X, dY, H, dx)
        return value, self._engine.grads(), dx

    def _objective_gradient(self, X, fn):
        """Parameter gradient of an objective of the outputs on checked inputs ``X``: one forward pass,
        ``(value, dY) = fn(Y)`` with ``dY`` of the outputs' shape and the model's dtype, then the
        backward pass from that forward state.  Returns ``value`` and the gradient (a new array)."""
        Y = np.empty((X.shape[0],) + self.output_shape, self.dtype)
        self._engine.forward(X, Y)
        value, dY = fn(Y)
        if self.backend != "cpp":  # (the C++ engine checks dY itself)
            dY = self._check_dY(dY, X.shape[0])
        self._engine.backward_from_forward(X, dY, False, True, np.empty((0,), self.dtype))
        return value, self._engine.grads().copy()

    def _apply_flat(self, g, optimizer: Optimizer) -> None:
        """:meth:`apply_gradients` of a flat gradient of the model's dtype and size (an optimizer checked
        before); its values are checked here or, on the C++ backend, by the engine."""
        if self.backend != "cpp" and not np.isfinite(g).all():
            raise ValueError("grads must contain only finite values (found NaN or inf)")
        state = optimizer._state if optimizer._state is not None and optimizer._owner() is self else optimizer._bind(self)
        self._engine.apply_gradients(g, state)

    def apply_gradients(self, grads, optimizer: Optimizer) -> None:
        """One optimizer update from gradients computed elsewhere (``Gradients`` or a flat array).

        The optimizer (with its clipping and weight decay) acts as in :meth:`train_step`; its state
        (momenta, Adam moments, step count) is the one ``train_step``/``fit`` use.
        """
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a physdl.nn optimizer (SGD, Adam), got {type(optimizer).__name__}")
        self._need_engine()
        g = grads.flat if isinstance(grads, Gradients) else grads
        g = check_array(g, "grads", dtype=self.dtype).reshape(-1) if not (
            isinstance(g, np.ndarray) and g.dtype == self.dtype and g.flags.c_contiguous) else g.reshape(-1)
        if g.size != self.n_params:
            raise ValueError(f"grads must hold {self.n_params} values (the model's parameters), got {g.size}")
        self._apply_flat(g, optimizer)

    def _make_optimizer_state(self, opt: Optimizer):
        h = opt._hyper()
        if self.backend == "cpp":
            core = _backend.module("cpp").nn
            cls = core.Optimizer64 if self.dtype == np.float64 else core.Optimizer32
        elif self.backend == "cuda":
            cn = _backend.module("cuda").nn
            cls = cn.Optimizer64 if self.dtype == np.float64 else cn.Optimizer32
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
        self._last_loss = loss
        state = optimizer._state if optimizer._state is not None and optimizer._owner() is self else optimizer._bind(self)
        if self.backend == "numba":
            # the Numba engine updates layer by layer from Python: hold Ctrl-C until the whole step
            # (parameters and optimizer moments) has landed, as one C++ or CUDA call does by itself
            from .._interrupt import deferred_sigint
            with deferred_sigint():
                if code == _CE:
                    return self._engine.train_labels(X, y, state)
                return self._engine.train_values(X, y, code, state)
        if code == _CE:
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
        if code == _CE:
            C = self.output_shape[-1]
            bad = (y != IGNORE_LABEL) & ((y < 0) | (y >= C))
            if bad.any():
                raise ValueError(f"y: labels must be in [0, {C}) or -100 (ignored), got {y[bad][0]}")
            if (y == IGNORE_LABEL).all():
                raise ValueError("y: every label is -100 (ignored); the mean loss is undefined")
        out = self.predict(X).astype(np.float64)
        return _numpy_loss(out, y, code)

    def _task_loss(self, loss, what: str) -> int:
        if loss is None:
            loss = self._last_loss
            if loss is None:
                raise ValueError(f"{what} needs the loss the model is trained with: fit it first or pass loss=")
        return _loss_code(loss)

    def predict_proba(self, X, loss: str | None = None, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities of a classifier, as scikit-learn's ``predict_proba``.

        Parameters
        ----------
        X : array
        loss : str, optional
            The classification loss the network's outputs belong to; default the loss of the last
            :meth:`fit` / :meth:`train_step`.  ``"softmax_cross_entropy"``: the softmax of the
            outputs (logits) over their last axis; ``"binary_cross_entropy_with_logits"``: their
            sigmoid; ``"binary_cross_entropy"``: the outputs themselves (already probabilities).
        batch_size : int

        Returns
        -------
        ndarray (float64)
            Softmax: the shape of the outputs, rows summing to 1.  Binary losses with one output per
            sample: ``(n, 2)``, columns ``P(label 0), P(label 1)`` (as scikit-learn); with several
            outputs per sample, ``P(label 1)`` of each, in the outputs' shape.
        """
        code = self._task_loss(loss, "predict_proba")
        if code == _LK["mse"]:
            raise ValueError("predict_proba needs a classification loss (softmax_cross_entropy, binary_cross_entropy, "
                             "binary_cross_entropy_with_logits); the model is trained with mse")
        out = self.predict(X, batch_size=batch_size).astype(np.float64)
        if code == _CE:
            z = out - out.max(axis=-1, keepdims=True)
            np.exp(z, out=z)
            return z / z.sum(axis=-1, keepdims=True)
        p = np.clip(out, 0.0, 1.0) if code == _LK["bce"] else 0.5 * (1.0 + np.tanh(0.5 * out))  # sigmoid, no overflow
        if self.output_shape == (1,):
            return np.concatenate([1.0 - p, p], axis=1)
        return p

    def score(self, X, y, loss: str | None = None) -> float:
        """Accuracy for the classification losses, the coefficient of determination R^2 for ``"mse"``.

        As scikit-learn's classifiers' and regressors' ``score``.  ``loss`` defaults to the loss of the
        last :meth:`fit` / :meth:`train_step`.

        * Classification: the fraction of correct predictions, as in the history's ``accuracy``
          (argmax of the logits for softmax cross entropy, labels ``-100`` left out; output > 0.5
          for ``binary_cross_entropy``, logit > 0 with logits; every output component counts once).
        * ``"mse"``: ``R^2 = 1 - sum (y - f)^2 / sum (y - mean y)^2`` for each output component (the
          per-sample output flattened), averaged over the components with equal weights, as
          ``sklearn.metrics.r2_score``; a component whose targets are constant scores 1 when
          predicted exactly and 0 otherwise.  1 is a perfect fit, 0 that of predicting the mean.
          Needs at least two samples.
        """
        code = self._task_loss(loss, "score")
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0], code)
        out = self.predict(X).astype(np.float64)
        if code != _LK["mse"]:
            if code == _CE and (y == IGNORE_LABEL).all():
                raise ValueError("y: every label is -100 (ignored); the accuracy is undefined")
            return _numpy_loss(out, y, code)["accuracy"]
        if X.shape[0] < 2:
            raise ValueError("score (R^2) needs at least two samples")
        t = y.reshape(y.shape[0], -1).astype(np.float64)
        f = out.reshape(out.shape[0], -1)
        ss_res = ((t - f) ** 2).sum(axis=0)
        ss_tot = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.where(ss_res == 0, 1.0, 0.0))
        return float(r2.mean())

    def fit(self, X, y, loss: str = "mse", optimizer: Optimizer | None = None, epochs: int = 1,
            batch_size: int = 32, validation=None, shuffle: bool = True, progress: bool = False,
            checkpoint=None, checkpoint_every: int = 1, *, validation_split: float | None = None,
            patience: int | None = None, callback=None) -> History:
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
        checkpoint : str or path, optional
            Checkpoint file (``.npz``).  Every ``checkpoint_every`` epochs (and after the last) the
            parameters, the optimizer state (moments, step count), the epoch, the shuffle position and
            the history are written atomically (temporary name, fsync, rename; kind tag and checksum).
            When the file already exists, ``fit`` resumes from it: the resumed run ends with the same
            parameters, bit for bit, as one that was never interrupted.  The file must come from the
            same model architecture, data, loss, optimizer settings, ``epochs``, ``batch_size`` and
            ``shuffle``, else a ValueError names what differs.  After an interrupt (Ctrl-C, a crash),
            call ``fit`` again with the same arguments.
        checkpoint_every : int
        validation_split : float in (0, 1), optional
            Hold out the last ``ceil(validation_split * n)`` samples of ``(X, y)`` (in the order given,
            before any shuffling, as Keras does) as the validation set; not with ``validation``.
        patience : int >= 1, optional
            Early stopping on ``val_loss`` (needs ``validation`` or ``validation_split``): training
            stops after the epoch ``best + patience``, where ``best`` is the last epoch whose
            validation loss was strictly lower than every earlier one, and ``fit`` returns with the
            parameters and optimizer state as they were after epoch ``best``, whatever ended the
            training (patience, ``callback`` or ``epochs``).  Those are bit for bit the parameters of
            a fit with ``epochs = best + 1`` (the stream of shuffles is not rewound).  The history
            keeps every epoch run; ``History.best_epoch`` and ``History.stopped_epoch`` say where.
        callback : callable, optional
            ``callback(epoch, history)`` after every epoch (``epoch`` counts from 0; ``history`` is
            the :class:`History` so far, that epoch included).  Returning ``True`` stops training
            after this epoch (``History.stop_reason = "callback"``).  With a checkpoint, the state at
            a callback's stop is written and a later ``fit`` with the same arguments continues;
            a stop by ``patience`` is recorded in the checkpoint, and a later ``fit`` returns at once.

        Returns
        -------
        History
            Of all epochs, those before a resume included.  ``history["loss"]`` is the mean minibatch
            loss of each epoch (each before its update); for the classification losses
            ``history["accuracy"]`` is the accuracy on the training data of the parameters at the
            end of the epoch (one more forward pass over ``X`` per epoch, comparable with
            ``val_accuracy``).
        """
        from .optim import Adam

        code = _loss_code(loss)
        optimizer = Adam() if optimizer is None else optimizer
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a physdl.nn optimizer (SGD, Adam), got {type(optimizer).__name__}")
        epochs = check_int(epochs, "epochs", minimum=1, maximum=2**31)
        batch_size = check_int(batch_size, "batch_size", minimum=1, maximum=2**40)
        checkpoint_every = check_int(checkpoint_every, "checkpoint_every", minimum=1, maximum=2**31)
        if patience is not None:
            patience = check_int(patience, "patience", minimum=1, maximum=2**31)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable as callback(epoch, history), got {type(callback).__name__}")
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0], code)
        fingerprint = _fingerprint(X, y) if checkpoint is not None else None
        if validation_split is not None:
            if validation is not None:
                raise ValueError("pass either validation or validation_split, not both")
            if isinstance(validation_split, bool) or not isinstance(validation_split, (float, int, np.floating)) \
                    or not 0 < float(validation_split) < 1:
                raise ValueError(f"validation_split must be a number in (0, 1), got {validation_split!r}")
            n_val = math.ceil(float(validation_split) * X.shape[0])
            if n_val >= X.shape[0]:
                raise ValueError(f"validation_split = {validation_split} leaves no training samples of {X.shape[0]}")
            cut = X.shape[0] - n_val
            validation = (X[cut:], y[cut:])
            X, y = X[:cut], y[:cut]
        self._full_check(X, y, code, "X", "y")
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) != 2:
                raise ValueError("validation must be a pair (X_val, y_val)")
            Xv = self._check_X(validation[0], "validation[0]")
            yv = self._check_y(validation[1], Xv.shape[0], code, "validation[1]")
            self._full_check(Xv, yv, code, "validation[0]", "validation[1]")
        if patience is not None and validation is None:
            raise ValueError("patience (early stopping on val_loss) needs validation data: pass "
                             "validation=(X_val, y_val) or validation_split")
        self._last_loss = loss
        n = X.shape[0]
        bs = min(batch_size, n)
        xb = np.empty((bs,) + X.shape[1:], X.dtype)
        yb = np.empty((bs,) + y.shape[1:], y.dtype)
        hist = History()
        early = _EarlyStopping(self, optimizer, patience) if patience is not None else None

        chunk = max(1, min(epochs, (1 << 21) // n))  # epochs whose shuffles are drawn in one call
        start, chunk_offset = 0, self._shuffle.offset
        orders = np.empty((0, n), np.int64)
        if checkpoint is not None:
            from . import _files

            fit_cfg = {"loss": loss, "epochs": epochs, "batch_size": batch_size, "shuffle": bool(shuffle),
                       "optimizer": [type(optimizer).__name__, optimizer._hyper()], "data": fingerprint,
                       "checkpoint_every": checkpoint_every, "patience": patience,
                       "validation_split": None if validation_split is None else float(validation_split)}
            try:
                ck_path = _files.resolve(checkpoint)
            except FileNotFoundError:
                ck_path = None
            if ck_path is not None:
                start, chunk_offset = self._resume(ck_path, fit_cfg, optimizer, hist, early)
                if shuffle and start % chunk != 0 and start < epochs:
                    base = start - start % chunk
                    self._shuffle.offset = chunk_offset
                    u = self._shuffle.uniform((min(chunk, epochs - base), n))
                    orders = np.argsort(u, axis=1, kind="stable")
        if early is not None and early.stopped:
            start = epochs  # a stop by patience was recorded: the run is complete
        from .._progress import bar as progress_bar

        bar = progress_bar(range(start, epochs), progress=progress, desc="fit", leave=False)
        for ep in bar:
            if shuffle and ep % chunk == 0:
                # stable argsort of Philox uniforms, as Generator.permutation, for several epochs at once
                chunk_offset = self._shuffle.offset
                u = self._shuffle.uniform((min(chunk, epochs - ep), n))
                orders = np.argsort(u, axis=1, kind="stable")
            order = orders[ep % chunk] if shuffle else np.arange(n)
            total = 0.0
            for s in range(0, n, bs):
                idx = order[s:s + bs]
                m = idx.shape[0]
                np.take(X, idx, axis=0, out=xb[:m])
                np.take(y, idx, axis=0, out=yb[:m])
                total += self.train_step(xb[:m], yb[:m], loss, optimizer) * m
            rec = {"loss": total / n}
            if code != _LK["mse"]:
                rec["accuracy"] = _numpy_loss(self.predict(X).astype(np.float64), y, code)["accuracy"]
            if validation is not None:
                ev = _numpy_loss(self.predict(Xv).astype(np.float64), yv, code)
                rec.update({f"val_{k}": v for k, v in ev.items()})
            hist._add(ep, **rec)
            if progress:
                bar.set_postfix({k: f"{v:.4g}" for k, v in rec.items()})
            stop = early.update(ep, rec["val_loss"]) if early is not None else False
            if stop:
                hist.stop_reason = "patience"
            elif callback is not None and callback(ep, hist) is True:
                stop = True
                hist.stop_reason = "callback"
            if checkpoint is not None and ((ep + 1) % checkpoint_every == 0 or ep + 1 == epochs or stop):
                meta = {"model": self._config(), "fit": fit_cfg, "epoch": ep + 1, "history": hist.history,
                        "history_epochs": hist.epoch, "shuffle": {"offset": self._shuffle.offset,
                                                                  "chunk_offset": chunk_offset}}
                arrays = {"params": np.array(self.params, copy=True), **self._sn_arrays()}
                self._optimizer_arrays(optimizer, meta, arrays)
                if early is not None:
                    early.to_checkpoint(meta, arrays)
                _files.write(checkpoint, "physdl.nn.fit_checkpoint", meta, arrays)
            if stop:
                hist.stopped_epoch = ep
                break
        if early is not None:
            hist.best_epoch = early.best_epoch
            if early.stopped and hist.stopped_epoch is None and hist.epoch:
                hist.stopped_epoch = hist.epoch[-1]
                hist.stop_reason = "patience"
            early.restore()
        return hist

    def _resume(self, p, fit_cfg: dict, optimizer, hist: History, early=None):
        """Restore parameters, optimizer, history and shuffle position from checkpoint ``p``."""
        from . import _files

        _, meta, arrays = _files.read(p, ("physdl.nn.fit_checkpoint",))
        if meta.get("model") != self._config():
            raise ValueError(f"{p}: the checkpoint is of another model (architecture, dtype or seed differ)")
        old = meta.get("fit")
        if not isinstance(old, dict):
            raise ValueError(f"{p}: the checkpoint has no fit settings")
        for k, v in fit_cfg.items():
            if old.get(k) != json.loads(json.dumps(v)):
                raise ValueError(f"{p}: the checkpoint was written by a fit with another {k!r} "
                                 f"({old.get(k)!r}, now {v!r}); delete it or pass the same arguments")
        ep = meta.get("epoch")
        sh = meta.get("shuffle", {})
        ok_int = lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**64  # noqa: E731
        if not (ok_int(ep) and ep <= fit_cfg["epochs"] and isinstance(sh, dict) and ok_int(sh.get("offset"))
                and ok_int(sh.get("chunk_offset"))):
            raise ValueError(f"{p}: the checkpoint's epoch or shuffle position is invalid")
        self.params[:] = _files.real_array(p, arrays, "params", self.params.shape)
        self._sn_restore(p, arrays)
        self._restore_optimizer(p, meta, arrays, optimizer)
        h, he = meta.get("history", {}), meta.get("history_epochs", [])
        if not (isinstance(h, dict) and isinstance(he, list) and len(he) == ep):
            raise ValueError(f"{p}: the checkpoint's history is invalid")
        hist.history = {k: [float(x) for x in v] for k, v in h.items()}
        hist.epoch = [int(e) for e in he]
        if early is not None:
            early.from_checkpoint(p, meta, arrays)
        self._shuffle.offset = sh["offset"]
        return ep, sh["chunk_offset"]

    # ------------------------------------------------------------------ persistence
    def _config(self) -> dict:
        layers = [[type(l).__name__, list(l._init_args[0]), l._init_args[1]] for l in self.layers]
        return {"layers": layers, "input_shape": list(self.input_shape), "dtype": str(self.dtype), "seed": self.seed}

    def _optimizer_arrays(self, optimizer, meta: dict, arrays: dict) -> None:
        if optimizer is None:
            return
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a physdl.nn optimizer (SGD, Adam), got {type(optimizer).__name__}")
        state = optimizer._state if optimizer._state is not None and optimizer._owner() is self else optimizer._bind(self)
        meta["optimizer"] = {"class": type(optimizer).__name__, "hyper": optimizer._hyper(), "steps": int(state.steps)}
        arrays["opt_m"] = np.array(state.m(), copy=True)
        arrays["opt_v"] = np.array(state.v(), copy=True)

    def _restore_optimizer(self, path, meta: dict, arrays: dict, optimizer) -> None:
        from . import _files

        om = meta.get("optimizer")
        if not isinstance(om, dict):
            raise ValueError(f"{path}: holds no optimizer state")
        if om.get("class") != type(optimizer).__name__:
            raise ValueError(f"{path}: holds the state of a {om.get('class')} optimizer, got {type(optimizer).__name__}")
        state = optimizer._state if optimizer._state is not None and optimizer._owner() is self else optimizer._bind(self)
        m = _files.real_array(path, arrays, "opt_m", state.m().shape)
        v = _files.real_array(path, arrays, "opt_v", state.v().shape)
        steps = om.get("steps")
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps < 2**62:
            raise ValueError(f"{path}: optimizer step count must be an integer >= 0, got {steps!r}")
        state.m()[:] = m
        state.v()[:] = v
        state.steps = steps

    def save(self, path, optimizer: Optimizer | None = None) -> None:
        """Write architecture, dtype, seed and parameters (and the optimizer's state) to an ``.npz`` file.

        The write is atomic (temporary name, fsync, rename) and the file carries a kind tag and a
        SHA-256 checksum that :meth:`load` checks.  ``save("run")`` writes ``run.npz``; ``load("run")``
        reads it back.

        Parameters
        ----------
        path : str or path
        optimizer : SGD or Adam, optional
            Also store its state for this model (momentum buffers, Adam moments, step count), so that
            ``load(path, optimizer=...)`` continues training exactly where it stopped.
        """
        from . import _files

        self._need_engine()
        meta = self._config()
        arrays = {"params": np.array(self.params, copy=True), **self._sn_arrays()}
        self._optimizer_arrays(optimizer, meta, arrays)
        _files.write(path, "physdl.nn.Sequential", meta, arrays)

    @classmethod
    def _from_meta(cls, p, meta: dict, backend):
        try:
            layers = []
            for name, args, kwargs in meta["layers"]:
                if name not in _layers.__all__ or name == "Layer":
                    raise ValueError(f"unknown layer {name!r}")
                layers.append(getattr(_layers, name)(*[tuple(a) if isinstance(a, list) else a for a in args],
                                                     **{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}))
            return cls(layers, input_shape=tuple(meta["input_shape"]), seed=meta["seed"], dtype=meta["dtype"],
                       backend=backend)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{p}: the architecture it describes is invalid ({type(exc).__name__}: {exc})") from None

    @classmethod
    def load(cls, path, backend: str | None = None, optimizer: Optimizer | None = None) -> "Sequential":
        """Rebuild a model written by :meth:`save` (and, when ``optimizer`` is given, restore its state).

        Accepts the name given to ``save`` (``"run"`` for ``run.npz``).  A corrupt, truncated or
        wrong-kind file, or parameters that are not finite real numbers of the architecture's size,
        raise one ValueError naming the file.
        """
        from . import _files

        p, meta, arrays = _files.read(path, ("physdl.nn.Sequential", "physdl.nn.fit_checkpoint"))
        model = cls._from_meta(p, meta.get("model", meta), backend)
        params = _files.real_array(p, arrays, "params", model.params.shape)
        model.params[:] = params
        model._sn_restore(p, arrays)
        if optimizer is not None:
            model._restore_optimizer(p, meta, arrays, optimizer)
        return model

    def __repr__(self):
        inner = ", ".join(map(repr, self.layers))
        return f"Sequential([{inner}], dtype={self.dtype.name}, backend={self.backend!r})"


class _EarlyStopping:
    """Early stopping on the validation loss: the best epoch, its model and optimizer state, the stop."""

    def __init__(self, model: Sequential, optimizer: Optimizer, patience: int):
        self.model, self.optimizer, self.patience = model, optimizer, patience
        self.best, self.best_epoch, self.stopped, self.snap = math.inf, None, False, None

    def _state(self):
        opt = self.optimizer
        return opt._state if opt._state is not None and opt._owner() is self.model else opt._bind(self.model)

    def update(self, epoch: int, val_loss: float) -> bool:
        """Record epoch ``epoch``; True when training should stop after it."""
        if val_loss < self.best:  # strictly lower; NaN never improves
            self.best, self.best_epoch = float(val_loss), epoch
            st = self._state()
            self.snap = {"params": np.array(self.model.params, copy=True), "opt_m": np.array(st.m(), copy=True),
                         "opt_v": np.array(st.v(), copy=True), "steps": int(st.steps), **self.model._sn_arrays()}
            return False
        last = -1 if self.best_epoch is None else self.best_epoch
        self.stopped = epoch - last >= self.patience
        return self.stopped

    def restore(self) -> None:
        """Put the parameters, optimizer state and spectral-norm vectors of the best epoch back."""
        if self.snap is None:
            return
        from .._interrupt import deferred_sigint

        m, st = self.model, self._state()
        with deferred_sigint():  # all of them or none
            m.params[:] = self.snap["params"]
            st.m()[:] = self.snap["opt_m"]
            st.v()[:] = self.snap["opt_v"]
            st.steps = self.snap["steps"]
            for i in m._sn_layers:
                for nm in ("u", "v"):
                    getattr(m._engine, f"sn_{nm}")(m._first_unit[i])[:] = self.snap[f"sn_{nm}{i}"]

    def to_checkpoint(self, meta: dict, arrays: dict) -> None:
        meta["early_stopping"] = {"best": None if self.snap is None else self.best, "best_epoch": self.best_epoch,
                                  "stopped": self.stopped,
                                  "steps": None if self.snap is None else self.snap["steps"]}
        if self.snap is not None:
            arrays.update({f"best_{k}": v for k, v in self.snap.items() if k != "steps"})

    def from_checkpoint(self, p, meta: dict, arrays: dict) -> None:
        from . import _files

        es = meta.get("early_stopping")
        if es is None:  # written before the first epoch's record, or by a fit without patience
            raise ValueError(f"{p}: the checkpoint holds no early-stopping state")
        ok_int = lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**62  # noqa: E731
        if not (isinstance(es, dict) and isinstance(es.get("stopped"), bool)
                and (es.get("best") is None) == (es.get("best_epoch") is None) == (es.get("steps") is None)
                and (es.get("best") is None or (isinstance(es["best"], float) and ok_int(es["best_epoch"])
                                                and ok_int(es["steps"])))):
            raise ValueError(f"{p}: the checkpoint's early-stopping state is invalid")
        self.stopped = es["stopped"]
        if es["best"] is None:
            return
        self.best, self.best_epoch = es["best"], es["best_epoch"]
        st, m = self._state(), self.model
        self.snap = {"params": _files.real_array(p, arrays, "best_params", m.params.shape),
                     "opt_m": _files.real_array(p, arrays, "best_opt_m", st.m().shape),
                     "opt_v": _files.real_array(p, arrays, "best_opt_v", st.v().shape), "steps": es["steps"]}
        for i in m._sn_layers:
            for nm in ("u", "v"):
                shape = getattr(m._engine, f"sn_{nm}")(m._first_unit[i]).shape
                self.snap[f"sn_{nm}{i}"] = _files.real_array(p, arrays, f"best_sn_{nm}{i}", shape)


def _penalty_terms(g: np.ndarray, t: float, core=None):
    """``mean_s (||g_s|| - t)^2`` and its gradient with respect to ``g`` (zero where ``||g_s|| = 0``),
    in float64, the gradient returned in ``g``'s dtype.  ``core``: the C++ nn module, whose kernel
    (the same operations, bit for bit) takes inputs of one or two values per sample."""
    n = g.shape[0]
    m = g.size // n
    if core is not None and m <= 2 and g.flags.c_contiguous:
        norm = np.empty(n)
        H = np.empty(g.shape, g.dtype)
        (core.penalty_terms32 if g.dtype == np.float32 else core.penalty_terms64)(g, m, t, norm, H)
        return float(np.add.reduce((norm - t) ** 2) / n), H
    g64 = g.reshape(n, -1).astype(np.float64)
    sq = g64 ** 2
    # a sum of one or two terms has one rounding in every order: the columns are added directly
    # (a row reduction over so short an axis costs more than the rest of this function)
    s = sq[:, 0] if sq.shape[1] == 1 else sq[:, 0] + sq[:, 1] if sq.shape[1] == 2 else sq.sum(axis=1)
    norm = np.sqrt(s)
    d = norm - t
    value = float(np.add.reduce(d ** 2) / n)  # np.mean: the same sum, then the division
    if np.minimum.reduce(norm) > 0:  # (False also for NaN)
        coef = 2.0 * d / norm / n
    else:
        pos = norm > 0
        coef = np.where(pos, 2.0 * d / np.where(pos, norm, 1.0) / n, 0.0)
    # g in float64 is exact: the product is the one of float64 coefficients and g's values
    return value, (coef[:, None] * g64).astype(g.dtype).reshape(g.shape)


def _check_memory(nbytes: int, what: str) -> None:
    """Refuse before allocating when ``nbytes`` exceeds the available memory (the shared check)."""
    from .._validate import check_memory

    check_memory(nbytes, what)


def _recurrent_forward(layer, p: np.ndarray, x: np.ndarray, h0, c0):
    """An RNN/LSTM layer (all its stacked units) on ``x`` ``(n, T, input)`` from ``h0``/``c0`` ``(K, n, H)``.

    The engines' equations (eq. 4.13-4.35, PyTorch's gate order i, f, g, o, one bias per gate),
    vectorised over samples; the input products of all time steps are one matrix product.
    Returns (output, (h_T, c_T or None)) with the final states ``(K, n, H)``.
    """
    lstm = isinstance(layer, _layers.LSTM)
    H, dt = layer.hidden_size, x.dtype
    G = (4 if lstm else 1) * H
    n, T = x.shape[:2]
    sig = lambda a: 0.5 * (1.0 + np.tanh(0.5 * a))  # noqa: E731  (the logistic function, without overflow)
    seq, o, hT, cT = x, 0, [], []
    for k, unit in enumerate(layer._units()):
        I = unit.input_size
        Wx = p[o:o + G * I].reshape(G, I)
        Wh = p[o + G * I:o + G * I + G * H].reshape(G, H)
        b = p[o + G * I + G * H:o + G * I + G * H + G]
        o += G * I + G * H + G
        A = (seq.reshape(n * T, I) @ Wx.T).reshape(n, T, G) + b
        h = np.zeros((n, H), dt) if h0 is None else h0[k].astype(dt, copy=True)
        c = (np.zeros((n, H), dt) if c0 is None else c0[k].astype(dt, copy=True)) if lstm else None
        out = np.empty((n, T, H), dt)
        for t in range(T):
            a = A[:, t] + h @ Wh.T
            if lstm:
                c = sig(a[:, H:2 * H]) * c + sig(a[:, :H]) * np.tanh(a[:, 2 * H:3 * H])
                h = sig(a[:, 3 * H:]) * np.tanh(c)
            else:
                h = np.tanh(a)
            out[:, t] = h
        seq = out
        hT.append(h)
        cT.append(c)
    y = seq if layer.return_sequences else seq[:, -1]
    return np.ascontiguousarray(y), (np.stack(hT), np.stack(cT) if lstm else None)


def _fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    for a in (X, y):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def _to_numpy(t):
    if hasattr(t, "detach"):
        t = t.detach().cpu().numpy()
    return np.asarray(t)


def _numpy_loss(out: np.ndarray, y: np.ndarray, code: int) -> dict:
    """Loss (and accuracy) evaluated with NumPy, for validation and evaluate()."""
    if code == _LK["mse"]:
        return {"loss": float(np.mean((out - y) ** 2))}
    if code == _LK["bce"]:
        lp = np.maximum(np.log(np.clip(out, 0, None)), -100)
        l1 = np.maximum(np.log1p(-np.clip(out, None, 1)), -100)
        return {"loss": float(-np.mean(y * lp + (1 - y) * l1)), "accuracy": float(np.mean((out > 0.5) == (y > 0.5)))}
    if code == _LK["bce_logits"]:
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
