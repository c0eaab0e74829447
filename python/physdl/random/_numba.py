"""Numba twins of the Philox4x32-10 kernels: the same words as the C++ core and CUDA.

All arithmetic is done in uint64 and masked to 32 bits, so Numba's integer promotion cannot change
a result.  ``philox_block`` is a jitted function other areas' Numba kernels call directly.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_S8 = np.uint64(8)
_TWO_M24 = 5.9604644775390625e-08
_TWO_M53 = 1.1102230246251565e-16
_TWO_PI = 6.283185307179586476925286766559

_opts = dict(nopython=True, nogil=True, cache=True)


@nb.jit(**_opts)
def philox4x32(c0, c1, c2, c3, k0, k1, rounds=10):
    """Philox4x32 on one counter block; arguments and results are uint64 holding 32-bit words."""
    c0 = np.uint64(c0) & _MASK
    c1 = np.uint64(c1) & _MASK
    c2 = np.uint64(c2) & _MASK
    c3 = np.uint64(c3) & _MASK
    k0 = np.uint64(k0) & _MASK
    k1 = np.uint64(k1) & _MASK
    for r in range(rounds):
        if r > 0:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = _M0 * c0
        p1 = _M1 * c2
        n0 = (p1 >> _S32) ^ c1 ^ k0
        n1 = p1 & _MASK
        n2 = (p0 >> _S32) ^ c3 ^ k1
        n3 = p0 & _MASK
        c0, c1, c2, c3 = n0, n1, n2, n3
    return c0, c1, c2, c3


@nb.jit(**_opts)
def philox_block(seed, stream, counter):
    """The block for (seed, stream, counter), physdl's addressing convention (see philox.hpp)."""
    seed = np.uint64(seed)
    stream = np.uint64(stream)
    counter = np.uint64(counter)
    return philox4x32(counter & _MASK, counter >> _S32, stream & _MASK, stream >> _S32, seed & _MASK, seed >> _S32, 10)


@nb.jit(**_opts)
def uniform_float(w):
    return np.float32(np.float64(np.uint64(w) >> _S8) * _TWO_M24)


@nb.jit(**_opts)
def uniform_double(hi, lo):
    x = ((np.uint64(hi) << _S32) | np.uint64(lo)) >> _S11
    return np.float64(x) * _TWO_M53


@nb.jit(**_opts)
def uniform_double_open0(hi, lo):
    x = ((np.uint64(hi) << _S32) | np.uint64(lo)) >> _S11
    return np.float64(x + np.uint64(1)) * _TWO_M53


@nb.jit(**_opts)
def fill_uint32(seed, stream, offset, out):
    n = out.size
    for b in range((n + 3) // 4):
        w0, w1, w2, w3 = philox_block(seed, stream, np.uint64(offset) + np.uint64(b))
        base = 4 * b
        out[base] = w0
        if base + 1 < n:
            out[base + 1] = w1
        if base + 2 < n:
            out[base + 2] = w2
        if base + 3 < n:
            out[base + 3] = w3


@nb.jit(**_opts)
def fill_uniform_float(seed, stream, offset, out):
    n = out.size
    for b in range((n + 3) // 4):
        w0, w1, w2, w3 = philox_block(seed, stream, np.uint64(offset) + np.uint64(b))
        base = 4 * b
        out[base] = uniform_float(w0)
        if base + 1 < n:
            out[base + 1] = uniform_float(w1)
        if base + 2 < n:
            out[base + 2] = uniform_float(w2)
        if base + 3 < n:
            out[base + 3] = uniform_float(w3)


@nb.jit(**_opts)
def fill_uniform_double(seed, stream, offset, out):
    n = out.size
    for b in range((n + 1) // 2):
        w0, w1, w2, w3 = philox_block(seed, stream, np.uint64(offset) + np.uint64(b))
        out[2 * b] = uniform_double(w0, w1)
        if 2 * b + 1 < n:
            out[2 * b + 1] = uniform_double(w2, w3)


@nb.jit(**_opts)
def fill_normal_double(seed, stream, offset, out):
    n = out.size
    for b in range((n + 1) // 2):
        w0, w1, w2, w3 = philox_block(seed, stream, np.uint64(offset) + np.uint64(b))
        u1 = uniform_double_open0(w0, w1)
        u2 = uniform_double(w2, w3)
        rad = math.sqrt(-2.0 * math.log(u1))
        theta = _TWO_PI * u2
        out[2 * b] = rad * math.cos(theta)
        if 2 * b + 1 < n:
            out[2 * b + 1] = rad * math.sin(theta)
