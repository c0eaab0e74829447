# distutils: language = c++
# cython: language_level=3, boundscheck=False, wraparound=False
"""A small Metropolis driver written in Cython on top of physdl.

It draws its own Philox numbers (the hot start, through the C API; the benchmark's blocks, through
the inlined header) and calls physdl's sweep kernel once per sweep inside a ``nogil`` loop, measuring
energy and magnetisation after every sweep.  Its lattice equals
``physdl.lattice.Simulation(Ising((ly, lx)), beta, update=..., storage=..., seed=seed, chain=chain)``
after the same sweeps, bit for bit.
"""
import numpy as np

from libc.stdint cimport int8_t, int64_t, uint32_t, uint64_t

from physdl.capi cimport (PHYSDL_HEAT_BATH, PHYSDL_METROPOLIS, PHYSDL_OK, import_capi,
                          physdl_capi)
from physdl.philox cimport Philox4x32, philox_block

cdef const physdl_capi* api = import_capi()

# Simulation's hot start reads this stream of the chain (physdl.lattice.simulation._INIT_STREAM).
cdef uint64_t INIT_STREAM = (<uint64_t> 1 << 40) - 1


class PhysdlError(RuntimeError):
    """A C API call returned an error code."""


cdef int check(int rc) except -1:
    if rc != PHYSDL_OK:
        raise PhysdlError(f"physdl C API error {rc}")
    return 0


def uint32(uint64_t seed, uint64_t stream, size_t n):
    """n Philox words (as physdl.random.uint32)."""
    cdef uint32_t[::1] out = np.empty(n, np.uint32)
    cdef int rc
    with nogil:
        rc = api.fill_uint32(seed, stream, 0, &out[0] if n else NULL, n, n)
    check(rc)
    return np.asarray(out)


def uniform(uint64_t seed, uint64_t stream, size_t n, bint single=False):
    """n uniforms in [0, 1) (as physdl.random.uniform, float64 or float32)."""
    cdef double[::1] d
    cdef float[::1] f
    cdef int rc
    if single:
        f = np.empty(n, np.float32)
        with nogil:
            rc = api.fill_uniform_float(seed, stream, 0, &f[0] if n else NULL, n, n)
        check(rc)
        return np.asarray(f)
    d = np.empty(n, np.float64)
    with nogil:
        rc = api.fill_uniform_double(seed, stream, 0, &d[0] if n else NULL, n, n)
    check(rc)
    return np.asarray(d)


def normal(uint64_t seed, uint64_t stream, size_t n):
    """n standard normals (as physdl.random.normal)."""
    cdef double[::1] d = np.empty(n, np.float64)
    cdef int rc
    with nogil:
        rc = api.fill_normal_double(seed, stream, 0, &d[0] if n else NULL, n, n)
    check(rc)
    return np.asarray(d)


def blocks(uint64_t seed, uint64_t stream, uint64_t n):
    """Blocks 0 .. n-1 of (seed, stream), one philox_block call each: shape (n, 4)."""
    cdef uint32_t[:, ::1] out = np.empty((n, 4), np.uint32)
    cdef uint64_t i
    cdef Philox4x32 b
    with nogil:
        for i in range(n):
            b = philox_block(seed, stream, i)
            out[i, 0] = b.v[0]
            out[i, 1] = b.v[1]
            out[i, 2] = b.v[2]
            out[i, 3] = b.v[3]
    return np.asarray(out)


def xor_blocks(uint64_t seed, uint64_t stream, uint64_t n):
    """XOR of all words of blocks 0 .. n-1, one inlined philox_block call per block (the benchmark loop)."""
    cdef uint64_t i
    cdef uint32_t acc = 0
    cdef Philox4x32 b
    with nogil:
        for i in range(n):
            b = philox_block(seed, stream, i)
            acc ^= b.v[0] ^ b.v[1] ^ b.v[2] ^ b.v[3]
    return acc


def xor_blocks_capi(uint64_t seed, uint64_t stream, uint64_t n):
    """The same through the capsule's philox_block (one indirect call per block)."""
    cdef uint64_t i
    cdef uint32_t acc = 0
    cdef uint32_t w[4]
    with nogil:
        for i in range(n):
            api.philox_block(seed, stream, i, w, 4)
            acc ^= w[0] ^ w[1] ^ w[2] ^ w[3]
    return acc


