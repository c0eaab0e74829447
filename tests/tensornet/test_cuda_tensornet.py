"""CUDA executor (cuBLAS strided-batched GEMM) equals the C++ core within rounding (GPU only)."""

import numpy as np
import pytest

from physdl.tensornet import Batched, Expression, Sliced
from tests.conftest import requires_cuda
from tests.tensornet.test_contract import make, random_network

pytestmark = [pytest.mark.gpu, requires_cuda]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("seed", range(10))
def test_cuda_equals_cpp_random_networks(seed, dtype):
    rng = np.random.default_rng(seed)
    sub, size = random_network(rng, int(rng.integers(1, 6)))
    ops = make(rng, sub, size, dtype)
    expr = Expression(sub, *[o.shape for o in ops])
    tol = 2e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-11
    ref = expr(*ops, backend="cpp")
    np.testing.assert_allclose(expr(*ops, backend="cuda"), ref, rtol=tol, atol=tol * max(1, np.abs(ref).max()))


def test_cuda_batched_sliced_mps_equals_cpp():
    rng = np.random.default_rng(1)
    L, D, S = 8, 16, 4096
    A = [rng.normal(size=(D, 2, D)) / 4 for _ in range(L)]
    conf = rng.integers(0, 2, size=(S, L))
    expr = Expression([[i, (i + 1) % L] for i in range(L)], *[(D, D)] * L, output=[])
    ops = [Sliced(A[i], (1,), conf[:, i:i + 1]) for i in range(L)]
    np.testing.assert_allclose(expr.batched(*ops, backend="cuda"), expr.batched(*ops, backend="cpp"), rtol=1e-10)
    x = rng.normal(size=(S, 5, 6))
    e2 = Expression("ij,jk->ik", (5, 6), (6, 7))
    y = rng.normal(size=(6, 7))
    np.testing.assert_allclose(e2.batched(Batched(x), y, backend="cuda"), x @ y, rtol=1e-12)


def test_cuda_faster_than_torch_einsum_reported():
    """Timing against torch.einsum on the same card (printed; correctness asserted)."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    import time

    rng = np.random.default_rng(2)
    L, D, S = 6, 32, 20000
    mats = rng.normal(size=(L, S, D, D)) / np.sqrt(D)
    expr = Expression([[i, (i + 1) % L] for i in range(L)], *[(D, D)] * L, output=[])
    got = expr.batched(*[Batched(m) for m in mats], backend="cuda")
    t0 = time.perf_counter()
    got = expr.batched(*[Batched(m) for m in mats], backend="cuda")
    ours = time.perf_counter() - t0
    tm = [torch.from_numpy(m).cuda() for m in mats]
    eq = "zab,zbc,zcd,zde,zef,zfa->z"
    ref = torch.einsum(eq, *tm)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    ref = torch.einsum(eq, *[torch.from_numpy(m).cuda() for m in mats]).cpu().numpy()
    theirs = time.perf_counter() - t0
    print(f"\nring of 6 {D}x{D}, {S} samples, host to host: physdl cuda {ours * 1e3:.1f} ms, "
          f"torch.einsum {theirs * 1e3:.1f} ms")
    np.testing.assert_allclose(got, ref, rtol=1e-9)
