"""Generalisation checks: nearest-neighbour memorisation gap, inception-style score, two-sample test."""

import numpy as np
import pytest
from scipy.stats import entropy, ks_2samp

from physdl import generative


def test_nearest_neighbour_distances_match_brute_force():
    rng = np.random.default_rng(0)
    X, R = rng.normal(size=(37, 5)), rng.normal(size=(53, 5))
    brute = np.sqrt(((X[:, None, :] - R[None]) ** 2).sum(-1)).min(axis=1)
    np.testing.assert_allclose(generative.nearest_neighbour_distances(X, R, block=8), brute, rtol=1e-10, atol=1e-12)


def test_memorisation_shows_as_a_gap():
    X = generative.ring_of_gaussians(900, seed=4)
    train, held = X[:600], X[600:]
    copies = train[:300] + 1e-3 * np.random.default_rng(1).normal(size=(300, 2))  # a memorising "generator"
    fresh = generative.ring_of_gaussians(300, seed=9)                            # one that generalises
    mem = generative.nearest_neighbour_gap(copies, train, held)
    ok = generative.nearest_neighbour_gap(fresh, train, held)
    assert mem["z"] < -5
    assert abs(ok["z"]) < 3


def test_inception_score_against_direct_kl():
    rng = np.random.default_rng(2)
    P = rng.dirichlet(np.ones(4), size=50)
    direct = np.exp(np.mean([entropy(p, P.mean(axis=0)) for p in P]))
    assert generative.inception_score(np.zeros((50, 1)), lambda x: P) == pytest.approx(direct, rel=1e-9)
    one_hot = np.eye(4)[np.arange(40) % 4]
    assert generative.inception_score(np.zeros((40, 1)), lambda x: one_hot) == pytest.approx(4.0, rel=1e-9)
    with pytest.raises(TypeError, match="classifier"):
        generative.inception_score(np.zeros((3, 1)), "no")
    with pytest.raises(ValueError, match="probabilities"):
        generative.inception_score(np.zeros((3, 1)), lambda x: np.ones((3, 2)))


def test_distribution_test_is_scipy_ks_and_separates_temperatures():
    a = generative.ising_observables(generative.ising_configurations(8, 3.0, 200, seed=1), 8)["energy"]
    b = generative.ising_observables(generative.ising_configurations(8, 3.0, 200, seed=2), 8)["energy"]
    c = generative.ising_observables(generative.ising_configurations(8, 1.8, 200, seed=3), 8)["energy"]
    r = generative.distribution_test(a, b)
    assert r["pvalue"] == ks_2samp(a, b).pvalue
    assert r["pvalue"] > 1e-3
    assert generative.distribution_test(a, c)["pvalue"] < 1e-6


def test_ising_nets_chain_and_map_to_spins():
    G, D = generative.ising_generator(8, noise_channels=2, width=4), generative.ising_critic(8, width=4)
    w = generative.WGAN(G, D, penalty=10.0, seed=0)
    s = generative.to_spins(w.sample(5))
    assert s.shape == (5, 8, 8) and set(np.unique(s)) <= {-1, 1}
    with pytest.raises(ValueError, match="even"):
        generative.ising_critic(7)
