"""Inputs that used to crash the process or load silently wrong state (issue 11)."""

import json
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import physdl
from physdl import lattice
from physdl.io import CorruptFileError, load_checkpoint, load_run, save_checkpoint, save_run
from physdl.lattice import _numba


def _run_child(code):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_huge_thread_count_refused_and_no_crash():
    r = _run_child("""
        import physdl
        try:
            physdl.set_num_threads(100000)
        except ValueError as e:
            print("refused", e)
        u = physdl.random.uniform(10**6, seed=1)
        print("ok", u.size)
    """)
    assert r.returncode == 0, r.stderr
    assert "refused" in r.stdout and "n must be <=" in r.stdout and "ok 1000000" in r.stdout
    with pytest.raises(ValueError, match="n must be <="):
        physdl.set_num_threads(10**30)


def _edit(path, **changes):
    """Rewrite a checkpoint with some arrays / meta entries changed, keeping a valid checksum."""
    meta, arrays = load_checkpoint(path, "lattice/simulation")
    for k, v in changes.items():
        if k in arrays or k == "state":
            arrays[k] = v
        else:
            meta[k] = v
    save_checkpoint(path, "lattice/simulation", meta, arrays)


@pytest.mark.parametrize("backend", ["cpp", "numba"])
@pytest.mark.parametrize("update", ["metropolis", "wolff", "swendsen_wang"])
def test_load_refuses_bad_spins_before_any_kernel(tmp_path, backend, update):
    sim = lattice.Simulation(lattice.Ising((8, 8)), T=2.5, update=update, seed=1, backend=backend)
    sim.run(3)
    path = tmp_path / "s.npz"
    cases = {
        "zeros": np.zeros(64, np.int8),
        "threes": np.full(64, 3, np.int8),
        "truncated": np.ones(10, np.int8),
        "float": np.ones(64),
        "nan": np.full(64, np.nan),
    }
    for name, state in cases.items():
        sim.save(path)
        _edit(path, state=state)
        with pytest.raises(ValueError, match=str(path).replace("\\", "\\\\") + ".*state"):
            lattice.Simulation.load(path, backend=backend)
    for bad in (-1, 2.5, True, "7"):
        sim.save(path)
        _edit(path, sweeps_done=bad)
        with pytest.raises(ValueError, match="sweeps_done"):
            lattice.Simulation.load(path)


def test_load_multispin_checks_words(tmp_path):
    sim = lattice.Simulation(lattice.Ising((8, 8)), T=2.5, storage="multispin", seed=1)
    path = tmp_path / "m.npz"
    sim.save(path)
    w = sim._words.copy()
    w[0, 0, -1] |= np.uint64(1 << 60)  # a padding bit
    _edit(path, state=w)
    with pytest.raises(ValueError, match="padding"):
        lattice.Simulation.load(path)
    sim.save(path)
    _edit(path, state=w[:, :3])
    with pytest.raises(ValueError, match="shape"):
        lattice.Simulation.load(path)


