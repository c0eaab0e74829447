"""The C++ core trains a network without Python (examples/nn/cpp_host), using its fallback products,
and a host defines a layer of its own through physdl/nn/layer.hpp."""

import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

import physdl

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nn" / "cpp_host" / "main.cpp"


def test_cpp_host_example_trains_xor(tmp_path):
    cxx = shutil.which("g++") or shutil.which("c++")
    # the installed package (a wheel), or the site-packages copy an editable install also writes
    roots = [Path(physdl.__file__).parent, Path(sysconfig.get_paths()["platlib"]) / "physdl"]
    root = next((r for r in roots if (r / "lib" / "libphysdl_core.a").exists()), roots[0])
    lib, inc = root / "lib" / "libphysdl_core.a", root / "include"
    if cxx is None or not lib.exists() or not EXAMPLE.exists():
        pytest.skip("needs a C++ compiler, the installed static core and the example source")
    exe = tmp_path / "nn_host"
    subprocess.run([cxx, "-O2", "-std=c++17", "-fopenmp", f"-I{inc}", str(EXAMPLE), str(lib), "-o", str(exe)],
                   check=True, capture_output=True, timeout=300)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    outs = [float(v) for v in run.stdout.split("outputs")[1].split("\n")[0].split()]
    assert [round(v) for v in outs] == [0, 1, 1, 0]
    # the host's own layer (physdl/nn/layer.hpp): gradient against finite differences
    err = float(run.stdout.split("max gradient error")[1].split(",")[0])
    assert err < 1e-7
