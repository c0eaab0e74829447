"""Numba twin of dot-product self-attention (src/physdl/nn/attention.cpp)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .layer import _JIT, _L, _prod


# ------------------------------------------------------------------ attention
@nb.njit(**_JIT)
def attention_forward(qkv, dk, dv, scale, A, y):
    n = qkv.shape[0]
    for s in range(n):
        Q = np.ascontiguousarray(qkv[s, :, :dk])
        K = np.ascontiguousarray(qkv[s, :, dk:2 * dk])
        V = np.ascontiguousarray(qkv[s, :, 2 * dk:])
        S = np.dot(Q, K.T) * scale
        Tn = S.shape[0]
        for r in range(Tn):
            mx = S[r].max()
            e = np.exp(S[r] - mx)
            A[s, r] = e / e.sum()
        y[s] = np.dot(A[s], V)


@nb.njit(**_JIT)
def attention_backward(qkv, dk, dv, scale, A, dy, dqkv):
    n = qkv.shape[0]
    for s in range(n):
        Q = np.ascontiguousarray(qkv[s, :, :dk])
        K = np.ascontiguousarray(qkv[s, :, dk:2 * dk])
        V = np.ascontiguousarray(qkv[s, :, 2 * dk:])
        dO = np.ascontiguousarray(dy[s])
        As = np.ascontiguousarray(A[s])
        dA = np.dot(dO, V.T)
        dqkv[s, :, 2 * dk:] = np.dot(As.T, dO)
        dS = As * (dA - (dA * As).sum(axis=1).reshape(-1, 1))
        dqkv[s, :, :dk] = np.dot(dS, K) * scale
        dqkv[s, :, dk:2 * dk] = np.dot(dS.T, Q) * scale




class _Attention(_L):
    def __init__(self, kind, s, ishape):
        super().__init__(kind, s, ishape)
        self.D, self.dk, self.dv = s
        self.T = ishape[0]
        self.E = 2 * self.dk + self.dv
        self.out_shape = (self.T, self.dv)
        self.np = self.E * self.D
        self.scale = 1.0 / math.sqrt(self.dk)

    def forward(self, x, n, p):
        W = p.reshape(self.E, self.D)
        self.qkv = np.dot(x.reshape(-1, self.D), W.T).reshape(n, self.T, self.E)
        self.A = np.empty((n, self.T, self.T), x.dtype)
        y = np.empty((n, self.T, self.dv), x.dtype)
        attention_forward(self.qkv, self.dk, self.dv, x.dtype.type(self.scale), self.A, y)
        return y.reshape(-1)

    def backward(self, x, y, dy, n, p, g, need_dx):
        dqkv = np.empty_like(self.qkv)
        attention_backward(self.qkv, self.dk, self.dv, dy.dtype.type(self.scale), self.A,
                           dy.reshape(n, self.T, self.dv), dqkv)
        d2 = dqkv.reshape(-1, self.E)
        g[:] = np.dot(d2.T, x.reshape(-1, self.D)).reshape(-1)
        if not need_dx:
            return None
        return np.dot(d2, p.reshape(self.E, self.D)).reshape(-1)


