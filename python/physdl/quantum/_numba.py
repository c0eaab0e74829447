"""Numba twins of the quantum kernels (src/physdl/quantum/quantum.cpp): same arithmetic, same order.

Configurations are uint64 bit strings (bit i = 1: spin i up).  The sampler draws the same Philox blocks
as the C++ core (``physdl.random._numba.philox_block``), so chains agree with the compiled backend.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numba import types
from numba.extending import overload

from ..random._numba import philox_block, uniform_double

_opts = dict(nopython=True, nogil=True, cache=True)
_ONE = np.uint64(1)


def binomial_table() -> np.ndarray:
    c = np.zeros((65, 65), np.uint64)
    for n in range(65):
        c[n, 0] = 1
        for k in range(1, 65):
            if n > 0:
                c[n, k] = np.uint64(int(c[n - 1, k - 1]) + int(c[n - 1, k]) & (2**64 - 1))
    return c


@nb.jit(**_opts)
def _popcount(x):
    x = np.uint64(x)
    c = 0
    while x:
        x &= x - _ONE
        c += 1
    return c


@nb.jit(**_opts)
def _ctz(x):
    x = np.uint64(x)
    i = 0
    while not (x >> np.uint64(i)) & _ONE:
        i += 1
    return i


@nb.jit(**_opts)
def _rank_one(s, n, n_up, B):
    s = np.uint64(s)
    if n < 64 and (s >> np.uint64(n)) != 0:
        return -1
    if n_up < 0:
        return np.int64(s)
    if _popcount(s) != n_up:
        return -1
    r = np.uint64(0)
    k = 0
    while s:
        pos = _ctz(s)
        k += 1
        r += B[pos, k]
        s &= s - _ONE
    return np.int64(r)


@nb.jit(**_opts)
def rank_states(states, n, n_up, B, out):
    for i in range(states.size):
        out[i] = _rank_one(states[i], n, n_up, B)


def sector_states(n, n_up, dim):
    out = np.empty(dim, np.uint64)
    _sector_states(n, n_up, out)
    return out


@nb.jit(**_opts)
def _sector_states(n, n_up, out):
    if n_up < 0:
        for s in range(out.size):
            out[s] = np.uint64(s)
        return
    if n_up == 0:
        out[0] = 0
        return
    s = (_ONE << np.uint64(n_up)) - _ONE
    for i in range(out.size):
        out[i] = s
        if i + 1 == out.size:
            break
        c = s & (~s + _ONE)
        r = s + c
        s = (((r ^ s) >> np.uint64(2)) // c) | r


@nb.jit(**_opts)
def _group_value(flips, offsets, zmasks, cre, cim, g, s):
    re = 0.0
    im = 0.0
    down = ~np.uint64(s)
    for t in range(offsets[g], offsets[g + 1]):
        sg = -1.0 if _popcount(zmasks[t] & down) & 1 else 1.0
        re += sg * cre[t]
        im += sg * cim[t]
    return re, im


@nb.jit(**_opts)
def connected(flips, offsets, zmasks, cre, cim, states, conn, mre, mim, counts):
    G = flips.size
    for b in range(states.size):
        s = states[b]
        k = 0
        for g in range(G):
            re, im = _group_value(flips, offsets, zmasks, cre, cim, g, s)
            if re == 0.0 and im == 0.0:
                continue
            conn[b, k] = s ^ flips[g]
            mre[b, k] = re
            mim[b, k] = im
            k += 1
        counts[b] = k


@nb.jit(**_opts)
def _csr_count(flips, offsets, zmasks, cre, cim, n, basis, n_up, B, indptr):
    dropped = 0
    for r in range(basis.size):
        k = 0
        for g in range(flips.size):
            re, im = _group_value(flips, offsets, zmasks, cre, cim, g, basis[r])
            if re == 0.0 and im == 0.0:
                continue
            if _rank_one(basis[r] ^ flips[g], n, n_up, B) < 0:
                dropped += 1
                continue
            k += 1
        indptr[r + 1] = k
    return dropped


@nb.jit(**_opts)
def _csr_fill(flips, offsets, zmasks, cre, cim, n, basis, n_up, B, indptr, indices, dre, dim_):
    G = flips.size
    cols = np.empty(max(G, 1), np.int64)
    vre = np.empty(max(G, 1))
    vim = np.empty(max(G, 1))
    for r in range(basis.size):
        k = 0
        for g in range(G):
            re, im = _group_value(flips, offsets, zmasks, cre, cim, g, basis[r])
            if re == 0.0 and im == 0.0:
                continue
            c = _rank_one(basis[r] ^ flips[g], n, n_up, B)
            if c < 0:
                continue
            cols[k] = c
            vre[k] = re
            vim[k] = im
            k += 1
        order = np.argsort(cols[:k])
        o = indptr[r]
        for q in range(k):
            indices[o + q] = cols[order[q]]
            dre[o + q] = vre[order[q]]
            dim_[o + q] = vim[order[q]]


# ---------------------------------------------------------------------------- RBM
@nb.jit(**_opts)
def _log2cosh(x):
    ax = abs(x)
    return ax + math.log1p(math.exp(-2.0 * ax))


@nb.jit(**_opts)
def _tables(w):
    m, n = w.shape
    wt = np.empty((n, m))
    ep = np.empty((n, m))
    em = np.empty((n, m))
    for j in range(m):
        for i in range(n):
            wt[i, j] = w[j, i]
            ep[i, j] = math.exp(2.0 * w[j, i])
            em[i, j] = math.exp(-2.0 * w[j, i])
    return wt, ep, em


@nb.jit(**_opts)
def _theta_of(b, w, s, th):
    """theta from w = W^T (n, m), site by site."""
    n, m = w.shape
    for h in range(m):
        th[h] = b[h]
    for i in range(n):
        if (np.uint64(s) >> np.uint64(i)) & _ONE:
            for h in range(m):
                th[h] += w[i, h]
        else:
            for h in range(m):
                th[h] -= w[i, h]


@nb.jit(**_opts)
def _flip_ratio(a, ep_t, em_t, s, flip, T, ep, em):
    m = T.size
    da = 0.0
    first = True
    x = np.uint64(flip)
    while x:
        i = _ctz(x)
        if (np.uint64(s) >> np.uint64(i)) & _ONE:
            da += a[i]
            pt, qt = ep_t, em_t
        else:
            da += -a[i]
            pt, qt = em_t, ep_t
        for h in range(m):
            p = pt[i, h]
            q = qt[i, h]
            if first:
                ep[h] = p
                em[h] = q
            else:
                ep[h] *= p
                em[h] *= q
        first = False
        x &= x - _ONE
    ratio = math.exp(-2.0 * da)
    for h in range(m):
        ratio *= 0.5 * (ep[h] * (1.0 - T[h]) + em[h] * (1.0 + T[h]))
    return ratio


@nb.jit(**_opts)
def rbm_local_energy(a, b, w, flips, offsets, zmasks, cre, cim, sign_mask, states, out):
    wt, ep_t, em_t = _tables(w)
    m = b.size
    th = np.empty(m)
    T = np.empty(m)
    ep = np.empty(m)
    em = np.empty(m)
    for k in range(states.size):
        s = states[k]
        _theta_of(b, wt, s, th)
        for h in range(m):
            T[h] = math.tanh(th[h])
        e = 0.0
        for g in range(flips.size):
            re, im = _group_value(flips, offsets, zmasks, cre, cim, g, s)
            if re == 0.0:
                continue
            f = flips[g]
            if f == 0:
                e += re
                continue
            sg = -1.0 if _popcount(f & np.uint64(sign_mask)) & 1 else 1.0
            e += sg * re * _flip_ratio(a, ep_t, em_t, s, f, T, ep, em)
        out[k] = e


@nb.jit(**_opts)
def rbm_sample(a, b, w, move, bonds, states, n_samples, sweep, n_discard, seed, stream0, counter0,
               samples, theta_out, accepted):
    wt, ep_t, em_t = _tables(w)
    n, m = a.size, b.size
    nb_ = bonds.shape[0]
    total = n_discard + n_samples * sweep
    th = np.empty(m)
    T = np.empty(m)
    ep = np.empty(m)
    em = np.empty(m)
    for c in range(states.size):
        s = np.uint64(states[c])
        _theta_of(b, wt, s, th)
        for h in range(m):
            T[h] = math.tanh(th[h])
        acc = 0
        k = 0
        for t in range(total):
            w0, w1, w2, w3 = philox_block(seed, np.uint64(stream0) + np.uint64(c), np.uint64(counter0) + np.uint64(t))
            if move == 0:
                i = np.int64((w0 * np.uint64(n)) >> np.uint64(32))
                flip = _ONE << np.uint64(i)
            else:
                e = np.int64((w0 * np.uint64(nb_)) >> np.uint64(32))
                i = bonds[e, 0]
                j = bonds[e, 1]
                if ((s >> np.uint64(i)) ^ (s >> np.uint64(j))) & _ONE:
                    flip = (_ONE << np.uint64(i)) | (_ONE << np.uint64(j))
                else:
                    flip = np.uint64(0)
            if flip != 0:
                ratio = _flip_ratio(a, ep_t, em_t, s, flip, T, ep, em)
                u = uniform_double(w2, w3)
                if u < ratio * ratio:
                    x = flip
                    while x:
                        q = _ctz(x)
                        if (s >> np.uint64(q)) & _ONE:
                            for h in range(m):
                                th[h] -= 2.0 * wt[q, h]
                        else:
                            for h in range(m):
                                th[h] += 2.0 * wt[q, h]
                        x &= x - _ONE
                    for h in range(m):
                        T[h] = math.tanh(th[h])
                    s ^= flip
                    acc += 1
            else:
                acc += 1
            if t >= n_discard and (t - n_discard + 1) % sweep == 0:
                samples[c, k] = s
                k += 1
        states[c] = s
        accepted[c] = acc
        for h in range(m):
            theta_out[c, h] = th[h]


# ---------------------------------------------------------------------------- complex RBM pieces
@nb.jit(**_opts)
def _thetac_of(b, w, s, th):
    m, n = w.shape
    for h in range(m):
        v = b[h]
        for i in range(n):
            if (s >> np.uint64(i)) & _ONE:
                v += w[h, i]
            else:
                v -= w[h, i]
        th[h] = v


@nb.jit(**_opts)
def _log2cosh_c(x):
    s = -x if x.real < 0 else x
    return s + np.log(1.0 + np.exp(-2.0 * s))


@nb.jit(**_opts)
def _cflip_ratio(a, w, s, f, T, d):
    m, n = w.shape
    da = 0j
    for h in range(m):
        d[h] = 0j
    x = np.uint64(f)
    while x:
        i = _ctz(x)
        sg = -2.0 if (s >> np.uint64(i)) & _ONE else 2.0
        da += sg * a[i]
        for h in range(m):
            d[h] += sg * w[h, i]
        x &= x - _ONE
    p = np.exp(da)
    for h in range(m):
        p *= np.cosh(d[h]) + T[h] * np.sinh(d[h])
    return p


@nb.jit(**_opts)
def _table_ratio(tab, ea, pat, T):
    """exp(da) prod_h (cosh d_h + T_h sinh d_h), real: four partial products (the C++ order)."""
    m = T.size
    p0 = 1.0
    p1 = 1.0
    p2 = 1.0
    p3 = 1.0
    h = 0
    while h + 4 <= m:
        p0 *= tab[pat, 0, h] + T[h] * tab[pat, 1, h]
        p1 *= tab[pat, 0, h + 1] + T[h + 1] * tab[pat, 1, h + 1]
        p2 *= tab[pat, 0, h + 2] + T[h + 2] * tab[pat, 1, h + 2]
        p3 *= tab[pat, 0, h + 3] + T[h + 3] * tab[pat, 1, h + 3]
        h += 4
    while h < m:
        p0 *= tab[pat, 0, h] + T[h] * tab[pat, 1, h]
        h += 1
    return ea[pat] * ((p0 * p1) * (p2 * p3))


@nb.jit(**_opts)
def _ctable_ratio(tab, ea, pat, T):
    """The same ratio, complex: one running product from exp(da) (the C++ order)."""
    p = ea[pat]
    for h in range(T.size):
        p *= tab[pat, 0, h] + T[h] * tab[pat, 1, h]
    return p


# ---------------------------------------------------------------------------- real / complex pieces
# The twin of the C++ Net<S>: the kernels below are written once and these few pieces, chosen by the
# parameters' dtype when Numba compiles them, are what differs between the real and the complex RBM.
# They are inlined into the kernels; the hot ones have a jitted function's Python body (.py_func) as their
# implementation, since a lambda calling the jitted function left a call in the loop (5-40% slower).
# _net_ratio (flip masks of three or more sites only) stays a call.
def _is_complex(x):
    """Whether a Numba type is complex or an array of complex numbers."""
    return isinstance(x.dtype if isinstance(x, types.Array) else x, types.Complex)


def _net_tables(w):
    """Real: (W^T, exp(2 W^T), exp(-2 W^T)); complex: (W, W, W) (theta and generic ratios from W)."""


def _net_theta(b, w, s, th):
    """Hidden sums theta of s into th from w = tb[0] of _net_tables (real: W^T, complex: W)."""


def _net_ratio(a, tb, s, f, T, x):
    """psi(s ^ f) / psi(s) for a flip mask without move tables (x: scratch (2, m))."""


def _tab_ratio(tab, ea, pat, T):
    """A move's ratio from its table row."""


