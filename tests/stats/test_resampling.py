"""physdl.stats resampling (moved from sampling.mcmc) and the estimate type everywhere: a bootstrap checked
against the exact error of a mean and against SciPy's bootstrap, array estimates, and the one-type
returns of lattice, phases and info."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sstats
from scipy.signal import lfilter

from physdl import info, stats
from physdl.random import streams
from physdl.sampling import mcmc


def test_sampling_mcmc_re_exports_the_same_objects():
    for name in ("jackknife", "binning_analysis", "integrated_autocorrelation_time", "autocorrelation",
                 "mean_with_error", "bootstrap", "Estimate", "AutocorrelationTime", "BinningResult"):
        assert getattr(mcmc, name) is getattr(stats, name)


def test_bootstrap_error_of_a_mean_matches_the_exact_one_and_scipy():
    x = np.random.default_rng(11).normal(2.0, 3.0, size=5000)
    est = stats.bootstrap(lambda m: m, x, n_boot=2000, seed=3)
    exact = x.std(ddof=1) / math.sqrt(x.size)
    # the bootstrap standard error itself fluctuates by about 1/sqrt(2 n_boot)
    assert abs(est.error / exact - 1) < 4 / math.sqrt(2 * 2000)
    assert est.value == pytest.approx(x.mean(), rel=1e-14) and est.n == x.size
    ref = sstats.bootstrap((x,), np.mean, n_resamples=2000, method="percentile", random_state=0).standard_error
    assert abs(est.error / ref - 1) < 6 / math.sqrt(2 * 2000)


def test_bootstrap_is_reproducible_and_seeded_from_its_register_stream():
    x = np.random.default_rng(1).normal(size=300)
    a = stats.bootstrap(lambda m, m2: m2 - m * m, x, x * x, n_boot=200, seed=7)
    b = stats.bootstrap(lambda m, m2: m2 - m * m, x, x * x, n_boot=200, seed=7)
    c = stats.bootstrap(lambda m, m2: m2 - m * m, x, x * x, n_boot=200, seed=8)
    assert a == b and a.error != c.error
    assert streams.lookup("stats.bootstrap").start >= streams.AREA_BASE
    streams.check_register()


def test_block_bootstrap_sees_the_autocorrelation():
    phi, n = 0.8, 200_000
    x = lfilter([1.0], [1.0, -phi], np.random.default_rng(5).normal(size=n))
    tau = (1 + phi) / (2 * (1 - phi))  # exact tau_int of AR(1)
    var = 1 / (1 - phi**2)
    exact = math.sqrt(2 * tau * var / n)
    est = stats.bootstrap(lambda m: m, x, n_boot=400, block_size=200, seed=1)
    assert abs(est.error / exact - 1) < 0.2
    naive = stats.bootstrap(lambda m: m, x[:20_000], n_boot=200, seed=1).error
    assert naive < 0.5 * math.sqrt(2 * tau * var / 20_000)  # iid resampling underestimates


def test_bootstrap_bad_input():
    with pytest.raises(TypeError, match="callable"):
        stats.bootstrap(3.0, np.ones(10))
    with pytest.raises(ValueError, match="same length"):
        stats.bootstrap(lambda a, b: a, np.ones(10), np.ones(11))
    with pytest.raises(ValueError, match="n_boot"):
        stats.bootstrap(lambda a: a, np.ones(10), n_boot=1)
    with pytest.raises(ValueError, match="vectorised"):
        stats.bootstrap(lambda a: 1.0, np.arange(10.0), n_boot=10)


def test_autocorrelation_time_is_an_estimate_with_its_madras_sokal_error():
    x = lfilter([1.0], [1.0, -0.5], np.random.default_rng(2).normal(size=50_000))
    r = stats.integrated_autocorrelation_time(x)
    assert isinstance(r, stats.Estimate)
    tau, err = r
    assert tau == r.tau == r.value and err == r.error == r.tau_error
    assert err == pytest.approx(tau * math.sqrt((4 * r.window + 2) / x.size))
    assert abs(tau - 1.5) < 4 * err  # exact (1 + phi) / (2 (1 - phi))


def test_array_estimates_print_and_round_trip():
    e = stats.Estimate(np.array([0.123456, 2.0]), np.array([0.0012, 0.5]), n=10)
    assert str(e) == "[0.1235 ± 0.0012, 2.00 ± 0.50]"
    q, err = e
    assert q.shape == (2,)
    back = stats.Estimate.from_dict(e.to_dict())
    np.testing.assert_array_equal(back.value, e.value)
    assert back.n == 10 and e.within([0.12, 2.3])


def test_empirical_distribution_errors_are_an_estimate():
    s = np.random.default_rng(0).integers(0, 3, size=900)
    est = info.empirical_distribution(s, return_errors=True)
    assert isinstance(est, stats.Estimate) and est.n == 900
    q = np.bincount(s) / s.size
    np.testing.assert_allclose(est.value, q)
    np.testing.assert_allclose(est.error, np.sqrt(q * (1 - q) / 900))


def test_run_result_tau_carries_its_error():
    from physdl import lattice

    res = lattice.Simulation(lattice.Ising((8, 8)), beta=0.35, seed=2).run(2000, measure_every=2)
    for t, series in ((res.tau_energy, res.energy_series), (res.tau_abs_m, np.abs(res.magnetization_series))):
        assert isinstance(t, stats.Estimate)
        ref = stats.integrated_autocorrelation_time(series)
        assert t.value == pytest.approx(2 * ref.tau) and t.error == pytest.approx(2 * ref.error)
    assert "tau_e=" in res.summary()
