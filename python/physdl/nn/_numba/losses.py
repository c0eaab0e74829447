"""Numba twins of the losses (src/physdl/nn/losses.cpp)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .layer import _JIT


# ------------------------------------------------------------------ losses
@nb.njit(**_JIT)
def loss_values(code, y, t, d):
    m = y.shape[0]
    L = 0.0
    if code == 0:
        sc = y.dtype.type(2.0 / m)
        for i in range(m):
            e = y[i] - t[i]
            L += float(e) * float(e)
            d[i] = sc * e
    elif code == 1:
        inv = y.dtype.type(1.0 / m)
        for i in range(m):
            p = y[i]
            lp = max(math.log(float(p)) if p > 0 else -np.inf, -100.0)
            l1p = max(math.log1p(-float(p)) if p < 1 else -np.inf, -100.0)
            L -= float(t[i]) * lp + (1.0 - float(t[i])) * l1p
            d[i] = inv * (p - t[i]) / max((y.dtype.type(1.0) - p) * p, y.dtype.type(1e-12))
    else:
        inv = y.dtype.type(1.0 / m)
        for i in range(m):
            z = y[i]
            L += float(max(z, y.dtype.type(0.0)) - z * t[i] + np.log1p(np.exp(-abs(z))))
            d[i] = inv * (y.dtype.type(1.0) / (y.dtype.type(1.0) + np.exp(-z)) - t[i])
    return L / m


@nb.njit(**_JIT)
def loss_labels(y, c, lab, d):
    rows = lab.shape[0]
    valid = 0
    for r in range(rows):
        if lab[r] != -100:
            valid += 1
    inv = y.dtype.type(1.0 / valid)
    L = 0.0
    for r in range(rows):
        if lab[r] == -100:
            d[r * c:(r + 1) * c] = 0.0
            continue
        mx = y[r * c]
        for j in range(1, c):
            mx = max(mx, y[r * c + j])
        s = y.dtype.type(0.0)
        for j in range(c):
            d[r * c + j] = np.exp(y[r * c + j] - mx)
            s += d[r * c + j]
        L += float(np.log(s) + mx - y[r * c + lab[r]])
        is_ = y.dtype.type(1.0) / s
        for j in range(c):
            d[r * c + j] *= is_ * inv
        d[r * c + lab[r]] -= inv
    return L / valid


