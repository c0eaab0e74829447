"""The Cython example (examples/cython) built against the installed physdl: headers from
physdl.get_include(), .pxd files from physdl.get_pxd_include(), kernels through the capsule
physdl._core._capi.  Its draws equal physdl.random's and its lattice equals Simulation's bit for bit."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import physdl
import physdl.random as prandom
from physdl.lattice import Ising, Simulation

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cython"


def build_example(tmp: Path):
    """Build examples/cython in tmp (outside the source tree) and import it; skip without the tools."""
    pytest.importorskip("Cython", reason="Cython is needed to build the example (pip install physdl[test])")
    pytest.importorskip("setuptools", reason="setuptools is needed to build the example")
    if shutil.which("g++") is None and shutil.which("c++") is None:
        pytest.skip("needs a C++ compiler")
    if not EXAMPLE.is_dir():
        pytest.skip("the example source is not here")
    # the headers and .pxd files are part of the package (wheel and editable install): missing is a bug
    inc = Path(physdl.get_include())
    assert (inc / "physdl" / "capi" / "capi.h").exists(), f"no C API header under {inc}"
    pxd = Path(physdl.get_pxd_include()) / "physdl"
    assert (pxd / "capi.pxd").exists() and (pxd / "philox.pxd").exists(), f"no .pxd files in {pxd}"
    for f in ("metropolis.pyx", "setup.py"):
        shutil.copy(EXAMPLE / f, tmp / f)
    run = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tmp,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    so = next(tmp.glob("metropolis*.so"), None) or next(tmp.glob("metropolis*.pyd"))
    spec = importlib.util.spec_from_file_location("metropolis", so)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return build_example(tmp_path_factory.mktemp("cython_example"))


@pytest.mark.parametrize("seed,stream,n", [(0, 0, 1), (5, 7, 1001), (2**64 - 1, (3 << 40) | 17, 4096)])
def test_draws_equal_python(example, seed, stream, n):
    assert np.array_equal(example.uint32(seed, stream, n), prandom.uint32(n, seed=seed, stream=stream))
    assert np.array_equal(example.uniform(seed, stream, n), prandom.uniform(n, seed=seed, stream=stream))
    assert np.array_equal(example.uniform(seed, stream, n, single=True),
                          prandom.uniform(n, seed=seed, stream=stream, dtype=np.float32))
    assert np.array_equal(example.normal(seed, stream, n), prandom.normal(n, seed=seed, stream=stream))


def test_blocks_equal_python(example):
    """The inlined header block function: block i's words are words 4i .. 4i+3 of the flat stream."""
    b = example.blocks(11, 13, 257)
    assert np.array_equal(b.reshape(-1), prandom.uint32(4 * 257, seed=11, stream=13))
    w = prandom.uint32(4 * 1000, seed=11, stream=13)
    assert example.xor_blocks(11, 13, 1000) == int(np.bitwise_xor.reduce(w))
    assert example.xor_blocks_capi(11, 13, 1000) == int(np.bitwise_xor.reduce(w))


@pytest.mark.parametrize("storage", ["multispin", "byte"])
@pytest.mark.parametrize("update", ["metropolis", "heat_bath"])
@pytest.mark.parametrize("shape,beta,h", [((8, 300), 0.44, 0.0), ((6, 10), 0.3, 0.25)])
def test_lattice_equals_simulation(example, storage, update, shape, beta, h):
    sim = Simulation(Ising(shape, h=h), beta, update=update, storage=storage, seed=3, chain=2, backend="cpp")
    n = 7
    state, E, M = example.run(*shape, beta, n, update=update, storage=storage, h=h, seed=3, chain=2)
    res = sim.run(n)
    ref = sim._words if storage == "multispin" else sim.spins
    assert state.shape == ref.shape
    assert np.array_equal(state, ref)
    N = shape[0] * shape[1]
    assert np.array_equal(E / N, res.energy_series) and np.array_equal(M / N, res.magnetization_series)
    e, m = sim.measure()
    assert (E[-1], M[-1]) == (e, m)


def test_bad_use_returns_error_codes(example):
    codes = example.capi()
    null, short, size, enum, value = -1, -2, -3, -4, -5
    assert codes["block_null"] == null and codes["block_short"] == short and codes["block_short_untouched"] == 1
    assert codes["fill_null"] == null and codes["fill_short"] == short and codes["fill_huge"] == short
    assert codes["table_enum"] == enum and codes["table_short"] == short and codes["table_nan"] == value
    assert codes["words_len_odd"] == 0 and codes["words_len_overflow"] == 0 and codes["words_len_4x4"] == 8
    assert codes["ms_short"] == short and codes["ms_odd"] == size and codes["ms_overflow"] == size
    assert codes["ms_enum"] == enum and codes["ms_table_short"] == short
    assert codes["ms_energy_short"] == short and codes["ms_energy_null"] == null and codes["ms_negative"] == size
    assert codes["byte_short"] == short and codes["byte_bad_spin"] == value and codes["measure_null"] == null
    assert codes["ms_ok"] == 0
    with pytest.raises(ValueError, match="update"):
        example.run(4, 4, 0.4, 1, update="glauber")
