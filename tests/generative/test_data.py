"""Data helpers against independent computations."""

import math

import numpy as np
import pytest

from physdl import generative, lattice
from physdl.lattice import exact


def test_ring_mixture_moments_and_labels():
    X, k = generative.ring_of_gaussians(20000, std=0.1, seed=3, return_labels=True)
    modes = generative.ring_modes()
    np.testing.assert_allclose(np.linalg.norm(modes, axis=1), 2.0)
    # mode weights: chi-square against equal weights (7 dof; 99.9% quantile 24.3)
    c = np.bincount(k, minlength=8)
    assert ((c - 2500.0) ** 2 / 2500.0).sum() < 24.3
    r = X - modes[k]
    assert abs(r.std() - 0.1) < 5 * 0.1 / math.sqrt(2 * r.size)
    assert np.abs(r.mean(axis=0)).max() < 5 * 0.1 / math.sqrt(len(X))
    np.testing.assert_array_equal(X, generative.ring_of_gaussians(20000, std=0.1, seed=3))
    assert not np.array_equal(X, generative.ring_of_gaussians(20000, std=0.1, seed=4))


def test_mode_coverage_counts_by_nearest_mode():
    X, k = generative.ring_of_gaussians(4000, std=0.05, seed=0, return_labels=True)
    cov = generative.mode_coverage(X, generative.ring_modes(), 0.05)
    assert cov["n_covered"] == 8
    np.testing.assert_array_equal(cov["nearest"], k)  # modes are 30 widths apart
    # the fraction within 3 sigma of a 2D Gaussian is 1 - exp(-9/2)
    p = 1 - math.exp(-4.5)
    assert abs(cov["high_quality"] - p) < 5 * math.sqrt(p * (1 - p) / 4000)
    collapsed = generative.mode_coverage(X[k < 3], generative.ring_modes(), 0.05)
    assert collapsed["n_covered"] == 3
    with pytest.raises(ValueError, match="modes"):
        generative.mode_coverage(X, np.zeros((8, 3)), 0.05)
    with pytest.raises(ValueError, match="std"):
        generative.mode_coverage(X, generative.ring_modes(), -1)


def test_ising_observables_against_lattice_energy_and_enumeration():
    L = 3
    rng = np.random.default_rng(0)
    s = rng.choice([-1.0, 1.0], size=(50, L, L))
    obs = generative.ising_observables(s * rng.uniform(0.1, 1, size=s.shape), L)  # sign mapping
    np.testing.assert_allclose(obs["energy"], lattice.Ising((L, L)).energy(s) / (L * L), atol=1e-12)
    np.testing.assert_allclose(obs["abs_magnetisation"], np.abs(s.mean(axis=(1, 2))))
    with pytest.raises(ValueError, match="samples"):
        generative.ising_observables(np.zeros((4, 5)), L)


def test_ising_configurations_energy_matches_kaufman():
    L, T = 8, 3.0
    S = generative.ising_configurations(L, T, 2000, seed=1, every=4)
    assert S.shape == (2000, L, L) and set(np.unique(S)) <= {-1.0, 1.0}
    e = generative.ising_observables(S, L)["energy"]
    from physdl.sampling import binning_analysis

    err = binning_analysis(e).error
    ref = float(exact.kaufman_thermodynamics(1.0 / T, L, L)["energy"])
    assert abs(e.mean() - ref) < 4 * err
