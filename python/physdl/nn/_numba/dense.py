"""Numba twins of the dense and element-wise layers (src/physdl/nn/dense.cpp)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .layer import _JIT, _L, _prod
from .._kinds import LAYER_KINDS as _K

SIGMOID, TANH, RELU, STEP = _K["Sigmoid"], _K["Tanh"], _K["ReLU"], _K["Step"]
SOFTMAX, HAMILTONIANRELU, CUBE = _K["Softmax"], _K["HamiltonianReLU"], _K["Cube"]
FLATTEN, SOFTPLUS = _K["Flatten"], _K["Softplus"]


# ------------------------------------------------------------------ element-wise
@nb.njit(**_JIT)
def act_forward(kind, nbits, c, x, y):
    m = x.shape[0]
    one = x.dtype.type(1.0)
    zero = x.dtype.type(0.0)
    if kind == SIGMOID:
        for i in range(m):
            y[i] = one / (one + np.exp(-x[i]))
    elif kind == TANH:
        for i in range(m):
            y[i] = np.tanh(x[i])
    elif kind == RELU:
        for i in range(m):
            y[i] = x[i] if x[i] > zero else zero
    elif kind == STEP:
        for i in range(m):
            y[i] = one if x[i] > zero else zero
    elif kind == CUBE:
        for i in range(m):
            y[i] = x[i] * x[i] * x[i]
    elif kind == SOFTPLUS:
        for i in range(m):
            y[i] = max(x[i], zero) + np.log1p(np.exp(-abs(x[i])))
    elif kind == FLATTEN:
        y[:] = x
    elif kind == HAMILTONIANRELU:  # eq. 3.40
        half = x.dtype.type(0.5)
        for i in range(m):
            s = zero
            for u in range(1, nbits + 1):
                s += one / (one + np.exp(-(x[i] + half - x.dtype.type(u))))
            y[i] = s
    elif kind == SOFTMAX:
        rows = m // c
        for r in range(rows):
            mx = x[r * c]
            for j in range(1, c):
                mx = max(mx, x[r * c + j])
            s = zero
            for j in range(c):
                y[r * c + j] = np.exp(x[r * c + j] - mx)
                s += y[r * c + j]
            inv = one / s
            for j in range(c):
                y[r * c + j] *= inv


@nb.njit(**_JIT)
def act_backward(kind, nbits, c, x, y, dy, dx):
    m = x.shape[0]
    one = x.dtype.type(1.0)
    zero = x.dtype.type(0.0)
    if kind == SIGMOID:
        for i in range(m):
            dx[i] = dy[i] * y[i] * (one - y[i])
    elif kind == TANH:
        for i in range(m):
            dx[i] = dy[i] * (one - y[i] * y[i])
    elif kind == RELU:
        for i in range(m):
            dx[i] = dy[i] if x[i] > zero else zero
    elif kind == STEP:
        for i in range(m):
            dx[i] = zero
    elif kind == CUBE:
        for i in range(m):
            dx[i] = x.dtype.type(3.0) * x[i] * x[i] * dy[i]
    elif kind == SOFTPLUS:
        for i in range(m):
            dx[i] = dy[i] * (one / (one + np.exp(-x[i])))
    elif kind == FLATTEN:
        dx[:] = dy
    elif kind == HAMILTONIANRELU:
        half = x.dtype.type(0.5)
        for i in range(m):
            s = zero
            for u in range(1, nbits + 1):
                sg = one / (one + np.exp(-(x[i] + half - x.dtype.type(u))))
                s += sg * (one - sg)
            dx[i] = dy[i] * s
    elif kind == SOFTMAX:
        rows = m // c
        for r in range(rows):
            s = zero
            for j in range(c):
                s += dy[r * c + j] * y[r * c + j]
            for j in range(c):
                dx[r * c + j] = y[r * c + j] * (dy[r * c + j] - s)


@nb.njit(**_JIT)
def act_derivs(kind, nbits, x, y, d1, d2):
    """First and second derivative of the activation at x (y = f(x)); Softmax has none here."""
    m = x.shape[0]
    one = x.dtype.type(1.0)
    zero = x.dtype.type(0.0)
    two = x.dtype.type(2.0)
    for i in range(m):
        if kind == SIGMOID:
            d1[i] = y[i] * (one - y[i])
            d2[i] = d1[i] * (one - two * y[i])
        elif kind == TANH:
            d1[i] = one - y[i] * y[i]
            d2[i] = -two * y[i] * d1[i]
        elif kind == RELU:
            d1[i] = one if x[i] > zero else zero
            d2[i] = zero
        elif kind == STEP:
            d1[i] = zero
            d2[i] = zero
        elif kind == CUBE:
            d1[i] = x.dtype.type(3.0) * x[i] * x[i]
            d2[i] = x.dtype.type(6.0) * x[i]
        elif kind == FLATTEN:
            d1[i] = one
            d2[i] = zero
        elif kind == SOFTPLUS:
            sg = one / (one + np.exp(-x[i]))
            d1[i] = sg
            d2[i] = sg * (one - sg)
        elif kind == HAMILTONIANRELU:
            a = zero
            b = zero
            for u in range(1, nbits + 1):
                sg = one / (one + np.exp(-(x[i] + x.dtype.type(0.5) - x.dtype.type(u))))
                a += sg * (one - sg)
                b += sg * (one - sg) * (one - two * sg)
            d1[i] = a
            d2[i] = b


class _Dense(_L):
    has_per_sample = True
    has_tangent = True

    def __init__(self, kind, s, ishape):
        super().__init__(kind, s, ishape)
        self.nin, self.nout = s
        self.out_shape = ishape[:-1] + (self.nout,)
        self.np = self.nout * self.nin + self.nout

    def forward(self, x, n, p):
        W = p[: self.nout * self.nin].reshape(self.nout, self.nin)
        return (np.dot(x.reshape(-1, self.nin), W.T) + p[self.nout * self.nin:]).reshape(-1)

    def backward(self, x, y, dy, n, p, g, need_dx):
        x2, d2 = x.reshape(-1, self.nin), dy.reshape(-1, self.nout)
        k = self.nout * self.nin
        g[:k] = np.dot(d2.T, x2).reshape(-1)
        g[k:] = d2.sum(axis=0)
        if need_dx:
            return np.dot(d2, p[:k].reshape(self.nout, self.nin)).reshape(-1)
        return None

    def per_sample(self, x, y, dy, n, p, G, need_dx):
        x3, d3 = x.reshape(n, -1, self.nin), dy.reshape(n, -1, self.nout)
        k = self.nout * self.nin
        G[:, :k] = np.matmul(d3.transpose(0, 2, 1), x3).reshape(n, k)
        G[:, k:] = d3.sum(axis=1)
        if need_dx:
            return np.dot(dy.reshape(-1, self.nout), p[:k].reshape(self.nout, self.nin)).reshape(-1)
        return None

    def forward_tangent(self, x, y, xd, n, p):
        W = p[: self.nout * self.nin].reshape(self.nout, self.nin)
        return np.dot(xd.reshape(-1, self.nin), W.T).reshape(-1)

    def backward_tangent(self, x, y, xd, dy, dyd, n, p, gd):
        k = self.nout * self.nin
        W = p[:k].reshape(self.nout, self.nin)
        x2, xd2 = x.reshape(-1, self.nin), xd.reshape(-1, self.nin)
        d2, dd2 = dy.reshape(-1, self.nout), dyd.reshape(-1, self.nout)
        gd[:k] = (np.dot(dd2.T, x2) + np.dot(d2.T, xd2)).reshape(-1)
        gd[k:] = dd2.sum(axis=0)
        return np.dot(d2, W).reshape(-1), np.dot(dd2, W).reshape(-1)


class _Act(_L):
    def __init__(self, kind, s, ishape):
        super().__init__(kind, s, ishape)
        self.nbits = s[0] if kind == HAMILTONIANRELU else 1
        self.out_shape = (_prod(ishape),) if kind == FLATTEN else tuple(ishape)
        self.c = ishape[-1] if ishape else 1

    def forward(self, x, n, p):
        y = np.empty_like(x)
        act_forward(self.kind, self.nbits, self.c, x, y)
        return y

    def backward(self, x, y, dy, n, p, g, need_dx):
        if not need_dx:
            return None
        dx = np.empty_like(x)
        act_backward(self.kind, self.nbits, self.c, x, y, dy, dx)
        return dx

    @property
    def has_tangent(self):
        return self.kind != SOFTMAX

    def _derivs(self, x, y):
        d1, d2 = np.empty_like(x), np.empty_like(x)
        act_derivs(self.kind, self.nbits, x, y, d1, d2)
        return d1, d2

    def forward_tangent(self, x, y, xd, n, p):
        return self._derivs(x, y)[0] * xd

    def backward_tangent(self, x, y, xd, dy, dyd, n, p, gd):
        d1, d2 = self._derivs(x, y)
        return d1 * dy, d2 * xd * dy + d1 * dyd
