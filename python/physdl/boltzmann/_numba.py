"""Numba twin of the RBM block-Gibbs kernel (src/physdl/ebm/ebm.cpp): same addresses and samples."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..random._numba import philox_block

_opts = dict(nopython=True, nogil=True, cache=True)
_S24 = np.uint64(24)


@nb.jit(**_opts)
def _sample(pre, bias, u, pm, seed, stream0, q):
    m, nu = u.shape
    scale = u.dtype.type(2.0) if pm else u.dtype.type(1.0)
    lo = -1.0 if pm else 0.0
    for r in range(m):
        st = np.uint64(stream0) + np.uint64(r)
        b0 = b1 = b2 = b3 = np.uint64(0)
        for j in range(nu):
            if (j & 3) == 0:
                b0, b1, b2, b3 = philox_block(seed, st, (np.uint64(q) << _S24) | np.uint64(j >> 2))
            x = np.float64(scale * (pre[r, j] + bias[j]))
            p = 1.0 / (1.0 + math.exp(-x))
            lane = j & 3
            w = b0 if lane == 0 else (b1 if lane == 1 else (b2 if lane == 2 else b3))
            u[r, j] = 1.0 if np.float64(w) * 2.3283064365386963e-10 < p else lo


@nb.jit(**_opts)
def rbm_gibbs(W, b, c, pm, v, h, k, seed, stream0, t0):
    for t in range(k):
        q = 2 * (t0 + t)
        pre = np.dot(v, W)
        _sample(pre, c, h, pm, seed, stream0, q)
        pre = np.dot(h, W.T.copy())
        _sample(pre, b, v, pm, seed, stream0, q + 1)


# ---- the fused training epoch (rbm_epoch in src/physdl/ebm/rbm_epoch.cpp) ----------------------
@nb.jit(**_opts)
def _exp_fast32(y):
    y = min(max(y, np.float32(-87.0)), np.float32(87.0))
    t = y * np.float32(1.44269504088896341) + np.float32(12582912.0)
    n = t - np.float32(12582912.0)
    r = (y - n * np.float32(0.693359375)) - n * np.float32(-2.12194440e-4)
    p = np.float32(1.9875691500e-4)
    p = p * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    e = (p * (r * r) + r) + np.float32(1.0)
    s = np.empty(1, np.uint32)
    s[0] = np.uint32((np.int32(n) + 127) << 23)
    return e * s.view(np.float32)[0]


@nb.jit(**_opts)
def _exp_fast64(y):
    y = min(max(y, -708.0), 708.0)
    t = y * 1.4426950408889634 + 6755399441055744.0
    n = t - 6755399441055744.0
    r = (y - n * 6.93145751953125e-1) - n * 1.42860682030941723212e-6
    xx = r * r
    px = r * ((1.26177193074810590878e-4 * xx + 3.02994407707441961300e-2) * xx + 9.99999999999999999910e-1)
    qx = ((3.00198505138664455042e-6 * xx + 2.52448340349684104192e-3) * xx + 2.27265548208155028766e-1) * xx \
        + 2.00000000000000000009e0
    e = 1.0 + 2.0 * (px / (qx - px))
    s = np.empty(1, np.uint64)
    s[0] = np.uint64(np.int64(np.int32(n)) + 1023) << np.uint64(52)
    return e * s.view(np.float64)[0]


@nb.jit(**_opts)
def _sigmoid_row(pre, bias, pm, seed, stream, q, out, draw, expect, escale):
    """pre <- escale * E[u] when expect; out <- samples when draw (same formulas as sigmoid_row; a
    row that only draws compares u (1 + e) < 1 instead of u < 1 / (1 + e))."""
    nu = pre.shape[0]
    f32 = pre.itemsize == 4
    one = pre.dtype.type(1.0)
    two = pre.dtype.type(2.0)
    scale = two if pm else one
    lo = -one if pm else pre.dtype.type(0.0)
    b0 = b1 = b2 = b3 = np.uint64(0)
    for j in range(nu):
        x = scale * (pre[j] + bias[j])
        if f32:
            den = one + _exp_fast32(np.float32(-x))
        else:
            den = one + _exp_fast64(np.float64(-x))
        p = one / den if expect else one
        if draw:
            if (j & 3) == 0:
                b0, b1, b2, b3 = philox_block(seed, stream, (np.uint64(q) << _S24) | np.uint64(j >> 2))
            lane = j & 3
            w = b0 if lane == 0 else (b1 if lane == 1 else (b2 if lane == 2 else b3))
            if f32:
                u = np.float32(np.uint32(w) >> np.uint32(8)) * np.float32(5.9604644775390625e-8)
            else:
                u = np.float64(w) * 2.3283064365386963e-10
            if expect:
                out[j] = one if u < p else lo
            else:  # samples only: u < 1 / den as u den < 1, without the division
                out[j] = one if u * den < one else lo
        if expect:
            pre[j] = escale * (two * p - one if pm else p)


@nb.jit(**_opts)
def rbm_epoch(W, b, c, pm, data, order, B, persistent, k, lr, vchain, hchain, seed, stream0, t0):
    nv, nh = W.shape
    nc = hchain.shape[0]
    dt = W.dtype.type
    nbatch = order.shape[0] // B
    rows = B + nc
    A = np.empty((rows, nv), W.dtype)
    G = np.empty((rows, nh), W.dtype)
    sd = dt(lr) / dt(B)
    sm = -dt(lr) / dt(nc)
    if persistent:
        A[B:] = vchain
    seed = np.uint64(seed)
    for s in range(nbatch):
        q0 = 2 * (t0 + s * k)
        for r in range(B):
            A[r] = data[order[s * B + r]]
        G[:B] = np.dot(A[:B], W)
        for r in range(B):
            _sigmoid_row(G[r], c, pm, seed, np.uint64(stream0) + np.uint64(r), q0, hchain[r], not persistent, True, sd)
        for t in range(k):
            qv = q0 + 2 * t if persistent else q0 + 2 * t + 1
            PV = np.dot(hchain, W.T)
            for r in range(nc):
                _sigmoid_row(PV[r], b, pm, seed, np.uint64(stream0) + np.uint64(r), qv, A[B + r], True, False, dt(0.0))
            G[B:] = np.dot(A[B:], W)
            last = t == k - 1
            draw = (not last) or persistent
            for r in range(nc):
                _sigmoid_row(G[B + r], c, pm, seed, np.uint64(stream0) + np.uint64(r), qv + 1, hchain[r], draw, last, sm)
        db = np.zeros(nv, W.dtype)
        dc = np.zeros(nh, W.dtype)
        for r in range(rows):
            f = sd if r < B else sm
            for j in range(nv):
                db[j] += f * A[r, j]
            for j in range(nh):
                dc[j] += G[r, j]
        W += np.dot(A.T.copy(), G)
        b += db
        c += dc
    if persistent:
        vchain[:] = A[B:]
