"""float32 training gives the same weights on 1 and 2 BLAS threads (the README's promise)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from physdl import nn

CASES = {
    "mlp": (lambda: [nn.Dense(256, 64), nn.ReLU(), nn.Dense(64, 1)], (256,), "mse"),
    "conv": (lambda: [nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Dense(4 * 12 * 12, 2)], (1, 12, 12),
             "softmax_cross_entropy"),
    "lstm": (lambda: [nn.LSTM(4, 16), nn.Dense(16, 2)], (10, 4), "softmax_cross_entropy"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_float32_training_independent_of_blas_threads(case, cpu_backend):
    layers, shape, loss = CASES[case]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256,) + shape).astype(np.float32)
    y = rng.normal(size=(256, 1)).astype(np.float32) if loss == "mse" else rng.integers(0, 2, 256)
    out = []
    for threads in (1, 2):
        with threadpool_limits(threads):
            m = nn.Sequential(layers(), input_shape=shape, seed=1, dtype="float32", backend=cpu_backend)
            m.fit(X, y, loss=loss, epochs=2, batch_size=128)
            out.append(m.params.copy())
    np.testing.assert_array_equal(out[0], out[1])
