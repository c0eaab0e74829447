"""Numba twins of the Hopfield kernels (src/physdl/ebm/ebm.cpp): same permutations, same energies."""

from __future__ import annotations

import numba as nb
import numpy as np

from ..random._numba import philox_block

_opts = dict(nopython=True, nogil=True, cache=True)
_S24 = np.uint64(24)
_S32 = np.uint64(32)


@nb.jit(**_opts)
def _sgn(x, old, tie_keep):
    if x > 0.0:
        return np.int8(1)
    if x < 0.0:
        return np.int8(-1)
    return old if tie_keep else np.int8(-1)


@nb.jit(**_opts)
def dot4(a, b):
    """sum a_j b_j in four partial sums combined as (s0 + s1) + (s2 + s3), as in ebm.cpp."""
    n = a.size
    s0 = s1 = s2 = s3 = 0.0
    j = 0
    while j + 4 <= n:
        s0 += a[j] * b[j]
        s1 += a[j + 1] * b[j + 1]
        s2 += a[j + 2] * b[j + 2]
        s3 += a[j + 3] * b[j + 3]
        j += 4
    if j < n:
        s0 += a[j] * b[j]
    if j + 1 < n:
        s1 += a[j + 1] * b[j + 1]
    if j + 2 < n:
        s2 += a[j + 2] * b[j + 2]
    return (s0 + s1) + (s2 + s3)


@nb.jit(**_opts)
def hopfield_async(W, S, max_sweeps, tie_keep, seed, stream0, record_steps):
    m, n = S.shape
    es = np.empty((m, max_sweeps + 1))
    est = np.empty((m, max_sweeps * n + 1)) if record_steps else np.empty((0, 0))
    sweeps = np.zeros(m, np.int64)
    flips = np.zeros(m, np.int64)
    h = np.empty(n)
    perm = np.empty(n, np.int64)
    for c in range(m):
        s = S[c]
        sd = s.astype(np.float64)
        for i in range(n):
            h[i] = dot4(W[i], sd)
        E = 0.0
        for i in range(n):
            E += s[i] * h[i]
        E *= -0.5
        es[c, 0] = E
        idx = 0
        if record_steps:
            est[c, 0] = E
            idx = 1
        converged = False
        done = 0
        nfl = 0
        st = np.uint64(stream0) + np.uint64(c)
        for t in range(max_sweeps):
            if not converged:
                for i in range(n):
                    perm[i] = i
                cur = -1
                b0 = b1 = b2 = b3 = np.uint64(0)
                for j in range(n - 1, 0, -1):
                    if (j >> 2) != cur:
                        cur = j >> 2
                        b0, b1, b2, b3 = philox_block(seed, st, (np.uint64(t) << _S24) | np.uint64(cur))
                    lane = j & 3
                    w = b0 if lane == 0 else (b1 if lane == 1 else (b2 if lane == 2 else b3))
                    k = np.int64((w * np.uint64(j + 1)) >> _S32)
                    tmp = perm[j]
                    perm[j] = perm[k]
                    perm[k] = tmp
                sf = 0
                for q in range(n):
                    i = perm[q]
                    nw = _sgn(h[i], s[i], tie_keep)
                    if nw != s[i]:
                        E += 2.0 * s[i] * h[i] - 2.0 * W[i, i]
                        s[i] = nw
                        d = 2.0 * nw
                        for j in range(n):
                            h[j] += W[i, j] * d
                        sf += 1
                    if record_steps:
                        est[c, idx] = E
                        idx += 1
                nfl += sf
                done = t + 1
                if sf == 0:
                    converged = True
            elif record_steps:
                for q in range(n):
                    est[c, idx] = E
                    idx += 1
            es[c, t + 1] = E
        sweeps[c] = done
        flips[c] = nfl
    return es, est, sweeps, flips


@nb.jit(**_opts)
def hopfield_async_int(W, scale, S, max_sweeps, tie_keep, seed, stream0, record_steps):
    """Twin of hopfield_async_int: int16 couplings W = Wint, int32 fields, exact integer energy."""
    m, n = S.shape
    es = np.empty((m, max_sweeps + 1))
    est = np.empty((m, max_sweeps * n + 1)) if record_steps else np.empty((0, 0))
    sweeps = np.zeros(m, np.int64)
    flips = np.zeros(m, np.int64)
    h = np.empty(n, np.int32)
    perm = np.empty(n, np.int64)
    for c in range(m):
        s = S[c]
        for i in range(n):
            a = np.int32(0)
            for j in range(n):
                a += np.int32(W[i, j]) * np.int32(s[j])
            h[i] = a
        e2 = np.int64(0)
        for i in range(n):
            e2 += np.int64(s[i]) * np.int64(h[i])
        es[c, 0] = -0.5 * scale * np.float64(e2)
        idx = 0
        if record_steps:
            est[c, 0] = es[c, 0]
            idx = 1
        converged = False
        done = 0
        nfl = 0
        st = np.uint64(stream0) + np.uint64(c)
        for t in range(max_sweeps):
            if not converged:
                for i in range(n):
                    perm[i] = i
                cur = -1
                b0 = b1 = b2 = b3 = np.uint64(0)
                for j in range(n - 1, 0, -1):
                    if (j >> 2) != cur:
                        cur = j >> 2
                        b0, b1, b2, b3 = philox_block(seed, st, (np.uint64(t) << _S24) | np.uint64(cur))
                    lane = j & 3
                    w = b0 if lane == 0 else (b1 if lane == 1 else (b2 if lane == 2 else b3))
                    k = np.int64((w * np.uint64(j + 1)) >> _S32)
                    tmp = perm[j]
                    perm[j] = perm[k]
                    perm[k] = tmp
                sf = 0
                for q in range(n):
                    i = perm[q]
                    hi = h[i]
                    if hi > 0:
                        nw = np.int8(1)
                    elif hi < 0:
                        nw = np.int8(-1)
                    else:
                        nw = s[i] if tie_keep else np.int8(-1)
                    if nw != s[i]:
                        e2 -= 4 * np.int64(s[i]) * np.int64(hi) - 4 * np.int64(W[i, i])
                        s[i] = nw
                        d = np.int32(2 * nw)
                        for j in range(n):
                            h[j] += d * np.int32(W[i, j])
                        sf += 1
                    if record_steps:
                        est[c, idx] = -0.5 * scale * np.float64(e2)
                        idx += 1
                nfl += sf
                done = t + 1
                if sf == 0:
                    converged = True
            elif record_steps:
                for q in range(n):
                    est[c, idx] = -0.5 * scale * np.float64(e2)
                    idx += 1
            es[c, t + 1] = -0.5 * scale * np.float64(e2)
        sweeps[c] = done
        flips[c] = nfl
    return es, est, sweeps, flips


@nb.jit(**_opts)
def hopfield_sync(W, S, max_steps, tie_keep):
    m, n = S.shape
    prev = np.empty((m, n), np.int8)
    steps = np.zeros(m, np.int64)
    period = np.zeros(m, np.int32)
    for c in range(m):
        x = S[c].copy()
        px = S[c].copy()
        nx = np.empty(n, np.int8)
        per = 0
        t = 0
        while t < max_steps:
            xd = x.astype(np.float64)
            for i in range(n):
                nx[i] = _sgn(dot4(W[i], xd), x[i], tie_keep)
            if np.all(nx == x):
                per = 1
            elif t > 0 and np.all(nx == px):
                per = 2
            px, x, nx = x, nx, px
            t += 1
            if per:
                break
        S[c] = x
        prev[c] = px
        steps[c] = t
        period[c] = per
    return prev, steps, period