def run(int64_t ly, int64_t lx, double beta, int64_t nsweeps, str update="metropolis", str storage="multispin",
        double J=1.0, double h=0.0, uint64_t seed=0, uint64_t chain=0):
    """Hot start, then nsweeps sweeps, one kernel call per sweep in a nogil loop.

    Returns (state, energy, mag): the multi-spin words (shape (2, ly, nw)) or the int8 spins (ly, lx),
    and the energy and magnetisation after each sweep.
    """
    cdef int code = PHYSDL_METROPOLIS if update == "metropolis" else PHYSDL_HEAT_BATH
    if update not in ("metropolis", "heat_bath"):
        raise ValueError(f"update must be 'metropolis' or 'heat_bath', got {update!r}")
    if storage not in ("multispin", "byte"):
        raise ValueError(f"storage must be 'multispin' or 'byte', got {storage!r}")
    cdef bint multi = storage == "multispin"
    cdef uint64_t table[10]
    cdef size_t ntab = 0
    check(api.lattice_table(1 if multi else 0, code, beta, J, h, table, 10, &ntab))
    cdef double[::1] E = np.zeros(max(nsweeps, 1))
    cdef int64_t[::1] M = np.zeros(max(nsweeps, 1), np.int64)
    cdef uint64_t stream = (chain << 40) | INIT_STREAM
    cdef size_t nwords, n, i
    cdef uint64_t[::1] words
    cdef int8_t[::1] spins
    cdef uint32_t[::1] bits
    cdef int64_t t
    cdef int rc = PHYSDL_OK
    nw = (lx // 2 + 63) // 64
    if multi:
        nwords = api.multispin_words_len(ly, lx)
        if nwords == 0:
            raise ValueError("ly and lx must be even and >= 2")
        words = np.empty(nwords, np.uint64)
        # the hot start of Simulation: the words' bits straight from the Philox stream,
        # padding bits of each row's last word cleared
        check(api.fill_uint32(seed, stream, 0, <uint32_t*> &words[0], 2 * nwords, 2 * nwords))
        r = (lx // 2) & 63
        if r:
            for i in range(nw - 1, nwords, nw):
                words[i] &= (<uint64_t> 1 << r) - 1
        with nogil:
            for t in range(nsweeps):
                rc = api.multispin_sweeps(&words[0], nwords, ly, lx, code, table, ntab, J, h, seed, chain, t, 1, 1,
                                          &E[t], 1, &M[t], 1)
                if rc != PHYSDL_OK:
                    break
        check(rc)
        return np.asarray(words).reshape(2, ly, nw), np.asarray(E)[:nsweeps], np.asarray(M)[:nsweeps]
    if ly < 2 or lx < 2:
        raise ValueError("ly and lx must be even and >= 2")
    n = ly * lx
    bits = np.empty(n, np.uint32)
    check(api.fill_uint32(seed, stream, 0, &bits[0], n, n))
    spins = np.empty(n, np.int8)
    for i in range(n):
        spins[i] = 1 if bits[i] & 1 else -1
    with nogil:
        for t in range(nsweeps):
            rc = api.byte_sweeps(&spins[0], n, ly, lx, code, table, ntab, J, h, seed, chain, t, 1, 1,
                                 &E[t], 1, &M[t], 1)
            if rc != PHYSDL_OK:
                break
    check(rc)
    return np.asarray(spins).reshape(ly, lx), np.asarray(E)[:nsweeps], np.asarray(M)[:nsweeps]


def capi():
    """A few raw calls for testing the C API's checks: returns {name: error code}."""
    cdef uint32_t w[4]
    cdef double d[4]
    cdef uint64_t table[10]
    cdef uint64_t words[8]
    cdef int8_t s[16]
    cdef double e
    cdef int64_t m
    cdef size_t big = <size_t> -1
    for i in range(16):
        s[i] = 1
    for i in range(8):
        words[i] = 0
    for i in range(4):
        w[i] = 0xdeadbeef
    check(api.lattice_table(1, PHYSDL_METROPOLIS, 0.4, 1.0, 0.0, table, 10, NULL))
    out = {}
    out["block_null"] = api.philox_block(1, 2, 3, NULL, 4)
    out["block_short"] = api.philox_block(1, 2, 3, w, 3)
    out["block_short_untouched"] = int(w[0] == 0xdeadbeef)
    out["fill_null"] = api.fill_uniform_double(1, 2, 0, NULL, 4, 4)
    out["fill_short"] = api.fill_uniform_double(1, 2, 0, d, 3, 4)
    out["fill_huge"] = api.fill_uint32(1, 2, 0, w, 4, big)
    out["table_enum"] = api.lattice_table(1, 7, 0.4, 1.0, 0.0, table, 10, NULL)
    out["table_short"] = api.lattice_table(1, PHYSDL_METROPOLIS, 0.4, 1.0, 0.0, table, 9, NULL)
    out["table_nan"] = api.lattice_table(1, PHYSDL_METROPOLIS, float("nan"), 1.0, 0.0, table, 10, NULL)
    out["words_len_odd"] = <int> api.multispin_words_len(3, 4)
    out["words_len_overflow"] = <int> api.multispin_words_len(<int64_t> 1 << 40, <int64_t> 1 << 40)
    out["ms_short"] = api.multispin_sweeps(words, 7, 4, 4, PHYSDL_METROPOLIS, table, 10, 1.0, 0.0, 0, 0, 0, 1, 0,
                                           NULL, 0, NULL, 0)
    out["ms_odd"] = api.multispin_sweeps(words, 8, 4, 5, PHYSDL_METROPOLIS, table, 10, 1.0, 0.0, 0, 0, 0, 1, 0,
                                         NULL, 0, NULL, 0)
    out["ms_overflow"] = api.multispin_sweeps(words, 8, <int64_t> 1 << 40, <int64_t> 1 << 40, PHYSDL_METROPOLIS,
                                              table, 10, 1.0, 0.0, 0, 0, 0, 1, 0, NULL, 0, NULL, 0)
    out["ms_enum"] = api.multispin_sweeps(words, 8, 4, 4, 9, table, 10, 1.0, 0.0, 0, 0, 0, 1, 0, NULL, 0, NULL, 0)
    out["ms_table_short"] = api.multispin_sweeps(words, 8, 4, 4, PHYSDL_METROPOLIS, table, 9, 1.0, 0.0, 0, 0, 0,
                                                 1, 0, NULL, 0, NULL, 0)
    out["ms_energy_short"] = api.multispin_sweeps(words, 8, 4, 4, PHYSDL_METROPOLIS, table, 10, 1.0, 0.0, 0, 0, 0,
                                                  2, 1, &e, 1, &m, 1)
    out["ms_energy_null"] = api.multispin_sweeps(words, 8, 4, 4, PHYSDL_METROPOLIS, table, 10, 1.0, 0.0, 0, 0, 0,
                                                 1, 1, NULL, 1, &m, 1)
    out["ms_negative"] = api.multispin_sweeps(words, 8, 4, 4, PHYSDL_METROPOLIS, table, 10, 1.0, 0.0, 0, 0, 0,
                                              -1, 0, NULL, 0, NULL, 0)
    out["byte_short"] = api.byte_sweeps(s, 15, 4, 4, PHYSDL_METROPOLIS, table, 10, 1.0, 0.0, 0, 0, 0, 1, 0,
                                        NULL, 0, NULL, 0)
    s[5] = 3
    out["byte_bad_spin"] = api.byte_sweeps(s, 16, 4, 4, PHYSDL_METROPOLIS, table, 10, 1.0, 0.0, 0, 0, 0, 1, 0,
                                           NULL, 0, NULL, 0)
    out["measure_null"] = api.multispin_measure(words, 8, 4, 4, 1.0, 0.0, NULL, &m)
    out["ms_ok"] = api.multispin_sweeps(words, 8, 4, 4, PHYSDL_METROPOLIS, table, 10, 1.0, 0.0, 0, 0, 0, 1, 1,
                                        &e, 1, &m, 1)
    out["words_len_4x4"] = <int> api.multispin_words_len(4, 4)
    return out
