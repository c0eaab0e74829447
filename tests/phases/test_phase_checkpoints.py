"""PhaseClassifier, Thermometer and ThreeUnitNetwork fits checkpoint every epoch and resume bit for bit."""

import numpy as np
import pytest

from physdl import nn, phases


@pytest.fixture(scope="module")
def data():
    return phases.ising_dataset("square", 8, [1.8, 2.1, 2.4, 2.7, 3.0], n_per_T=24, every=1, burn_in=50, seed=3,
                                progress=False)


def _interrupt_in_epoch(monkeypatch, epoch_calls):
    """Raise KeyboardInterrupt inside the given training step (counted over the whole fit)."""
    orig = nn.Sequential.train_step
    n = {"k": 0}

    def step(self, *a, **k):
        n["k"] += 1
        if n["k"] == epoch_calls:
            raise KeyboardInterrupt
        return orig(self, *a, **k)

    monkeypatch.setattr(nn.Sequential, "train_step", step)


@pytest.mark.parametrize("make,fit_kw", [
    (lambda: phases.PhaseClassifier(8, "fc", hidden=16, seed=2), dict(epochs=4, batch_size=32)),
    (lambda: phases.Thermometer(8, "fc", hidden=16, seed=2), dict(epochs=4, batch_size=32)),
    (lambda: phases.ThreeUnitNetwork(8, seed=2), dict(epochs=4, batch_size=32)),
])
def test_interrupted_fit_resumes_from_its_checkpoint_bit_for_bit(tmp_path, monkeypatch, data, make, fit_kw):
    ref = make()
    ref.fit(data, **fit_kw)
    net = make()
    _interrupt_in_epoch(monkeypatch, 9)  # 8 steps of 32 per epoch at most: inside the second epoch
    with pytest.raises(KeyboardInterrupt):
        net.fit(data, checkpoint=tmp_path / "ck", **fit_kw)
    monkeypatch.undo()
    assert (tmp_path / "ck.npz").is_file()
    steps, full = [], []
    orig = nn.Sequential.train_step
    monkeypatch.setattr(nn.Sequential, "train_step", lambda self, *a, **k: full.append(1) or orig(self, *a, **k))
    make().fit(data, **fit_kw)
    monkeypatch.setattr(nn.Sequential, "train_step", lambda self, *a, **k: steps.append(1) or orig(self, *a, **k))
    again = make()
    again.fit(data, checkpoint=tmp_path / "ck", **fit_kw)
    monkeypatch.undo()
    assert 0 < len(steps) < len(full)  # it went on from the saved epochs, not from the start
    for a, b in zip(ref.model.parameters().values(), again.model.parameters().values()):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    probe = data.configs[:10]
    assert np.array_equal(ref.predict_proba(probe), again.predict_proba(probe))
