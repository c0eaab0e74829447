"""Philox4x32-10: published Random123 known-answer vectors, and agreement across backends."""

import numpy as np
import pytest
from scipy import stats

import physdl
from physdl import random
from tests.conftest import requires_cuda

# Random123 kat_vectors: counter[4], key[2] -> output[4] (philox4x32, 10 and 7 rounds).
KAT = [
    (10, [0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    (10, [0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (10, [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
    (7, [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0x4DFCCABA, 0x190A87F0, 0xC47362BA, 0xB6B5242A]),
]


@pytest.mark.parametrize("rounds,ctr,key,expected", KAT)
def test_known_answers(cpu_backend, rounds, ctr, key, expected):
    out = random.philox4x32(ctr, key, rounds=rounds, backend=cpu_backend)
    assert out.dtype == np.uint32
    assert out.tolist() == expected


def test_addressing_convention(cpu_backend):
    # word j of a flat draw = lane j % 4 of block offset + j // 4, block = philox(counter, stream, seed)
    seed, stream, offset = 0x1234567890ABCDEF, 0xFEDCBA9876543210, 2**32 - 1
    words = random.uint32(12, seed, stream, offset, backend=cpu_backend)
    for b in range(3):
        c = offset + b
        blk = random.philox4x32(
            [c & 0xFFFFFFFF, c >> 32, stream & 0xFFFFFFFF, stream >> 32],
            [seed & 0xFFFFFFFF, seed >> 32], backend=cpu_backend)
        assert words[4 * b: 4 * b + 4].tolist() == blk.tolist()


def test_uniform_formulas(cpu_backend):
    w = random.uint32(8, seed=9, stream=2, backend=cpu_backend).astype(np.uint64)
    f32 = random.uniform(8, seed=9, stream=2, dtype=np.float32, backend=cpu_backend)
    np.testing.assert_array_equal(f32, ((w >> 8).astype(np.float64) * 2.0**-24).astype(np.float32))
    f64 = random.uniform(4, seed=9, stream=2, backend=cpu_backend)
    bits = ((w[0::2] << np.uint64(32)) | w[1::2]) >> np.uint64(11)
    np.testing.assert_array_equal(f64, bits.astype(np.float64) * 2.0**-53)


@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 1023, 100_003])
def test_backends_identical(n):
    if not physdl.backends()["cpp"].available:
        pytest.skip("compiled core unavailable")
    for kind, kw in [("uint32", {}), ("uniform", {}), ("uniform", {"dtype": np.float32}), ("normal", {})]:
        f = getattr(random, kind)
        a = f(n, seed=77, stream=5, offset=11, backend="cpp", **kw)
        b = f(n, seed=77, stream=5, offset=11, backend="numba", **kw)
        if kind == "normal":
            # same formula on both; libm vs LLVM may differ in the last ulp of log/cos
            np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-14)
        else:
            np.testing.assert_array_equal(a, b)


def test_thread_count_does_not_change_numbers(threads):
    if not physdl.backends()["cpp"].available:
        pytest.skip("compiled core unavailable")
    physdl.set_num_threads(1)
    a = random.normal(300_001, seed=1)
    physdl.set_num_threads(2)
    b = random.normal(300_001, seed=1)
    np.testing.assert_array_equal(a, b)


def test_prefix_property(cpu_backend):
    a = random.uniform(1000, seed=3, backend=cpu_backend)
    b = random.uniform(10, seed=3, backend=cpu_backend)
    np.testing.assert_array_equal(a[:10], b)
    c = random.uniform(10, seed=3, offset=5, backend=cpu_backend)
    np.testing.assert_array_equal(a[10:20], c)


def test_uniform_is_uniform(cpu_backend):
    u = random.uniform(200_000, seed=11, backend=cpu_backend)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    u32 = random.uniform(200_000, seed=12, dtype=np.float32, backend=cpu_backend)
    assert stats.kstest(u32, "uniform").pvalue > 1e-3
    assert u.min() >= 0 and u.max() < 1


def test_normal_is_normal(cpu_backend):
    z = random.normal(200_000, seed=13, backend=cpu_backend)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert np.all(np.isfinite(z))


def test_streams_are_independent():
    a = random.uniform(100_000, seed=1, stream=0)
    b = random.uniform(100_000, seed=1, stream=1)
    r = np.corrcoef(a, b)[0, 1]
    assert abs(r) < 4 / np.sqrt(a.size)


def test_generator_sequence_and_state(cpu_backend):
    g = random.Generator(seed=5, backend=cpu_backend)
    a = g.uniform(7)
    st = g.state
    b = g.normal(5)
    g2 = random.Generator.from_state(st, backend=cpu_backend)
    np.testing.assert_array_equal(g2.normal(5), b)
    np.testing.assert_array_equal(a, random.uniform(8, seed=5, backend=cpu_backend)[:7])
    p = g.permutation(50)
    assert sorted(p.tolist()) == list(range(50))


@requires_cuda
def test_cuda_identical_to_cpu():
    for kind, kw in [("uint32", {}), ("uniform", {}), ("uniform", {"dtype": np.float32})]:
        f = getattr(random, kind)
        np.testing.assert_array_equal(f(100_003, seed=4, stream=2, backend="cuda", **kw),
                                      f(100_003, seed=4, stream=2, backend="cpp", **kw))
    np.testing.assert_allclose(random.normal(100_003, seed=4, backend="cuda"),
                               random.normal(100_003, seed=4, backend="cpp"), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"seed": 1.5}, TypeError, "seed must be an integer"),
        ({"seed": "1"}, TypeError, "seed must be an integer"),
        ({"seed": True}, TypeError, "seed must be an integer"),
        ({"seed": 2**64}, ValueError, "seed must be <="),
        ({"seed": 1, "stream": -2}, ValueError, "stream must be >= 0"),
        ({"seed": 1, "backend": "gpu"}, ValueError, "backend must be None or one of"),
        ({"seed": 1, "dtype": np.int32}, TypeError, "dtype must be float32 or float64"),
    ],
)
def test_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        random.uniform(4, **kwargs)


def test_bad_shape_and_words():
    with pytest.raises(ValueError, match=r"shape\[0\] must be >= 0"):
        random.normal(-3, seed=1)
    with pytest.raises(TypeError, match=r"shape\[1\] must be an integer"):
        random.normal((2, 2.5), seed=1)
    with pytest.raises(ValueError, match="counter must be a sequence of 4"):
        random.philox4x32([0, 0, 0], [0, 0])
    with pytest.raises(ValueError, match=r"key\[1\] must be <="):
        random.philox4x32([0, 0, 0, 0], [0, 2**32])


def test_cuda_backend_error_is_clear():
    if physdl.backends()["cuda"].available:
        pytest.skip("a CUDA device is present")
    with pytest.raises(RuntimeError, match="backend='cuda' is unavailable"):
        random.uniform(4, seed=1, backend="cuda")
