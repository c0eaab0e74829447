# cython: language_level=3
"""The header-only Philox4x32-10 of physdl/random/philox.hpp for Cython extensions built as C++
(``# distutils: language = c++``): the block function inlines into the caller's loop, the same code
a C++ host compiles.  Same (seed, stream, counter) addressing as Python, C++ and physdl.capi."""
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "physdl/random/philox.hpp" namespace "physdl::random" nogil:
    cdef struct Philox4x32:
        uint32_t v[4]
    Philox4x32 philox_block(uint64_t seed, uint64_t stream, uint64_t counter)
    float uniform_float(uint32_t w)
    double uniform_double(uint32_t hi, uint32_t lo)
    double uniform_double_open0(uint32_t hi, uint32_t lo)
