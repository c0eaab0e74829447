"""Numba twins of the convolution and pooling layers (src/physdl/nn/conv.cpp).

Same sums, other evaluation order: here every convolution is one im2col product over the whole batch,
where the C++ engine runs unit-stride convolutions directly on padded planes (and strided ones as
im2col products over chunks of samples); results agree to rounding (tests/nn/test_conv_paths.py).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .layer import _JIT, _L, _prod
from .._kinds import LAYER_KINDS as _K


# ------------------------------------------------------------------ convolution helpers
@nb.njit(**_JIT)
def im2col(x, n, C, H, W, kh, kw, OH, OW, rowidx, colidx, col):
    P = OH * OW
    ld = n * P
    for s in range(n):
        for c in range(C):
            base = (s * C + c) * H * W
            for a in range(kh):
                for b in range(kw):
                    r0 = ((c * kh + a) * kw + b) * ld + s * P
                    for oh in range(OH):
                        i = rowidx[a * OH + oh]
                        for ow in range(OW):
                            j = colidx[b * OW + ow]
                            if i < 0 or j < 0:
                                col[r0 + oh * OW + ow] = 0.0
                            else:
                                col[r0 + oh * OW + ow] = x[base + i * W + j]


@nb.njit(**_JIT)
def col2im(col, n, C, H, W, kh, kw, OH, OW, rowidx, colidx, x):
    P = OH * OW
    ld = n * P
    for s in range(n):
        for c in range(C):
            base = (s * C + c) * H * W
            for a in range(kh):
                for b in range(kw):
                    r0 = ((c * kh + a) * kw + b) * ld + s * P
                    for oh in range(OH):
                        i = rowidx[a * OH + oh]
                        if i < 0:
                            continue
                        for ow in range(OW):
                            j = colidx[b * OW + ow]
                            if j >= 0:
                                x[base + i * W + j] += col[r0 + oh * OW + ow]


def _tables(H, W, kh, kw, sh, sw, ph, pw, OH, OW, periodic):
    a = np.arange(kh)[:, None]
    o = np.arange(OH)[None, :]
    i = o * sh - ph + a
    if periodic:
        i = i % H
    rows = np.where((i >= 0) & (i < H), i, -1).reshape(-1).astype(np.int64)
    b = np.arange(kw)[:, None]
    o = np.arange(OW)[None, :]
    j = o * sw - pw + b
    if periodic:
        j = j % W
    cols = np.where((j >= 0) & (j < W), j, -1).reshape(-1).astype(np.int64)
    return rows, cols


@nb.njit(**_JIT)
def pool_forward(is_max, x, n, C, H, W, kh, kw, sh, sw, OH, OW, y, arg):
    inv = x.dtype.type(1.0 / (kh * kw))
    for sc in range(n * C):
        base = sc * H * W
        for oh in range(OH):
            for ow in range(OW):
                o = sc * OH * OW + oh * OW + ow
                if is_max:
                    best = oh * sh * W + ow * sw
                    for a in range(kh):
                        for b in range(kw):
                            q = (oh * sh + a) * W + ow * sw + b
                            if x[base + q] > x[base + best]:
                                best = q
                    arg[o] = best
                    y[o] = x[base + best]
                else:
                    s = x.dtype.type(0.0)
                    for a in range(kh):
                        for b in range(kw):
                            s += x[base + (oh * sh + a) * W + ow * sw + b]
                    y[o] = s * inv


@nb.njit(**_JIT)
def pool_backward(is_max, dy, n, C, H, W, kh, kw, sh, sw, OH, OW, arg, dx):
    dx[:] = 0.0
    inv = dy.dtype.type(1.0 / (kh * kw))
    for sc in range(n * C):
        base = sc * H * W
        for oh in range(OH):
            for ow in range(OW):
                o = sc * OH * OW + oh * OW + ow
                if is_max:
                    dx[base + arg[o]] += dy[o]
                else:
                    for a in range(kh):
                        for b in range(kw):
                            dx[base + (oh * sh + a) * W + ow * sw + b] += dy[o] * inv




class _Conv(_L):
    def __init__(self, kind, s, ishape):
        super().__init__(kind, s, ishape)
        self.cin, self.cout, kh, kw, sh, sw, ph, pw = s[:8]
        if kind == _K["Conv2d"]:
            C, H, W = ishape
            OH, OW = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
            self.geo = (C, H, W, kh, kw, OH, OW)
            self.tab = _tables(H, W, kh, kw, sh, sw, ph, pw, OH, OW, s[8] != 0)
            self.out_shape = (self.cout, OH, OW)
            self.np = self.cout * C * kh * kw + self.cout
        else:
            _, h, w = ishape
            OH, OW = (h - 1) * sh - 2 * ph + kh, (w - 1) * sw - 2 * pw + kw
            self.geo = (self.cout, OH, OW, kh, kw, h, w)
            self.tab = _tables(OH, OW, kh, kw, sh, sw, ph, pw, h, w, False)
            self.out_shape = (self.cout, OH, OW)
            self.np = self.cin * self.cout * kh * kw + self.cout
        C, H, W, kh, kw, OH, OW = self.geo
        self.K, self.P = C * kh * kw, OH * OW

    def _im2col(self, x, n):
        col = np.empty(self.K * n * self.P, x.dtype)
        im2col(x, n, *self.geo, *self.tab, col)
        return col.reshape(self.K, n * self.P)

    def _col2im(self, col, n, size, dtype):
        out = np.zeros(n * size, dtype)
        col2im(col.reshape(-1), n, *self.geo, *self.tab, out)
        return out

    def forward(self, x, n, p):
        K, P = self.K, self.P
        if self.kind == _K["Conv2d"]:
            self.col = self._im2col(x, n)
            W = p[: self.cout * K].reshape(self.cout, K)
            yt = np.dot(W, self.col).reshape(self.cout, n, P).transpose(1, 0, 2)
            return (yt + p[self.cout * K:].reshape(1, -1, 1)).reshape(-1)
        W = p[: self.cin * K].reshape(self.cin, K)
        self.xt = np.ascontiguousarray(x.reshape(n, self.cin, P).transpose(1, 0, 2)).reshape(self.cin, n * P)
        col = np.dot(W.T, self.xt)
        y = self._col2im(col, n, _prod(self.out_shape), x.dtype).reshape(n, self.cout, -1)
        return (y + p[self.cin * K:].reshape(1, -1, 1)).reshape(-1)

    def backward(self, x, y, dy, n, p, g, need_dx):
        K, P = self.K, self.P
        if self.kind == _K["Conv2d"]:
            dyt = np.ascontiguousarray(dy.reshape(n, self.cout, P).transpose(1, 0, 2)).reshape(self.cout, n * P)
            k = self.cout * K
            g[:k] = np.dot(dyt, self.col.T).reshape(-1)
            g[k:] = dyt.sum(axis=1)
            if not need_dx:
                return None
            dcol = np.dot(p[:k].reshape(self.cout, K).T, dyt)
            return self._col2im(dcol, n, _prod(self.in_shape), x.dtype)
        col = self._im2col(dy, n)
        k = self.cin * K
        g[:k] = np.dot(self.xt, col.T).reshape(-1)
        g[k:] = dy.reshape(n, self.cout, -1).sum(axis=(0, 2))
        if not need_dx:
            return None
        dxt = np.dot(p[:k].reshape(self.cin, K), col)
        return np.ascontiguousarray(dxt.reshape(self.cin, n, P).transpose(1, 0, 2)).reshape(-1)

    @property
    def has_per_sample(self):
        return self.kind == _K["Conv2d"]

    @property
    def has_tangent(self):
        return self.kind == _K["Conv2d"]

    def forward_tangent(self, x, y, xd, n, p):
        K, P = self.K, self.P
        self.tcol = self._im2col(xd, n)
        W = p[: self.cout * K].reshape(self.cout, K)
        return np.ascontiguousarray(np.dot(W, self.tcol).reshape(self.cout, n, P).transpose(1, 0, 2)).reshape(-1)

    def backward_tangent(self, x, y, xd, dy, dyd, n, p, gd):
        K, P = self.K, self.P
        k = self.cout * K
        W = p[:k].reshape(self.cout, K)

        def t(a):
            return np.ascontiguousarray(a.reshape(n, self.cout, P).transpose(1, 0, 2)).reshape(self.cout, n * P)

        dyt, ddt = t(dy), t(dyd)
        gd[:k] = (np.dot(ddt, self.col.T) + np.dot(dyt, self.tcol.T)).reshape(-1)
        gd[k:] = ddt.sum(axis=1)
        size = _prod(self.in_shape)
        return (self._col2im(np.dot(W.T, dyt), n, size, x.dtype), self._col2im(np.dot(W.T, ddt), n, size, x.dtype))

    def per_sample(self, x, y, dy, n, p, G, need_dx):
        K, P = self.K, self.P
        k = self.cout * K
        d3 = dy.reshape(n, self.cout, P)
        G[:, :k] = np.matmul(d3, self.col.reshape(K, n, P).transpose(1, 2, 0)).reshape(n, k)
        G[:, k:] = d3.sum(axis=2)
        if not need_dx:
            return None
        dyt = np.ascontiguousarray(d3.transpose(1, 0, 2)).reshape(self.cout, n * P)
        dcol = np.dot(p[:k].reshape(self.cout, K).T, dyt)
        return self._col2im(dcol, n, _prod(self.in_shape), x.dtype)


class _Pool(_L):
    def __init__(self, kind, s, ishape):
        super().__init__(kind, s, ishape)
        C, H, W = ishape
        kh, kw, sh, sw = s
        OH, OW = (H - kh) // sh + 1, (W - kw) // sw + 1
        self.geo = (C, H, W, kh, kw, sh, sw, OH, OW)
        self.out_shape = (C, OH, OW)

    def forward(self, x, n, p):
        y = np.empty(n * _prod(self.out_shape), x.dtype)
        self.arg = np.empty(y.shape[0], np.int64)
        pool_forward(self.kind == _K["MaxPool2d"], x, n, *self.geo, y, self.arg)
        return y

    def backward(self, x, y, dy, n, p, g, need_dx):
        if not need_dx:
            return None
        dx = np.empty(n * _prod(self.in_shape), dy.dtype)
        pool_backward(self.kind == _K["MaxPool2d"], dy, n, *self.geo, self.arg, dx)
        return dx

    has_tangent = True

    def forward_tangent(self, x, y, xd, n, p):
        C, H, W, kh, kw, sh, sw, OH, OW = self.geo
        if self.kind == _K["MaxPool2d"]:  # linear almost everywhere, with the argmax of the forward pass
            planes = np.repeat(np.arange(n * C, dtype=np.int64) * (H * W), OH * OW)
            return xd[planes + self.arg]
        yd = np.empty(n * _prod(self.out_shape), xd.dtype)
        pool_forward(False, xd, n, *self.geo, yd, self.arg)
        return yd

    def backward_tangent(self, x, y, xd, dy, dyd, n, p, gd):
        return self.backward(x, y, dy, n, p, gd, True), self.backward(x, y, dyd, n, p, gd, True)
