"""Numba twins of the recurrent layers, RNN and LSTM (src/physdl/nn/recurrent.cpp)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .layer import _JIT, _L, _prod
from .._kinds import LAYER_KINDS as _K


# ------------------------------------------------------------------ recurrent (eq. 4.13-4.35)
@nb.njit(**_JIT)
def recurrent_forward(lstm, xtm, Wx, Wh, b, pre, hs, cs, tcs):
    Tn, n, _ = xtm.shape
    H = Wh.shape[1]
    one = xtm.dtype.type(1.0)
    for t in range(Tn):
        a = np.dot(xtm[t], Wx.T) + b
        if t > 0:
            a += np.dot(hs[t - 1], Wh.T)
        if not lstm:
            hs[t] = np.tanh(a)
            pre[t] = a
            continue
        for s in range(n):
            for j in range(2 * H):
                a[s, j] = one / (one + np.exp(-a[s, j]))
            for j in range(2 * H, 3 * H):
                a[s, j] = np.tanh(a[s, j])
            for j in range(3 * H, 4 * H):
                a[s, j] = one / (one + np.exp(-a[s, j]))
            for j in range(H):
                cprev = cs[t - 1, s, j] if t > 0 else xtm.dtype.type(0.0)
                cs[t, s, j] = a[s, H + j] * cprev + a[s, j] * a[s, 2 * H + j]
                tcs[t, s, j] = np.tanh(cs[t, s, j])
                hs[t, s, j] = a[s, 3 * H + j] * tcs[t, s, j]
        pre[t] = a


@nb.njit(**_JIT)
def recurrent_backward(lstm, dhs, Wh, pre, hs, cs, tcs, dpre):
    # dhs[t, s, :]: gradient arriving at h(t) from the layer output
    Tn, n, H = hs.shape
    one = hs.dtype.type(1.0)
    dhn = np.zeros((n, H), hs.dtype)
    dc = np.zeros((n, H), hs.dtype)
    for t in range(Tn - 1, -1, -1):
        dh = dhn + dhs[t]
        if not lstm:
            dpre[t] = dh * (one - hs[t] * hs[t])
        else:
            for s in range(n):
                for j in range(H):
                    ig = pre[t, s, j]
                    fg = pre[t, s, H + j]
                    gg = pre[t, s, 2 * H + j]
                    og = pre[t, s, 3 * H + j]
                    tc = tcs[t, s, j]
                    dcq = dc[s, j] + dh[s, j] * og * (one - tc * tc)
                    cprev = cs[t - 1, s, j] if t > 0 else hs.dtype.type(0.0)
                    dpre[t, s, j] = dcq * gg * ig * (one - ig)
                    dpre[t, s, H + j] = dcq * cprev * fg * (one - fg)
                    dpre[t, s, 2 * H + j] = dcq * ig * (one - gg * gg)
                    dpre[t, s, 3 * H + j] = dh[s, j] * tc * og * (one - og)
                    dc[s, j] = dcq * fg
        if t > 0:
            dhn = np.dot(dpre[t], Wh)




class _Recurrent(_L):
    def __init__(self, kind, s, ishape):
        super().__init__(kind, s, ishape)
        self.I, self.H, self.ret = s[0], s[1], bool(s[2])
        self.T = ishape[0]
        self.G = 4 * self.H if kind == _K["LSTM"] else self.H
        self.out_shape = (self.T, self.H) if self.ret else (self.H,)
        self.np = self.G * self.I + self.G * self.H + self.G

    def _w(self, p):
        G, I, H = self.G, self.I, self.H
        return p[: G * I].reshape(G, I), p[G * I: G * I + G * H].reshape(G, H), p[G * I + G * H:]

    def forward(self, x, n, p):
        Wx, Wh, b = self._w(p)
        T, H = self.T, self.H
        self.xtm = np.ascontiguousarray(x.reshape(n, T, self.I).transpose(1, 0, 2))
        self.pre = np.empty((T, n, self.G), x.dtype)
        self.hs = np.empty((T, n, H), x.dtype)
        self.cs = np.empty((T, n, H), x.dtype)
        self.tcs = np.empty((T, n, H), x.dtype)
        recurrent_forward(self.kind == _K["LSTM"], self.xtm, Wx, Wh, b, self.pre, self.hs, self.cs, self.tcs)
        if self.ret:
            return np.ascontiguousarray(self.hs.transpose(1, 0, 2)).reshape(-1)
        return self.hs[T - 1].reshape(-1).copy()

    def backward(self, x, y, dy, n, p, g, need_dx):
        Wx, Wh, b = self._w(p)
        T, H, G, I = self.T, self.H, self.G, self.I
        if self.ret:
            dhs = np.ascontiguousarray(dy.reshape(n, T, H).transpose(1, 0, 2))
        else:
            dhs = np.zeros((T, n, H), dy.dtype)
            dhs[T - 1] = dy.reshape(n, H)
        dpre = np.empty((T, n, G), dy.dtype)
        recurrent_backward(self.kind == _K["LSTM"], dhs, Wh, self.pre, self.hs, self.cs, self.tcs, dpre)
        d2 = dpre.reshape(T * n, G)
        g[: G * I] = np.dot(d2.T, self.xtm.reshape(T * n, I)).reshape(-1)
        if T > 1:
            g[G * I: G * I + G * H] = np.dot(d2[n:].T, self.hs[:-1].reshape(-1, H)).reshape(-1)
        else:
            g[G * I: G * I + G * H] = 0.0
        g[G * I + G * H:] = d2.sum(axis=0)
        if not need_dx:
            return None
        dxtm = np.dot(d2, Wx).reshape(T, n, I)
        return np.ascontiguousarray(dxtm.transpose(1, 0, 2)).reshape(-1)


