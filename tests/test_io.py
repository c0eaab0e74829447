import numpy as np
import pytest

from physdl import __version__
from physdl.io import load_run, read_params, save_run


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_roundtrip(tmp_path, suffix):
    rng = np.random.default_rng(0)
    arrays = {"spins": rng.integers(-1, 2, size=(5, 8, 8)).astype(np.int8), "T": np.linspace(1, 3, 5)}
    params = {"seed": 3, "L": 8, "geometry": "square"}
    path = tmp_path / f"run{suffix}"
    save_run(path, arrays, params, kind="test/run")
    got, p = load_run(path, kind="test/run")
    assert p == params
    for k in arrays:
        np.testing.assert_array_equal(got[k], arrays[k])
        assert got[k].dtype == arrays[k].dtype
    meta = read_params(path)
    assert meta["physdl_version"] == __version__ and meta["kind"] == "test/run"


def test_wrong_kind_and_bad_paths(tmp_path):
    path = tmp_path / "a.h5"
    save_run(path, {"x": np.zeros(2)}, {}, kind="one")
    with pytest.raises(ValueError, match="holds 'one', not 'two'"):
        load_run(path, kind="two")
    with pytest.raises(ValueError, match="path must end in one of"):
        save_run(tmp_path / "a.txt", {}, {}, kind="one")
    with pytest.raises(FileNotFoundError):
        load_run(tmp_path / "missing.h5")
    with pytest.raises(TypeError, match="arrays must be a dict"):
        save_run(path, [1, 2], {}, kind="one")
