"""The Ising generator's pieces (spins sampled from its outputs, locality, global latent channels, oddness,
the flip augmentation) and the physics check: generated energies against an independent Monte Carlo chain."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from physdl import generative, nn, stats

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


def test_generator_is_local_and_translation_equivariant():
    """One site's noise moves only its periodic 7x7 neighbourhood (depth 3); shifting z shifts G(z)."""
    G = generative.ising_generator(L, noise_channels=2, width=4, depth=3, dtype="float64")
    z = np.random.default_rng(0).normal(size=(1,) + tuple(G.input_shape))
    dz = z.copy()
    dz[0, 0, 0, 5] += 1.0
    changed = np.abs(G.predict(dz) - G.predict(z))[0, 0] > 1e-12
    i, j = np.nonzero(changed)
    assert changed.sum() == 49 and set(i) == {13, 14, 15, 0, 1, 2, 3} and set(j) == set(range(2, 9))
    np.testing.assert_allclose(G.predict(np.roll(z, (3, -5), axis=(2, 3))), np.roll(G.predict(z), (3, -5), axis=(2, 3)),
                               rtol=0, atol=1e-12)


def test_global_latent_channels_are_constant_over_the_lattice():
    G = generative.ising_generator(L, noise_channels=2, global_channels=1, width=4, seed=4)
    w = generative.WGAN(G, generative.ising_critic(L, width=4), penalty=1.0, global_latent=1, seed=0)
    z = w.latent(50)
    assert z.shape == (50, 3, L, L) and z.dtype == np.float32
    assert (z[:, 2] == z[:, 2, :1, :1]).all()  # one number per sample at every site
    for c in (0, 1, 2):  # standard normal: per-site noise, and across samples for the global channel
        v = z[:, c].reshape(-1) if c < 2 else z[:, 2, 0, 0]
        assert abs(v.mean()) < 4 / np.sqrt(v.size) and abs(v.var() - 1) < 5 * np.sqrt(2 / v.size)
    z2 = z[:1].copy()
    z2[0, 2] += 1.0  # the global channel moves every site
    assert (np.abs(G.predict(z2) - G.predict(z[:1]))[0, 0] > 0).all()
    with pytest.raises(ValueError, match="global_latent"):
        generative.WGAN(G, generative.ising_critic(L, width=4), penalty=1.0, global_latent=4)
    Gd = nn.Sequential([nn.Dense(4, 4), nn.Tanh(), nn.Dense(4, 2)], seed=1)
    Dd = nn.Sequential([nn.Dense(2, 4), nn.Tanh(), nn.Dense(4, 1)], seed=2)
    with pytest.raises(ValueError, match="global_latent"):
        generative.WGAN(Gd, Dd, penalty=1.0, global_latent=1)


def test_odd_generator_is_odd_and_stays_odd():
    G = generative.ising_generator(8, noise_channels=2, width=4, seed=4, dtype="float64")
    D = generative.ising_critic(8, width=4, dtype="float64")
    w = generative.WGAN(G, D, penalty=10.0, n_critic=1, odd_generator=True, seed=0,
                        g_optimizer=nn.Adam(1e-2), d_optimizer=nn.Adam(1e-2))
    X = generative.ising_configurations(8, 3.0, 40, seed=1, dtype="float64").reshape(-1, 1, 8, 8)
    before = {k: v.copy() for k, v in G.parameters().items()}
    w.train(X, 3, batch_size=8)
    for k, v in G.parameters().items():
        if k.endswith("bias"):
            assert (v == 0).all()
        else:
            assert not np.array_equal(v, before[k])  # the weights do learn
    z = w.latent(6)
    np.testing.assert_allclose(G.predict(-z), -G.predict(z), rtol=0, atol=1e-14)
    relu = nn.Sequential([nn.Conv2d(2, 1, 3, padding=1, padding_mode="periodic"), nn.ReLU()], input_shape=(2, 8, 8))
    with pytest.raises(ValueError, match="odd activations"):
        generative.WGAN(relu, generative.ising_critic(8, width=4), penalty=1.0, odd_generator=True)
    with pytest.raises(TypeError, match="odd_generator"):
        generative.WGAN(G, D, penalty=1.0, odd_generator=1)


def test_global_pool_critic_is_translation_invariant():
    D = generative.ising_critic(L, width=4, global_pool=True, dtype="float64")
    x = np.random.default_rng(1).choice([-1.0, 1.0], size=(3, 1, L, L))
    np.testing.assert_allclose(D.predict(np.roll(x, (3, -5), axis=(2, 3))), D.predict(x), rtol=1e-12, atol=1e-12)
    generative.ising_critic(7, width=2, global_pool=True)  # no even-L condition without 2x2 pooling
    with pytest.raises(TypeError, match="global_pool"):
        generative.ising_critic(L, global_pool="yes")


