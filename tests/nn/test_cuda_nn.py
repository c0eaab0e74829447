"""The CUDA dense engine (Sequential(backend="cuda")): the same initial weights as cpp, one training
step equal to cpp's to float rounding for every loss and optimizer, CUDA-graph replays equal to eager
steps, host and device copies of parameters kept coherent, save/load and bad input.  GPU only, except
the first test (the clear error where no device is usable)."""

import numpy as np
import pytest

import physdl
from physdl import nn
from tests.conftest import cuda_available, requires_cuda


def mlp(backend, dtype="float32", act=nn.Tanh, n_in=6, n_out=3, seed=4):
    return nn.Sequential([nn.Dense(n_in, 32), act(), nn.Dense(32, 16), nn.ReLU(), nn.Dense(16, n_out)],
                         seed=seed, dtype=dtype, backend=backend)


@pytest.mark.skipif(cuda_available(), reason="a CUDA device is usable here")
def test_without_a_device_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match="backend='cuda' is unavailable"):
        mlp("cuda")


def _data(n=64, n_in=6, n_out=3, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in)).astype(dtype)
    Y = rng.normal(size=(n, n_out)).astype(dtype)
    labels = rng.integers(0, n_out, size=n)
    labels[::7] = -100
    return X, Y, labels


def _tol(dtype, steps=1):
    # float32: a step's products sum 32-64 terms in another order than the CPU's BLAS; a few hundred
    # ulps of the parameters' scale after the update, growing with the number of steps
    return (3e-5 if dtype == "float32" else 1e-12) * steps




@pytest.mark.gpu
@requires_cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_initial_weights_and_forward(dtype):
    a, b = mlp("cpp", dtype), mlp("cuda", dtype)
    np.testing.assert_array_equal(a.params, b.params)
    X = _data(dtype=np.dtype(dtype))[0]
    np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=_tol(dtype), atol=_tol(dtype))


@pytest.mark.gpu
@requires_cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", ["mse", "binary_cross_entropy_with_logits", "softmax_cross_entropy"])
@pytest.mark.parametrize("opt", ["sgd", "momentum", "nesterov", "adam", "adam_wd_clip"])
def test_training_steps_equal_cpp(dtype, loss, opt):
    def make_opt():
        return {"sgd": lambda: nn.SGD(lr=0.05),
                "momentum": lambda: nn.SGD(lr=0.05, momentum=0.9),
                "nesterov": lambda: nn.SGD(lr=0.05, momentum=0.9, nesterov=True),
                "adam": lambda: nn.Adam(lr=1e-2),
                "adam_wd_clip": lambda: nn.Adam(lr=1e-2, weight_decay=1e-3, clip_norm=0.5)}[opt]()
    X, Y, labels = _data(dtype=np.dtype(dtype))
    y = labels if loss == "softmax_cross_entropy" else (Y > 0).astype(dtype) if "binary" in loss else Y
    models = {b: mlp(b, dtype) for b in ("cpp", "cuda")}
    opts = {b: make_opt() for b in models}
    losses = {b: [models[b].train_step(X, y, loss, opts[b]) for _ in range(5)] for b in models}
    # steps 1 (eager), 2 (captured) and 3-5 (replayed) all agree with the CPU engine
    np.testing.assert_allclose(losses["cuda"], losses["cpp"], rtol=_tol(dtype, 5), atol=_tol(dtype, 5))
    np.testing.assert_allclose(models["cuda"].params, models["cpp"].params, rtol=_tol(dtype, 5),
                               atol=_tol(dtype, 5))
    assert opts["cuda"].steps == opts["cpp"].steps == 5
    assert models["cuda"]._engine.graphs == 1


@pytest.mark.gpu
@requires_cuda
def test_graph_replay_equals_eager_steps():
    X, Y, _ = _data(dtype=np.float64)
    a, b = mlp("cuda", "float64"), mlp("cuda", "float64")
    oa, ob = nn.Adam(lr=1e-2), nn.Adam(lr=1e-2)
    for _ in range(4):
        a.train_step(X, Y, "mse", oa)
        # reading the parameters between steps forces a download and an upload around each step
        b.train_step(X, Y, "mse", ob)
        _ = b.params
    np.testing.assert_array_equal(a.params, b.params)


