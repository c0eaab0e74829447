"""Finite Markov chains against the book's weather examples, analytic solutions and enumeration."""

import math

import numpy as np
import pytest

from physdl.lattice.enumerate import coupling_matrix, enumerate_ising, state_energies
from physdl.sampling import markov


def test_gothenburg_weather_book_values():
    g = markov.gothenburg_weather()
    assert g.states == ("rainy", "sunny")
    np.testing.assert_allclose(g.evolve([1, 0], 1), [0.75, 0.25])          # eq. 5.39
    np.testing.assert_allclose(g.evolve([1, 0], 2), [0.625, 0.375])        # eq. 5.40
    n = np.arange(0, 30)
    traj = g.trajectory([1, 0], 29)
    np.testing.assert_allclose(traj[:, 0], (1 + 2.0**-n) / 2, rtol=1e-13)  # eq. 5.41
    for method in ("eigen", "power"):
        np.testing.assert_allclose(g.stationary(method=method), [0.5, 0.5], atol=1e-12)  # eq. 5.42-5.43
    np.testing.assert_allclose(sorted(np.abs(g.eigenvalues())), [0.5, 1.0])
    assert g.relaxation_time() == pytest.approx(1 / math.log(2))


def test_los_angeles_weather_book_values():
    la = markov.los_angeles_weather()
    np.testing.assert_allclose(la.evolve([1, 0], 1), [0.5, 0.5])           # eq. 5.46
    np.testing.assert_allclose(la.evolve([1, 0], 2), [0.3, 0.7])           # eq. 5.47
    for method in ("eigen", "power"):
        np.testing.assert_allclose(la.stationary(method=method), [1 / 6, 5 / 6], atol=1e-12)  # eq. 5.48
    # second eigenvalue 0.4: distance to equilibrium decays as 0.4^n
    d = np.abs(la.trajectory([1, 0], 20)[:, 0] - 1 / 6)
    np.testing.assert_allclose(d, (5 / 6) * 0.4 ** np.arange(21), rtol=0, atol=1e-15)
    assert la.spectral_gap() == pytest.approx(0.6)
    np.testing.assert_allclose(markov.master_equation_flux(la.T, [1 / 6, 5 / 6]), 0, atol=1e-15)
    assert np.abs(markov.master_equation_flux(la.T, [0.5, 0.5])).max() > 0.1


def test_sample_path_frequencies_match_stationary():
    la = markov.los_angeles_weather()
    path = la.sample_path(200_000, seed=7)
    # sunny fraction vs 5/6 with the chain's autocorrelation (lambda_2 = 0.4): tau = (1+0.4)/(2(1-0.4))
    tau = 1.4 / 1.2
    se = math.sqrt(2 * tau * (5 / 36) / path.size)
    assert abs((path == 1).mean() - 5 / 6) < 4 * se
    # transition counts reproduce T: fraction of rainy -> sunny
    prev, nxt = path[:-1], path[1:]
    frac = np.mean(nxt[prev == 0] == 1)
    assert abs(frac - 0.5) < 4 * math.sqrt(0.25 / (prev == 0).sum())
    np.testing.assert_array_equal(path, la.sample_path(200_000, seed=7))


def test_random_chain_eigen_and_power_agree_with_linear_solve():
    rng = np.random.default_rng(0)
    T = rng.random((6, 6))
    T /= T.sum(axis=0)
    A = np.vstack([T - np.eye(6), np.ones(6)])
    exact = np.linalg.lstsq(A, np.r_[np.zeros(6), 1.0], rcond=None)[0]
    c = markov.MarkovChain(T)
    np.testing.assert_allclose(c.stationary("eigen"), exact, atol=1e-12)
    np.testing.assert_allclose(c.stationary("power"), exact, atol=1e-12)
    assert c.is_irreducible() and c.is_aperiodic()


def test_rates_to_transition_matrix():
    T = markov.transition_matrix_from_rates([[0, 0.1], [0.5, 0]])
    np.testing.assert_allclose(T, markov.los_angeles_weather().T)
    T2 = markov.transition_matrix_from_rates([[0, 0.1], [0.5, 0]], dt=0.5)
    # same stationary distribution for any dt (the off-diagonal flows scale together)
    np.testing.assert_allclose(markov.MarkovChain(T2).stationary(), [1 / 6, 5 / 6], atol=1e-12)


@pytest.mark.parametrize("rule", ["metropolis", "heat_bath"])
def test_detailed_balance_accepts_ising_kernels(rule):
    shape = (2, 2)
    J = coupling_matrix(shape, "square")
    beta, h = 0.7, 0.3
    T = markov.ising_transition_matrix(J, h, beta, rule=rule)
    E = state_energies(J, h)
    p = np.exp(-beta * (E - E.min()))
    p /= p.sum()
    rep = markov.detailed_balance(T, p)
    assert rep.holds and rep.stationary, str(rep)
    # the stationary distribution of the kernel is the Boltzmann distribution of the enumeration
    np.testing.assert_allclose(markov.MarkovChain(T).stationary(), p, atol=1e-12)
    ens = enumerate_ising(shape, "square", h=h)
    assert (p * E).sum() / 4 == pytest.approx(float(ens.thermodynamics(beta)["energy"]), rel=1e-12)


