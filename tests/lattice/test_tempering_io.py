"""ParallelTempering save/load (resume bit for bit, refuse foreign or corrupt files) and configurations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from physdl import lattice


def _pt(update="metropolis", backend="cpp", model=None):
    model = model or lattice.Ising((6, 6))
    return lattice.ParallelTempering(model, [0.3, 0.38, 0.46, 0.55], update=update, seed=4, backend=backend,
                                     exchange_every=2)


@pytest.mark.parametrize("update", ["metropolis", "wolff", "swendsen_wang"])
def test_resume_is_bit_for_bit(tmp_path, update):
    a = _pt(update)
    a.run(30)
    a.save(tmp_path / "pt.npz")
    ra = a.run(40)
    b = lattice.ParallelTempering.load(tmp_path / "pt.npz")
    rb = b.run(40)
    for x, y in zip(ra, rb):
        np.testing.assert_array_equal(x.energy_series, y.energy_series)
        np.testing.assert_array_equal(x.magnetization_series, y.magnetization_series)
    np.testing.assert_array_equal(a.accepted, b.accepted)
    np.testing.assert_array_equal(a.attempted, b.attempted)
    for s, t in zip(a.replicas, b.replicas):
        np.testing.assert_array_equal(s.spins, t.spins)
    assert not (tmp_path / "pt.npz.tmp").exists()


def test_resume_of_a_spin_glass_on_the_other_backend(tmp_path):
    a = _pt(model=lattice.EdwardsAnderson((4, 4), seed=2))
    a.run(10)
    a.save(tmp_path / "ea.npz")
    ra = a.run(15)
    rb = lattice.ParallelTempering.load(tmp_path / "ea.npz", backend="numba").run(15)
    for x, y in zip(ra, rb):
        np.testing.assert_array_equal(x.energy_series, y.energy_series)


def test_configurations_follow_the_energies():
    a, b = _pt(), _pt()
    conf = a.configurations(12, burn_in=3)
    res = b.run(12, burn_in=3)
    assert conf.shape == (4, 12, 6, 6)
    model = a.replicas[0].model
    for k in range(4):  # the energy of each stored configuration is the energy run() measured
        np.testing.assert_allclose(model.energy(conf[k]) / model.n_sites, res[k].energy_series, atol=1e-12)


def test_load_refuses_foreign_and_corrupt_files(tmp_path):
    from physdl.io import CorruptFileError, load_checkpoint, save_checkpoint

    sim = lattice.Simulation(lattice.Ising((4, 4)), beta=0.4, seed=1)
    sim.save(tmp_path / "sim.npz")
    with pytest.raises(CorruptFileError, match="sim.npz.*lattice/simulation"):
        lattice.ParallelTempering.load(tmp_path / "sim.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="junk.npz"):
        lattice.ParallelTempering.load(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        lattice.ParallelTempering.load(tmp_path / "missing.npz")
    a = _pt()
    a.run(3)
    a.save(tmp_path / "pt")  # the same name loads: .npz appended on both sides
    assert lattice.ParallelTempering.load(tmp_path / "pt").rounds == a.rounds
    kind = lattice.ParallelTempering.KIND
    meta, d = load_checkpoint(tmp_path / "pt.npz", kind)
    with np.load(tmp_path / "pt.npz") as f:
        raw = {k: f[k] for k in f.files}
    edited = dict(raw, states=-raw["states"])  # edited without a new checksum
    np.savez(tmp_path / "edited.npz", **edited)
    with pytest.raises(CorruptFileError, match="edited.npz.*checksum"):
        lattice.ParallelTempering.load(tmp_path / "edited.npz")
    # the format before the shared checkpoints (JSON metadata, no checksum) is read and validated like
    # a current file (tests/reliability/test_legacy_files.py resumes one); damaged, it is refused
    np.savez(tmp_path / "old.npz", meta=np.array(json.dumps(dict(meta, kind=kind))),
             **dict(d, states=d["states"][:, :-1]))
    with pytest.raises(CorruptFileError, match="old.npz.*shape"):
        lattice.ParallelTempering.load(tmp_path / "old.npz")
    # consistent checksums over inconsistent content: the loader's own checks name the file
    save_checkpoint(tmp_path / "cut.npz", kind, meta, dict(d, states=d["states"][:, :-1]))
    with pytest.raises(ValueError, match="cut.npz.*shape"):
        lattice.ParallelTempering.load(tmp_path / "cut.npz")
    save_checkpoint(tmp_path / "nometa.npz", kind, {k: v for k, v in meta.items() if k != "betas"}, d)
    with pytest.raises(ValueError, match="nometa.npz.*betas"):
        lattice.ParallelTempering.load(tmp_path / "nometa.npz")
    bad = dict(d, states=np.where(d["states"] == 1, 3, d["states"]).astype(d["states"].dtype))
    save_checkpoint(tmp_path / "threes.npz", kind, meta, bad)
    with pytest.raises(ValueError, match="threes.npz.*spins"):
        lattice.ParallelTempering.load(tmp_path / "threes.npz")


def _per_round(pt, rounds, burn_in):
    """The per-round path (one Python pass per round): the reference for the one-call kernel."""
    R = len(pt.betas)
    E, M = np.zeros((R, rounds)), np.zeros((R, rounds), np.int64)
    for r in range(burn_in + rounds):
        pt._py_rounds(r, r + 1, burn_in, E, M, None)
    return E, M


@pytest.mark.parametrize("backend", ["cpp", "numba"])
@pytest.mark.parametrize("update,model", [("metropolis", lattice.Ising((6, 6))),
                                          ("heat_bath", lattice.Ising((4, 6), J=0.8, h=0.1)),
                                          ("metropolis", lattice.EdwardsAnderson((4, 4), seed=1)),
                                          ("wolff", lattice.Ising((6, 6))),
                                          ("swendsen_wang", lattice.Ising((4, 4)))])
def test_rounds_in_one_kernel_call_equal_the_per_round_loop(backend, update, model):
    a, b = _pt(update, backend, model), _pt(update, backend, model)
    Ea, Ma = a._rounds(37, 5, False)
    Eb, Mb = _per_round(b, 37, 5)
    np.testing.assert_array_equal(Ea, Eb)
    np.testing.assert_array_equal(Ma, Mb)
    np.testing.assert_array_equal(a.accepted, b.accepted)
    np.testing.assert_array_equal(a.attempted, b.attempted)
    assert a.rounds == b.rounds
    for s, t in zip(a.replicas, b.replicas):
        np.testing.assert_array_equal(s.spins, t.spins)
        assert (s.sweeps_done, s.cluster, s._flipped) == (t.sweeps_done, t.cluster, t._flipped)
    assert a.accepted.sum() > 0  # exchanges happened, so the swap path was exercised
