import os

import numpy as np
import pytest

import physdl

CPU_BACKENDS = [b for b in ("cpp", "numba") if physdl.backends()[b].available]


@pytest.fixture(params=CPU_BACKENDS)
def cpu_backend(request):
    """Each CPU backend available here (cpp, numba)."""
    return request.param


def cuda_available() -> bool:
    return physdl.backends()["cuda"].available


requires_cuda = pytest.mark.skipif(
    not cuda_available(), reason="needs a CUDA device and physdl built with PHYSDL_CUDA: "
    + physdl.backends()["cuda"].reason
)


@pytest.fixture
def threads():
    """Restore the core's thread count after a test that changes it."""
    n = physdl.get_num_threads()
    yield
    physdl.set_num_threads(n)


os.environ.setdefault("MPLBACKEND", "Agg")



def run_cpp_example(source, tmp_path, required_header: str | None = None) -> str:
    """Build a C++ example against the installed static core and headers and return its stdout.

    The core is looked for beside the package (a wheel) and beside ``physdl._core`` (an editable
    install keeps the compiled parts in site-packages); the test is skipped without a compiler, the
    core or the example (or ``required_header`` under the include folder).
    """
    import shutil
    import subprocess
    from pathlib import Path

    import physdl._core

    cxx = shutil.which("g++") or shutil.which("c++")
    roots = [Path(physdl.__file__).parent, Path(physdl._core.__file__).parent]
    root = next((r for r in roots if (r / "lib" / "libphysdl_core.a").exists()), roots[0])
    lib, inc = root / "lib" / "libphysdl_core.a", root / "include"
    if (cxx is None or not lib.exists() or not Path(source).exists()
            or (required_header is not None and not (inc / required_header).exists())):
        pytest.skip("needs a C++ compiler, the installed static core and headers, and the example source")
    exe = tmp_path / Path(source).parent.name
    subprocess.run([cxx, "-O2", "-std=c++17", "-fopenmp", f"-I{inc}", str(source), str(lib), "-o", str(exe)],
                   check=True, capture_output=True, timeout=300)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout
