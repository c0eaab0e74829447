"""MCMC error analysis against exact results for i.i.d. and AR(1) processes."""

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from physdl.sampling import mcmc


def ar1(phi, n, seed):
    """AR(1) x_t = phi x_{t-1} + z_t, started in equilibrium: var = 1/(1-phi^2), tau = (1+phi)/(2(1-phi))."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    z[0] /= math.sqrt(1 - phi**2)
    return lfilter([1.0], [1.0, -phi], z)


def test_autocorrelation_matches_direct_sum():
    x = np.random.default_rng(0).normal(size=300).cumsum()
    rho = mcmc.autocorrelation(x, max_lag=40)
    y = x - x.mean()
    direct = np.array([np.dot(y[: y.size - t], y[t:]) / (y.size - t) for t in range(41)])
    np.testing.assert_allclose(rho, direct / direct[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9, 0.97])
def test_integrated_autocorrelation_time_of_ar1(phi):
    exact = (1 + phi) / (2 * (1 - phi))
    r = mcmc.integrated_autocorrelation_time(ar1(phi, 200_000, seed=11))
    assert r.converged
    assert abs(r.tau - exact) < 4 * r.error  # Madras-Sokal error is the yardstick
    assert r.window >= 6 * r.tau - 1


def test_autocorrelation_time_error_bar_is_calibrated():
    # spread of tau over 40 independent series vs the Madras-Sokal error formula
    phi, n = 0.8, 20_000
    rs = [mcmc.integrated_autocorrelation_time(ar1(phi, n, seed=s)) for s in range(40)]
    taus = np.array([r.tau for r in rs])
    predicted = np.mean([r.error for r in rs])
    assert 0.6 < taus.std(ddof=1) / predicted < 1.5
    assert abs(taus.mean() - 4.5) < 4 * taus.std(ddof=1) / math.sqrt(40)  # exact (1+0.8)/(2*0.2)


@pytest.mark.parametrize("phi", [0.0, 0.9])
def test_binning_error_matches_exact_error_of_mean(phi):
    n = 2**18
    x = ar1(phi, n, seed=3)
    tau = (1 + phi) / (2 * (1 - phi))
    exact_err = math.sqrt(2 * tau / (1 - phi**2) / n)
    r = mcmc.binning_analysis(x)
    assert abs(r.error - exact_err) < 4 * r.error_errors[r.plateau_level] + 0.03 * exact_err
    assert r.tau == pytest.approx(tau, rel=0.25)
    m = mcmc.mean_with_error(x)
    assert m.error == pytest.approx(exact_err, rel=0.1)


def test_jackknife_error_matches_spread_of_estimates():
    # i.i.d. Gaussian energies: C = beta^2 N sigma^2, sd(C) = beta^2 N sigma^2 sqrt(2/(n-1))
    beta, N, sigma, n, reps = 0.4, 64, 0.05, 4000, 200
    rng = np.random.default_rng(8)
    est = [mcmc.specific_heat(rng.normal(-1.2, sigma, size=n), beta, N, n_blocks=50) for _ in range(reps)]
    values = np.array([e.value for e in est])
    errors = np.array([e.error for e in est])
    c_exact = beta**2 * N * sigma**2
    sd_exact = c_exact * math.sqrt(2 / (n - 1))
    assert abs(values.mean() - c_exact) < 4 * sd_exact / math.sqrt(reps)
    assert errors.mean() == pytest.approx(sd_exact, rel=0.05)
    assert values.std(ddof=1) == pytest.approx(sd_exact, rel=0.15)


def test_jackknife_specific_heat_of_correlated_data():
    # AR(1) Gaussian: Var(sample variance) = (2 sigma^4 / n) (1 + phi^2) / (1 - phi^2)
    phi, n = 0.9, 400_000
    x = ar1(phi, n, seed=21)
    var = 1 / (1 - phi**2)
    c = mcmc.specific_heat(x, beta=1.0, n_spins=1, n_blocks=100)
    sd = math.sqrt(2 * var**2 / n * (1 + phi**2) / (1 - phi**2))
    assert abs(c.value - var) < 4 * sd
    assert c.error == pytest.approx(sd, rel=0.3)


def test_susceptibility_and_binder_cumulant():
    rng = np.random.default_rng(9)
    m = rng.normal(0.0, 0.2, size=100_000)
    chi = mcmc.susceptibility(m, beta=0.5, n_spins=50, absolute=False)
    assert abs(chi.value - 0.5 * 50 * 0.04) < 4 * chi.error
    # with |m|: chi = beta N sigma^2 (1 - 2/pi) for Gaussian m
    chi_abs = mcmc.susceptibility(m, beta=0.5, n_spins=50)
    assert abs(chi_abs.value - 0.5 * 50 * 0.04 * (1 - 2 / math.pi)) < 4 * chi_abs.error
    u = mcmc.binder_cumulant(m)
    assert abs(u.value) < 4 * u.error and u.error < 0.02
    # ordered phase: m = +-m0 + tiny noise -> U = 2/3
    ordered = np.where(rng.random(10_000) < 0.5, -0.8, 0.8) + rng.normal(0, 1e-3, 10_000)
    assert mcmc.binder_cumulant(ordered).value == pytest.approx(2 / 3, abs=1e-4)


def test_burn_in_thinning_and_equilibration_detection():
    x = ar1(0.5, 20_000, seed=4)
    x[:1000] += 30 * np.exp(-np.arange(1000) / 50.0)  # transient, < 1e-3 sigma after t = 600
    t0, neff = mcmc.detect_equilibration(x)
    assert 200 <= t0 <= 2000
    rest = mcmc.discard_burn_in(x, t0)
    m = mcmc.mean_with_error(rest)
    assert abs(m.value) < 4 * m.error
    assert mcmc.thin(np.arange(10), 3).tolist() == [0, 3, 6, 9]


def test_bad_input():
    with pytest.raises(ValueError, match="finite"):
        mcmc.integrated_autocorrelation_time([1.0, np.nan, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="at least"):
        mcmc.integrated_autocorrelation_time([1.0, 2.0])
    with pytest.raises(ValueError, match="constant"):
        mcmc.autocorrelation(np.ones(10))
    with pytest.raises(ValueError, match="same length"):
        mcmc.jackknife(lambda a, b: a - b, np.ones(10), np.ones(11))
    with pytest.raises(ValueError, match="vectorised"):
        mcmc.jackknife(lambda a: 1.0, np.arange(100.0))
    with pytest.raises(ValueError, match="beta must be > 0"):
        mcmc.specific_heat(np.arange(100.0), beta=-1.0, n_spins=4)
    with pytest.raises(ValueError, match="discard all"):
        mcmc.discard_burn_in(np.arange(5), 5)
    with pytest.raises(ValueError, match="every must be >= 1"):
        mcmc.thin(np.arange(5), 0)
    with pytest.raises(ValueError, match="min_blocks"):
        mcmc.binning_analysis(np.arange(10.0))
