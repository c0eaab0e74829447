"""Numba twins of the lattice kernels: the same lattices as the C++ core for the same seed.

Every formula, summation order and random-number address follows src/physdl/lattice/lattice.hpp
and multispin.hpp; integers that carry random bits are uint64 throughout.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .._interrupt import run_in_pieces

from ..random._numba import philox_block

_opts = dict(nopython=True, nogil=True, cache=True)

# Start Numba's threading layer now.  Cached callers of the parallel colour passes (tempering
# rounds, configuration sampling: two calls deep) link against the layer's scheduler symbols when
# they are loaded from the cache; a fresh process that has not started the layer yet would fail
# there ("LLVM ERROR: Symbol not found: allocate_sched", or a segmentation fault).
nb.get_num_threads()

U0 = np.uint64(0)
U1 = np.uint64(1)
ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
ONE53 = np.uint64(1 << 53)
MASK45 = np.uint64((1 << 45) - 1)
TIE = np.uint64(1 << 40)
S8 = np.uint64(8)
S11 = np.uint64(11)
S19 = np.uint64(19)
S32 = np.uint64(32)
S40 = np.uint64(40)
S45 = np.uint64(45)
B39 = np.uint64(1 << 39)
FF = np.uint64(0xFF)
CHUNK = 4096


@nb.jit(**_opts)
def fixed_threshold(p):
    if not (p < 1.0):
        return ONE53
    if not (p > 0.0):
        return U0
    return np.uint64(math.ceil(p * 9007199254740992.0))


@nb.jit(**_opts)
def _byte_measure(s, nbr, uniform, J0, h0, J, h):
    n, z = nbr.shape
    mag = 0
    for i in range(n):
        mag += np.int64(s[i])
    if uniform:
        S = 0
        for i in range(n):
            sm = 0
            for k in range(z):
                sm += np.int64(s[nbr[i, k]])
            S += np.int64(s[i]) * sm
        return -J0 * np.float64(S) * 0.5 - h0 * np.float64(mag), mag
    e = 0.0
    for c in range((n + CHUNK - 1) // CHUNK):
        part = 0.0
        for i in range(c * CHUNK, min((c + 1) * CHUNK, n)):
            loc = 0.0
            for k in range(z):
                loc += J[i * z + k] * np.float64(s[nbr[i, k]])
            si = np.float64(s[i])
            part += -(0.5 * si * loc + h[i] * si)
        e += part
    return e, mag


@nb.jit(**_opts)
def _decide(byte, P, seed, stream, j):
    top = P >> S45
    if byte != top:
        return byte < top
    t0, t1, t2, t3 = philox_block(seed, stream, TIE | np.uint64(j))
    rest = ((t0 << S32) | t1) >> S19
    return rest < (P & MASK45)


@nb.jit(**_opts)
def _colour_pass(s, nbr, uniform, J, h, order, update, beta, table, seed, stream, begin, count):
    z = nbr.shape[1]
    nblk = (count + 15) // 16
    for b in nb.prange(nblk):
        v = philox_block(seed, stream, np.uint64(b))
        for j in range(b * 16, min((b + 1) * 16, count)):
            i = order[begin + j]
            lane = j & 15
            w = v[0]
            if (lane >> 2) == 1:
                w = v[1]
            elif (lane >> 2) == 2:
                w = v[2]
            elif (lane >> 2) == 3:
                w = v[3]
            byte = (w >> np.uint64(8 * (lane & 3))) & FF
            si = s[i]
            if uniform:
                sm = 0
                for k in range(z):
                    sm += np.int64(s[nbr[i, k]])
                idx = (sm + z) // 2
                if update == 0:
                    P = table[(z + 1 if si > 0 else 0) + idx]
                else:
                    P = table[idx]
            else:
                loc = 0.0
                for k in range(z):
                    loc += J[i * z + k] * np.float64(s[nbr[i, k]])
                loc += h[i]
                if update == 0:
                    P = fixed_threshold(math.exp(-2.0 * beta * np.float64(si) * loc))
                else:
                    P = fixed_threshold(1.0 / (1.0 + math.exp(-2.0 * beta * loc)))
            acc = _decide(byte, P, seed, stream, j)
            if update == 0:
                if acc:
                    s[i] = -si
            else:
                s[i] = 1 if acc else -1


_colour_pass_par = nb.njit(parallel=True, nogil=True, cache=True)(_colour_pass.py_func)


@nb.jit(**_opts)
def _byte_sweeps(s, nbr, uniform, J0, h0, J, h, order, col_off, update, beta, table, seed, chain, sweep0,
                 nsweeps, every, t_base, energy, mag, parallel, ctr):
    ncol = col_off.size - 1
    seed = np.uint64(seed)
    for t in range(nsweeps):
        sweep = np.uint64(sweep0) + np.uint64(t)
        for c in range(ncol):
            stream = (np.uint64(chain) << S40) | (sweep * np.uint64(ncol) + np.uint64(c))
            begin = col_off[c]
            count = col_off[c + 1] - col_off[c]
            if parallel and count > 2048:
                _colour_pass_par(s, nbr, uniform, J, h, order, update, beta, table, seed, stream, begin, count)
            else:
                _colour_pass(s, nbr, uniform, J, h, order, update, beta, table, seed, stream, begin, count)
        tt = t_base + t + 1
        if every > 0 and tt % every == 0:
            m = tt // every - 1
            e, mg = _byte_measure(s, nbr, uniform, J0, h0, J, h)
            energy[m] = e
            mag[m] = mg
        ctr[0] += 1


@nb.jit(**_opts)
def _value(seed, stream, q):
    v0, v1, v2, v3 = philox_block(seed, stream, np.uint64(q) >> U1)
    if (np.uint64(q) & U1) == U0:
        return (v0 << S32) | v1
    return (v2 << S32) | v3


@nb.jit(**_opts)
def _p_add(uniform, p_uniform, J, beta, bond):
    if uniform:
        return p_uniform
    return fixed_threshold(1.0 - math.exp(-2.0 * beta * J[bond]))


@nb.jit(**_opts)
def _wolff_sweeps(s, nbr, uniform, J0, h0, J, h, beta, p_add, seed, chain, cluster0, per_sweep, nsweeps, every,
                  t_base, energy, mag, flipped_out, ctr):
    n, z = nbr.shape
    seed = np.uint64(seed)
    p_add = np.uint64(p_add)
    stack = np.empty(n, np.int32)
    cluster = np.uint64(cluster0)
    for t in range(nsweeps):
        flipped = 0
        for _c in range(per_sweep):
            stream = (np.uint64(chain) << S40) | cluster
            # the block cache of the C++ code is an optimisation only: values are addressed by q
            q = 0
            i0 = np.int64(_value(seed, stream, q) % np.uint64(n))
            q += 1
            sign = s[i0]
            s[i0] = -sign
            top = 0
            size = 1
            stack[top] = i0
            top += 1
            while top > 0:
                top -= 1
                i = stack[top]
                for k in range(z):
                    bond = i * z + k
                    j = nbr[i, k]
                    if s[j] != sign:
                        continue
                    x = _value(seed, stream, q)
                    q += 1
                    if (x >> S11) < _p_add(uniform, p_add, J, beta, bond):
                        s[j] = -sign
                        stack[top] = j
                        top += 1
                        size += 1
            flipped += size
            cluster += U1
        flipped_out[t_base + t] = flipped
        tt = t_base + t + 1
        if every > 0 and tt % every == 0:
            m = tt // every - 1
            e, mg = _byte_measure(s, nbr, uniform, J0, h0, J, h)
            energy[m] = e
            mag[m] = mg
        ctr[0] += 1
        ctr[1] = np.int64(cluster)
        ctr[2] += flipped
    return cluster


@nb.jit(**_opts)
def _find(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@nb.jit(**_opts)
def _sw_sweeps(s, nbr, uniform, J0, h0, J, h, beta, p_add, seed, chain, sweep0, nsweeps, every, t_base, energy, mag,
               ctr):
    n, z = nbr.shape
    seed = np.uint64(seed)
    p_add = np.uint64(p_add)
    parent = np.empty(n, np.int32)
    for t in range(nsweeps):
        stream = (np.uint64(chain) << S40) | (np.uint64(sweep0) + np.uint64(t))
        for i in range(n):
            parent[i] = i
        for i in range(n):
            for k in range(z):
                bond = i * z + k
                j = nbr[i, k]
                if j <= i or s[j] != s[i]:
                    continue
                if (_value(seed, stream, bond) >> S11) < _p_add(uniform, p_add, J, beta, bond):
                    a = _find(parent, i)
                    b = _find(parent, j)
                    if a == b:
                        continue
                    if a < b:
                        parent[b] = a
                    else:
                        parent[a] = b
        fstream = stream | B39
        for i in range(n):
            r = np.uint64(_find(parent, i))
            v = philox_block(seed, fstream, r >> np.uint64(7))
            w = v[np.int64((r >> np.uint64(5)) & np.uint64(3))]
            if (w >> (r & np.uint64(31))) & U1:
                s[i] = -s[i]
        tt = t_base + t + 1
        if every > 0 and tt % every == 0:
            m = tt // every - 1
            e, mg = _byte_measure(s, nbr, uniform, J0, h0, J, h)
            energy[m] = e
            mag[m] = mg
        ctr[0] += 1


# ----------------------------------------------------------------------------- multi-spin


@nb.jit(**_opts)
def _popcount(x):
    x = x - ((x >> U1) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@nb.jit(**_opts)
def _valid_mask(q, nw, n):
    r = n & 63
    if q + 1 < nw or r == 0:
        return ALL
    return (U1 << np.uint64(r)) - U1


@nb.jit(**_opts)
def _side_word(row, q, nw, n, prev):
    top = np.uint64((n - 1) & 63)
    if prev:
        if q > 0:
            inb = row[q - 1] >> np.uint64(63)
        else:
            inb = (row[nw - 1] >> top) & U1
        return ((row[q] << U1) | inb) & _valid_mask(q, nw, n)
    if q + 1 < nw:
        inb = (row[q + 1] & U1) << np.uint64(63)
    else:
        inb = (row[0] & U1) << top
    return (row[q] >> U1) | inb


@nb.jit(**_opts)
def _update_word(update, own, up, down, same, side, valid, thr, seed, stream, word_index, cls):
    if update == 0:
        x0, x1, x2, x3 = own ^ up, own ^ down, own ^ same, own ^ side
    else:
        x0, x1, x2, x3 = up, down, same, side
    s01 = x0 ^ x1
    k01 = x0 & x1
    s23 = x2 ^ x3
    k23 = x2 & x3
    c0 = s01 ^ s23
    kk = s01 & s23
    c1 = k01 ^ k23 ^ kk
    c2 = (k01 & k23) | (kk & (k01 ^ k23))
    nc0 = ~c0
    nc1 = ~c1
    nc2 = ~c2
    cnt0 = nc2 & nc1 & nc0
    cnt1 = nc2 & nc1 & c0
    cnt2 = nc2 & c1 & nc0
    cnt3 = nc2 & c1 & c0
    cnt4 = c2
    if update == 0:
        nown = ~own
        cls[0] = cnt0 & nown & valid
        cls[1] = cnt1 & nown & valid
        cls[2] = cnt2 & nown & valid
        cls[3] = cnt3 & nown & valid
        cls[4] = cnt4 & nown & valid
        cls[5] = cnt0 & own & valid
        cls[6] = cnt1 & own & valid
        cls[7] = cnt2 & own & valid
        cls[8] = cnt3 & own & valid
        cls[9] = cnt4 & own & valid
        ncls = 10
    else:
        cls[0] = cnt0 & valid
        cls[1] = cnt1 & valid
        cls[2] = cnt2 & valid
        cls[3] = cnt3 & valid
        cls[4] = cnt4 & valid
        ncls = 5
    accept = U0
    und = U0
    for i in range(ncls):
        if thr[i] >= ONE53:
            accept |= cls[i]
        elif thr[i] > U0:
            und |= cls[i]
    v0 = v1 = v2 = v3 = U0
    k = 0
    while k < 53 and und != U0:
        if (k & 1) == 0:
            v0, v1, v2, v3 = philox_block(seed, stream, np.uint64(word_index) * np.uint64(32) + np.uint64(k >> 1))
            r = v0 | (v1 << S32)
        else:
            r = v2 | (v3 << S32)
        pk = U0
        sh = np.uint64(52 - k)
        for i in range(ncls):
            digit = (thr[i] >> sh) & U1
            pk |= cls[i] & (U0 - digit)
        diff = und & (r ^ pk)
        accept |= diff & pk
        und &= ~diff
        k += 1
    if update == 0:
        return (own ^ accept) & valid
    return accept & valid


@nb.jit(**_opts)
def _ms_row(words, ly, nw, n, c, y, update, thr, seed, stream):
    other = 1 - c
    cls = np.empty(10, np.uint64)
    row = words[other, y]
    up = words[other, (y + ly - 1) % ly]
    down = words[other, (y + 1) % ly]
    prev = ((y + c) & 1) == 0
    for q in range(nw):
        side = _side_word(row, q, nw, n, prev)
        words[c, y, q] = _update_word(update, words[c, y, q], up[q], down[q], row[q], side,
                                      _valid_mask(q, nw, n), thr, seed, stream, y * nw + q, cls)


@nb.jit(**_opts)
def _ms_colour(words, c, update, thr, seed, stream, n):
    ly, nw = words.shape[1], words.shape[2]
    for y in nb.prange(ly):
        _ms_row(words, ly, nw, n, c, y, update, thr, seed, stream)


_ms_colour_par = nb.njit(parallel=True, nogil=True, cache=True)(_ms_colour.py_func)


@nb.jit(**_opts)
def _multispin_measure(words, lx, J, h):
    ly, nw = words.shape[1], words.shape[2]
    n = lx // 2
    upc = 0
    anti = 0
    for y in range(ly):
        own = words[0, y]
        oth = words[1, y]
        up = words[1, (y + ly - 1) % ly]
        dn = words[1, (y + 1) % ly]
        prev = (y & 1) == 0
        for q in range(nw):
            upc += _popcount(own[q]) + _popcount(oth[q])
            side = _side_word(oth, q, nw, n, prev)
            anti += (_popcount(own[q] ^ up[q]) + _popcount(own[q] ^ dn[q]) + _popcount(own[q] ^ oth[q])
                     + _popcount(own[q] ^ side))
    nsites = ly * lx
    mag = 2 * upc - nsites
    return -J * np.float64(2 * nsites - 2 * anti) - h * np.float64(mag), mag


@nb.jit(**_opts)
def _multispin_sweeps(words, lx, update, thr, J, h, seed, chain, sweep0, nsweeps, every, t_base, energy, mag, parallel,
                      ctr):
    n = lx // 2
    seed = np.uint64(seed)
    for t in range(nsweeps):
        sweep = np.uint64(sweep0) + np.uint64(t)
        for c in range(2):
            stream = (np.uint64(chain) << S40) | (np.uint64(2) * sweep + np.uint64(c))
            if parallel:
                _ms_colour_par(words, c, update, thr, seed, stream, n)
            else:
                _ms_colour(words, c, update, thr, seed, stream, n)
        tt = t_base + t + 1
        if every > 0 and tt % every == 0:
            m = tt // every - 1
            e, mg = _multispin_measure(words, lx, J, h)
            energy[m] = e
            mag[m] = mg
        ctr[0] += 1


# ----------------------------------------------------------------------------- checked entry points
# The jitted kernels above trust their arguments; these wrappers give them the guarantees of the C++
# bindings (csrc/bindings/lattice.cpp): sizes, index ranges and spin values are checked before any
# kernel runs, so no input reads or writes out of bounds.  Long calls run in pieces of about 20 ms
# (physdl._interrupt.run_in_pieces, starting at one sweep and growing with the measured rate):
# Ctrl-C is seen between pieces, and because each kernel advances ``counters`` (sweeps done, next
# Wolff cluster, spins flipped) after every sweep, the state and its counters always agree.


def _need(cond, msg):
    if not cond:
        raise ValueError(msg)


def _arr(a, dtype, name, writeable=False):
    if not isinstance(a, np.ndarray) or a.dtype != np.dtype(dtype) or not a.flags.c_contiguous:
        raise TypeError(f"{name} must be a C-contiguous {np.dtype(dtype)} array")
    if writeable and not a.flags.writeable:
        raise ValueError(f"{name} must be writeable")
    return a


def _check_graph(s, nbr, uniform, J, h, order=None, col_off=None):
    _arr(s, np.int8, "spins")
    _arr(nbr, np.int32, "nbr")
    n = s.size
    _need(n > 0, "spins must not be empty")
    _need(nbr.ndim == 2 and nbr.shape[0] == n and nbr.shape[1] >= 1, "nbr must have shape (n, z)")
    if nbr.size:
        _need(int(nbr.min()) >= 0 and int(nbr.max()) < n, "nbr holds an index outside [0, n)")
    if not uniform:
        _arr(J, np.float64, "J")
        _arr(h, np.float64, "h")
        _need(J.size == nbr.size, "J must hold n * z couplings")
        _need(h.size == n, "h must hold n fields")
    if order is not None:
        _arr(order, np.int32, "order")
        _arr(col_off, np.int64, "col_off")
        _need(order.size == n, "order must hold n sites")
        _need(int(order.min()) >= 0 and int(order.max()) < n, "order holds an index outside [0, n)")
        _need(col_off.size >= 2 and col_off[0] == 0 and col_off[-1] == n, "col_off must run from 0 to n")
        _need(bool(np.all(np.diff(col_off) >= 0)), "col_off must be non-decreasing")
    bad = int(np.count_nonzero((s != 1) & (s != -1)))
    _need(bad == 0, f"spins must hold only +1 and -1 (found {bad} other values)")
    return n, nbr.shape[1]


def _check_out(nsweeps, every, energy, mag):
    _need(nsweeps >= 0, "nsweeps must be >= 0")
    _arr(energy, np.float64, "energy", True)
    _arr(mag, np.int64, "mag", True)
    need = nsweeps // every if every > 0 else 0
    _need(energy.size >= need and mag.size >= need, "energy/mag outputs are too short")


def _counters(counters):
    if counters is None:
        return np.zeros(3, np.int64)
    _arr(counters, np.int64, "counters", True)
    _need(counters.ndim == 1 and counters.size >= 3, "counters must hold 3 int64 values")
    return counters


def byte_measure(s, nbr, uniform, J0, h0, J, h):
    """Energy and magnetisation of a byte configuration (checked entry point)."""
    _check_graph(s, nbr, uniform, J, h)
    return _byte_measure(s, nbr, uniform, J0, h0, J, h)


def byte_sweeps(s, nbr, uniform, J0, h0, J, h, order, col_off, update, beta, table, seed, chain, sweep0, nsweeps,
                every, energy, mag, parallel, counters=None):
    """Checkerboard Metropolis / heat-bath sweeps (checked, chunked entry point)."""
    _arr(s, np.int8, "spins", True)
    n, z = _check_graph(s, nbr, uniform, J, h, order, col_off)
    _need(update in (0, 1), "unknown update")
    _arr(table, np.uint64, "table")
    _need(not uniform or table.size >= 2 * (z + 1), "table too short")
    _check_out(nsweeps, every, energy, mag)
    ctr = _counters(counters)

    def piece(t, k):
        _byte_sweeps(s, nbr, uniform, J0, h0, J, h, order, col_off, update, beta, table, seed, chain,
                     np.uint64(int(sweep0) + t), k, every, t, energy, mag, parallel, ctr)

    run_in_pieces(piece, nsweeps)


def wolff_sweeps(s, nbr, uniform, J0, h0, J, h, beta, p_add, seed, chain, cluster0, per_sweep, nsweeps, every,
                 energy, mag, flipped_out, counters=None):
    """Wolff sweeps (checked, chunked entry point); returns the next cluster number."""
    _arr(s, np.int8, "spins", True)
    n, z = _check_graph(s, nbr, uniform, J, h)
    _check_out(nsweeps, every, energy, mag)
    _arr(flipped_out, np.int64, "flipped", True)
    _need(flipped_out.size >= nsweeps, "flipped output is too short")
    _need(per_sweep >= 1, "clusters_per_sweep must be >= 1")
    ctr = _counters(counters)
    cluster = [np.uint64(cluster0)]

    def piece(t, k):
        cluster[0] = _wolff_sweeps(s, nbr, uniform, J0, h0, J, h, beta, p_add, seed, chain, cluster[0], per_sweep, k,
                                   every, t, energy, mag, flipped_out, ctr)

    run_in_pieces(piece, nsweeps)
    return cluster[0]


def sw_sweeps(s, nbr, uniform, J0, h0, J, h, beta, p_add, seed, chain, sweep0, nsweeps, every, energy, mag,
              counters=None):
    """Swendsen-Wang sweeps (checked, chunked entry point)."""
    _arr(s, np.int8, "spins", True)
    n, z = _check_graph(s, nbr, uniform, J, h)
    _check_out(nsweeps, every, energy, mag)
    ctr = _counters(counters)

    def piece(t, k):
        _sw_sweeps(s, nbr, uniform, J0, h0, J, h, beta, p_add, seed, chain, np.uint64(int(sweep0) + t), k, every,
                   t, energy, mag, ctr)

    run_in_pieces(piece, nsweeps)


def _check_words(words, lx):
    _arr(words, np.uint64, "words")
    _need(isinstance(lx, (int, np.integer)) and lx >= 2 and lx % 2 == 0, "lx must be even and >= 2")
    _need(words.ndim == 3 and words.shape[0] == 2 and words.shape[1] >= 2 and words.shape[1] % 2 == 0
          and words.shape[2] == (lx // 2 + 63) // 64, "words must have shape (2, ly, ceil(lx / 128)), ly even")


def multispin_measure(words, lx, J, h):
    """Energy and magnetisation of multi-spin words (checked entry point)."""
    _check_words(words, lx)
    return _multispin_measure(words, lx, J, h)


def multispin_sweeps(words, lx, update, thr, J, h, seed, chain, sweep0, nsweeps, every, energy, mag, parallel,
                     counters=None):
    """Multi-spin checkerboard sweeps (checked, chunked entry point)."""
    _check_words(words, lx)
    _arr(words, np.uint64, "words", True)
    _need(update in (0, 1), "unknown update")
    _arr(thr, np.uint64, "thresholds")
    _need(thr.size >= (10 if update == 0 else 5), "thresholds too short")
    _check_out(nsweeps, every, energy, mag)
    ctr = _counters(counters)

    def piece(t, k):
        _multispin_sweeps(words, lx, update, thr, J, h, seed, chain, np.uint64(int(sweep0) + t), k, every, t, energy,
                          mag, parallel, ctr)

    run_in_pieces(piece, nsweeps)


# ----------------------------------------------------------------------------- one-call kernels
# Many samples / tempering rounds per call (twins of src/physdl/lattice/sample.cpp and tempering.cpp).
# Their callers (Simulation.configurations, ParallelTempering) pass arrays built and checked by the
# lattice engine itself and bound the work of each call.


@nb.jit(**_opts)
def sample_configurations(s, nbr, uniform, J0, h0, J, h, order, col_off, method, update, beta, table, p_add, seed,
                          chain, counter0, per_sweep, n_samples, every, out, flipped, parallel):
    """Twin of the C++ sample_configurations: n_samples configurations `every` sweeps apart into out
    (n_samples, n); method 0 local (byte_sweeps), 1 Wolff (counter = cluster), 2 Swendsen-Wang."""
    e = np.zeros(1)
    m = np.zeros(1, np.int64)
    ctr = np.zeros(3, np.int64)  # the kernels' progress counters; the caller advances its own after the call
    counter = np.uint64(counter0)
    for i in range(n_samples):
        if method == 0:
            _byte_sweeps(s, nbr, uniform, J0, h0, J, h, order, col_off, update, beta, table, seed, chain, counter,
                         every, 0, 0, e, m, parallel, ctr)
            counter += np.uint64(every)
        elif method == 1:
            counter = np.uint64(_wolff_sweeps(s, nbr, uniform, J0, h0, J, h, beta, p_add, seed, chain, counter,
                                              per_sweep, every, 0, 0, e, m, flipped[i * every:(i + 1) * every], ctr))
        else:
            _sw_sweeps(s, nbr, uniform, J0, h0, J, h, beta, p_add, seed, chain, counter, every, 0, 0, e, m, ctr)
            counter += np.uint64(every)
        out[i, :] = s
    return counter


@nb.jit(**_opts)
def tempering_rounds(states, nbr, uniform, J0, h0, J, h, order, col_off, method, update, betas, tables, p_adds, seed,
                     chains, counters, per_sweep, n_rounds, burn_in, every, round0, uniforms, energy, mag, accepted,
                     attempted, flipped, configs, record_configs, parallel):
    """Twin of the C++ tempering_rounds (states (R, n); energy, mag (R, kept); configs (R, kept, n))."""
    R, n = states.shape
    E = np.zeros(R)
    M = np.zeros(R, np.int64)
    e1 = np.zeros(1)
    m1 = np.zeros(1, np.int64)
    F = np.zeros(every, np.int64)
    ctr = np.zeros(3, np.int64)  # the kernels' progress counters; the caller advances its own after the call
    for r in range(n_rounds):
        for k in range(R):
            s = states[k]
            if method == 0:
                _byte_sweeps(s, nbr, uniform, J0, h0, J, h, order, col_off, update, betas[k], tables[k], seed,
                             chains[k], counters[k], every, every, 0, e1, m1, parallel, ctr)
                counters[k] += np.uint64(every)
            elif method == 1:
                counters[k] = np.uint64(_wolff_sweeps(s, nbr, uniform, J0, h0, J, h, betas[k], p_adds[k], seed,
                                                      chains[k], counters[k], per_sweep[k], every, every, 0, e1, m1, F,
                                                      ctr))
                flipped[k] += F.sum()
            else:
                _sw_sweeps(s, nbr, uniform, J0, h0, J, h, betas[k], p_adds[k], seed, chains[k], counters[k], every,
                           every, 0, e1, m1, ctr)
                counters[k] += np.uint64(every)
            E[k] = e1[0]
            M[k] = m1[0]
        keep = r >= burn_in
        p = (round0 + r) % 2
        while p + 1 < R:
            x = (betas[p] - betas[p + 1]) * (E[p] - E[p + 1])
            acc = uniforms[r, p] < math.exp(min(x, 0.0))
            if acc:
                for i in range(n):
                    t = states[p, i]
                    states[p, i] = states[p + 1, i]
                    states[p + 1, i] = t
                E[p], E[p + 1] = E[p + 1], E[p]
                M[p], M[p + 1] = M[p + 1], M[p]
            if keep:
                attempted[p] += 1
                if acc:
                    accepted[p] += 1
            p += 2
        if keep:
            i = r - burn_in
            for k in range(R):
                energy[k, i] = E[k]
                mag[k, i] = M[k]
                if record_configs:
                    configs[k, i, :] = states[k]
