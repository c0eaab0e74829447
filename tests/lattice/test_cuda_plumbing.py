"""The Simulation's CUDA path (device-resident lattice, lazy copies to the host) driven through a
stand-in device that runs the C++ multi-spin kernel on a host buffer. This checks the Python glue on
any machine; tests/lattice/test_cuda_multispin.py checks the real device on a GPU machine."""

import types

import numpy as np
import pytest

import physdl
from physdl import _backend, lattice

pytestmark = pytest.mark.skipif(not physdl.backends()["cpp"].available, reason="needs the compiled core")


class _StandInLattice:
    """Same interface as physdl._cuda.lattice.MultispinLattice, computing with the C++ core."""

    transfers = 0

    def __init__(self, ly, lx, words):
        self.ly, self.lx = ly, lx
        self.words = np.array(words, dtype=np.uint64)

    @staticmethod
    def bytes_needed(ly, lx):
        return 2 * ly * ((lx // 2 + 63) // 64) * 8 + 16

    def upload(self, words):
        _StandInLattice.transfers += 1
        self.words[:] = words

    def download(self):
        _StandInLattice.transfers += 1
        return self.words.copy()

    def measure(self, J, h):
        return _backend.module("cpp").lattice.multispin_measure(self.words.reshape(2, self.ly, -1), self.ly, self.lx, J, h)

    def sweeps(self, update, table, J, h, seed, chain, sweep0, nsweeps, every, tuned=True):
        n = nsweeps // every if every else 0
        E, M = np.zeros(max(n, 1)), np.zeros(max(n, 1), np.int64)
        w = self.words.reshape(2, self.ly, -1)
        _backend.module("cpp").lattice.multispin_sweeps(w, self.ly, self.lx, update, table, J, h, seed, chain, sweep0,
                                                        nsweeps, every, E, M)
        return E[:n], M[:n]


@pytest.fixture
def stand_in_device(monkeypatch):
    fake = types.SimpleNamespace(
        lattice=types.SimpleNamespace(MultispinLattice=_StandInLattice),
        device_info=lambda i: {"name": "stand-in", "free_memory": 1 << 30},
    )
    _backend.backends()
    monkeypatch.setitem(_backend._status, "cuda", _backend.BackendStatus("cuda", True))
    monkeypatch.setitem(_backend._modules, "cuda", fake)
    _StandInLattice.transfers = 0
    return fake


@pytest.mark.parametrize("update", ["metropolis", "heat_bath"])
def test_cuda_path_matches_cpp_and_copies_lazily(stand_in_device, update, tmp_path):
    model = lattice.Ising(shape=(16, 140), h=0.05)
    sims = {b: lattice.Simulation(model, beta=0.42, update=update, storage="multispin", seed=5, backend=b)
            for b in ("cpp", "cuda")}
    res = {b: s.run(sweeps=60, burn_in=10, measure_every=3) for b, s in sims.items()}
    assert _StandInLattice.transfers == 0  # sweeping and measuring never copied the lattice
    np.testing.assert_array_equal(res["cuda"].energy_series, res["cpp"].energy_series)
    np.testing.assert_array_equal(res["cuda"].magnetization_series, res["cpp"].magnetization_series)
    np.testing.assert_array_equal(sims["cuda"].spins, sims["cpp"].spins)
    assert _StandInLattice.transfers == 1
    assert sims["cuda"].measure() == sims["cpp"].measure()
    # save on the device path, resume on the host path: bit for bit
    path = tmp_path / "run.npz"
    sims["cuda"].save(path)
    resumed = lattice.Simulation.load(path, backend="cpp")
    resumed.run(sweeps=20)
    sims["cpp"].run(sweeps=20)
    np.testing.assert_array_equal(resumed.spins, sims["cpp"].spins)


def test_cuda_backend_rejects_byte_storage(stand_in_device):
    with pytest.raises(ValueError, match="backend='cuda' runs storage='multispin'"):
        lattice.Simulation(lattice.Ising(shape=(8, 8)), beta=0.4, storage="byte", backend="cuda")
    # the default storage is multi-spin where it applies, so the device takes the default ...
    sim = lattice.Simulation(lattice.Ising(shape=(8, 8)), beta=0.4, backend="cuda")
    assert sim.storage == "multispin" and sim.storage_auto
    # ... and refuses, saying why, what multi-spin coding cannot run
    for kw in (dict(update="wolff"), dict(sweep="sequential")):
        with pytest.raises(ValueError, match="backend='cuda' runs storage='multispin' only.*storage='multispin'"):
            lattice.Simulation(lattice.Ising(shape=(8, 8)), beta=0.4, backend="cuda", **kw)
    with pytest.raises(ValueError, match="even sides"):
        lattice.Simulation(lattice.Ising(shape=(8, 7)), beta=0.4, backend="cuda")


def test_cuda_device_memory_is_checked(stand_in_device, monkeypatch):
    monkeypatch.setattr(stand_in_device, "device_info", lambda i: {"name": "tiny", "free_memory": 1000})
    with pytest.raises(lattice.simulation.LatticeTooLarge, match="of device memory but only"):
        lattice.Simulation(lattice.Ising(shape=(64, 64)), beta=0.4, storage="multispin", backend="cuda")