def test_corrupt_truncated_and_wrong_kind_files_name_the_file(tmp_path):
    sim = lattice.Simulation(lattice.Ising((8, 8)), T=2.5, seed=1)
    path = tmp_path / "c.npz"
    sim.save(path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CorruptFileError, match="c.npz"):
        lattice.Simulation.load(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(CorruptFileError, match="c.npz"):
        lattice.Simulation.load(path)
    # a byte flipped inside the state: the checksum catches it
    sim.save(path)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    st = bytearray(members["state.npy"])
    st[-1] = 3
    members["state.npy"] = bytes(st)
    with zipfile.ZipFile(path, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    with pytest.raises(CorruptFileError, match="checksum"):
        lattice.Simulation.load(path)
    save_run(tmp_path / "r.npz", {"x": np.zeros(2)}, {}, kind="other")
    with pytest.raises(CorruptFileError, match="r.npz"):
        lattice.Simulation.load(tmp_path / "r.npz")
    (tmp_path / "bad.h5").write_bytes(b"\x89HDF garbage")
    with pytest.raises(CorruptFileError, match="bad.h5"):
        load_run(tmp_path / "bad.h5")
    np.savez(tmp_path / "plain.npz", x=np.zeros(2))
    with pytest.raises(CorruptFileError, match="plain.npz"):
        load_run(tmp_path / "plain.npz")


def test_save_and_load_accept_the_same_name(tmp_path):
    sim = lattice.Simulation(lattice.Ising((8, 8)), T=2.5, seed=4)
    sim.run(5)
    sim.save(tmp_path / "run")
    back = lattice.Simulation.load(tmp_path / "run")
    np.testing.assert_array_equal(back.spins, sim.spins)
    assert back.sweeps_done == 5


def test_save_run_leaves_no_tmp_and_keeps_old_file(tmp_path):
    path = tmp_path / "a.npz"
    save_run(path, {"x": np.arange(3)}, {"v": 1}, kind="k")
    with pytest.raises((TypeError, ValueError)):
        save_run(path, {"x": np.arange(3)}, {"v": object()}, kind="k")
    with pytest.raises(TypeError):
        save_run(path, {"x": np.array([object()])}, {}, kind="k")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]
    assert load_run(path, kind="k")[1] == {"v": 1}


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_unicode_arrays_roundtrip(tmp_path, suffix):
    names = np.array(["magnétisation", "β", "x"])
    save_run(tmp_path / f"u{suffix}", {"names": names}, {}, kind="k")
    got, _ = load_run(tmp_path / f"u{suffix}", kind="k")
    assert got["names"].tolist() == names.tolist()


def test_numba_kernels_check_bounds():
    s = np.ones(4, np.int8)
    nbr = np.array([[1, 5], [0, 2], [1, 3], [2, 0]], np.int32)  # 5 is out of range
    E, M = np.zeros(1), np.zeros(1, np.int64)
    with pytest.raises(ValueError, match="outside"):
        _numba.sw_sweeps(s, nbr, True, 1.0, 0.0, np.zeros(0), np.zeros(0), 0.4, 1, 0, 0, 0, 1, 0, E, M)
    nbr[0, 1] = 3
    with pytest.raises(ValueError, match="spins"):
        _numba.wolff_sweeps(np.array([1, 0, 1, 1], np.int8), nbr, True, 1.0, 0.0, np.zeros(0), np.zeros(0), 0.4,
                            1, 0, 0, 0, 1, 1, 0, E, M, np.zeros(1, np.int64))
    with pytest.raises(ValueError, match="too short"):
        _numba.byte_sweeps(s, nbr, True, 1.0, 0.0, np.zeros(0), np.zeros(0), np.arange(4, dtype=np.int32),
                           np.array([0, 4], np.int64), 0, 0.4, np.zeros(6, np.uint64), 0, 0, 0, 5, 1, E, M, False)
    with pytest.raises(ValueError, match="words"):
        _numba.multispin_measure(np.zeros((2, 4, 2), np.uint64), 8, 1.0, 0.0)


def test_cpp_kernels_check_spins():
    core = physdl._backend.module("cpp").lattice
    nbr = np.array([[1, 3], [0, 2], [1, 3], [2, 0]], np.int32)
    E, M = np.zeros(1), np.zeros(1, np.int64)
    with pytest.raises(ValueError, match="spins"):
        core.wolff_sweeps(np.array([1, 0, 1, 1], np.int8), nbr, True, 1.0, 0.0, np.zeros(0), np.zeros(0),
                          np.arange(4, dtype=np.int32), np.array([0, 4], np.int64), 0.4, 1, 0, 0, 0, 1, 1, 0, E, M,
                          np.zeros(1, np.int64))


def test_temperature_extremes_refused():
    m = lattice.Ising((4, 4))
    with pytest.raises(ValueError, match="T must be >="):
        lattice.Simulation(m, T=5e-324)
    with pytest.raises(ValueError, match="beta must be <="):
        lattice.Simulation(m, beta=1e308)
    with pytest.raises(ValueError, match="beta"):
        lattice.Simulation(m, beta=10**400)


def test_random_address_and_generator_checks():
    with pytest.raises(ValueError, match="wrap"):
        physdl.random.uniform(4, seed=0, offset=2**64 - 1)
    assert physdl.random.uniform(2, seed=0, offset=2**64 - 1).shape == (2,)  # exactly the last block
    g = physdl.random.Generator(1)
    with pytest.raises(TypeError):
        g.uniform(4, dtype=np.int32)
    assert g.offset == 0
    np.testing.assert_array_equal(g.uniform(4), physdl.random.uniform(4, seed=1))
    with pytest.raises(ValueError, match="backend"):
        physdl.random.Generator(1, backend="bogus")
    for bad in (dict(scale=-1.0), dict(scale=float("nan")), dict(loc=1j)):
        with pytest.raises((TypeError, ValueError), match="scale|loc"):
            g.normal(3, **bad)
    with pytest.raises(ValueError, match="shape"):
        physdl.random.uniform((2**40, 2**40), seed=0)


CACHED_PT_CHILD = """
from physdl import lattice
pt = lattice.ParallelTempering(lattice.Ising((8, 8)), [0.3, 0.4, 0.5], seed=3, backend="numba")
pt.run(6, burn_in=2)
c = lattice.Simulation(lattice.Ising((8, 8)), T=2.3, seed=1, backend="numba").configurations(2, every=3)
print(pt.rounds, c.shape)
"""


def test_numba_kernels_loaded_from_the_cache_in_a_fresh_process_do_not_crash(tmp_path):
    """Tempering rounds and configuration sampling (cached callers of the parallel colour pass) run
    in a second process that loads them from Numba's cache.

    A cache written during a test run once made every later process crash here ("Symbol not found:
    allocate_sched", or SIGSEGV) until Numba's threading layer is started at import; this checks the
    cached path end to end, though a fresh cache does not always reproduce that failure."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    outs = [subprocess.run([sys.executable, "-c", CACHED_PT_CHILD], env=env, capture_output=True, text=True,
                           timeout=300) for _ in range(2)]
    for r in outs:
        assert r.returncode == 0, r.stderr[-2000:]
        assert r.stdout.split()[0] == "8"
    assert any(p.suffix == ".nbi" for p in (tmp_path / "cache").rglob("*"))  # the second run used the cache
