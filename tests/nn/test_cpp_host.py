"""The C++ core trains a network without Python (examples/nn/cpp_host), using its fallback products,
and a host defines a layer of its own through physdl/nn/layer.hpp."""

from pathlib import Path

from tests.conftest import run_cpp_example

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nn" / "cpp_host" / "main.cpp"


def test_cpp_host_example_trains_xor(tmp_path):
    stdout = run_cpp_example(EXAMPLE, tmp_path)
    outs = [float(v) for v in stdout.split("outputs")[1].split("\n")[0].split()]
    assert [round(v) for v in outs] == [0, 1, 1, 0]
    # the host's own layer (physdl/nn/layer.hpp): gradient against finite differences
    err = float(stdout.split("max gradient error")[1].split(",")[0])
    assert err < 1e-7