def _mel(re, im, T):
    """<s|H|s ^ f> from the group value <s ^ f|H|s> (the real RBM takes real operators only)."""


def _prob(r):
    """The acceptance |ratio|^2."""


def _n_rows(T):
    """Rows per pattern of the move tables: cosh d, sinh d, d and (real) tanh d."""


def _advance(tab, pat, th, T):
    """theta += d after an accepted move, and T = tanh theta (real: by the addition formula)."""


def _log2cosh_any(x):
    """log(2 cosh x)."""


def _net_tables_impl(w):
    if _is_complex(w):
        return lambda w: (w, w, w)
    return lambda w: _tables(w)


def _net_theta_impl(b, w, s, th):
    return _thetac_of.py_func if _is_complex(th) else _theta_of.py_func


def _net_ratio_impl(a, tb, s, f, T, x):
    if _is_complex(T):
        return lambda a, tb, s, f, T, x: _cflip_ratio(a, tb[0], s, f, T, x[0])
    return lambda a, tb, s, f, T, x: _flip_ratio(a, tb[1], tb[2], s, f, T, x[0], x[1])


def _tab_ratio_impl(tab, ea, pat, T):
    return _ctable_ratio.py_func if _is_complex(T) else _table_ratio.py_func


def _mel_impl(re, im, T):
    if _is_complex(T):
        return lambda re, im, T: complex(re, -im)
    return lambda re, im, T: re


