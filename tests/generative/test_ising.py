"""The Ising generator's pieces: spins sampled from its outputs, its global latent, the flip augmentation."""

import numpy as np
import pytest

from physdl import generative

L = 16


def test_sample_spins_has_the_output_as_mean():
    x = np.linspace(-1, 1, 16 * 16).reshape(1, 1, 16, 16).repeat(4000, axis=0)
    s = generative.sample_spins(x, seed=3).astype(np.float64)
    assert s.shape == (4000, 16, 16) and set(np.unique(s)) == {-1.0, 1.0}
    se = np.sqrt(np.maximum(1 - x[:, 0] ** 2, 1e-12).mean(axis=0) / 4000)  # Bernoulli error per site
    assert (np.abs(s.mean(axis=0) - x[0, 0]) < 5 * se + 1e-12).all()
    np.testing.assert_array_equal(s, generative.sample_spins(x, seed=3))
    with pytest.raises(ValueError, match="x must"):
        generative.sample_spins(np.full((2, 1, 4, 4), 1.5))
    with pytest.raises(ValueError, match="x must"):
        generative.sample_spins(np.zeros((2, 3, 4, 4)))


def test_generator_has_a_global_latent():
    G = generative.ising_generator(L, seed=4)
    z = np.zeros((1,) + tuple(G.input_shape), np.float32)
    z2 = z.copy()
    z2[0, 0, 0, 0] = 1.0  # one latent component moves every site
    dx = np.abs(G.predict(z2) - G.predict(z))[0, 0]
    assert (dx > 0).all()


def test_spin_flips_double_the_data():
    X = generative.ising_configurations(8, 3.0, 10, seed=1)
    Y = generative.with_spin_flips(X)
    np.testing.assert_array_equal(Y[10:], -X)
    np.testing.assert_array_equal(Y[:10], X)
