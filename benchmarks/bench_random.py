"""Philox throughput: physdl (cpp, numba) against NumPy's own Philox generator, in one run.

Each benchmark also checks its numbers (so a fast wrong kernel cannot pass).
Run: pytest benchmarks/bench_random.py --benchmark-enable
"""

import numpy as np
import pytest
from scipy import stats

import physdl
from physdl import random

N = 4_000_000


@pytest.mark.parametrize("backend", [b for b in ("cpp", "numba") if physdl.backends()[b].available])
def test_uniform_float64(benchmark, backend):
    random.uniform(16, seed=1, backend=backend)  # compile / warm
    u = benchmark(random.uniform, N, 1, 0, 0, np.float64, backend)
    assert stats.kstest(u[:200_000], "uniform").pvalue > 1e-4


def test_uniform_float64_numpy_philox(benchmark):
    gen = np.random.Generator(np.random.Philox(1))
    u = benchmark(gen.random, N)
    assert stats.kstest(u[:200_000], "uniform").pvalue > 1e-4


@pytest.mark.parametrize("backend", [b for b in ("cpp", "numba") if physdl.backends()[b].available])
def test_normal(benchmark, backend):
    random.normal(16, seed=1, backend=backend)
    z = benchmark(random.normal, N, 1, 0, 0, backend)
    assert stats.kstest(z[:200_000], "norm").pvalue > 1e-4


def test_normal_numpy_philox(benchmark):
    gen = np.random.Generator(np.random.Philox(1))
    z = benchmark(gen.standard_normal, N)
    assert stats.kstest(z[:200_000], "norm").pvalue > 1e-4