def test_detailed_balance_rejects_counterexamples():
    cyc = np.roll(np.eye(3), 1, axis=0)  # deterministic rotation 0 -> 1 -> 2 -> 0
    rep = markov.detailed_balance(cyc, np.full(3, 1 / 3))
    assert not rep.holds and rep.stationary
    assert "FAILS" in str(rep) and "stationary" in str(rep)
    # a sequential Metropolis sweep keeps the Boltzmann distribution stationary but is not reversible
    J = np.ones((3, 3)) - np.eye(3)
    T = markov.ising_transition_matrix(J, 0.2, 0.5, order="sequential")
    E = state_energies(J, 0.2)
    p = np.exp(-0.5 * (E - E.min()))
    p /= p.sum()
    rep = markov.detailed_balance(T, p)
    assert rep.stationary and not rep.holds
    assert rep.max_violation > 1e-3
    # a wrong acceptance rule (exp(-beta dE) without the min) breaks stationarity of the Boltzmann law
    bad = np.array([[0.2, 0.6], [0.8, 0.4]])
    rep = markov.detailed_balance(bad, [0.5, 0.5])
    assert not rep.holds and not rep.stationary


def test_reducible_and_periodic_chains():
    red = markov.MarkovChain(np.eye(2))
    assert not red.is_irreducible()
    with pytest.raises(ValueError, match="reducible"):
        red.stationary()
    per = markov.MarkovChain([[0, 1], [1, 0]])
    assert per.is_irreducible() and not per.is_aperiodic()
    np.testing.assert_allclose(per.stationary("eigen"), [0.5, 0.5])
    with pytest.raises(ValueError, match="periodic"):
        per.stationary("power", p0=[1.0, 0.0], max_iter=100)


def test_bad_transition_matrices():
    with pytest.raises(ValueError, match="column 0 sums to"):
        markov.MarkovChain([[0.5, 0.5], [0.4, 0.5]])
    with pytest.raises(ValueError, match="pass the transpose"):
        markov.MarkovChain([[0.9, 0.1], [0.3, 0.7]])
    with pytest.raises(ValueError, match="negative probability"):
        markov.MarkovChain([[1.2, 0.0], [-0.2, 1.0]])
    with pytest.raises(ValueError, match="square"):
        markov.MarkovChain(np.ones((2, 3)) / 2)
    with pytest.raises(ValueError, match="finite"):
        markov.MarkovChain([[np.nan, 0], [1, 1]])
    with pytest.raises(ValueError, match="sum to 1"):
        markov.gothenburg_weather().evolve([0.5, 0.6])
    with pytest.raises(ValueError, match="method must be one of"):
        markov.gothenburg_weather().stationary(method="qr")
    with pytest.raises(ValueError, match="dt too large"):
        markov.transition_matrix_from_rates([[0, 0.8], [0.9, 0]], dt=2.0)
    with pytest.raises(ValueError, match="rule must be one of"):
        markov.ising_transition_matrix(np.zeros((2, 2)), rule="glauber")
    with pytest.raises(ValueError, match="beta must be > 0"):
        markov.ising_transition_matrix(np.zeros((2, 2)), beta=0.0)


@pytest.mark.parametrize("rule", ["metropolis", "heat_bath"])
def test_checkerboard_sweep_is_stationary_and_palindrome_is_reversible(rule):
    # 2x2 torus (doubled bonds): sublattices {0, 3} and {1, 2}
    shape = (2, 2)
    J = coupling_matrix(shape, "square")
    beta = 0.6
    E = state_energies(J, 0.1)
    p = np.exp(-beta * (E - E.min()))
    p /= p.sum()
    sweep = [0, 3, 1, 2]
    T = markov.ising_transition_matrix(J, 0.1, beta, rule=rule, order=sweep)
    rep = markov.detailed_balance(T, p)
    assert rep.stationary
    sym = markov.ising_transition_matrix(J, 0.1, beta, rule=rule, order=sweep + sweep[::-1])
    assert markov.detailed_balance(sym, p).holds
    with pytest.raises(ValueError, match="order\\[k\\]"):
        markov.ising_transition_matrix(J, 0.1, beta, order=[0, 9])


def test_empirical_transition_matrix_from_a_sample_path():
    la = markov.los_angeles_weather()
    path = la.sample_path(100_000, seed=3)
    T = markov.empirical_transition_matrix(path[:-1], path[1:], 2)
    n_from = np.bincount(path[:-1], minlength=2)
    se = np.sqrt(la.T * (1 - la.T) / n_from[None, :])
    assert np.all(np.abs(T - la.T) < 4 * se + 1e-12)
    with pytest.raises(ValueError, match="never|no transitions"):
        markov.empirical_transition_matrix(np.array([0, 0]), np.array([0, 1]), 3)