@pytest.mark.gpu
@requires_cuda
def test_host_writes_reach_the_device_and_lr_changes_apply():
    X, Y, _ = _data()
    m, ref = mlp("cuda"), mlp("cpp")
    m.params[:] = 0.01
    ref.params[:] = 0.01
    om, orf = nn.SGD(lr=0.1), nn.SGD(lr=0.1)
    for lr in (0.1, 0.01, 0.2):
        om.lr = orf.lr = lr
        m.train_step(X, Y, "mse", om)
        ref.train_step(X, Y, "mse", orf)
    np.testing.assert_allclose(m.params, ref.params, rtol=1e-4, atol=1e-5)


@pytest.mark.gpu
@requires_cuda
def test_gradients_and_backward_equal_cpp():
    X, Y, _ = _data(dtype=np.float64)
    a, b = mlp("cpp", "float64"), mlp("cuda", "float64")
    la, ga = a.gradients(X, Y, "mse")
    lb, gb = b.gradients(X, Y, "mse")
    assert abs(la - lb) < 1e-12
    np.testing.assert_allclose(gb, ga, rtol=1e-10, atol=1e-12)
    dY = np.random.default_rng(3).normal(size=(X.shape[0], 3))
    ra, rb = a.backward(X, dY, input_grad=True), b.backward(X, dY, input_grad=True)
    np.testing.assert_allclose(rb.flat, ra.flat, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rb.input, ra.input, rtol=1e-10, atol=1e-12)
    with pytest.raises(NotImplementedError, match="backend='cpp'"):
        b.double_backward(X, np.ones_like(X), dY)


@pytest.mark.gpu
@requires_cuda
def test_fit_save_load_resume(tmp_path):
    X, Y, _ = _data(n=256)
    m = mlp("cuda")
    opt = nn.Adam(lr=1e-2)
    m.fit(X, Y, "mse", opt, epochs=3, batch_size=32, progress=False)
    m.save(tmp_path / "m.npz", optimizer=opt)
    m2 = nn.Sequential.load(tmp_path / "m.npz", backend="cuda")
    np.testing.assert_array_equal(m2.params, m.params)
    ref = nn.Sequential.load(tmp_path / "m.npz", backend="cpp")
    np.testing.assert_allclose(ref.predict(X), m2.predict(X), rtol=1e-4, atol=1e-5)


@pytest.mark.gpu
@requires_cuda
def test_bad_input_is_refused_before_the_device_changes():
    with pytest.raises(ValueError, match=r"layers\[0\] \(Conv2d\)"):
        nn.Sequential([nn.Conv2d(1, 2, 3), nn.Flatten()], input_shape=(1, 8, 8), backend="cuda")
    with pytest.raises(ValueError, match="spectral_norm=True"):
        nn.Sequential([nn.Dense(3, 4, spectral_norm=True)], backend="cuda")
    X, _, labels = _data()
    m = mlp("cuda")
    before = m.params.copy()
    opt = nn.SGD(lr=0.1)
    bad = labels.copy()
    bad[0] = 5
    with pytest.raises(ValueError):
        m.train_step(X, bad, "softmax_cross_entropy", opt)
    with pytest.raises(ValueError):
        m.train_step(np.full_like(X, np.nan), labels, "softmax_cross_entropy", opt)
    np.testing.assert_array_equal(m.params, before)
    assert opt.steps == 0


@pytest.mark.gpu
@requires_cuda
@pytest.mark.parametrize("cell", ["RNN", "LSTM"])
@pytest.mark.parametrize("ret_seq", [False, True])
def test_recurrent_steps_equal_cpp(cell, ret_seq):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(16, 12, 5))
    layers = lambda: [getattr(nn, cell)(5, 8, return_sequences=ret_seq), nn.Dense(8, 2)]  # noqa: E731
    models = {b: nn.Sequential(layers(), input_shape=(12, 5), seed=2, dtype="float64", backend=b) for b in ("cpp", "cuda")}
    Y = rng.normal(size=(16, 12, 2) if ret_seq else (16, 2))
    np.testing.assert_allclose(models["cuda"].predict(X), models["cpp"].predict(X), rtol=1e-11, atol=1e-12)
    opts = {b: nn.Adam(lr=1e-2) for b in models}
    for _ in range(4):
        la = models["cpp"].train_step(X, Y, "mse", opts["cpp"])
        lb = models["cuda"].train_step(X, Y, "mse", opts["cuda"])
        assert abs(la - lb) < 1e-10
    np.testing.assert_allclose(models["cuda"].params, models["cpp"].params, rtol=1e-10, atol=1e-12)
    gb = models["cuda"].backward(X, np.ones_like(Y), input_grad=True)
    ga = models["cpp"].backward(X, np.ones_like(Y), input_grad=True)
    np.testing.assert_allclose(gb.input, ga.input, rtol=1e-10, atol=1e-12)
