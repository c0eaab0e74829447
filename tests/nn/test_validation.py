"""Bad input raises ValueError/TypeError naming the argument, before any kernel runs."""

import numpy as np
import pytest

from physdl import nn


def _mlp(backend="cpp"):
    return nn.Sequential([nn.Dense(3, 4), nn.Tanh(), nn.Dense(4, 3)], seed=0, dtype="float64", backend=backend)


def test_dense_layers_that_do_not_chain_fail_at_construction():
    with pytest.raises(ValueError, match=r"layer 2 \(Dense\(5, 2\)\).*4 outputs feed 5 inputs"):
        nn.Sequential([nn.Dense(3, 4), nn.ReLU(), nn.Dense(5, 2)])


def test_conv_shapes_that_do_not_chain_fail_at_first_call(cpu_backend):
    model = nn.Sequential([nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Dense(10, 2)], backend=cpu_backend)
    with pytest.raises(ValueError, match=r"layer 2 \(Dense\(10, 2\)\).*18"):
        model.predict(np.zeros((2, 1, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"layer 0 \(Conv2d"):
        nn.Sequential([nn.Conv2d(3, 2, 3)], input_shape=(1, 5, 5))
    with pytest.raises(ValueError, match="layer 0"):
        nn.Sequential([nn.LSTM(4, 3)], input_shape=(5, 3))


def test_labels_out_of_range(cpu_backend):
    model = _mlp(cpu_backend)
    X = np.zeros((4, 3))
    for bad in (3, -1):
        y = np.array([0, 1, bad, 2])
        with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
            model.train_step(X, y, loss="softmax_cross_entropy", optimizer=nn.SGD())
        with pytest.raises(ValueError, match=r"y: labels"):
            model.fit(X, y, loss="softmax_cross_entropy")
    with pytest.raises(TypeError, match="integer class labels"):
        model.train_step(X, np.zeros(4), loss="softmax_cross_entropy", optimizer=nn.SGD())
    with pytest.raises(ValueError, match=r"y must have shape \(4,\)"):
        model.train_step(X, np.zeros((4, 2), np.int64), loss="softmax_cross_entropy", optimizer=nn.SGD())


def test_nan_inputs(cpu_backend):
    model = _mlp(cpu_backend)
    before = model.params.copy()
    X = np.zeros((4, 3))
    X[2, 1] = np.nan
    y = np.zeros(4, np.int64)
    with pytest.raises(ValueError, match="X must contain only finite values"):
        model.train_step(X, y, loss="softmax_cross_entropy", optimizer=nn.Adam())
    with pytest.raises(ValueError, match="X must contain only finite values"):
        model.predict(X)
    Xbig = np.zeros((100, 3))
    Xbig[99, 0] = np.inf
    with pytest.raises(ValueError, match="X must contain only finite values"):
        model.fit(Xbig, np.zeros(100, np.int64), loss="softmax_cross_entropy", batch_size=10)
    with pytest.raises(ValueError, match="y must contain only finite values"):
        model.train_step(np.zeros((4, 3)), np.full((4, 3), np.nan), loss="mse", optimizer=nn.Adam())
    np.testing.assert_array_equal(model.params, before)  # nothing was trained


def test_empty_data_and_wrong_shapes(cpu_backend):
    model = _mlp(cpu_backend)
    with pytest.raises(ValueError, match="X must not be empty"):
        model.fit(np.zeros((0, 3)), np.zeros(0, np.int64), loss="softmax_cross_entropy")
    with pytest.raises(ValueError, match=r"X must have shape \(n, 3\)"):
        model.predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"y must have shape \(2, 3\)"):
        model.train_step(np.zeros((2, 3)), np.zeros((2, 2)), loss="mse", optimizer=nn.SGD())
    with pytest.raises(ValueError, match="validation must be a pair"):
        model.fit(np.zeros((2, 3)), np.zeros(2, np.int64), loss="softmax_cross_entropy", validation=np.zeros(3))


def test_wrong_types():
    model = _mlp()
    with pytest.raises(TypeError, match="X must"):
        model.predict(np.array([["a", "b", "c"]]))
    with pytest.raises(TypeError, match="X must"):
        model.predict(None)
    with pytest.raises(TypeError, match="dtype must be"):
        nn.Sequential([nn.Dense(2, 2)], dtype="int32")
    with pytest.raises(TypeError, match="optimizer must be"):
        model.train_step(np.zeros((2, 3)), np.zeros(2, np.int64), loss="softmax_cross_entropy", optimizer="adam")
    with pytest.raises(ValueError, match="loss must be one of"):
        model.train_step(np.zeros((2, 3)), np.zeros(2, np.int64), loss="hinge", optimizer=nn.SGD())
    with pytest.raises(TypeError, match=r"layers\[1\] must be a physdl.nn layer"):
        nn.Sequential([nn.Dense(2, 2), "relu"])
    with pytest.raises(ValueError, match="backend"):
        nn.Sequential([nn.Dense(2, 2)], backend="gpu")


def test_bad_layer_and_optimizer_settings():
    with pytest.raises(ValueError, match="n_in must be >= 1"):
        nn.Dense(0, 3)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="lr must be > 0"):
        nn.Adam(lr=0)
    with pytest.raises(ValueError, match="betas"):
        nn.Adam(betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="nesterov"):
        nn.SGD(nesterov=True)
    opt = nn.Adam()
    a, b = _mlp(), _mlp()
    a.train_step(np.zeros((2, 3)), np.zeros(2, np.int64), loss="softmax_cross_entropy", optimizer=opt)
    with pytest.raises(ValueError, match="another model"):
        b.train_step(np.zeros((2, 3)), np.zeros(2, np.int64), loss="softmax_cross_entropy", optimizer=opt)


