"""Data sets through a sweep equal the serial data set bit for bit; one worker per GPU sees its own
device (checked through the worker environment, which needs no GPU); bad GPU settings are refused."""

import os

import numpy as np
import pytest

from physdl import distributed as dist
from physdl.lattice import ising_dataset

distributed = pytest.importorskip("distributed")

pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

TEMPS = [1.8, 2.2, 2.6, 3.0]


def test_dataset_through_a_two_worker_sweep_equals_serial(tmp_path):
    serial = ising_dataset("triangular", 8, TEMPS, 6, 2, 20, seed=11, progress=False)
    with dist.DatasetRunner(tmp_path / "work", workers=2) as run:
        a = ising_dataset("triangular", 8, TEMPS, 6, 2, 20, seed=11, progress=False, runner=run)
        # the same runner (and cluster) serves a second data set, cached to disk this time
        b = ising_dataset("square", 6, TEMPS[:2], 3, 1, 5, seed=2, path=tmp_path / "sq.h5", progress=False,
                          runner=run)
    assert np.array_equal(a.configs, serial.configs) and np.array_equal(a.T, serial.T)
    assert np.array_equal(b.configs, ising_dataset("square", 6, TEMPS[:2], 3, 1, 5, seed=2, progress=False).configs)
    assert list((tmp_path / "work").glob("*.h5")) == []  # the sweep stores are removed once assembled
    # the cache written through the runner is read back without running anything
    c = ising_dataset("square", 6, TEMPS[:2], 3, 1, 5, seed=2, path=tmp_path / "sq.h5", progress=False,
                      runner=lambda jobs, progress: pytest.fail("cache not used"))
    assert np.array_equal(c.configs, b.configs)


def test_runner_result_is_checked():
    with pytest.raises(ValueError, match="one array per temperature"):
        ising_dataset("square", 6, TEMPS, 3, 1, 5, progress=False, runner=lambda jobs, progress: [])
    with pytest.raises(ValueError, match="expected int8"):
        ising_dataset("square", 6, TEMPS[:1], 3, 1, 5, progress=False,
                      runner=lambda jobs, progress: [np.zeros((3, 6, 6))])
    with pytest.raises(TypeError, match="runner"):
        ising_dataset("square", 6, TEMPS[:1], 3, 1, 5, progress=False, runner=3)


def _device_seen(seed, i):
    return {"device": os.environ.get("CUDA_VISIBLE_DEVICES", "none"), "pid": os.getpid()}


def test_one_worker_per_gpu_each_sees_its_own_device(tmp_path):
    res = dist.sweep(_device_seen, dist.grid(i=list(range(6))), tmp_path / "g.h5", gpus=[0, 1], progress=False)
    seen = {}
    for r in res.table.results:
        seen.setdefault(str(r["device"]), set()).add(int(r["pid"]))
    assert set(seen) == {"0", "1"}, seen          # both devices used ...
    assert all(len(p) == 1 for p in seen.values())  # ... each by exactly one worker process
    assert seen["0"] != seen["1"]


@pytest.mark.parametrize("gpus, err, match", [
    ([], ValueError, "gpus is empty"),
    ("all", ValueError, "'auto'"),
    (3, TypeError, "list of device indices"),
    ([-1], ValueError, r"gpus\[\]"),
])
def test_bad_gpus_are_refused(gpus, err, match, tmp_path):
    with pytest.raises(err, match=match):
        dist.sweep(_device_seen, dist.grid(i=[0]), tmp_path / "x.h5", gpus=gpus, progress=False)


def test_gpus_with_a_given_client_is_refused(tmp_path):
    with pytest.raises(ValueError, match="LocalCUDACluster"):
        dist.sweep(_device_seen, dist.grid(i=[0]), tmp_path / "x.h5", gpus=[0], client="tcp://127.0.0.1:1",
                   progress=False)


def test_cuda_task_without_a_device_is_a_clear_error(tmp_path):
    import importlib

    sweep_mod = importlib.import_module("physdl.distributed.sweep")
    if sweep_mod._cuda_devices():
        pytest.skip("a CUDA device is visible here")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        dist.sweep(dist.LatticeRun(backend="cuda", storage="multispin"), dist.grid(L=[8], T=[2.0]),
                   tmp_path / "x.h5", progress=False)


def test_cli_phases_refuses_bad_workers(capsys):
    from physdl.cli import main

    assert main(["phases", "--quick", "--workers", "0", "--no-progress"]) == 2
    assert "--workers" in capsys.readouterr().err
