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

