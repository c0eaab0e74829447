"""End-to-end training: digits CNN, LSTM sorting, determinism, cpp == numba, save/load."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from physdl import nn
from physdl.nn.datasets import sorting_task


@pytest.fixture(autouse=True)
def one_blas_thread():
    # small products: BLAS threads only add contention on a shared 2-core machine
    with threadpool_limits(1):
        yield


def _shift_augment(X, y):
    """The 9 one-pixel translations of each 8x8 image (zero fill)."""
    out = []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            Z = np.zeros_like(X)
            Z[..., max(dy, 0):8 + min(dy, 0), max(dx, 0):8 + min(dx, 0)] = \
                X[..., max(-dy, 0):8 + min(-dy, 0), max(-dx, 0):8 + min(-dx, 0)]
            out.append(Z)
    return np.concatenate(out), np.tile(y, 9)


def test_digits_cnn_accuracy():
    sk = pytest.importorskip("sklearn", reason="scikit-learn is not installed")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)[:, None]
    Xtr, Xte, ytr, yte = train_test_split(X, d.target, test_size=0.25, random_state=0, stratify=d.target)
    Xa, ya = _shift_augment(Xtr, ytr)
    model = nn.Sequential([
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dense(128, 64), nn.ReLU(), nn.Dense(64, 10)], seed=0, dtype="float32")
    opt = nn.Adam(lr=2e-3)
    model.fit(Xa, ya, loss="softmax_cross_entropy", optimizer=opt, epochs=6, batch_size=64)
    opt.lr = 2e-4
    hist = model.fit(Xa, ya, loss="softmax_cross_entropy", optimizer=opt, epochs=2, batch_size=64,
                     validation=(Xte, yte))
    acc = np.mean(model.predict(Xte).argmax(axis=1) == yte)
    assert acc == pytest.approx(hist["val_accuracy"][-1])
    assert acc >= 0.97, acc
    assert sk is not None


def test_lstm_sorts_unseen_sequences():
    (Xtr, ytr), (Xte, yte) = sorting_task(n_train=800, n_test=500, max_len=4, bits=3, seed=2021)
    # no test sequence occurs in the training set
    assert not {r.tobytes() for r in Xte} & {r.tobytes() for r in Xtr}
    model = nn.Sequential([nn.LSTM(5, 64, return_sequences=True), nn.Dense(64, 8)], seed=0)
    opt = nn.Adam(lr=1e-2)
    model.fit(Xtr, ytr, loss="softmax_cross_entropy", optimizer=opt, epochs=60, batch_size=32)
    opt.lr = 1e-3
    model.fit(Xtr, ytr, loss="softmax_cross_entropy", optimizer=opt, epochs=15, batch_size=32)
    pred = model.predict(Xte).argmax(axis=-1)[:, 4:]
    exact = np.mean((pred == yte[:, 4:]).all(axis=1))
    assert exact >= 0.90, exact
    # the targets really are the sorted inputs
    bits = Xte[:, :4, :3] @ np.array([1, 2, 4])
    np.testing.assert_array_equal(np.sort(bits, axis=1), yte[:, 4:])


def _small_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X, y


def _train(backend, seed=4, dtype="float64"):
    X, y = _small_problem()
    model = nn.Sequential([nn.Dense(3, 16), nn.Tanh(), nn.Dense(16, 2)], seed=seed, dtype=dtype, backend=backend)
    hist = model.fit(X, y, loss="softmax_cross_entropy", optimizer=nn.Adam(lr=1e-2, clip_norm=5.0), epochs=5,
                     batch_size=16)
    return model, hist


def test_same_seed_same_weights(cpu_backend):
    a, ha = _train(cpu_backend)
    b, hb = _train(cpu_backend)
    np.testing.assert_array_equal(a.params, b.params)
    assert ha["loss"] == hb["loss"]
    c, _ = _train(cpu_backend, seed=5)
    assert not np.allclose(a.params, c.params)


def test_blas_thread_count_does_not_change_weights():
    with threadpool_limits(2):
        a, _ = _train("cpp")
    with threadpool_limits(1):
        b, _ = _train("cpp")
    np.testing.assert_array_equal(a.params, b.params)


@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-9), ("float32", 2e-3)])
def test_cpp_and_numba_train_the_same_weights(dtype, rtol):
    a, ha = _train("cpp", dtype=dtype)
    b, hb = _train("numba", dtype=dtype)
    np.testing.assert_allclose(a.params, b.params, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=rtol)


def test_cpp_and_numba_agree_on_conv_lstm_attention():
    rng = np.random.default_rng(3)
    cases = [
        ([nn.Conv2d(2, 3, 3, stride=2, padding=1, padding_mode="periodic"), nn.ReLU(), nn.ConvTranspose2d(3, 1, 2, stride=2),
          nn.AvgPool2d(2), nn.Flatten(), nn.Dense(16, 2)], (2, 8, 8)),
        ([nn.LSTM(3, 5, return_sequences=True), nn.Attention(5, 4, 3), nn.RNN(3, 4), nn.Dense(4, 2)], (6, 3)),
    ]
    for layers, shape in cases:
        X = rng.normal(size=(10,) + shape)
        y = rng.integers(0, 2, size=10)
        ms = [nn.Sequential(layers, input_shape=shape, seed=1, dtype="float64", backend=b) for b in ("cpp", "numba")]
        for m in ms:
            m.fit(X, y, loss="softmax_cross_entropy", optimizer=nn.SGD(lr=0.1, momentum=0.9), epochs=3, batch_size=4)
        np.testing.assert_allclose(ms[0].params, ms[1].params, rtol=1e-9, atol=1e-12)


def test_save_load_round_trip(tmp_path):
    model = nn.Sequential([nn.Conv2d(1, 2, 3, padding=1, padding_mode="periodic"), nn.HamiltonianReLU(4), nn.Flatten(),
                           nn.Dense(2 * 16, 3)], input_shape=(1, 4, 4), seed=9, dtype="float64")
    X = np.random.default_rng(1).normal(size=(5, 1, 4, 4))
    path = tmp_path / "m.npz"
    model.save(path)
    back = nn.Sequential.load(path)
    np.testing.assert_array_equal(back.params, model.params)
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    assert back.dtype == model.dtype and back.input_shape == model.input_shape


def test_fit_history_and_validation():
    X, y = _small_problem()
    model = nn.Sequential([nn.Dense(3, 16), nn.Tanh(), nn.Dense(16, 2)], seed=0, dtype="float64")
    hist = model.fit(X[:150], y[:150], loss="softmax_cross_entropy", optimizer=nn.Adam(lr=2e-2), epochs=30,
                     batch_size=32, validation=(X[150:], y[150:]))
    assert len(hist["loss"]) == 30 and len(hist["val_accuracy"]) == 30
    assert hist["loss"][-1] < hist["loss"][0]
    ev = model.evaluate(X[150:], y[150:], loss="softmax_cross_entropy")
    assert ev["loss"] == pytest.approx(hist["val_loss"][-1])
    assert ev["accuracy"] > 0.8
