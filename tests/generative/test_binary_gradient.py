"""binary_gradient="exact": the generator's output gradient through drawn spins against the brute-force
gradient of the expectation over all configurations, and the local (coloured) evaluation of flipped
configurations against whole forward passes."""

import itertools

import numpy as np
import pytest

from physdl import generative, nn


def tiny(kind, loss="wgan", L=3, seed=1):
    G = generative.ising_generator(L, noise_channels=1, width=3, depth=2, seed=4, dtype="float64")
    D = generative.ising_critic(L, width=4, global_pool=True, init_scale=5.0, dtype="float64", seed=3)
    if loss == "wgan":
        return generative.WGAN(G, D, penalty=1.0, binary_output=True, binary_gradient=kind, seed=seed)
    return generative.GAN(G, D, loss=loss, binary_output=True, binary_gradient=kind, seed=seed)


def brute_force_gradient(w, z, f):
    """d/dtheta of sum_s p(s | x = G(z)) f(D(s)) over all 2^N spin configurations, the product-Bernoulli
    probabilities p(s | x) = prod_i (1 + s_i x_i) / 2 differentiated exactly in x, then through G."""
    shape = tuple(w.D.input_shape)
    N = int(np.prod(shape))
    x = w.G.predict(z).reshape(-1)
    S = np.array(list(itertools.product([-1.0, 1.0], repeat=N)))
    p = np.prod((1 + S * x) / 2, axis=1)
    fs = f(w.D.predict(S.reshape((-1,) + shape)).reshape(-1))
    dx = (fs[:, None] * p[:, None] * S / (1 + S * x)).sum(axis=0)  # d p(s)/dx_i = p(s) s_i / (1 + s_i x_i)
    return w.G.backward(z, lambda X: dx.reshape(X.shape)).flat.copy()


def mean_gradient(w, z, calls=40, copies=500):
    """Mean and standard error of the generator's parameter gradient over calls * copies draws of the spins
    (one latent vector repeated: the gradient of a batch is the mean over its copies)."""
    g = np.array([w.generator_gradients(np.repeat(z, copies, axis=0))[1].flat.copy() for _ in range(calls)])
    return g.mean(axis=0), g.std(axis=0, ddof=1) / np.sqrt(calls)


@pytest.mark.parametrize("loss", ["wgan", "non_saturating"])
def test_exact_binary_gradient_is_unbiased_and_straight_through_is_not(loss):
    """L = 3 (2^9 configurations), a softplus critic (nonlinear in the spins).  The exact estimator's mean
    lies within 4.5 standard errors of the brute-force gradient in every component; the straight-through
    one misses it by tens of standard errors."""
    f = (lambda c: -c) if loss == "wgan" else (lambda c: np.logaddexp(0.0, -c))  # the generator's f(D)
    w = tiny("exact", loss)
    z = w.latent(1)
    want = brute_force_gradient(w, z, f)
    m, se = mean_gradient(w, z)
    assert np.all(np.abs(m - want) < 4.5 * se + 1e-12), np.max(np.abs(m - want) / se)
    assert np.abs(m - want).max() < 0.1 * np.abs(want).max()  # and the standard errors are small
    st = tiny("straight_through", loss)
    m_st, se_st = mean_gradient(st, z, calls=20)
    assert np.max(np.abs(m_st - want) / se_st) > 15


@pytest.mark.parametrize("fraction", [0.3, 0.7])
def test_flip_fraction_is_unbiased(fraction):
    """A random part of the sites flipped, the straight-through gradient as control variate elsewhere:
    still the brute-force gradient in the mean (L = 3, whole forward passes)."""
    G = generative.ising_generator(3, noise_channels=1, width=3, depth=2, seed=4, dtype="float64")
    D = generative.ising_critic(3, width=4, global_pool=True, init_scale=5.0, dtype="float64", seed=3)
    w = generative.WGAN(G, D, penalty=1.0, binary_output=True, binary_gradient="exact", flip_fraction=fraction,
                        seed=1)
    z = w.latent(1)
    want = brute_force_gradient(w, z, lambda c: -c)
    m, se = mean_gradient(w, z)
    assert np.all(np.abs(m - want) < 4.5 * se + 1e-12), np.max(np.abs(m - want) / se)
    assert np.abs(m - want).max() < 0.1 * np.abs(want).max()


def test_exact_objective_is_the_straight_through_one():
    """Both estimators report the same objective, f(D(s)) on the same drawn spins."""
    a, b = tiny("exact"), tiny("straight_through")
    Z = a.latent(8)
    va, ga = a.generator_gradients(Z)
    vb, gb = b.generator_gradients(Z)
    assert va == pytest.approx(vb, rel=1e-12, abs=1e-12)
    assert not np.allclose(ga.flat, gb.flat)