def _prob_impl(r):
    if _is_complex(r):
        return lambda r: r.real * r.real + r.imag * r.imag
    return lambda r: r * r


def _n_rows_impl(T):
    if _is_complex(T):
        return lambda T: 3
    return lambda T: 4


def _log2cosh_any_impl(x):
    return _log2cosh_c.py_func if _is_complex(x) else _log2cosh.py_func


for _stub, _impl in ((_net_tables, _net_tables_impl), (_net_theta, _net_theta_impl),
                     (_tab_ratio, _tab_ratio_impl), (_mel, _mel_impl), (_prob, _prob_impl), (_n_rows, _n_rows_impl),
                     (_log2cosh_any, _log2cosh_any_impl)):
    overload(_stub, inline="always")(_impl)
overload(_net_ratio)(_net_ratio_impl)


@overload(_advance, inline="always")
def _advance_impl(tab, pat, th, T):
    if _is_complex(T):
        def advance(tab, pat, th, T):
            for h in range(T.size):
                th[h] += tab[pat, 2, h]
                T[h] = np.tanh(th[h])
        return advance

    def advance(tab, pat, th, T):
        # tanh(theta + d) by the addition formula (T + tanh d) / (1 + T tanh d), the exact tanh once |T| is
        # within 1e-6 of 1 (as the C++ kernel)
        edge = False
        for h in range(T.size):
            th[h] += tab[pat, 2, h]
            edge |= abs(T[h]) > 0.999999
            T[h] = (T[h] + tab[pat, 3, h]) / (1.0 + T[h] * tab[pat, 3, h])
        if edge:
            for h in range(T.size):
                T[h] = math.tanh(th[h])
    return advance


