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
