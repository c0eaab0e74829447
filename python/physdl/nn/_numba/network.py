"""The Numba network engine (twin of src/physdl/nn/network.cpp)."""

from __future__ import annotations

import numpy as np

from .._kinds import LAYER_KINDS as _K
from .._kinds import LOSS_KINDS as _LOSS
from .attention import _Attention
from .conv import _Conv, _Pool
from .dense import _Act, _Dense
from .layer import _prod
from .losses import loss_labels, loss_values
from .recurrent import _Recurrent


_FAMILIES = {"Dense": _Dense, "Conv2d": _Conv, "ConvTranspose2d": _Conv, "MaxPool2d": _Pool, "AvgPool2d": _Pool,
             "RNN": _Recurrent, "LSTM": _Recurrent, "Attention": _Attention}
# every kind of the registry that is not listed above is an element-wise layer
_SOFTMAX_CE = _LOSS["softmax_ce"]
_KINDS = {code: _FAMILIES.get(name, _Act) for name, code in _K.items()}


class Network:
    """The Numba engine: same interface as ``physdl._core.nn.Network64``."""

    def __init__(self, kinds, settings, input_shape, dtype, max_batch=64):
        self.dtype = np.dtype(dtype)
        shape = tuple(input_shape)
        self.in_shape = shape
        self.layers, self.offsets = [], []
        off = 0
        for k, s in zip(kinds, settings):
            layer = _KINDS[k](k, s, shape)
            self.layers.append(layer)
            self.offsets.append(off)
            off += layer.np
            shape = tuple(layer.out_shape)
        self.out_shape = shape
        self.num_params = off
        self._p = np.zeros(off, self.dtype)
        self._g = np.zeros(off, self.dtype)
        self.in_size = _prod(self.in_shape)

    @property
    def output_shape(self):
        return list(self.out_shape)

    def param_offset(self, i):
        return self.offsets[i]

    def param_count(self, i):
        return self.layers[i].np

    def params(self):
        return self._p

    def grads(self):
        return self._g

    def _forward(self, x):
        n = x.shape[0]
        h = x.reshape(-1)
        self.acts = [h]
        for layer, o in zip(self.layers, self.offsets):
            h = layer.forward(h, n, self._p[o:o + layer.np])
            self.acts.append(h)
        return h

    def forward(self, x, out):
        out.reshape(-1)[:] = self._forward(x)

    def _backward(self, d, n, input_grad):
        for i in range(len(self.layers) - 1, -1, -1):
            layer, o = self.layers[i], self.offsets[i]
            d = layer.backward(self.acts[i], self.acts[i + 1], d, n, self._p[o:o + layer.np],
                               self._g[o:o + layer.np], i > 0 or input_grad)
        return d

    def _loss(self, x, code, t, lab):
        y = self._forward(x)
        d = np.empty_like(y)
        if code == _SOFTMAX_CE:
            if not (lab != -100).any():
                raise ValueError("y: every label is -100 (ignored); nothing to fit")
            L = loss_labels(y, self.out_shape[-1], lab.reshape(-1), d)
        else:
            L = loss_values(code, y, t.reshape(-1), d)
        return L, d

    def gradients_values(self, x, t, code, input_grad, dx):
        L, d = self._loss(x, code, t, None)
        g = self._backward(d, x.shape[0], input_grad)
        if input_grad:
            dx.reshape(-1)[:] = g
        return L

    def gradients_labels(self, x, lab, input_grad, dx):
        L, d = self._loss(x, _SOFTMAX_CE, None, lab)
        g = self._backward(d, x.shape[0], input_grad)
        if input_grad:
            dx.reshape(-1)[:] = g
        return L

    def train_values(self, x, t, code, opt):
        L, d = self._loss(x, code, t, None)
        self._backward(d, x.shape[0], False)
        opt.step(self._p, self._g)
        return L

    def train_labels(self, x, lab, opt):
        L, d = self._loss(x, _SOFTMAX_CE, None, lab)
        self._backward(d, x.shape[0], False)
        opt.step(self._p, self._g)
        return L

    # ------------------------------------------------------------------ given output gradients
    @staticmethod
    def _finite(a, name):
        if not np.isfinite(a).all():
            raise ValueError(f"{name} must contain only finite values (found NaN or inf)")

    def backward(self, x, dy, input_grad, dx):
        self._finite(dy, "dY")
        self._forward(x)
        g = self._backward(dy.reshape(-1), x.shape[0], input_grad)
        if input_grad:
            dx.reshape(-1)[:] = g

    def per_sample_gradients(self, x, dy, G):
        self._finite(dy, "dY")
        n = x.shape[0]
        G2 = G.reshape(n, self.num_params)
        if all(l.np == 0 or l.has_per_sample for l in self.layers):
            self._forward(x)
            d = dy.reshape(-1)
            for i in range(len(self.layers) - 1, -1, -1):
                layer, o = self.layers[i], self.offsets[i]
                p = self._p[o:o + layer.np]
                if layer.np == 0:
                    d = layer.backward(self.acts[i], self.acts[i + 1], d, n, p, self._g[o:o], i > 0)
                else:
                    d = layer.per_sample(self.acts[i], self.acts[i + 1], d, n, p, G2[:, o:o + layer.np], i > 0)
            return
        # some layer has no per-sample form: one sample at a time (as the C++ engine)
        dy2 = dy.reshape(n, -1)
        for s in range(n):
            self._forward(x[s:s + 1])
            self._backward(np.ascontiguousarray(dy2[s]), 1, False)
            G2[s] = self._g

    def double_backward(self, x, dy, h, dx):
        for i, layer in enumerate(self.layers):
            if not layer.has_tangent:
                raise ValueError(f"double_backward: layer {i} (kind {layer.kind}) has no second derivative here; "
                                 "supported are Dense, Conv2d, pooling and the element-wise layers other than Softmax")
        self._finite(dy, "dY")
        self._finite(h, "H")
        n = x.shape[0]
        self._forward(x)
        tan = [h.reshape(-1)]
        for i, (layer, o) in enumerate(zip(self.layers, self.offsets)):
            tan.append(layer.forward_tangent(self.acts[i], self.acts[i + 1], tan[-1], n, self._p[o:o + layer.np]))
        d = dy.reshape(-1)
        dd = np.zeros_like(d)
        for i in range(len(self.layers) - 1, -1, -1):
            layer, o = self.layers[i], self.offsets[i]
            d, dd = layer.backward_tangent(self.acts[i], self.acts[i + 1], tan[i], d, dd, n,
                                           self._p[o:o + layer.np], self._g[o:o + layer.np])
        dx.reshape(-1)[:] = d

    def apply_gradients(self, g, opt):
        self._g[:] = g
        opt.step(self._p, self._g)