# ---------------------------------------------------------------------------- RBM kernels (real and complex)
@nb.jit(**_opts)
def _theta_all(a, b, w, states, out):
    tb = _net_tables(w)
    for k in range(states.size):
        _net_theta(b, tb[0], np.uint64(states[k]), out[k])


@nb.jit(**_opts)
def _log_psi_all(a, b, w, states, out):
    tb = _net_tables(w)
    n = a.size
    th = np.empty(b.size, b.dtype)
    for k in range(states.size):
        s = np.uint64(states[k])
        _net_theta(b, tb[0], s, th)
        v = 0.0
        for i in range(n):
            v += a[i] if (s >> np.uint64(i)) & _ONE else -a[i]
        for j in range(b.size):
            v += _log2cosh_any(th[j])
        out[k] = v


@nb.jit(**_opts)
def _log_derivs_all(a, b, w, states, out):
    tb = _net_tables(w)
    n, m = a.size, b.size
    th = np.empty(m, b.dtype)
    sp = np.empty(n, out.dtype)
    for k in range(states.size):
        s = np.uint64(states[k])
        for i in range(n):
            sp[i] = 1.0 if (s >> np.uint64(i)) & _ONE else -1.0
            out[k, i] = sp[i]
        _net_theta(b, tb[0], s, th)
        for j in range(m):
            t = np.tanh(th[j])
            out[k, n + j] = t
            for i in range(n):
                out[k, n + m + j * n + i] = t * sp[i]


