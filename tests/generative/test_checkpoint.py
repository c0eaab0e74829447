"""Training with checkpoints: a run stopped and resumed from its file equals the uninterrupted run bit for bit."""

import numpy as np
import pytest

from physdl import generative, nn


def trainer(kind="wgan", seed=5):
    G = nn.Sequential([nn.Dense(4, 16), nn.Tanh(), nn.Dense(16, 2)], seed=1)
    D = nn.Sequential([nn.Dense(2, 16, spectral_norm=kind == "gan"), nn.Tanh(), nn.Dense(16, 1)], seed=2)
    if kind == "gan":
        return generative.GAN(G, D, seed=seed)
    return generative.WGAN(G, D, penalty=5.0, n_critic=2, seed=seed)


@pytest.mark.parametrize("kind", ["gan", "wgan"])
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
    a.train(X, 5, batch_size=16, checkpoint=ck)
    with pytest.raises(ValueError, match="other data"):
        trainer().train(X[:100], 6, batch_size=16, checkpoint=ck)
