"""The C++ core contracts a network without Python (examples/tensornet/cpp_host), checked with NumPy."""

from pathlib import Path

import numpy as np

from tests.conftest import run_cpp_example

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tensornet" / "cpp_host" / "main.cpp"


def test_cpp_host_example_equals_numpy(tmp_path):
    stdout = run_cpp_example(EXAMPLE, tmp_path, required_header="physdl/tensornet/contract.hpp")
    lines = dict(line.split(" ", 1) for line in stdout.strip().splitlines())
    i = np.arange(9.0)
    A = (0.5 + i).reshape(3, 3)
    B = (1.0 - 0.25 * i).reshape(3, 3)
    C = (np.where(i % 2, -1.0, 2.0) + 0.1 * i).reshape(3, 3)
    ref = np.einsum("ab,bc,ca->", A, B, C)
    np.testing.assert_allclose(float(lines["trace"]), ref, rtol=1e-11)
    np.testing.assert_allclose([float(v) for v in lines["batch"].split()], ref * np.arange(1, 5), rtol=1e-11)
