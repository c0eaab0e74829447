"""Optimizer state saved with the model; fit checkpoints atomically and resumes bit for bit."""

import os

import numpy as np
import pytest

from physdl import nn


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return X, np.sin(X[:, :1]) * X[:, 1:2]


def _model(backend="cpp"):
    return nn.Sequential([nn.Dense(3, 6), nn.Tanh(), nn.Dense(6, 1)], seed=4, dtype="float32", backend=backend)


class _Interrupt(Exception):
    pass


def _interrupting(model, after):
    calls = {"n": 0}
    real = model.train_step

    def step(*a, **k):
        calls["n"] += 1
        if calls["n"] > after:
            raise _Interrupt
        return real(*a, **k)

    model.train_step = step


@pytest.mark.parametrize("stop_after", [4, 10, 16])
def test_resumed_fit_equals_uninterrupted_bit_for_bit(tmp_path, cpu_backend, stop_after):
    X, y = _data()
    ref = _model(cpu_backend)
    h_ref = ref.fit(X, y, "mse", nn.Adam(lr=1e-2), epochs=6, batch_size=16)
    ck = tmp_path / "run"
    a = _model(cpu_backend)
    _interrupting(a, stop_after)  # 3 steps per epoch: interrupted mid-epoch
    with pytest.raises(_Interrupt):
        a.fit(X, y, "mse", nn.Adam(lr=1e-2), epochs=6, batch_size=16, checkpoint=ck)
    assert (tmp_path / "run.npz").exists()
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    b = _model(cpu_backend)  # a fresh process would build the model again
    h = b.fit(X, y, "mse", nn.Adam(lr=1e-2), epochs=6, batch_size=16, checkpoint=ck)
    np.testing.assert_array_equal(b.params, ref.params)
    assert h["loss"] == h_ref["loss"] and h.epoch == h_ref.epoch


def test_resume_across_a_shuffle_chunk(tmp_path):
    # with many samples the shuffles are drawn one epoch at a time; with few, several epochs at once
    X, y = _data()
    ref = _model()
    ref.fit(X, y, "mse", nn.SGD(lr=0.05, momentum=0.9), epochs=5, batch_size=8)
    a = _model()
    _interrupting(a, 17)
    with pytest.raises(_Interrupt):
        a.fit(X, y, "mse", nn.SGD(lr=0.05, momentum=0.9), epochs=5, batch_size=8, checkpoint=tmp_path / "c.npz",
              checkpoint_every=2)
    b = _model()
    b.fit(X, y, "mse", nn.SGD(lr=0.05, momentum=0.9), epochs=5, batch_size=8, checkpoint=tmp_path / "c.npz",
          checkpoint_every=2)
    np.testing.assert_array_equal(b.params, ref.params)


def test_checkpoint_of_other_settings_is_refused(tmp_path):
    X, y = _data()
    m = _model()
    m.fit(X, y, "mse", nn.Adam(), epochs=2, batch_size=16, checkpoint=tmp_path / "c")
    with pytest.raises(ValueError, match="'batch_size'"):
        _model().fit(X, y, "mse", nn.Adam(), epochs=2, batch_size=8, checkpoint=tmp_path / "c")
    with pytest.raises(ValueError, match="'data'"):
        _model().fit(X + 1, y, "mse", nn.Adam(), epochs=2, batch_size=16, checkpoint=tmp_path / "c")


def test_half_written_checkpoint_is_never_taken(tmp_path):
    X, y = _data()
    _model().fit(X, y, "mse", nn.Adam(), epochs=2, batch_size=16, checkpoint=tmp_path / "c")
    raw = (tmp_path / "c.npz").read_bytes()
    (tmp_path / "c.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="c.npz"):
        _model().fit(X, y, "mse", nn.Adam(), epochs=2, batch_size=16, checkpoint=tmp_path / "c")


def test_optimizer_state_saved_with_the_model(tmp_path, cpu_backend):
    X, y = _data()
    a = _model(cpu_backend)
    oa = nn.Adam(lr=1e-2)
    a.fit(X, y, "mse", oa, epochs=2, batch_size=16, shuffle=False)
    a.save(tmp_path / "m", optimizer=oa)
    ob = nn.Adam(lr=1e-2)
    b = nn.Sequential.load(tmp_path / "m", backend=cpu_backend, optimizer=ob)
    assert ob.steps == oa.steps == 6
    for _ in range(3):
        a.train_step(X, y, "mse", oa)
        b.train_step(X, y, "mse", ob)
    np.testing.assert_array_equal(a.params, b.params)
    with pytest.raises(ValueError, match="Adam optimizer"):
        nn.Sequential.load(tmp_path / "m", optimizer=nn.SGD())
