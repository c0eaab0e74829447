"""The C++ core contracts a network without Python (examples/tensornet/cpp_host), checked with NumPy."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import physdl

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tensornet" / "cpp_host" / "main.cpp"


def test_cpp_host_example_equals_numpy(tmp_path):
    cxx = shutil.which("g++") or shutil.which("c++")
    import physdl._core

    # an editable install keeps the compiled parts (and the installed core) beside physdl._core
    root = next((r for r in (Path(physdl.__file__).parent, Path(physdl._core.__file__).parent)
                 if (r / "lib" / "libphysdl_core.a").exists()), Path(physdl.__file__).parent)
    lib, inc = root / "lib" / "libphysdl_core.a", root / "include"
    if cxx is None or not lib.exists() or not (inc / "physdl" / "tensornet" / "contract.hpp").exists():
        pytest.skip("needs a C++ compiler and the installed static core with the tensornet headers")
    exe = tmp_path / "tn_host"
    subprocess.run([cxx, "-O2", "-std=c++17", "-fopenmp", f"-I{inc}", str(EXAMPLE), str(lib), "-o", str(exe)],
                   check=True, capture_output=True, timeout=300)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = dict(line.split(" ", 1) for line in run.stdout.strip().splitlines())
    i = np.arange(9.0)
    A = (0.5 + i).reshape(3, 3)
    B = (1.0 - 0.25 * i).reshape(3, 3)
    C = (np.where(i % 2, -1.0, 2.0) + 0.1 * i).reshape(3, 3)
    ref = np.einsum("ab,bc,ca->", A, B, C)
    np.testing.assert_allclose(float(lines["trace"]), ref, rtol=1e-11)
    np.testing.assert_allclose([float(v) for v in lines["batch"].split()], ref * np.arange(1, 5), rtol=1e-11)
