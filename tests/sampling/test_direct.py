"""Inverse transform, Box-Muller and rejection samples against their target laws (KS tests, exact moments)."""

import math

import numpy as np
import pytest
from scipy import stats

from physdl.random import Generator
from physdl.sampling import direct


def test_exponential_inverse_transform_ks():
    x = direct.exponential(50_000, rate=2.5, seed=3)
    assert stats.kstest(x, stats.expon(scale=1 / 2.5).cdf).pvalue > 1e-3


def test_inverse_transform_cauchy_ks_and_reproducible():
    f = lambda z: np.tan(np.pi * (z - 0.5))  # noqa: E731
    x = direct.inverse_transform(f, 40_000, seed=9, stream=2)
    assert stats.kstest(x, "cauchy").pvalue > 1e-3
    np.testing.assert_array_equal(x, direct.inverse_transform(f, 40_000, seed=9, stream=2))
    assert not np.array_equal(x, direct.inverse_transform(f, 40_000, seed=9, stream=3))


def test_generator_stream_continues():
    g = Generator(seed=4)
    a = direct.exponential(10, generator=g)
    b = direct.exponential(10, generator=g)
    assert not np.array_equal(a, b)
    g2 = Generator(seed=4)
    np.testing.assert_array_equal(np.concatenate([a, b]), direct.exponential(20, generator=g2))


def test_box_muller_ks_and_moments():
    z = direct.box_muller(100_001, seed=1)
    assert z.shape == (100_001,)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # pairs (x, y) independent: correlation within 4 standard errors of 0
    xy = z[:-1].reshape(-1, 2)
    r = np.corrcoef(xy[:, 0], xy[:, 1])[0, 1]
    assert abs(r) < 4 / math.sqrt(xy.shape[0])
    # radius^2 / 2 is exponential (eq. 5.28-5.30)
    assert stats.kstest((xy**2).sum(axis=1) / 2, "expon").pvalue > 1e-3


def test_discrete_chi_square():
    p = np.array([0.1, 0.0, 0.25, 0.4, 0.25])
    k = direct.discrete(p, 60_000, seed=2)
    counts = np.bincount(k, minlength=5)
    assert counts[1] == 0
    nz = p > 0
    chi = stats.chisquare(counts[nz], 60_000 * p[nz])
    assert chi.pvalue > 1e-3


def test_rejection_sampling_half_normal_and_acceptance_rate():
    # P: half-normal on [0, inf); Q: Exp(1); M = sqrt(2e/pi) (eq. 5.31 tight bound)
    M = math.sqrt(2 * math.e / math.pi)
    res = direct.rejection_sample(lambda x: np.sqrt(2 / np.pi) * np.exp(-x**2 / 2),
                                  lambda g, k: direct.exponential(k, generator=g),
                                  lambda x: np.exp(-x), M, 30_000, seed=11)
    assert res.samples.shape == (30_000,)
    assert stats.kstest(res.samples, stats.halfnorm.cdf).pvalue > 1e-3
    # acceptance rate 1/M (eq. 5.34), binomial standard error
    se = math.sqrt((1 / M) * (1 - 1 / M) / res.n_proposed)
    assert abs(res.acceptance_rate - 1 / M) < 4 * se


def test_rejection_sampling_beta_from_uniform():
    a, b = 2.0, 5.0
    mode = (a - 1) / (a + b - 2)
    M = stats.beta(a, b).pdf(mode) * 1.0001
    res = direct.rejection_sample(stats.beta(a, b).pdf, lambda g, k: g.uniform(k), lambda x: np.ones_like(x),
                                  M, 20_000, seed=5)
    assert stats.kstest(res.samples, stats.beta(a, b).cdf).pvalue > 1e-3


def test_bad_input():
    with pytest.raises(ValueError, match="eq. 5.31"):
        direct.rejection_sample(lambda x: 2 * np.ones_like(x), lambda g, k: g.uniform(k),
                                lambda x: np.ones_like(x), 1.0, 100, seed=0)
    with pytest.raises(ValueError, match="M must be > 0"):
        direct.rejection_sample(lambda x: x, lambda g, k: g.uniform(k), lambda x: x, -1.0, 10)
    with pytest.raises(ValueError, match="non-negative"):
        direct.discrete([0.5, -0.1, 0.6], 10)
    with pytest.raises(ValueError, match="sum to 1"):
        direct.discrete([0.5, 0.6], 10)
    with pytest.raises(ValueError, match="finite"):
        direct.discrete([np.nan, 1.0], 10)
    with pytest.raises(ValueError, match="rate must be > 0"):
        direct.exponential(10, rate=0.0)
    with pytest.raises(TypeError, match="callable"):
        direct.inverse_transform(3.0, 10)
    with pytest.raises(ValueError, match="vectorised"):
        direct.inverse_transform(lambda z: 1.0, 10)
    with pytest.raises(ValueError, match="n must be >= 0"):
        direct.box_muller(-1)


def test_same_draws_on_every_cpu_backend(cpu_backend):
    ref = Generator(seed=77, stream=5, backend="numba")
    gen = Generator(seed=77, stream=5, backend=cpu_backend)
    np.testing.assert_array_equal(direct.box_muller(1001, generator=gen), direct.box_muller(1001, generator=ref))
    np.testing.assert_array_equal(direct.discrete([0.2, 0.3, 0.5], 100, generator=gen),
                                  direct.discrete([0.2, 0.3, 0.5], 100, generator=ref))
    # the default backend gives the same numbers as an explicit one
    np.testing.assert_array_equal(direct.box_muller(64, seed=77, stream=5),
                                  direct.box_muller(64, generator=Generator(77, 5, backend=cpu_backend)))