rbm_theta = rbmc_theta = _theta_all
rbm_log_psi = rbmc_log_psi = _log_psi_all
rbm_log_derivs = rbmc_log_derivs = _log_derivs_all


@nb.jit(**_opts)
def _move_tables(a, w, masks, rows):
    """Twin of MoveTables: per mask of 1-2 sites and spin pattern, cosh d, sinh d, d, (rows 4) tanh d, exp(da)."""
    m, n = w.shape
    G = masks.size
    off = np.full(G, -1, np.int64)
    npat = 0
    for g in range(G):
        k = _popcount(masks[g])
        if k >= 1 and k <= 2:
            off[g] = npat
            npat += 1 << k
    tab = np.zeros((max(npat, 1), rows, m), w.dtype)
    ea = np.ones(max(npat, 1), w.dtype)
    sites = np.zeros(2, np.int64)
    for g in range(G):
        if off[g] < 0:
            continue
        k = 0
        x = np.uint64(masks[g])
        while x:
            sites[k] = _ctz(x)
            k += 1
            x &= x - _ONE
        for p in range(1 << k):
            da = 0.0
            for q in range(k):
                sg = -2.0 if (p >> q) & 1 else 2.0
                da += sg * a[sites[q]]
                for h in range(m):
                    tab[off[g] + p, 2, h] += sg * w[h, sites[q]]
            for h in range(m):
                d = tab[off[g] + p, 2, h]
                tab[off[g] + p, 0, h] = np.cosh(d)
                tab[off[g] + p, 1, h] = np.sinh(d)
                if rows == 4:
                    tab[off[g] + p, 3, h] = np.tanh(d)
            ea[off[g] + p] = np.exp(da)
    return off, tab, ea


@nb.jit(**_opts)
def _pattern(off, masks, g, s):
    f = np.uint64(masks[g])
    i0 = _ctz(f)
    p = np.int64((np.uint64(s) >> np.uint64(i0)) & _ONE)
    f &= f - _ONE
    if f:
        p |= np.int64((np.uint64(s) >> np.uint64(_ctz(f))) & _ONE) << 1
    return off[g] + p


@nb.jit(**_opts)
def _group_signs(flips, sign_mask):
    gsign = np.empty(flips.size)
    for g in range(flips.size):
        gsign[g] = -1.0 if _popcount(flips[g] & np.uint64(sign_mask)) & 1 else 1.0
    return gsign


@nb.jit(**_opts)
def _eloc_with_T(a, tb, flips, offsets, zmasks, cre, cim, goff, gtab, gea, gsign, s, T, x):
    e = 0.0
    for g in range(flips.size):
        re, im = _group_value(flips, offsets, zmasks, cre, cim, g, s)
        mel = _mel(re, im, T)
        if mel == 0.0:
            continue
        f = flips[g]
        if f == 0:
            e += mel
            continue
        if goff[g] >= 0:
            rt = _tab_ratio(gtab, gea, _pattern(goff, flips, g, s), T)
        else:
            rt = _net_ratio(a, tb, s, f, T, x)
        e += gsign[g] * mel * rt
    return e


