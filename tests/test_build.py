"""Build options: PHYSDL_CUDA=ON fails loudly without a CUDA compiler; AUTO and OFF configure quietly.
And the Numba fallback when the compiled core is missing."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
needs_source = pytest.mark.skipif(
    shutil.which("cmake") is None or not (ROOT / "CMakeLists.txt").is_file(), reason="needs cmake and the source tree"
)


def _configure(tmp_path, cuda: str):
    env = dict(os.environ)
    env["CUDACXX"] = "/nonexistent/nvcc"  # no usable CUDA compiler, whatever is on PATH
    env.pop("CMAKE_CUDA_COMPILER", None)
    return subprocess.run(
        ["cmake", "-S", str(ROOT), "-B", str(tmp_path / f"b-{cuda}"), f"-DPHYSDL_CUDA={cuda}", "-DPHYSDL_PYTHON=OFF"],
        capture_output=True, text=True, env=env,
    )


@needs_source
def test_cuda_on_without_compiler_fails_with_message(tmp_path):
    r = _configure(tmp_path, "ON")
    assert r.returncode != 0
    assert "PHYSDL_CUDA=ON but no CUDA compiler was found" in r.stdout + r.stderr


@needs_source
@pytest.mark.parametrize("mode", ["AUTO", "OFF"])
def test_cuda_auto_and_off_configure(tmp_path, mode):
    r = _configure(tmp_path, mode)
    assert r.returncode == 0, r.stderr


def test_numba_fallback_without_compiled_core():
    code = (
        "import sys, warnings\n"
        "sys.modules['physdl._core'] = None\n"  # makes `import physdl._core` fail
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import physdl\n"
        "    b = physdl.get_backend()\n"
        "print(b, sum('Numba twins will serve' in str(x.message) for x in w))\n"
        "import numpy as np\n"
        "np.save(sys.stdout.buffer, physdl.random.uniform(64, seed=5))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    head, _, payload = r.stdout.partition(b"\n")
    assert head.decode().split() == ["numba", "1"]
    import io

    import physdl

    np.testing.assert_array_equal(np.load(io.BytesIO(payload)), physdl.random.uniform(64, seed=5, backend="numba"))
