"""Inputs that used to return silently wrong values (issue 11), against independent references."""

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import special

from physdl import info
from physdl.lattice import exact
from physdl.sampling import markov, mcmc


def test_markov_evolve_stays_stochastic_for_huge_n():
    T = [[0.9, 0.5], [0.1, 0.5]]
    chain = markov.MarkovChain(T)
    pi = np.array([5 / 6, 1 / 6])  # T pi = pi; the other eigenvalue is 0.4
    p0 = np.array([1.0, 0.0])
    for n in (3, 40, 2**55, 10**30):
        exact_p = pi + 0.4**n * (p0 - pi) if n < 10**4 else pi
        np.testing.assert_allclose(chain.evolve(p0, n), exact_p, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="not stochastic"):
        markov.MarkovChain([[0.9, 0.5], [0.2, 0.5]])


def test_mean_with_error_is_scale_covariant():
    x = np.random.default_rng(0).normal(size=4000)
    ref = mcmc.mean_with_error(x)
    for s in (1e160, 1e-170, 2.0**-1000):
        e = mcmc.mean_with_error(x * s)
        assert math.isclose(e.value, ref.value * s, rel_tol=1e-12)
        assert math.isclose(e.error, ref.error * s, rel_tol=1e-9)


def test_multinomial_log_probability_large_counts():
    def ref(c, q):
        mp.mp.dps = 400
        n = sum(mp.mpf(x) for x in c)
        return float(mp.loggamma(n + 1) - sum(mp.loggamma(mp.mpf(x) + 1) for x in c)
                     + sum(mp.mpf(x) * mp.log(mp.mpf(qq)) for x, qq in zip(c, q) if x))

    for c, q in (([1e308, 1e308], [0.5, 0.5]), ([3, 0, 5], [0.2, 0.3, 0.5]), ([1e12, 3e12], [0.3, 0.7]),
                 ([7, 2e9], [0.1, 0.9])):
        got = info.multinomial_log_probability(c, q)
        want = ref(c, q)
        assert math.isclose(got, want, rel_tol=1e-11, abs_tol=1e-9), (c, got, want)
    assert info.multinomial_log_probability([1, 1], [1.0, 0.0]) == -math.inf
    small = info.multinomial_log_probability([2, 3], [0.4, 0.6])
    assert math.isclose(small, math.log(special.comb(5, 2) * 0.4**2 * 0.6**3), rel_tol=1e-13)


def test_info_axis_errors_name_the_argument():
    with pytest.raises(ValueError, match="axis must be in"):
        info.entropy([0.5, 0.5], axis=3)
    with pytest.raises(TypeError, match="axis must be an integer"):
        info.kl_divergence([0.5, 0.5], [0.5, 0.5], axis=1.5)


def _onsager_mp(K, dps=80):
    mp.mp.dps = dps
    K = mp.mpf(K)

    def lnz(k):
        k2 = (2 * mp.sinh(2 * k) / mp.cosh(2 * k) ** 2) ** 2
        f = lambda t: mp.log(1 + mp.sqrt(1 - k2 * mp.sin(t) ** 2)) - mp.log(2)  # noqa: E731
        return mp.log(2 * mp.cosh(2 * k)) + mp.quad(f, [0, mp.pi / 2]) / mp.pi

    u = -mp.diff(lnz, K)
    c = K**2 * mp.diff(lnz, K, 2)
    return float(u), float(c)


@pytest.mark.parametrize("beta", [1.0, 2.0, 2.6, 3.0, 6.0, 10.0])
def test_onsager_low_temperature_against_mpmath(beta):
    u, c = _onsager_mp(beta, dps=40 + int(8 * beta))
    assert math.isclose(exact.onsager_energy(beta), u, rel_tol=1e-11)
    assert math.isclose(exact.onsager_specific_heat(beta), c, rel_tol=1e-7)
    assert exact.onsager_specific_heat(beta) > 0


def test_onsager_very_low_temperature_is_finite():
    b = np.array([50.0, 200.0, 1e6])
    u, c = exact.onsager_energy(b), exact.onsager_specific_heat(b)
    assert np.all(u == -2.0) and np.all(c >= 0) and np.all(np.isfinite(c))
    # leading term of the series: c ~ 64 K^2 e^{-8K}
    assert math.isclose(exact.onsager_specific_heat(20.0), 64 * 400 * math.exp(-160), rel_tol=1e-6)


def test_kaufman_low_temperature_against_enumeration():
    from physdl.lattice import enumerate as en

    E, _ = en.lattice_state_energies((4, 4))
    for beta in (3.6, 4.0, 6.0):
        d = E - E.min()
        w = np.exp(-beta * d)
        w /= w.sum()
        mean = (w * d).sum()
        var = (w * (d - mean) ** 2).sum()
        got = exact.kaufman_thermodynamics(beta, 4)
        assert math.isclose(float(got["specific_heat"]), beta**2 * var / 16, rel_tol=1e-6)
        assert math.isclose(float(got["energy"]), (E.min() + mean) / 16, rel_tol=1e-13)
    big = exact.kaufman_thermodynamics(np.array([2.0, 200.0]), 8)
    assert np.all(np.isfinite(big["log_z"])) and np.all(big["specific_heat"] >= 0)
    with pytest.raises(ValueError, match="side < 4"):
        exact.kaufman_thermodynamics(5.0, 3)
