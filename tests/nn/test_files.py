"""Model files and inputs are validated: one clear error naming the file or the argument."""

import json

import numpy as np
import pytest

from physdl import nn


def _saved(tmp_path):
    m = nn.Sequential([nn.Dense(2, 3), nn.Tanh(), nn.Dense(3, 1)], seed=0, dtype="float64")
    m.save(tmp_path / "run")
    return m, tmp_path / "run.npz"


def test_load_accepts_the_name_given_to_save(tmp_path):
    m, _ = _saved(tmp_path)
    np.testing.assert_array_equal(nn.Sequential.load(tmp_path / "run").params, m.params)
    np.testing.assert_array_equal(nn.Sequential.load(str(tmp_path / "run.npz")).params, m.params)


@pytest.mark.parametrize("bad", ["nan", "complex", "string", "shape"])
def test_load_rejects_bad_parameters(tmp_path, bad):
    m, path = _saved(tmp_path)
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
    params = {"nan": np.full(m.n_params, np.nan), "complex": m.params.astype(complex),
              "string": np.array(["x"] * m.n_params), "shape": np.zeros(m.n_params + 1)}[bad]
    from physdl.nn import _files

    meta.pop("kind"), meta.pop("format")
    _files.write(path, "physdl.nn.Sequential", meta, {"params": params})  # a well-formed file of bad values
    with pytest.raises(ValueError, match="run.npz"):
        nn.Sequential.load(path)


def test_load_names_the_file_when_corrupt_truncated_or_of_another_kind(tmp_path):
    _, path = _saved(tmp_path)
    raw = path.read_bytes()
    for i, data in enumerate([raw[:100], raw[:-30], b"not a zip at all", raw[:40] + b"\0" * 64 + raw[104:]]):
        p = tmp_path / f"bad{i}.npz"
        p.write_bytes(data)
        with pytest.raises(ValueError, match=f"bad{i}.npz"):
            nn.Sequential.load(p)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="other.npz"):
        nn.Sequential.load(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError, match="nothere"):
        nn.Sequential.load(tmp_path / "nothere")


def test_from_torch_state_dict_rejects_extra_and_missing_keys():
    m = nn.Sequential([nn.Dense(2, 3)], seed=0, dtype="float64")
    sd = {k: v.copy() for k, v in m.parameters().items()}
    with pytest.raises(ValueError, match="unexpected keys"):
        m.from_torch_state_dict(dict(sd, extra=np.zeros(1)))
    with pytest.raises(ValueError, match="missing keys"):
        m.from_torch_state_dict({"0.weight": sd["0.weight"]})
    with pytest.raises(ValueError, match="finite real"):
        m.from_torch_state_dict(dict(sd, **{"0.bias": np.full(3, np.nan)}))


@pytest.mark.parametrize("labels, match", [([-1, 0, 1, 2], "got -1"), ([3, 0, 1, 2], "got 3"),
                                           ([-100] * 4, "every label is -100")])
def test_evaluate_validates_labels(labels, match, cpu_backend):
    m = nn.Sequential([nn.Dense(2, 3)], seed=0, dtype="float64", backend=cpu_backend)
    with pytest.raises(ValueError, match=match):
        m.evaluate(np.zeros((4, 2)), labels, "softmax_cross_entropy")
    with pytest.raises(ValueError, match=match):
        m.fit(np.zeros((4, 2)), labels, "softmax_cross_entropy")


def test_evaluate_ignores_minus_100_as_torch():
    torch = pytest.importorskip("torch")
    m = nn.Sequential([nn.Dense(2, 3)], seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(4, 2))
    y = np.array([0, -100, 2, 1])
    ref = torch.nn.functional.cross_entropy(torch.tensor(m.predict(X)), torch.tensor(y), ignore_index=-100)
    assert m.evaluate(X, y, "softmax_cross_entropy")["loss"] == pytest.approx(float(ref), rel=1e-12)


def test_sizes_and_epochs_are_bounded():
    with pytest.raises(ValueError, match="n_in"):
        nn.Dense(10**30, 2)
    with pytest.raises(ValueError, match="n_in"):
        nn.Dense(2**62, 4)
    with pytest.raises(MemoryError, match="parameters"):
        nn.Sequential([nn.Dense(2**40, 4)])
    m = nn.Sequential([nn.Dense(2, 1)], seed=0)
    with pytest.raises(ValueError, match="epochs"):
        m.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=10**30)
