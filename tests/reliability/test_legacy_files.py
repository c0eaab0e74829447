"""Files written in the formats before the checksummed checkpoints still load and resume bit for bit.

Each old file is written here exactly as the earlier releases wrote it (the layouts are in the git
history of the loaders: plain ``np.savez`` with a JSON ``meta`` entry for Simulation and
ParallelTempering, plain entries with their own SHA-256 for holography fits), then loaded, run on,
and compared with an uninterrupted run; damaged old files are refused naming the file.
"""

import hashlib
import json

import numpy as np
import pytest

from physdl import lattice
from physdl.io import CorruptFileError, load_checkpoint


def _raw(path, kind):
    meta, arrays = load_checkpoint(path, kind)
    return meta, arrays


@pytest.mark.parametrize("update", ["metropolis", "wolff"])
def test_simulation_file_of_the_np_savez_format_resumes_bit_for_bit(tmp_path, update):
    def sim():
        return lattice.Simulation(lattice.Ising((12, 12)), T=2.3, update=update, seed=7, backend="cpp")

    a = sim()
    a.run(30)
    a.save(tmp_path / "new")
    meta, arrays = _raw(tmp_path / "new.npz", "lattice/simulation")
    old_meta = {k: v for k, v in meta.items() if k not in ("flipped", "flipped_from")}  # that format had neither
    np.savez(tmp_path / "old.npz", meta=np.array(json.dumps(old_meta)), **arrays)
    b = lattice.Simulation.load(tmp_path / "old.npz")
    assert b.sweeps_done == 30
    r = b.run(20)
    f30 = a._flipped
    a.run(20)
    np.testing.assert_array_equal(a.spins, b.spins)
    assert (a.sweeps_done, a.cluster) == (b.sweeps_done, b.cluster)
    if update == "wolff":  # flipped spins were not recorded: counted from the load on, over those sweeps
        assert r.extra["flipped_per_sweep"] == (a._flipped - f30) / 20 > 0
        b.save(tmp_path / "again")
        c = lattice.Simulation.load(tmp_path / "again")
        assert c._flipped_from == 30 and c._flipped == b._flipped


def test_damaged_simulation_file_of_the_old_format_is_refused_naming_it(tmp_path):
    a = lattice.Simulation(lattice.Ising((8, 8)), T=2.3, seed=1, storage="byte")  # a spin to damage
    a.save(tmp_path / "new")
    meta, arrays = _raw(tmp_path / "new.npz", "lattice/simulation")
    arrays["state"] = arrays["state"].copy()
    arrays["state"][3] = 0
    np.savez(tmp_path / "old.npz", meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(CorruptFileError, match="old.npz.*spins"):
        lattice.Simulation.load(tmp_path / "old.npz")
    np.savez(tmp_path / "foreign.npz", meta=np.array(json.dumps({"beta": 1})), state=arrays["state"])
    with pytest.raises(CorruptFileError, match="foreign.npz.*not a physdl checkpoint"):
        lattice.Simulation.load(tmp_path / "foreign.npz")


def test_parallel_tempering_file_of_the_first_format_resumes_bit_for_bit(tmp_path):
    def ladder():
        return lattice.ParallelTempering(lattice.Ising((10, 10)), [0.3, 0.4, 0.5], seed=2, backend="cpp")

    a = ladder()
    a.run(15)
    a.save(tmp_path / "new")
    meta, arrays = _raw(tmp_path / "new.npz", lattice.ParallelTempering.KIND)
    old_meta = dict(meta, kind=lattice.ParallelTempering.KIND, physdl_version="0.1.0")
    np.savez(tmp_path / "old.npz", meta=np.array(json.dumps(old_meta)), **arrays)
    b = lattice.ParallelTempering.load(tmp_path / "old.npz")
    a.run(10)
    b.run(10)
    for x, y in zip(a.replicas, b.replicas):
        np.testing.assert_array_equal(x.spins, y.spins)
    np.testing.assert_array_equal(a.accepted, b.accepted)
    assert a.rounds == b.rounds == 25
    np.savez(tmp_path / "other.npz", meta=np.array(json.dumps(dict(old_meta, kind="something else"))), **arrays)
    with pytest.raises(CorruptFileError, match="other.npz"):
        lattice.ParallelTempering.load(tmp_path / "other.npz")


def test_holography_fit_checkpoint_of_the_first_format_resumes_bit_for_bit(tmp_path):
    from physdl.holography import HolographicNetwork, ads_schwarzschild_data
    from physdl.holography.network import _CHECKPOINT_KIND

    x, lab = ads_schwarzschild_data(100, seed=3)
    kw = dict(lr=0.01, trials=2, seed=6)
    full = HolographicNetwork(10).fit(x, lab, epochs=6, **kw)
    net = HolographicNetwork(10)
    orig, calls = net._train_chunk, []

    def chunk(*a, **k):  # stop the fit after its first checkpoint (epoch 4)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return orig(*a, **k)

    net._train_chunk = chunk
    with pytest.raises(KeyboardInterrupt):
        net.fit(x, lab, epochs=6, checkpoint=tmp_path / "ck.npz", **dict(kw, checkpoint_every=4))
    meta, arrays = _raw(tmp_path / "ck.npz", _CHECKPOINT_KIND)
    assert meta["epoch"] == 4
    names = ("p", "m", "v", "steps", "history")
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(arrays[k]).tobytes() for k in names)).hexdigest()
    old = dict({k: arrays[k] for k in names}, kind=np.array(_CHECKPOINT_KIND), identity=np.array(meta["identity"]),
               epoch=np.array(meta["epoch"]), checksum=np.array(digest))
    np.savez(tmp_path / "old.npz", **old)
    resumed = HolographicNetwork(10).fit(x, lab, epochs=6, checkpoint=tmp_path / "old.npz", checkpoint_every=4, **kw)
    np.testing.assert_array_equal(resumed.h, full.h)
    np.testing.assert_array_equal(resumed.lam, full.lam)
    np.savez(tmp_path / "edited.npz", **dict(old, p=old["p"] + 1.0))
    with pytest.raises(CorruptFileError, match="edited.npz.*checksum"):
        HolographicNetwork(10).fit(x, lab, epochs=6, checkpoint=tmp_path / "edited.npz", checkpoint_every=4, **kw)


