"""10^6 Philox blocks drawn one block at a time: the Cython example's loop against a C++ program doing
the same, built here against the installed headers, in one run.  The goal (issue 21): Cython within
1.2x of C++.  Both loops XOR every word of blocks 0 .. n-1 and the results are checked against
physdl.random, so a loop the compiler drops cannot pass.  The capsule path (one indirect call per
block, for C-mode extensions) is measured too.

Run: python -m pytest benchmarks/bench_cython.py --benchmark-enable
"""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import time

import numpy as np
import pytest

import physdl
import physdl.random as prandom
from tests.test_cython import build_example

N = 1_000_000
SEED, STREAM = 12345, 7

CPP = r"""
#include <cstdint>
#include "physdl/random/philox.hpp"
extern "C" std::uint32_t xor_blocks(std::uint64_t seed, std::uint64_t stream, std::uint64_t n) {
  std::uint32_t acc = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    const physdl::random::Philox4x32 b = physdl::random::philox_block(seed, stream, i);
    acc ^= b.v[0] ^ b.v[1] ^ b.v[2] ^ b.v[3];
  }
  return acc;
}
"""


@pytest.fixture(scope="module")
def loops(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench_cython")
    ex = build_example(tmp)
    cxx = shutil.which("g++") or shutil.which("c++")
    (tmp / "loop.cpp").write_text(CPP)
    # the same flags the example's setup.py gives its extension
    subprocess.run([cxx, "-O2", "-std=c++17", "-fPIC", "-shared", f"-I{physdl.get_include()}",
                    str(tmp / "loop.cpp"), "-o", str(tmp / "libloop.so")], check=True, timeout=300)
    lib = ctypes.CDLL(str(tmp / "libloop.so"))
    lib.xor_blocks.restype = ctypes.c_uint32
    lib.xor_blocks.argtypes = [ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64]
    expect = int(np.bitwise_xor.reduce(prandom.uint32(4 * N, seed=SEED, stream=STREAM)))
    return ex, lib, expect


def test_cpp_loop(benchmark, loops):
    _, lib, expect = loops
    assert benchmark(lib.xor_blocks, SEED, STREAM, N) == expect


def test_cython_loop(benchmark, loops):
    ex, _, expect = loops
    assert benchmark(ex.xor_blocks, SEED, STREAM, N) == expect


def test_cython_capsule_loop(benchmark, loops):
    ex, _, expect = loops
    assert benchmark(ex.xor_blocks_capi, SEED, STREAM, N) == expect


def _best(f, reps=15):
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        f(SEED, STREAM, N)
        best = min(best, time.perf_counter() - t)
    return best


def test_ratio(loops):
    """Best-of-15 times in alternation; prints the ratios (the 1.2x goal is read from the report)."""
    ex, lib, _ = loops
    cpp, cy, cap = [], [], []
    for _ in range(3):
        cpp.append(_best(lib.xor_blocks))
        cy.append(_best(ex.xor_blocks))
        cap.append(_best(ex.xor_blocks_capi))
    c, y, k = min(cpp), min(cy), min(cap)
    print(f"\n10^6 blocks: C++ {c * 1e3:.2f} ms, Cython inline {y * 1e3:.2f} ms ({y / c:.2f}x), "
          f"Cython capsule {k * 1e3:.2f} ms ({k / c:.2f}x)")
    assert y > 0 and c > 0
