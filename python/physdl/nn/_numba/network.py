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
        self._sn = {}  # layer -> [rows, cols, eps, u, v, sigma] (spectral normalisation)
        self._P = self._p
        self._fwd = None

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
        self._P = self._sn_refresh() if self._sn else self._p
        self._fwd = (x, 0)
        h = x.reshape(-1)
        self.acts = [h]
        for layer, o in zip(self.layers, self.offsets):
            h = layer.forward(h, n, self._P[o:o + layer.np])
            self.acts.append(h)
        return h

    def forward(self, x, out):
        out.reshape(-1)[:] = self._forward(x)

    def _backward(self, d, n, input_grad):
        for i in range(len(self.layers) - 1, -1, -1):
            layer, o = self.layers[i], self.offsets[i]
            d = layer.backward(self.acts[i], self.acts[i + 1], d, n, self._P[o:o + layer.np],
                               self._g[o:o + layer.np], i > 0 or input_grad)
        self._sn_correct(self._g[None, :])
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
        if self._sn:
            self.power_iteration(1)
        L, d = self._loss(x, code, t, None)
        self._backward(d, x.shape[0], False)
        opt.step(self._p, self._g)
        return L

    def train_labels(self, x, lab, opt):
        if self._sn:
            self.power_iteration(1)
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
                p = self._P[o:o + layer.np]
                if layer.np == 0:
                    d = layer.backward(self.acts[i], self.acts[i + 1], d, n, p, self._g[o:o], i > 0)
                else:
                    d = layer.per_sample(self.acts[i], self.acts[i + 1], d, n, p, G2[:, o:o + layer.np], i > 0)
            self._sn_correct(G2)
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
        self._forward(x)
        self._double_pass(x, dy, h, dx)

    def _double_pass(self, x, dy, h, dx):
        n = x.shape[0]
        tan = [h.reshape(-1)]
        for i, (layer, o) in enumerate(zip(self.layers, self.offsets)):
            tan.append(layer.forward_tangent(self.acts[i], self.acts[i + 1], tan[-1], n, self._P[o:o + layer.np]))
        d = dy.reshape(-1)
        dd = np.zeros_like(d)
        for i in range(len(self.layers) - 1, -1, -1):
            layer, o = self.layers[i], self.offsets[i]
            d, dd = layer.backward_tangent(self.acts[i], self.acts[i + 1], tan[i], d, dd, n,
                                           self._P[o:o + layer.np], self._g[o:o + layer.np])
        self._sn_correct(self._g[None, :])
        dx.reshape(-1)[:] = d

    # ------------------------------------------------------------------ one-pass variants
    def _check_forward(self, x, what):
        if self._fwd is None or self._fwd[0] is not x and not (
                self._fwd[0].shape == x.shape and np.shares_memory(self._fwd[0], x)):
            raise ValueError(f"{what}: no forward pass of these samples to continue from (call forward on the same X first)")
        if self._fwd[1] > 0:
            for i, layer in enumerate(self.layers):
                if not layer.has_tangent and layer.np > 0:
                    raise ValueError(f"{what}: a second pass on one forward needs Dense, Conv2d, pooling or element-wise "
                                     f"layers; layer {i} (kind {layer.kind}) is not")
        self._fwd = (self._fwd[0], self._fwd[1] + 1)

    def backward_from_forward(self, x, dy, input_grad, param_grad, dx):
        self._check_forward(x, "backward_from_forward")
        self._finite(dy, "dY")
        g = self._backward(dy.reshape(-1), x.shape[0], input_grad)
        if input_grad:
            dx.reshape(-1)[:] = g

    def double_backward_from_forward(self, x, dy, h, dx):
        self._check_forward(x, "double_backward_from_forward")
        for i, layer in enumerate(self.layers):
            if not layer.has_tangent:
                raise ValueError(f"double_backward: layer {i} (kind {layer.kind}) has no second derivative here; "
                                 "supported are Dense, Conv2d, pooling and the element-wise layers other than Softmax")
        self._finite(dy, "dY")
        self._finite(h, "H")
        self._double_pass(x, dy, h, dx)

    # ------------------------------------------------------------------ spectral normalisation
    def set_spectral_norm(self, layer, eps):
        if not 0 <= layer < len(self.layers):
            raise ValueError(f"set_spectral_norm: no layer {layer}")
        if not (eps > 0 and np.isfinite(eps)):
            raise ValueError("set_spectral_norm: eps must be > 0")
        lay = self.layers[layer]
        if lay.kind == _K["Dense"]:
            rows = lay.out_shape[-1]
        elif lay.kind == _K["Conv2d"]:
            rows = lay.out_shape[0]
        else:
            raise ValueError(f"spectral normalisation applies to Dense and Conv2d layers; layer {layer} is kind {lay.kind}")
        if layer in self._sn:
            return
        cols = (lay.np - rows) // rows
        u, v = np.zeros(rows, self.dtype), np.zeros(cols, self.dtype)
        u[0] = v[0] = 1
        self._sn[layer] = [rows, cols, float(eps), u, v, 1.0]
        self._fwd = None

    def spectral_norm(self, layer):
        return layer in self._sn

    def _sn_get(self, layer):
        if layer not in self._sn:
            raise ValueError(f"layer {layer} is not spectrally normalised")
        return self._sn[layer]

    def sn_u(self, layer):
        return self._sn_get(layer)[3]

    def sn_v(self, layer):
        return self._sn_get(layer)[4]

    def _W(self, layer):
        rows, cols = self._sn[layer][:2]
        o = self.offsets[layer]
        return self._p[o:o + rows * cols].reshape(rows, cols)

    def power_iteration(self, k):
        if k < 0:
            raise ValueError("power_iteration: k must be >= 0")
        for layer, st in self._sn.items():
            W = self._W(layer).astype(np.float64)
            u, v = st[3], st[4]
            for _ in range(k):
                a = W @ v.astype(np.float64)
                u[:] = a / max(np.sqrt(a @ a), st[2])
                b = W.T @ u.astype(np.float64)
                v[:] = b / max(np.sqrt(b @ b), st[2])
        self._fwd = None

    def sn_sigma(self, layer):
        self._sn_get(layer)
        self._sn_refresh()
        return self._sn[layer][5]

    def _sn_refresh(self):
        eff = self._p.copy()
        for layer, st in self._sn.items():
            W = self._W(layer)
            sigma = float(st[3].astype(np.float64) @ (W.astype(np.float64) @ st[4].astype(np.float64)))
            if sigma == 0 or not np.isfinite(sigma):
                raise ValueError(f"spectral normalisation of layer {layer}: sigma = u^T W v is zero or not finite")
            st[5] = sigma
            o = self.offsets[layer]
            eff[o:o + W.size] = (W.astype(np.float64) / sigma).reshape(-1)
        return eff

    def _sn_correct(self, G):
        for layer, st in self._sn.items():
            rows, cols, _, u, v, sigma = st
            o = self.offsets[layer]
            W = self._W(layer).astype(np.float64).reshape(-1)
            Gw = G[:, o:o + rows * cols].astype(np.float64)
            c = (Gw @ W) / sigma**2
            uv = np.outer(u.astype(np.float64), v.astype(np.float64)).reshape(-1)
            G[:, o:o + rows * cols] = Gw / sigma - c[:, None] * uv[None, :]

    def apply_gradients(self, g, opt):
        self._g[:] = g
        opt.step(self._p, self._g)
        self._fwd = None
