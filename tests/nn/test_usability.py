"""Conveniences of Sequential: configurations as one channel, stacked recurrent layers, initial
states, generation, predict_proba/score, training accuracy, early stopping and callbacks.  Each is
compared with something computed independently (NumPy, scikit-learn, PyTorch, a manual loop)."""

import numpy as np
import pytest

from physdl import nn


# ----------------------------------------------------------------------------- configurations (n, L, L)
def _cnn(backend, seed=1):
    return nn.Sequential([nn.Conv2d(1, 3, 3, padding=1, padding_mode="periodic"), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Dense(3 * 3 * 3, 2)], seed=seed, dtype="float64", backend=backend)


def test_conv2d_takes_configurations_as_one_channel(cpu_backend):
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(7, 6, 6))
    y = rng.integers(0, 2, size=7)
    a, b = _cnn(cpu_backend), _cnn(cpu_backend)
    out = a.predict(X)  # builds from (n, L, L)
    assert a.input_shape == (1, 6, 6)
    np.testing.assert_array_equal(out, b.predict(X[:, None]))
    # one training step from (n, L, L) and one from (n, 1, L, L): the same loss and parameters, bit for bit
    la = a.train_step(X, y, "softmax_cross_entropy", nn.SGD(lr=0.1, momentum=0.5))
    lb = b.train_step(X[:, None], y, "softmax_cross_entropy", nn.SGD(lr=0.1, momentum=0.5))
    assert la == lb
    np.testing.assert_array_equal(a.params, b.params)
    # fit too, and input gradients come back in the shape given
    ha = a.fit(X, y, loss="softmax_cross_entropy", epochs=2, batch_size=3)
    hb = b.fit(X[:, None], y, loss="softmax_cross_entropy", epochs=2, batch_size=3)
    assert ha["loss"] == hb["loss"]
    np.testing.assert_array_equal(a.params, b.params)
    _, _, dx = a.gradients(X, y, "softmax_cross_entropy", input_grad=True)
    _, _, dx1 = b.gradients(X[:, None], y, "softmax_cross_entropy", input_grad=True)
    assert dx.shape == X.shape and dx1.shape == (7, 1, 6, 6)
    np.testing.assert_array_equal(dx, dx1[:, 0])
    np.testing.assert_array_equal(a.input_gradient(X, np.ones((7, 2))), b.input_gradient(X[:, None], np.ones((7, 2)))[:, 0])
    # a model given input_shape=(L, L) is the same model
    c = nn.Sequential(_cnn(cpu_backend).layers, input_shape=(6, 6), seed=1, dtype="float64", backend=cpu_backend)
    assert c.input_shape == (1, 6, 6)


def test_wrong_image_shapes_name_the_layer(cpu_backend):
    # several channels: the channel axis cannot be guessed; the error names layer 0 and says what to pass
    with pytest.raises(ValueError, match=r"layer 0 \(Conv2d\(2, .*pass X of shape \(n, 2, H, W\)"):
        nn.Sequential([nn.Conv2d(2, 3, 3)], backend=cpu_backend).predict(np.zeros((2, 5, 5)))
    # an image layer inside the network whose input is not an image
    with pytest.raises(ValueError, match=r"layer 2 \(Conv2d\(1, .*output of layer 1 \(ReLU\(\)\).*layer 2 \(Conv2d\) "
                                         r"takes images"):
        nn.Sequential([nn.Dense(5, 5), nn.ReLU(), nn.Conv2d(1, 3, 3)], backend=cpu_backend)
    # a built model given configurations of another size
    with pytest.raises(ValueError, match=r"X must have shape \(n, 1, 6, 6\) or \(n, 6, 6\) \(one channel\) "
                                         r"\(the input of layer 0, Conv2d\)"):
        m = _cnn(cpu_backend)
        m.predict(np.zeros((1, 6, 6)))
        m.fit(np.zeros((3, 8, 8)), np.zeros(3, np.int64), loss="softmax_cross_entropy")


# ----------------------------------------------------------------------------- stacked recurrent layers
@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM])
@pytest.mark.parametrize("ret", [False, True])
def test_stacked_layers_equal_layers_in_sequence(cls, ret, cpu_backend):
    stacked = nn.Sequential([cls(3, 5, num_layers=3, return_sequences=ret), nn.Dense(5, 2)], input_shape=(6, 3),
                            seed=4, dtype="float64", backend=cpu_backend)
    chain = nn.Sequential([cls(3, 5, return_sequences=True), cls(5, 5, return_sequences=True),
                           cls(5, 5, return_sequences=ret), nn.Dense(5, 2)], input_shape=(6, 3), seed=4,
                          dtype="float64", backend=cpu_backend)
    # same layout and the same initial values
    np.testing.assert_array_equal(stacked.params, chain.params)
    assert [k.split(".", 1)[1] for k in stacked.parameters()][:6] == [
        "weight_ih_l0", "weight_hh_l0", "bias", "weight_ih_l1", "weight_hh_l1", "bias_l1"]
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4, 6, 3))
    y = rng.normal(size=(4,) + stacked.output_shape)
    np.testing.assert_array_equal(stacked.predict(X), chain.predict(X))
    for _ in range(3):
        assert stacked.train_step(X, y, "mse", nn.Adam(lr=1e-2)) == chain.train_step(X, y, "mse", nn.Adam(lr=1e-2))
    np.testing.assert_array_equal(stacked.params, chain.params)


def test_stacked_lstm_equals_torch():
    torch = pytest.importorskip("torch")
    from .torch_ref import torch_model

    model = nn.Sequential([nn.LSTM(3, 4, num_layers=2, return_sequences=True), nn.Dense(4, 2)], input_shape=(5, 3),
                          seed=2, dtype="float64")
    tm = torch_model(model)
    assert tm[0].num_layers == 2
    X = np.random.default_rng(3).normal(size=(3, 5, 3))
    np.testing.assert_allclose(model.predict(X), tm(torch.tensor(X)).detach().numpy(), rtol=1e-10, atol=1e-12)
    other = nn.Sequential([nn.LSTM(3, 4, num_layers=2, return_sequences=True), nn.Dense(4, 2)], input_shape=(5, 3),
                          seed=9, dtype="float64")
    other.from_torch_state_dict(model.to_torch_state_dict())
    np.testing.assert_array_equal(other.params, model.params)


def test_stacked_layers_save_and_load(tmp_path):
    model = nn.Sequential([nn.RNN(2, 3, num_layers=2), nn.Dense(3, 1)], input_shape=(4, 2), seed=5, dtype="float64")
    model.save(tmp_path / "m")
    back = nn.Sequential.load(tmp_path / "m")
    assert repr(back.layers[0]) == "RNN(2, 3, num_layers=2, return_sequences=False)"
    np.testing.assert_array_equal(back.params, model.params)
    with pytest.raises(ValueError, match="num_layers must be >= 1"):
        nn.LSTM(2, 3, num_layers=0)