def test_critic_init_scale_and_ising_wgan_settings():
    a = generative.ising_critic(L, width=4, global_pool=True)
    b = generative.ising_critic(L, width=4, global_pool=True, init_scale=5.0)
    for k, v in a.parameters().items():
        scale = 5.0 if k in ("0.weight", "2.weight") else 1.0
        np.testing.assert_allclose(b.parameters()[k], scale * v, rtol=1e-6)
    with pytest.raises(ValueError, match="init_scale"):
        generative.ising_critic(L, init_scale=0.0)
    w = generative.ising_wgan(8, global_channels=1)
    assert w.odd_generator and w.binary_output and w.global_latent == 1 and tuple(w.G.input_shape) == (5, 8, 8)
    assert (w.binary_gradient, w.flip_fraction, w.penalty_target, w.ema) == ("exact", 0.15, 0.0, 0.99)
    st = generative.ising_wgan(8, binary_output=False)
    assert (st.binary_output, st.binary_gradient, st.flip_fraction) == (False, "straight_through", 1.0)
    assert w.d_optimizer.lr == 3e-3 and w.g_optimizer.lr == 1e-3 and w.g_optimizer.betas == (0.0, 0.9)
    for bad in ({"lr": 0.0}, {"g_lr": -1.0}, {"beta1": -0.5}):
        with pytest.raises(ValueError):
            generative.ising_wgan(8, **bad)


def test_spin_flips_double_the_data():
    X = generative.ising_configurations(8, 3.0, 10, seed=1)
    Y = generative.with_spin_flips(X)
    np.testing.assert_array_equal(Y[10:], -X)
    np.testing.assert_array_equal(Y[:10], X)


def train_ising(T, steps, n_train=2000, seed=0, global_channels=0, flips=False):
    """generative.ising_wgan (its defaults: the exact gradient through the drawn spins on 15% of the site
    colours, the zero-centred gradient penalty, the generator's moving average) on Monte Carlo
    configurations at T, constant learning rates."""
    X = generative.ising_configurations(L, T, n_train, seed=seed, every=4, burn_in=400).reshape(-1, 1, L, L)
    if flips:
        X = generative.with_spin_flips(X)
    w = generative.ising_wgan(L, global_channels=global_channels, seed=seed)
    with threadpool_limits(1):  # small layers: one BLAS thread is fastest on a shared machine
        w.train(X, steps, batch_size=64)
    return w


T3_STEPS = 1000


@pytest.fixture(scope="module")
def t3_run():
    """One training at T = 3.0 (about a minute on two loaded cores), the generated observables (spins
    drawn from the averaged generator's outputs) and an independent Monte Carlo chain's, with errors:
    the generated samples are independent (``std / sqrt(n)``), the chain's error is autocorrelation-aware."""
    w = train_ising(3.0, T3_STEPS)
    gen = generative.ising_observables(generative.sample_spins(w.sample(2000), seed=3), L)
    ref = generative.ising_observables(generative.ising_configurations(L, 3.0, 2000, seed=101, every=4,
                                                                       burn_in=400), L)
    out = {"ks_energy": generative.distribution_test(gen["energy"], ref["energy"])["pvalue"]}
    for key in ("energy", "abs_magnetisation"):
        v = gen[key]
        out[key] = (v.mean(), v.std(ddof=1) / np.sqrt(v.size), stats.mean_with_error(ref[key]))
    return out


def test_generated_configurations_are_ising_like_at_T3(t3_run):
    """|m| within 20% of Monte Carlo's (the critic sees lattice averages of 5x5 features, not |m| itself:
    measured 8-12% low), and the energy histogram not told apart from Monte Carlo's by the two-sample
    Kolmogorov-Smirnov test at the 0.1% level (measured p 0.1-0.99 over seeds)."""
    m, _, mcm = t3_run["abs_magnetisation"]
    assert abs(m - mcm.value) < 0.2 * mcm.value, (m, mcm)
    assert t3_run["ks_energy"] > 1e-3, t3_run["ks_energy"]


def test_generated_energy_matches_monte_carlo_at_T3(t3_run):
    e, se, mc = t3_run["energy"]
    assert abs(e - mc.value) < 3 * np.hypot(se, mc.error), (e, se, mc)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1])
def test_generated_energy_matches_monte_carlo_at_T3_other_seeds(seed):
    """The same recipe from another seed (data, networks, noise): the energy is not one lucky seed's.
    Seed 2 is the tour's T = 3.0 row (``physdl tour``, the same recipe and check); one more training
    here would put this area's CI above two minutes."""
    w = train_ising(3.0, T3_STEPS, seed=seed)
    e = generative.ising_observables(generative.sample_spins(w.sample(2000), seed=3), L)["energy"]
    mc = stats.mean_with_error(generative.ising_observables(
        generative.ising_configurations(L, 3.0, 2000, seed=101 + seed, every=4, burn_in=400), L)["energy"])
    se = e.std(ddof=1) / np.sqrt(e.size)
    assert abs(e.mean() - mc.value) < 3 * np.hypot(se, mc.error), (e.mean(), se, mc)
