"""The installed CMake package: a C++ program links physdl::core and draws the same numbers as Python."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import physdl
from physdl import _config

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cpp"


def test_cmake_dir_cli():
    out = subprocess.run([sys.executable, "-m", "physdl", "--cmake-dir"], capture_output=True, text=True, check=True)
    path = Path(out.stdout.strip())
    assert path == _config.cmake_dir()
    assert (path / "physdlConfig.cmake").is_file()
    assert (_config.include_dir() / "physdl" / "random" / "philox.hpp").is_file()


@pytest.mark.skipif(shutil.which("cmake") is None or not EXAMPLE.is_dir(), reason="needs cmake and the source tree")
def test_cpp_example_matches_python(tmp_path):
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(EXAMPLE), "-B", str(build), f"-DCMAKE_PREFIX_PATH={_config.cmake_dir()}",
                    "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build)], check=True, capture_output=True)
    n = 1001
    out = subprocess.run([str(build / "philox_demo"), "12345", "7", str(n)], check=True, capture_output=True, text=True)
    vals = np.array([float(x) for x in out.stdout.split()])
    np.testing.assert_array_equal(vals[:n], physdl.random.uniform(n, seed=12345, stream=7))
    np.testing.assert_allclose(vals[n:], physdl.random.normal(n, seed=12345, stream=7), rtol=1e-14, atol=1e-14)
