"""Training with checkpoints: a run stopped and resumed from its file equals the uninterrupted run bit for bit."""

import numpy as np
import pytest

from physdl import generative, nn


def trainer(kind="wgan", seed=5):
    G = nn.Sequential([nn.Dense(4, 16), nn.Tanh(), nn.Dense(16, 2)], seed=1)
    D = nn.Sequential([nn.Dense(2, 16, spectral_norm=kind == "gan"), nn.Tanh(), nn.Dense(16, 1)], seed=2)
    if kind == "gan":
        return generative.GAN(G, D, seed=seed)
    if kind == "wgan-ema":  # with the generator's moving average and spins drawn for the critic
        G = nn.Sequential([nn.Dense(4, 16), nn.Tanh(), nn.Dense(16, 2), nn.Tanh()], seed=1)
        return generative.WGAN(G, D, penalty=5.0, n_critic=2, seed=seed, ema=0.9, binary_output=True)
    if kind == "wgan-exact":  # the exact gradient through the drawn spins, on one of the two sites drawn per sample
        G = nn.Sequential([nn.Dense(4, 16), nn.Tanh(), nn.Dense(16, 2), nn.Tanh()], seed=1)
        return generative.WGAN(G, D, penalty=5.0, n_critic=2, seed=seed, binary_output=True,
                               binary_gradient="exact", flip_fraction=0.5)
    return generative.WGAN(G, D, penalty=5.0, n_critic=2, seed=seed)


@pytest.mark.parametrize("kind", ["gan", "wgan", "wgan-ema", "wgan-exact"])
def test_resume_is_bit_for_bit(tmp_path, kind):
    X = generative.ring_of_gaussians(300, seed=1).astype(np.float32)
    full = trainer(kind)
    h_full = full.train(X, 12, batch_size=32)
    ck = tmp_path / "run"
    part = trainer(kind)
    part.train(X, 7, batch_size=32, checkpoint=ck, checkpoint_every=3)
    fresh = trainer(kind)  # a new process would start here: same construction, same file
    h = fresh.train(X, 12, batch_size=32, checkpoint=ck, checkpoint_every=3)
    assert fresh.steps_done == 12
    np.testing.assert_array_equal(fresh.G.params, full.G.params)
    np.testing.assert_array_equal(fresh.D.params, full.D.params)
    for k in h_full.history:
        assert h[k] == h_full[k]
    np.testing.assert_array_equal(fresh.sample(20), full.sample(20))
    if kind == "wgan-ema":
        np.testing.assert_array_equal(fresh.averaged_params, full.averaged_params)


def test_moving_average_of_the_generator():
    """ema: the average after each update equals the recursion applied to the parameters by hand, and
    sample() draws from it (the raw generator with averaged=False)."""
    X = generative.ring_of_gaussians(300, seed=1).astype(np.float32)
    w = trainer("wgan-ema")
    assert w.averaged_params is None
    seen = []
    w.train(X, 5, batch_size=32, callback=lambda step, rec: seen.append(np.array(w.G.params, copy=True)))
    avg = seen[0].copy()
    for p in seen[1:]:
        avg = np.float32(0.9) * avg + np.float32(0.1) * p
    np.testing.assert_allclose(w.averaged_params, avg, rtol=1e-6, atol=1e-7)
    off = w._latent.offset
    raw = w.sample(7, averaged=False)
    w._latent.offset = off
    mean = w.sample(7)
    w._latent.offset = off
    keep = np.array(w.G.params, copy=True)
    w.G.params[:] = w.averaged_params
    np.testing.assert_array_equal(mean, w.sample(7, averaged=False))
    w.G.params[:] = keep
    assert not np.array_equal(raw, mean)
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match="ema"):
            generative.WGAN(w.G, w.D, penalty=1.0, ema=bad)


def test_same_seed_same_generator_and_checkpoint_checks(tmp_path):
    X = generative.ring_of_gaussians(200, seed=1).astype(np.float32)
    a, b = trainer(), trainer()
    a.train(X, 4, batch_size=16)
    b.train(X, 4, batch_size=16)
    np.testing.assert_array_equal(a.G.params, b.G.params)
    ck = tmp_path / "c"
    a.save_checkpoint(ck)
    with pytest.raises(ValueError, match="another trainer"):
        trainer(seed=6).load_checkpoint(ck)
    st = trainer("wgan-exact")
    st.binary_gradient = "straight_through"  # the same trainer but for the gradient through the spins
    st.save_checkpoint(tmp_path / "st")
    with pytest.raises(ValueError, match="another trainer"):
        trainer("wgan-exact").load_checkpoint(tmp_path / "st")
    a.train(X, 5, batch_size=16, checkpoint=ck)
    with pytest.raises(ValueError, match="other data"):
        trainer().train(X[:100], 6, batch_size=16, checkpoint=ck)