@pytest.mark.parametrize("L,dtype", [(10, "float64"), (11, "float64"), (16, "float32")])
def test_local_flipped_logits_equal_whole_forward_passes(L, dtype):
    """The coloured evaluation (several well-separated sites flipped per pass) gives D of each singly
    flipped configuration as whole forward passes do: to rounding (in float32 the whole passes' own rounding
    of D, about 1e-7 of |D|, bounds the agreement of the differences)."""
    w = generative.ising_wgan(L, critic_width=5, flip_fraction=1.0, dtype=dtype, seed=2)
    w.D.params[:] += np.random.default_rng(0).normal(scale=0.3, size=w.D.params.shape)  # away from the start
    S = np.random.default_rng(1).choice([-1.0, 1.0], size=(9, 1, L, L)).astype(dtype)
    plan = w._flip_plan()
    assert plan is not None and plan["flips"].shape[0] < L * L  # fewer passes than sites
    g0, g1, gd = w._flipped_logits_generic(S)
    l0, l1, ld = w._flipped_logits_local(S, plan)
    assert gd.all() and ld.all()
    tol = 1e-12 if dtype == "float64" else 1e-5
    scale = np.abs(g0[:, None] - g1).max()
    np.testing.assert_allclose(l0, g0, rtol=0, atol=tol * np.abs(g0).max())
    np.testing.assert_allclose(l0[:, None] - l1, g0[:, None] - g1, rtol=0, atol=tol * max(scale, np.abs(g0).max()))
    # a part of the colours: the flipped values of their sites, only those
    K = plan["flips"].shape[0]
    chosen = np.argsort(np.random.default_rng(3).uniform(size=(9, K)), axis=1)[:, :5]
    c0, c1, cd = w._flipped_logits_local(S, plan, chosen)
    colour = np.argmin(plan["flips"], axis=0)  # the configuration in which each site is flipped
    np.testing.assert_array_equal(cd, (colour[None, :, None] == chosen[:, None, :]).any(axis=2))
    np.testing.assert_allclose((c0[:, None] - c1)[cd], (g0[:, None] - g1)[cd], rtol=0, atol=tol * max(scale, np.abs(g0).max()))
    # the whole generator gradient with the local path equals the one with whole passes
    other = generative.ising_wgan(L, critic_width=5, flip_fraction=1.0, dtype=dtype, seed=2)
    other.D.params[:] = w.D.params
    other._plan = None  # force the whole forward passes
    Z = w.latent(4)
    ga, gb = w.generator_gradients(Z)[1].flat, other.generator_gradients(Z)[1].flat
    np.testing.assert_allclose(ga, gb, rtol=0, atol=(1e-12 if dtype == "float64" else 1e-4) * np.abs(gb).max())


def test_local_path_only_where_it_holds():
    """2x2 pooling (not global), spectral normalisation, or a lattice too small for two separated sites per
    pass: the whole forward passes are used."""
    G = generative.ising_generator(8, noise_channels=1, width=2)
    for D in (generative.ising_critic(8, width=2), generative.ising_critic(8, width=2, global_pool=True,
                                                                            spectral_norm=True)):
        w = generative.WGAN(G, D, penalty=1.0, binary_output=True, binary_gradient="exact")
        assert w._flip_plan() is None
    assert tiny("exact")._flip_plan() is None  # L = 3 < 2 (2 r + 1)


def test_binary_gradient_is_validated():
    G = generative.ising_generator(4, noise_channels=1, width=2)
    D = generative.ising_critic(4, width=2, global_pool=True)
    with pytest.raises(ValueError, match="binary_gradient"):
        generative.WGAN(G, D, penalty=1.0, binary_output=True, binary_gradient="exactly")
    with pytest.raises(ValueError, match="binary_output"):
        generative.WGAN(G, D, penalty=1.0, binary_gradient="exact")
    with pytest.raises((TypeError, ValueError), match="binary_gradient"):
        generative.ising_wgan(4, binary_gradient=1)
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="flip_fraction"):
            generative.WGAN(G, D, penalty=1.0, binary_output=True, binary_gradient="exact", flip_fraction=bad)
    with pytest.raises(ValueError, match="flip_fraction"):
        generative.WGAN(G, D, penalty=1.0, binary_output=True, flip_fraction=0.5)
    w = generative.ising_wgan(4, binary_gradient="straight_through")
    assert w.binary_gradient == "straight_through" and w._settings()["binary_gradient"] == "straight_through"
    assert generative.ising_wgan(4)._settings()["flip_fraction"] == 0.15
