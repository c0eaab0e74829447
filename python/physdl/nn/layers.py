"""Layer descriptions for :class:`physdl.nn.Sequential`.

A layer object only describes itself (kind, settings, shapes, parameter layout and initial values);
the arithmetic runs in the fused C++ network or its Numba twin.  Per-sample shapes exclude the batch
axis: images are ``(C, H, W)``, sequences ``(T, features)``.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import check_choice, check_int
from ._kinds import LAYER_KINDS

__all__ = [
    "Layer", "Dense", "Sigmoid", "Tanh", "ReLU", "Step", "Softmax", "HamiltonianReLU", "Cube", "Flatten", "Softplus",
    "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "RNN", "LSTM", "Attention",
]


_MAX_SIZE = 2 ** 40  # bound on any size setting; the model's memory estimate refuses far less


def _size(v, name):
    return check_int(v, name, minimum=1, maximum=_MAX_SIZE)


def _pair(v, name):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
        return (check_int(v[0], f"{name}[0]", maximum=_MAX_SIZE), check_int(v[1], f"{name}[1]", maximum=_MAX_SIZE))
    v = check_int(v, name, maximum=_MAX_SIZE)
    return v, v


def _flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


class Layer:
    """Base class: a layer with a kind code, integer settings and a parameter layout."""

    kind = -1

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        obj._init_args = (args, kwargs)  # kept for save/load
        return obj

    def settings(self, in_shape: tuple) -> list[int]:
        return []

    def _units(self) -> list:
        """The engine layers this layer runs as, in order (itself; a stacked RNN/LSTM runs as several)."""
        return [self]

    def output_shape(self, in_shape: tuple) -> tuple:
        return tuple(in_shape)

    def param_shapes(self, in_shape: tuple) -> list[tuple[str, tuple]]:
        """(name, shape) of each parameter block in the flat buffer, in order."""
        return []

    def init_params(self, gen, in_shape: tuple) -> np.ndarray:
        """Initial values (float64, flat) drawn from the Philox generator ``gen``."""
        shapes = self.param_shapes(in_shape)
        n = sum(math.prod(s) for _, s in shapes)
        if n == 0:
            return np.zeros(0)
        bound = 1.0 / math.sqrt(self._fan_in(in_shape))
        return (2.0 * gen.uniform(n) - 1.0) * bound

    def _fan_in(self, in_shape):
        return 1

    def __repr__(self):
        return f"{type(self).__name__}()"


class Dense(Layer):
    """Fully connected layer ``y = x J^T + b`` on the last axis (book eq. 3.49-3.51).

    Parameters
    ----------
    n_in, n_out : int
        Input and output features.  Weights ``W[n_out, n_in]`` and bias ``b[n_out]`` start uniform in
        ``±1/sqrt(n_in)`` (PyTorch's default).
    spectral_norm : bool, default False
        Use ``W / sigma(W)`` (spectral normalisation, Miyato et al.; as
        ``torch.nn.utils.parametrizations.spectral_norm``), ``sigma = u^T W v`` from vectors kept
        by power iteration between steps (:meth:`Sequential.spectral_norm_step`) and saved with the
        model; gradients flow through ``sigma``.
    """


    def __init__(self, n_in: int, n_out: int, spectral_norm: bool = False):
        self.n_in = _size(n_in, "n_in")
        self.n_out = _size(n_out, "n_out")
        self.spectral_norm = _flag(spectral_norm, "spectral_norm")

    def settings(self, in_shape):
        return [self.n_in, self.n_out]

    def output_shape(self, in_shape):
        if len(in_shape) < 1 or in_shape[-1] != self.n_in:
            raise ValueError(f"{self!r} expects inputs whose last axis has {self.n_in} features, got per-sample shape {tuple(in_shape)}")
        return tuple(in_shape[:-1]) + (self.n_out,)

    def param_shapes(self, in_shape):
        return [("weight", (self.n_out, self.n_in)), ("bias", (self.n_out,))]

    def _fan_in(self, in_shape):
        return self.n_in

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out}{', spectral_norm=True' if self.spectral_norm else ''})"


class _Activation(Layer):
    pass


class Sigmoid(_Activation):
    """Logistic sigmoid ``1/(1+e^{-z})``, the expectation of one bit (eq. 3.6-3.10)."""



class Tanh(_Activation):
    """Hyperbolic tangent."""



class ReLU(_Activation):
    """``max(z, 0)``, the N-bit limit of eq. 3.41."""



class Step(_Activation):
    """Heaviside step ``z > 0`` (zero gradient almost everywhere)."""



class Softmax(_Activation):
    """Softmax over the last axis (eq. 3.20-3.24)."""


    def output_shape(self, in_shape):
        if len(in_shape) < 1:
            raise ValueError("Softmax needs at least one feature axis")
        return tuple(in_shape)


class HamiltonianReLU(_Activation):
    """The N-bit ReLU ``<h> = sum_{u=1}^{N} sigmoid(z + 0.5 - u)`` (eq. 3.33-3.40).

    Parameters
    ----------
    nbits : int
        Number of bits ``N``; the output approaches ``max(z, 0)`` as N grows (Fig. 3.4).
    """


    def __init__(self, nbits: int = 10):
        self.nbits = check_int(nbits, "nbits", minimum=1, maximum=100_000)

    def settings(self, in_shape):
        return [self.nbits]

    def __repr__(self):
        return f"HamiltonianReLU(nbits={self.nbits})"


class Cube(_Activation):
    """``z^3``, the polynomial activation of the deep-vs-wide toy (eq. 3.85)."""



class Softplus(_Activation):
    """``log(1 + e^z)``, a smooth ReLU (second derivative ``sigmoid(z)(1 - sigmoid(z))``; double backward)."""


class Flatten(Layer):
    """Flatten the per-sample shape to one axis."""


    def output_shape(self, in_shape):
        return (math.prod(in_shape),)


class Conv2d(Layer):
    """2D convolution with stride, zero or periodic padding (eq. 4.2-4.8).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding : int or (int, int)
    padding_mode : {"zeros", "periodic"}
        ``"periodic"`` wraps around the image edges (for lattice configurations; PyTorch's
        ``"circular"``).
    spectral_norm : bool, default False
        Spectral normalisation of ``W`` reshaped to ``(out_channels, in_channels*kh*kw)`` (see
        :class:`Dense`).
    """


    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, padding_mode="zeros",
                 spectral_norm: bool = False):
        self.spectral_norm = _flag(spectral_norm, "spectral_norm")
        self.in_channels = _size(in_channels, "in_channels")
        self.out_channels = _size(out_channels, "out_channels")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise ValueError("kernel_size and stride must be >= 1 and padding >= 0")
        self.padding_mode = check_choice(padding_mode, "padding_mode", ("zeros", "periodic", "circular"))
        if self.padding_mode == "circular":
            self.padding_mode = "periodic"

    def settings(self, in_shape):
        return [self.in_channels, self.out_channels, *self.kernel_size, *self.stride, *self.padding,
                int(self.padding_mode == "periodic")]

    def output_shape(self, in_shape):
        if len(in_shape) != 3 or in_shape[0] != self.in_channels:
            raise ValueError(f"{self!r} expects per-sample shape ({self.in_channels}, H, W), got {tuple(in_shape)}")
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        H, W = in_shape[1] + 2 * ph - kh, in_shape[2] + 2 * pw - kw
        if H < 0 or W < 0:
            raise ValueError(f"{self!r}: kernel larger than the padded input {tuple(in_shape)}")
        if self.padding_mode == "periodic" and (ph > in_shape[1] or pw > in_shape[2]):
            raise ValueError(f"{self!r}: periodic padding larger than the image {tuple(in_shape)}")
        return (self.out_channels, H // sh + 1, W // sw + 1)

    def param_shapes(self, in_shape):
        return [("weight", (self.out_channels, self.in_channels, *self.kernel_size)), ("bias", (self.out_channels,))]

    def _fan_in(self, in_shape):
        return self.in_channels * self.kernel_size[0] * self.kernel_size[1]

    def __repr__(self):
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, padding_mode={self.padding_mode!r})")


class ConvTranspose2d(Layer):
    """Transposed convolution ``d_IJ -> sum_IJ d_IJ J_IJ,ij`` (eq. 4.9), zero padding.

    Output size ``(H - 1) * stride - 2 * padding + kernel_size`` (PyTorch's convention).
    """


    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.in_channels = _size(in_channels, "in_channels")
        self.out_channels = _size(out_channels, "out_channels")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise ValueError("kernel_size and stride must be >= 1 and padding >= 0")

    def settings(self, in_shape):
        return [self.in_channels, self.out_channels, *self.kernel_size, *self.stride, *self.padding]

    def output_shape(self, in_shape):
        if len(in_shape) != 3 or in_shape[0] != self.in_channels:
            raise ValueError(f"{self!r} expects per-sample shape ({self.in_channels}, H, W), got {tuple(in_shape)}")
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        OH, OW = (in_shape[1] - 1) * sh - 2 * ph + kh, (in_shape[2] - 1) * sw - 2 * pw + kw
        if OH < 1 or OW < 1:
            raise ValueError(f"{self!r}: padding too large for input {tuple(in_shape)}")
        return (self.out_channels, OH, OW)

    def param_shapes(self, in_shape):
        return [("weight", (self.in_channels, self.out_channels, *self.kernel_size)), ("bias", (self.out_channels,))]

    def _fan_in(self, in_shape):
        return self.out_channels * self.kernel_size[0] * self.kernel_size[1]

    def __repr__(self):
        return (f"ConvTranspose2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding})")


class _Pool(Layer):
    def __init__(self, kernel_size, stride=None):
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")
        if min(self.kernel_size) < 1 or min(self.stride) < 1:
            raise ValueError("kernel_size and stride must be >= 1")

    def settings(self, in_shape):
        return [*self.kernel_size, *self.stride]

    def output_shape(self, in_shape):
        if len(in_shape) != 3:
            raise ValueError(f"{self!r} expects per-sample shape (C, H, W), got {tuple(in_shape)}")
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        if kh > in_shape[1] or kw > in_shape[2]:
            raise ValueError(f"{self!r}: window larger than the input {tuple(in_shape)}")
        return (in_shape[0], (in_shape[1] - kh) // sh + 1, (in_shape[2] - kw) // sw + 1)

    def __repr__(self):
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"


class MaxPool2d(_Pool):
    """Max pooling over ``kernel_size`` windows (no padding)."""



class AvgPool2d(_Pool):
    """Average pooling over ``kernel_size`` windows (no padding)."""



class _Recurrent(Layer):
    gates = 1

    def __init__(self, input_size: int, hidden_size: int, return_sequences: bool = False, num_layers: int = 1):
        self.input_size = _size(input_size, "input_size")
        self.hidden_size = _size(hidden_size, "hidden_size")
        if not isinstance(return_sequences, (bool, np.bool_)):
            raise TypeError(f"return_sequences must be a bool, got {type(return_sequences).__name__}")
        self.return_sequences = bool(return_sequences)
        self.num_layers = check_int(num_layers, "num_layers", minimum=1, maximum=10_000)

    def _units(self) -> list:
        """The single-layer recurrent layers the engine runs, in order (one unless ``num_layers > 1``)."""
        if self.num_layers == 1:
            return [self]
        cls, H = type(self), self.hidden_size
        return ([cls(self.input_size, H, return_sequences=True)] +
                [cls(H, H, return_sequences=True) for _ in range(self.num_layers - 2)] +
                [cls(H, H, return_sequences=self.return_sequences)])

    def settings(self, in_shape):
        if self.num_layers != 1:
            raise RuntimeError("internal error: a stacked recurrent layer reaches the engine as its units")
        return [self.input_size, self.hidden_size, int(self.return_sequences)]

    def output_shape(self, in_shape):
        if len(in_shape) != 2 or in_shape[1] != self.input_size:
            raise ValueError(f"{self!r} expects per-sample shape (T, {self.input_size}), got {tuple(in_shape)}")
        return (in_shape[0], self.hidden_size) if self.return_sequences else (self.hidden_size,)

    def param_shapes(self, in_shape):
        G, H = self.gates * self.hidden_size, self.hidden_size
        out = []
        for k in range(self.num_layers):
            n_in = self.input_size if k == 0 else H
            out += [(f"weight_ih_l{k}", (G, n_in)), (f"weight_hh_l{k}", (G, H)), ("bias" if k == 0 else f"bias_l{k}", (G,))]
        return out

    def init_params(self, gen, in_shape):
        if self.num_layers == 1:
            return super().init_params(gen, in_shape)
        # each unit drawn in turn, as the same layers written out one by one
        return np.concatenate([u.init_params(gen, None) for u in self._units()])

    def _fan_in(self, in_shape):
        return self.hidden_size

    def __repr__(self):
        stack = f", num_layers={self.num_layers}" if self.num_layers != 1 else ""
        return (f"{type(self).__name__}({self.input_size}, {self.hidden_size}{stack}, "
                f"return_sequences={self.return_sequences})")


class RNN(_Recurrent):
    """Plain recurrent layer ``h(t) = tanh(J_x x(t) + J_h h(t-1) + b)`` trained by BPTT (eq. 4.13-4.21).

    Input per sample ``(T, input_size)``; output ``(T, hidden)`` when ``return_sequences`` else the
    last state ``(hidden,)``.

    Parameters
    ----------
    input_size, hidden_size : int
    return_sequences : bool, default False
    num_layers : int, default 1
        Stacked layers (PyTorch's ``num_layers``): layer k > 0 takes the hidden sequence of layer
        k - 1; ``return_sequences`` applies to the last one.  Exactly the same as writing
        ``RNN(input_size, H, return_sequences=True), RNN(H, H, ...), ...`` one after the other (same
        parameter layout, same initial values); the parameter blocks are ``weight_ih_l{k}``,
        ``weight_hh_l{k}`` and ``bias`` (k = 0) / ``bias_l{k}``.

    Notes
    -----
    The engines start every sequence from zero states; :meth:`Sequential.predict` and
    :meth:`Sequential.generate` take an ``initial_state`` (and return the final states).
    """



class LSTM(_Recurrent):
    """Long short-term memory with memory vector and gates i, f, g, o (eq. 4.25-4.35).

    Same shapes and parameters (``num_layers`` included) as :class:`RNN`; weights ``[4H, .]`` in
    PyTorch's gate order (input, forget, cell, output).  Its state is the pair ``(h, c)``.
    """

    gates = 4


class Attention(Layer):
    """Dot-product self-attention ``softmax(Q K^T / sqrt(d_k)) V`` with ``Q, K, V = x W_q^T, x W_k^T, x W_v^T``.

    The attention mechanism of book lines 1854-1857.  Input per sample ``(T, d_in)``, output ``(T, d_v)``.
    """


    def __init__(self, d_in: int, d_k: int | None = None, d_v: int | None = None):
        self.d_in = _size(d_in, "d_in")
        self.d_k = self.d_in if d_k is None else _size(d_k, "d_k")
        self.d_v = self.d_in if d_v is None else _size(d_v, "d_v")

    def settings(self, in_shape):
        return [self.d_in, self.d_k, self.d_v]

    def output_shape(self, in_shape):
        if len(in_shape) != 2 or in_shape[1] != self.d_in:
            raise ValueError(f"{self!r} expects per-sample shape (T, {self.d_in}), got {tuple(in_shape)}")
        return (in_shape[0], self.d_v)

    def param_shapes(self, in_shape):
        return [("wq", (self.d_k, self.d_in)), ("wk", (self.d_k, self.d_in)), ("wv", (self.d_v, self.d_in))]

    def _fan_in(self, in_shape):
        return self.d_in

    def __repr__(self):
        return f"Attention({self.d_in}, d_k={self.d_k}, d_v={self.d_v})"


# kind codes from the one registry (src/physdl/nn/layer_kinds.hpp), never typed here
for _name in __all__[1:]:
    globals()[_name].kind = LAYER_KINDS[_name]
del _name
