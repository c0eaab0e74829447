"""Numba twins of src/physdl/dynamics/integrators.cpp (same operations in the same order)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

_opts = dict(nopython=True, nogil=True, cache=True)


@nb.jit(**_opts)
def _force(s, q, f):
    if s == 0:
        f[0] = -q[0]
    elif s == 1:
        f[0] = -math.sin(q[0])
    elif s == 2:
        f[0] = q[0] - q[0] * q[0] * q[0]
    else:
        f[0] = -q[0] - 2.0 * q[0] * q[1]
        f[1] = -q[1] - q[0] * q[0] + q[1] * q[1]


@nb.jit(**_opts)
def _energy(s, q, p):
    k = 0.0
    for j in range(q.shape[0]):
        k += 0.5 * p[j] * p[j]
    if s == 0:
        return k + 0.5 * q[0] * q[0]
    if s == 1:
        return k + (1.0 - math.cos(q[0]))
    if s == 2:
        return k + (0.25 * q[0] * q[0] * q[0] * q[0] - 0.5 * q[0] * q[0])
    return k + (0.5 * (q[0] * q[0] + q[1] * q[1]) + q[0] * q[0] * q[1] - q[1] * q[1] * q[1] / 3.0)


@nb.jit(**_opts)
def _leapfrog(s, q, p, h, f):
    d = q.shape[0]
    _force(s, q, f)
    for j in range(d):
        p[j] += 0.5 * h * f[j]
    for j in range(d):
        q[j] += h * p[j]
    _force(s, q, f)
    for j in range(d):
        p[j] += 0.5 * h * f[j]


@nb.jit(**_opts)
def _step(s, m, q, p, h, f, kq, kp, tq, tp):
    d = q.shape[0]
    if m == 0:
        _force(s, q, f)
        for j in range(d):
            p[j] += h * f[j]
        for j in range(d):
            q[j] += h * p[j]
    elif m == 1:
        _leapfrog(s, q, p, h, f)
    elif m == 2:
        c = np.cbrt(2.0)
        w1 = 1.0 / (2.0 - c)
        w0 = -c * w1
        _leapfrog(s, q, p, w1 * h, f)
        _leapfrog(s, q, p, w0 * h, f)
        _leapfrog(s, q, p, w1 * h, f)
    else:
        for stage in range(4):
            a = 0.0 if stage == 0 else (1.0 if stage == 3 else 0.5)
            for j in range(d):
                tq[j] = q[j] + (a * h * kq[stage - 1, j] if stage else 0.0)
                tp[j] = p[j] + (a * h * kp[stage - 1, j] if stage else 0.0)
            _force(s, tq, f)
            for j in range(d):
                kq[stage, j] = tp[j]
                kp[stage, j] = f[j]
        for j in range(d):
            q[j] += h / 6.0 * (kq[0, j] + 2.0 * kq[1, j] + 2.0 * kq[2, j] + kq[3, j])
            p[j] += h / 6.0 * (kp[0, j] + 2.0 * kp[1, j] + 2.0 * kp[2, j] + kp[3, j])


@nb.jit(**_opts)
def integrate(s, m, q, p, dt, steps, record_every, E, with_E):
    n, d = q.shape
    f = np.empty(2)
    kq = np.empty((4, d))
    kp = np.empty((4, d))
    tq = np.empty(d)
    tp = np.empty(d)
    for i in range(n):
        if with_E:
            E[i, 0] = _energy(s, q[i], p[i])
        for t in range(1, steps + 1):
            _step(s, m, q[i], p[i], dt, f, kq, kp, tq, tp)
            if with_E and t % record_every == 0:
                E[i, t // record_every] = _energy(s, q[i], p[i])