def test_core_guards_reject_misuse():
    """The C++ entry points check sizes themselves (the private module can be called directly)."""
    import physdl._core as core

    net = core.nn.Network64([0], [[3, 2]], [3], 4)
    with pytest.raises(ValueError, match="out has the wrong size"):
        net.forward(np.zeros((2, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="dx has the wrong size"):
        net.gradients_values(np.zeros((2, 3)), np.zeros((2, 2)), 0, True, np.zeros(1))
    with pytest.raises(ValueError, match="X has 5 values"):
        net.forward(np.zeros(5), np.zeros(2))
    with pytest.raises(ValueError, match="optimizer was built for 3 parameters"):
        net.train_values(np.zeros((2, 3)), np.zeros((2, 2)), 0, core.nn.Optimizer64(1, 1e-3, 0, 0.9, 0.999, 1e-8, 0, 0,
                                                                                       False, 3))
    with pytest.raises(ValueError, match="layer 0"):
        core.nn.Network64([0], [[4, 2]], [3], 4)
    with pytest.raises(ValueError, match="unknown layer kind"):
        core.nn.Network64([99], [[]], [3], 4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nan_detected_behind_a_narrowing_dense_layer(dtype, cpu_backend):
    model = nn.Sequential([nn.Dense(6, 2), nn.ReLU(), nn.Dense(2, 2)], seed=0, dtype=dtype, backend=cpu_backend)
    for bad in (np.nan, np.inf, -np.inf):
        X = np.ones((5, 6), dtype)
        X[3, 4] = bad
        with pytest.raises(ValueError, match="X must contain only finite values"):
            model.predict(X)
        with pytest.raises(ValueError, match="X must contain only finite values"):
            model.train_step(X, np.zeros(5, np.int64), loss="softmax_cross_entropy", optimizer=nn.SGD())
    # finite X whose product overflows is not an input error
    model.params[:] = np.finfo(dtype).max / 4
    with np.errstate(over="ignore", invalid="ignore"):  # NumPy products in the numba engine warn
        out = model.predict(np.ones((2, 6), dtype))
    assert not np.isfinite(out).all()
