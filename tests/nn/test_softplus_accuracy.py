"""The vectorised softplus (log1p through the atanh series, no 1 + t formed) against extended precision."""

import numpy as np
import pytest

import physdl.nn as nn


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softplus_and_its_gradient_to_a_few_ulp(dtype):
    eps = np.finfo(dtype).eps
    x = np.concatenate([np.linspace(-80, 80, 20001), -np.logspace(-30, 1.9, 400), np.logspace(-30, 1.9, 400),
                        [0.0]]).astype(dtype)
    m = nn.Sequential([nn.Softplus()], input_shape=(1,), dtype=dtype)
    y = m.predict(x[:, None])[:, 0].astype(np.float64)
    xl = x.astype(np.longdouble)
    ref = np.logaddexp(np.longdouble(0), xl)
    assert np.all(np.abs(y - ref) <= 4 * eps * ref)
    # the gradient of sum(softplus(x)) is sigmoid(x)
    g = m.input_gradient(x[:, None])[:, 0].astype(np.float64)
    sig = 1 / (1 + np.exp(-xl))
    assert np.all(np.abs(g - sig) <= 8 * eps * sig + np.finfo(dtype).tiny)


def test_softplus_extremes_do_not_overflow():
    m = nn.Sequential([nn.Softplus()], input_shape=(1,), dtype="float64")
    y = m.predict(np.array([[-1e4], [-745.0], [745.0], [1e4]]))[:, 0]
    assert np.all(np.isfinite(y)) and y[2] == 745.0 and y[3] == 1e4 and 0 <= y[0] <= 1e-300
