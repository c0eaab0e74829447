"""The chapter 3 demos against independent references (closed forms, least squares)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from physdl.nn import demos


def _softplus(z):
    return np.logaddexp(0.0, z)


@pytest.mark.parametrize("nbits", [1, 4, 10, 40])
def test_nbit_relu_is_eq_3_40_and_approaches_relu(nbits, cpu_backend):
    z = np.linspace(-8, 30, 500)
    h = demos.nbit_relu(z, nbits, backend=cpu_backend)
    direct = sum(1.0 / (1.0 + np.exp(-(z + 0.5 - u))) for u in range(1, nbits + 1))
    np.testing.assert_allclose(h, direct, rtol=1e-13, atol=1e-13)
    # midpoint rule for int_0^N sigmoid(z - t) dt; error bounded by max|sigmoid''|/24 per unit
    assert np.abs(h - (_softplus(z) - _softplus(z - nbits))).max() < 0.02
    # eq. 3.41: far from the kink and below saturation, <h> ~ max(z, 0)
    window = (np.abs(z) > 5) & (z < nbits - 5)
    if window.any():
        assert np.abs(h - np.maximum(z, 0))[window].max() < 0.01


def test_deep_beats_the_best_cubic_wide_cannot():
    with threadpool_limits(1):
        r = demos.deep_vs_wide(epochs=1500, seeds=range(4))
    assert r["wide_mse"] >= r["best_cubic_mse"] * (1 - 1e-9)  # a 1-hidden-layer z^3 net is a cubic
    assert r["deep_mse"] < 0.01 * r["best_cubic_mse"]  # eq. 3.91 reaches degree 9


def test_universal_approximation():
    with threadpool_limits(1):
        r = demos.universal_approximation()
    assert r["max_error"] < 0.03 and r["rms_error"] < 0.01


@pytest.mark.parametrize("k,s", [(3, 2), (4, 2), (3, 3), (5, 2)])
def test_checkerboard_overlaps_match_brute_force(k, s, cpu_backend):
    n = 5
    out = demos.checkerboard(k, s, n, backend=cpu_backend)
    # brute force over eq. 4.9: output pixel i receives input I through kernel tap a when s*I + a == i
    m = (n - 1) * s + k
    count1d = np.zeros(m)
    for I in range(n):
        for a in range(k):
            count1d[s * I + a] += 1
    np.testing.assert_array_equal(out, np.outer(count1d, count1d))
    interior = out[k:-k, k:-k]
    assert (interior.min() == interior.max()) == (k % s == 0)  # uneven overlap unless s divides k
