"""Float64 central-difference checks of backpropagation (eq. 3.59-3.69) for every layer and loss."""

import numpy as np
import pytest

from physdl import nn

RNG = np.random.default_rng(1234)


def _numeric_check(model, X, y, loss, n_params=30, n_inputs=12, h=1e-6, rtol=1e-5, atol=1e-7):
    L, g, dx = model.gradients(X, y, loss, input_grad=True)
    p = model.params
    rng = np.random.default_rng(7)
    idx = rng.choice(p.size, size=min(n_params, p.size), replace=False) if p.size else []
    for i in idx:
        old = p[i]
        p[i] = old + h
        lp = model.gradients(X, y, loss)[0]
        p[i] = old - h
        lm = model.gradients(X, y, loss)[0]
        p[i] = old
        num = (lp - lm) / (2 * h)
        assert abs(num - g[i]) <= atol + rtol * max(abs(num), abs(g[i])), (i, num, g[i])
    flat = X.reshape(-1)
    for j in rng.choice(flat.size, size=min(n_inputs, flat.size), replace=False):
        old = flat[j]
        flat[j] = old + h
        lp = model.gradients(X, y, loss)[0]
        flat[j] = old - h
        lm = model.gradients(X, y, loss)[0]
        flat[j] = old
        num = (lp - lm) / (2 * h)
        assert abs(num - dx.reshape(-1)[j]) <= atol + rtol * abs(num), (j, num, dx.reshape(-1)[j])
    return L


def _targets(model, X, loss):
    out = model.predict(X)
    if loss == "softmax_cross_entropy":
        C = out.shape[-1]
        lab = RNG.integers(0, C, size=out.shape[:-1])
        lab.reshape(-1)[0] = -100  # one ignored row
        return lab
    if loss in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
        return RNG.uniform(0, 1, size=out.shape)
    return RNG.normal(size=out.shape)


CASES = {
    "dense_sigmoid": ([nn.Dense(5, 4), nn.Sigmoid(), nn.Dense(4, 3)], (5,), "mse"),
    "dense_tanh": ([nn.Dense(5, 4), nn.Tanh(), nn.Dense(4, 3)], (5,), "mse"),
    "dense_relu": ([nn.Dense(5, 6), nn.ReLU(), nn.Dense(6, 3)], (5,), "mse"),
    "dense_step": ([nn.Dense(5, 6), nn.Step(), nn.Dense(6, 3)], (5,), "mse"),
    "dense_cube": ([nn.Dense(3, 4), nn.Cube(), nn.Dense(4, 2)], (3,), "mse"),
    "hamiltonian_relu": ([nn.Dense(4, 5), nn.HamiltonianReLU(6), nn.Dense(5, 2)], (4,), "mse"),
    "softmax_layer": ([nn.Dense(4, 5), nn.Softmax(), nn.Dense(5, 2)], (4,), "mse"),
    "bce": ([nn.Dense(4, 3), nn.Sigmoid()], (4,), "binary_cross_entropy"),
    "bce_logits": ([nn.Dense(4, 3)], (4,), "binary_cross_entropy_with_logits"),
    "softmax_ce": ([nn.Dense(4, 5), nn.Tanh(), nn.Dense(5, 4)], (4,), "softmax_cross_entropy"),
    "dense_3d_rows": ([nn.Dense(3, 4), nn.Tanh(), nn.Dense(4, 5)], (6, 3), "softmax_cross_entropy"),
    "conv_strided_zero": ([nn.Conv2d(2, 3, (3, 2), stride=2, padding=1), nn.Tanh(), nn.Flatten()], (2, 7, 6), "mse"),
    "conv_periodic": ([nn.Conv2d(2, 3, 3, stride=1, padding=1, padding_mode="periodic"), nn.Flatten(), nn.Dense(3 * 25, 2)],
                      (2, 5, 5), "mse"),
    "conv_periodic_strided": ([nn.Conv2d(1, 2, 3, stride=2, padding=2, padding_mode="periodic")], (1, 6, 5), "mse"),
    "conv_transpose": ([nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), nn.Tanh()], (2, 4, 3), "mse"),
    "conv_transpose_plain": ([nn.ConvTranspose2d(1, 2, (2, 3), stride=1)], (1, 3, 3), "mse"),
    "maxpool": ([nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(2), nn.Flatten(), nn.Dense(2 * 9, 2)], (1, 6, 6), "mse"),
    "avgpool": ([nn.AvgPool2d(2, stride=1), nn.Flatten(), nn.Dense(2 * 16, 2)], (2, 5, 5), "mse"),
    "rnn_last": ([nn.RNN(3, 4), nn.Dense(4, 2)], (5, 3), "mse"),
    "rnn_seq": ([nn.RNN(3, 4, return_sequences=True), nn.Dense(4, 3)], (5, 3), "softmax_cross_entropy"),
    "lstm_last": ([nn.LSTM(3, 4), nn.Dense(4, 2)], (6, 3), "mse"),
    "lstm_seq": ([nn.LSTM(2, 3, return_sequences=True), nn.Dense(3, 4)], (4, 2), "softmax_cross_entropy"),
    "lstm_one_step": ([nn.LSTM(2, 3)], (1, 2), "mse"),
    "attention": ([nn.Attention(4, d_k=3, d_v=5), nn.Tanh()], (5, 4), "mse"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_check(case, cpu_backend):
    layers, shape, loss = CASES[case]
    model = nn.Sequential(layers, input_shape=shape, seed=3, dtype="float64", backend=cpu_backend)
    X = RNG.normal(size=(4,) + shape)
    y = _targets(model, X, loss)
    L = _numeric_check(model, X, y, loss)
    assert np.isfinite(L)