def test_vmc_checkpoint_of_the_first_format_resumes_bit_for_bit(tmp_path):
    from physdl import quantum
    from physdl.geometry import Lattice
    from physdl.quantum.vmc import CHECKPOINT_KIND, RBM, VMC

    n = 6
    H = quantum.transverse_field_ising(Lattice("chain", n), h=1.0)
    kw = dict(n_samples=64, n_chains=4, sampler="flip", sr=0.01, lr=0.05, seed=3)
    full = VMC(H, RBM(n, alpha=1, seed=1), **kw)
    hist = full.run(12)
    part = VMC(H, RBM(n, alpha=1, seed=1), **kw)
    part.run(5, checkpoint=tmp_path / "new.npz", checkpoint_every=5)
    meta, arrays = _raw(tmp_path / "new.npz", CHECKPOINT_KIND)
    old = dict(arrays, fingerprint=np.array(meta["fingerprint"], np.int64),
               counter=np.array([meta["counter"], meta["steps_done"]], np.int64),
               lr_sr=np.array([meta["lr"], -1.0 if meta["sr"] is None else meta["sr"]]))
    np.savez(tmp_path / "old.npz", **old)
    resumed = VMC(H, RBM(n, alpha=1, seed=1), **kw)
    hist2 = resumed.run(12, checkpoint=tmp_path / "old.npz", checkpoint_every=100)
    assert np.array_equal(resumed.psi.params, full.psi.params)
    assert np.array_equal(hist2["energy"], hist["energy"])
    np.savez(tmp_path / "bad.npz", **dict(old, counter=np.array([1.5, 2.0])))
    with pytest.raises(CorruptFileError, match="bad.npz.*first format"):
        VMC(H, RBM(n, alpha=1, seed=1), **kw).load(tmp_path / "bad.npz")


def test_rbm_file_of_the_np_savez_format_loads_and_fit_resumes_bit_for_bit(tmp_path):
    from physdl.boltzmann import RBM

    data = (np.random.default_rng(0).random((64, 8)) < 0.3).astype(np.float64)
    full = RBM(8, 4, seed=2).fit(data, epochs=4, batch_size=16, monitor=False)
    part = RBM(8, 4, seed=2).fit(data, epochs=2, batch_size=16, monitor=False)
    np.savez(tmp_path / "old.npz", W=part.W, b=part.b, c=part.c, t=np.int64(part._t), seed=np.uint64(part.seed),
             units=np.array(part.units), chains=part._chains, hchains=part._hchains,
             epoch=np.array(part.history.epoch, np.int64), pll=np.array(part.history.pseudo_log_likelihood),
             rec=np.array(part.history.reconstruction_error))
    resumed = RBM.load(tmp_path / "old.npz").fit(data, epochs=2, batch_size=16, monitor=False)
    assert np.array_equal(resumed.W, full.W) and np.array_equal(resumed.c, full.c)
    assert resumed.history.epoch == full.history.epoch
    resumed.save(tmp_path / "new")
    again = RBM.load(tmp_path / "new")
    assert np.array_equal(again.W, resumed.W) and again._t == resumed._t
    with np.load(tmp_path / "old.npz") as z:
        bad = dict(z)
    bad["chains"] = bad["chains"] * 3
    np.savez(tmp_path / "bad.npz", **bad)
    with pytest.raises(CorruptFileError, match="bad.npz.*chains"):
        RBM.load(tmp_path / "bad.npz")