@nb.jit(**_opts)
def rbmc_local_energy(a, b, w, flips, offsets, zmasks, cre, cim, sign_mask, states, out):
    """Local energies through the per-group tables, theta rebuilt from each state (complex RBM)."""
    m, n = w.shape
    tb = _net_tables(w)
    goff, gtab, gea = _move_tables(a, w, flips, _n_rows(out))
    gsign = _group_signs(flips, sign_mask)
    T = np.empty(m, w.dtype)
    x = np.empty((2, m), w.dtype)
    for k in range(states.size):
        s = np.uint64(states[k])
        _net_theta(b, tb[0], s, T)
        for h in range(m):
            T[h] = np.tanh(T[h])
        out[k] = _eloc_with_T(a, tb, flips, offsets, zmasks, cre, cim, goff, gtab, gea, gsign, s, T, x)


@nb.jit(**_opts)
def _vmc_sample(a, b, w, flips, offsets, zmasks, cre, cim, sign_mask, move, bonds, states, n_samples, sweep,
                n_discard, seed, stream0, counter0, with_O, samples, eloc, O, accepted, theta_out):
    """Twin of the C++ vmc_sample: moves, samples, local energies and O rows in one pass per chain;
    theta_out (chains, m) the final hidden sums, or (0, m) for none."""
    m, n = w.shape
    tb = _net_tables(w)
    goff, gtab, gea = _move_tables(a, w, flips, _n_rows(w))
    gsign = _group_signs(flips, sign_mask)
    if move == 0:
        mmasks = np.empty(n, np.uint64)
        for i in range(n):
            mmasks[i] = _ONE << np.uint64(i)
    else:
        mmasks = np.empty(bonds.shape[0], np.uint64)
        for e in range(bonds.shape[0]):
            mmasks[e] = (_ONE << np.uint64(bonds[e, 0])) | (_ONE << np.uint64(bonds[e, 1]))
    moff, mtab, mea = _move_tables(a, w, mmasks, _n_rows(w))
    nmoves = np.uint64(mmasks.size)
    total = n_discard + n_samples * sweep
    th = np.empty(m, w.dtype)
    T = np.empty(m, w.dtype)
    x = np.empty((2, m), w.dtype)
    for c in range(states.size):
        s = np.uint64(states[c])
        _net_theta(b, tb[0], s, th)
        for h in range(m):
            T[h] = np.tanh(th[h])
        acc = 0
        k = 0
        for t in range(total):
            w0, w1, w2, w3 = philox_block(seed, np.uint64(stream0) + np.uint64(c), np.uint64(counter0) + np.uint64(t))
            e = np.int64((w0 * nmoves) >> np.uint64(32))
            f = mmasks[e]
            if move == 1 and _popcount(s & f) != 1:
                acc += 1
            else:
                pat = _pattern(moff, mmasks, e, s)
                p = _prob(_tab_ratio(mtab, mea, pat, T))
                u = uniform_double(w2, w3)
                if u < p:
                    _advance(mtab, pat, th, T)
                    s ^= f
                    acc += 1
            if t >= n_discard and (t - n_discard + 1) % sweep == 0:
                samples[c, k] = s
                eloc[c, k] = _eloc_with_T(a, tb, flips, offsets, zmasks, cre, cim, goff, gtab, gea, gsign, s, T, x)
                if with_O:
                    row = c * n_samples + k
                    for i in range(n):
                        O[row, i] = 1.0 if (s >> np.uint64(i)) & _ONE else -1.0
                    for j in range(m):
                        O[row, n + j] = T[j]
                        base = n + m + j * n
                        for i in range(n):
                            O[row, base + i] = T[j] * O[row, i]
                k += 1
        states[c] = s
        accepted[c] = acc
        if theta_out.shape[0] > 0:
            for h in range(m):
                theta_out[c, h] = th[h]


@nb.jit(**_opts)
def rbm_vmc_sample(a, b, w, flips, offsets, zmasks, cre, cim, sign_mask, move, bonds, states, n_samples, sweep,
                   n_discard, seed, stream0, counter0, with_O, samples, eloc, O, accepted):
    """Twin of rbm_vmc_sample (real RBM)."""
    _vmc_sample(a, b, w, flips, offsets, zmasks, cre, cim, sign_mask, move, bonds, states, n_samples, sweep,
                n_discard, seed, stream0, counter0, with_O, samples, eloc, O, accepted, np.empty((0, b.size)))


rbmc_vmc_sample = _vmc_sample  # twin of rbmc_vmc_sample (complex RBM: acceptance |ratio|^2, final theta)
