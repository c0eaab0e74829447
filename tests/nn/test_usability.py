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


# ----------------------------------------------------------------------------- classifier conveniences
def _blobs(n=120, C=3, d=4, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(C, d))
    y = rng.integers(0, C, size=n)
    return centres[y] + rng.normal(size=(n, d)), y


def test_predict_proba_and_score_of_a_softmax_classifier(cpu_backend):
    metrics = pytest.importorskip("sklearn.metrics")
    X, y = _blobs()
    model = nn.Sequential([nn.Dense(4, 8), nn.Tanh(), nn.Dense(8, 3)], seed=0, dtype="float64", backend=cpu_backend)
    with pytest.raises(ValueError, match="fit it first or pass loss="):
        model.predict_proba(X)
    hist = model.fit(X, y, loss="softmax_cross_entropy", optimizer=nn.Adam(lr=1e-2), epochs=5, batch_size=16)
    P = model.predict_proba(X)
    z = model.predict(X)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(P, e / e.sum(axis=1, keepdims=True), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    acc = model.score(X, y)
    assert acc == metrics.accuracy_score(y, P.argmax(axis=1))
    # the training accuracy of the last epoch is that of the final parameters on the training data
    assert hist["accuracy"][-1] == acc and len(hist["accuracy"]) == 5
    assert model.score(X, y, loss="softmax_cross_entropy") == acc


def test_predict_proba_and_score_of_binary_classifiers(cpu_backend):
    metrics = pytest.importorskip("sklearn.metrics")
    X, y = _blobs(C=2, seed=1)
    logit = nn.Sequential([nn.Dense(4, 6), nn.Tanh(), nn.Dense(6, 1)], seed=0, dtype="float64", backend=cpu_backend)
    logit.fit(X, y.astype(float), loss="binary_cross_entropy_with_logits", epochs=3, batch_size=16)
    P = logit.predict_proba(X)
    p1 = 1.0 / (1.0 + np.exp(-logit.predict(X)[:, 0]))
    np.testing.assert_allclose(P, np.column_stack([1 - p1, p1]), rtol=1e-13, atol=1e-15)
    assert logit.score(X, y.astype(float)) == metrics.accuracy_score(y, P.argmax(axis=1))
    prob = nn.Sequential([nn.Dense(4, 6), nn.Tanh(), nn.Dense(6, 1), nn.Sigmoid()], seed=0, dtype="float64",
                         backend=cpu_backend)
    prob.fit(X, y.astype(float), loss="binary_cross_entropy", epochs=3, batch_size=16)
    P = prob.predict_proba(X)
    np.testing.assert_array_equal(P[:, 1], prob.predict(X)[:, 0])
    assert prob.score(X, y.astype(float)) == metrics.accuracy_score(y, (prob.predict(X)[:, 0] > 0.5).astype(int))


def test_score_of_a_regression_is_r2(cpu_backend):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 3))
    Y = np.column_stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] ** 2])
    model = nn.Sequential([nn.Dense(3, 16), nn.Tanh(), nn.Dense(16, 2)], seed=0, dtype="float64", backend=cpu_backend)
    model.fit(X, Y, loss="mse", optimizer=nn.Adam(lr=1e-2), epochs=20, batch_size=16)
    r2 = model.score(X, Y)
    assert r2 == pytest.approx(metrics.r2_score(Y, model.predict(X)), rel=1e-12, abs=1e-14)
    assert 0 < r2 < 1
    # a constant target column: sklearn's convention (0 unless predicted exactly)
    Yc = Y.copy()
    Yc[:, 1] = 3.0
    assert model.score(X, Yc) == pytest.approx(metrics.r2_score(Yc, model.predict(X)), rel=1e-12, abs=1e-14)
    with pytest.raises(ValueError, match="predict_proba needs a classification loss"):
        model.predict_proba(X)


# ----------------------------------------------------------------------------- early stopping and callbacks
def _noisy_regression(seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 2))
    y = (X[:, :1] * X[:, 1:]) + 0.8 * rng.normal(size=(60, 1))  # few samples, much noise: it overfits
    return X, y


def _wide(backend, seed=0):
    return nn.Sequential([nn.Dense(2, 64), nn.Tanh(), nn.Dense(64, 64), nn.Tanh(), nn.Dense(64, 1)], seed=seed,
                         dtype="float64", backend=backend)


def test_early_stopping_restores_the_best_epoch(cpu_backend):
    X, y = _noisy_regression()
    kw = dict(loss="mse", batch_size=8, validation_split=0.25)
    model = _wide(cpu_backend)
    hist = model.fit(X, y, optimizer=nn.Adam(lr=1e-2), epochs=200, patience=5, **kw)
    val = np.array(hist["val_loss"])
    best = int(np.argmin(val))  # first minimum: later ties are not improvements
    assert hist.stop_reason == "patience" and hist.best_epoch == best
    assert hist.stopped_epoch == best + 5 == hist.epoch[-1] and len(val) == best + 6
    assert np.all(val[best + 1:] >= val[best])
    assert best < 100  # it did stop early
    # the parameters are those of a run of best + 1 epochs, bit for bit
    ref = _wide(cpu_backend)
    ref_hist = ref.fit(X, y, optimizer=nn.Adam(lr=1e-2), epochs=best + 1, **kw)
    np.testing.assert_array_equal(model.params, ref.params)
    assert ref_hist["val_loss"] == hist["val_loss"][:best + 1]
    # the validation set is the last quarter of the data, in the order given
    ev = ref.evaluate(X[45:], y[45:], "mse")["loss"]
    assert ev == pytest.approx(val[best], rel=1e-12)
    # and the same run with validation= gives the same history
    again = _wide(cpu_backend)
    h2 = again.fit(X[:45], y[:45], optimizer=nn.Adam(lr=1e-2), epochs=200, patience=5, loss="mse", batch_size=8,
                   validation=(X[45:], y[45:]))
    assert h2["val_loss"] == hist["val_loss"]
    np.testing.assert_array_equal(again.params, model.params)


def test_early_stopping_resumes_from_a_checkpoint(tmp_path, cpu_backend):
    X, y = _noisy_regression()
    kw = dict(loss="mse", batch_size=8, validation_split=0.25, epochs=200, patience=4)
    whole = _wide(cpu_backend)
    h_whole = whole.fit(X, y, optimizer=nn.Adam(lr=1e-2), **kw)
    # interrupted after 7 epochs (a callback's stop), then resumed from the checkpoint
    ck = tmp_path / "ck"
    part = _wide(cpu_backend)
    h1 = part.fit(X, y, optimizer=nn.Adam(lr=1e-2), checkpoint=ck, callback=lambda ep, h: ep == 6, **kw)
    assert h1.stop_reason == "callback" and h1.stopped_epoch == 6
    resumed = _wide(cpu_backend)
    h2 = resumed.fit(X, y, optimizer=nn.Adam(lr=1e-2), checkpoint=ck, **kw)
    assert h2["val_loss"] == h_whole["val_loss"] and h2.best_epoch == h_whole.best_epoch
    np.testing.assert_array_equal(resumed.params, whole.params)
    # the stop by patience is in the checkpoint: a further call returns at once with the same model
    third = _wide(cpu_backend)
    h3 = third.fit(X, y, optimizer=nn.Adam(lr=1e-2), checkpoint=ck, **kw)
    assert h3["val_loss"] == h_whole["val_loss"] and h3.stop_reason == "patience"
    np.testing.assert_array_equal(third.params, whole.params)


def test_callback_sees_every_epoch_and_stops(cpu_backend):
    X, y = _blobs()
    model = nn.Sequential([nn.Dense(4, 8), nn.Tanh(), nn.Dense(8, 3)], seed=0, dtype="float64", backend=cpu_backend)
    seen = []

    def cb(epoch, history):
        seen.append((epoch, len(history["loss"]), history["accuracy"][-1]))
        return history["accuracy"][-1] >= 0.9 or None

    hist = model.fit(X, y, loss="softmax_cross_entropy", optimizer=nn.Adam(lr=1e-2), epochs=100, batch_size=16,
                     callback=cb)
    assert [s[:2] for s in seen] == [(e, e + 1) for e in range(len(seen))]
    assert hist.stop_reason == "callback" and hist.stopped_epoch == len(seen) - 1 < 99
    assert seen[-1][2] >= 0.9 and all(s[2] < 0.9 for s in seen[:-1])
    assert model.score(X, y) == seen[-1][2]


def test_fit_argument_errors():
    X, y = _noisy_regression()
    model = _wide("cpp")
    with pytest.raises(ValueError, match="patience .* needs validation data"):
        model.fit(X, y, patience=3)
    with pytest.raises(ValueError, match="either validation or validation_split"):
        model.fit(X, y, validation=(X, y), validation_split=0.2)
    with pytest.raises(ValueError, match=r"validation_split must be a number in \(0, 1\)"):
        model.fit(X, y, validation_split=1.0)
    with pytest.raises(ValueError, match="patience must be >= 1"):
        model.fit(X, y, validation_split=0.2, patience=0)
    with pytest.raises(TypeError, match="callback must be callable"):
        model.fit(X, y, callback=3)


# ----------------------------------------------------------------------------- initial states
@pytest.mark.parametrize("kind,K", [("LSTM", 1), ("LSTM", 2), ("RNN", 1), ("RNN", 3)])
def test_initial_state_equals_torch(kind, K, cpu_backend):
    torch = pytest.importorskip("torch")
    layer = getattr(nn, kind)(3, 4, num_layers=K, return_sequences=True)
    model = nn.Sequential([layer], input_shape=(6, 3), seed=7, dtype="float64", backend=cpu_backend)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 6, 3))
    h0, c0 = rng.normal(size=(K, 5, 4)), rng.normal(size=(K, 5, 4))
    tm = getattr(torch.nn, kind)(3, 4, num_layers=K, batch_first=True, dtype=torch.float64)
    tm.load_state_dict({k.split(".", 1)[1]: v for k, v in model.to_torch_state_dict().items()})
    if kind == "LSTM":
        out_t, (h_t, c_t) = tm(torch.tensor(X), (torch.tensor(h0), torch.tensor(c0)))
        out, (hT, cT) = model.predict(X, initial_state=(h0, c0), return_state=True)
        np.testing.assert_allclose(cT, c_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    else:
        out_t, h_t = tm(torch.tensor(X), torch.tensor(h0))
        out, hT = model.predict(X, initial_state=h0, return_state=True)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hT, h_t.detach().numpy(), rtol=1e-12, atol=1e-14)


def _seq_model(backend, dtype="float64"):
    # per-step Dense + tanh, an LSTM, a stacked RNN, a per-step readout: the states continue the sequences
    return nn.Sequential([nn.Dense(2, 3), nn.Tanh(), nn.LSTM(3, 5, return_sequences=True),
                          nn.RNN(5, 4, num_layers=2, return_sequences=True), nn.Dense(4, 2)],
                         input_shape=(7, 2), seed=3, dtype=dtype, backend=backend)


def test_final_states_continue_the_sequences(cpu_backend):
    model = _seq_model(cpu_backend)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4, 7, 2))
    # zero states: the engine's output, to rounding
    np.testing.assert_allclose(model.predict(X, return_state=True)[0], model.predict(X), rtol=1e-12, atol=1e-14)
    zeros = {2: (np.zeros((4, 5)), np.zeros((4, 5))), 3: np.zeros((2, 4, 4))}
    np.testing.assert_allclose(model.predict(X, initial_state=zeros), model.predict(X), rtol=1e-12, atol=1e-14)
    # the first 3 steps, then the last 4 from the states they ended in: the output of all 7 at once
    first = nn.Sequential(model.layers, input_shape=(3, 2), seed=3, dtype="float64", backend=cpu_backend)
    first.params[:] = model.params
    _, st = first.predict(X[:, :3], return_state=True)
    assert sorted(st) == [2, 3] and st[2][0].shape == (1, 4, 5) and st[3].shape == (2, 4, 4)
    second = nn.Sequential(model.layers, input_shape=(4, 2), seed=3, dtype="float64", backend=cpu_backend)
    second.params[:] = model.params
    np.testing.assert_allclose(second.predict(X[:, 3:], initial_state=st, batch_size=3), model.predict(X)[:, 3:],
                               rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="several recurrent layers"):
        model.predict(X, initial_state=np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"initial_state\[3\] h0 of layer 3 .* must have shape \(2, n, 4\)"):
        model.predict(X, initial_state={3: np.zeros((4, 4))})
    with pytest.raises(ValueError, match="must be a pair"):
        model.predict(X, initial_state={2: np.zeros((4, 5))})
    with pytest.raises(ValueError, match="not the index of a recurrent layer"):
        model.predict(X, initial_state={1: np.zeros((4, 5))})
    with pytest.raises(ValueError, match="need an RNN or LSTM layer"):
        nn.Sequential([nn.Dense(2, 2)]).predict(np.zeros((1, 2)), return_state=True)


# ----------------------------------------------------------------------------- generation
def _next_step_model(backend):
    # (T, 2) -> the next step (2,)
    return nn.Sequential([nn.LSTM(2, 6), nn.Dense(6, 2)], input_shape=(5, 2), seed=1, dtype="float64",
                         backend=backend)


def test_generate_in_a_window_is_predict_in_a_loop(cpu_backend):
    model = _next_step_model(cpu_backend)
    X = np.random.default_rng(2).normal(size=(3, 5, 2))
    gen = model.generate(X, 6)
    x, want = X.copy(), []
    for _ in range(6):
        y = model.predict(x)
        want.append(y)
        x = np.concatenate([x[:, 1:], y[:, None]], axis=1)
    np.testing.assert_array_equal(gen, np.stack(want, axis=1))
    # a model whose output is a sequence: its last step is the next input
    seq = _seq_model(cpu_backend)
    Xs = np.random.default_rng(3).normal(size=(2, 7, 2))
    x, want = Xs.copy(), []
    for _ in range(3):
        y = seq.predict(x)[:, -1]
        want.append(y)
        x = np.concatenate([x[:, 1:], y[:, None]], axis=1)
    np.testing.assert_array_equal(seq.generate(Xs, 3), np.stack(want, axis=1))


@pytest.mark.parametrize("which", ["next_step", "sequence"])
def test_generate_with_states_is_the_model_on_the_grown_sequence(which, cpu_backend):
    model = _next_step_model(cpu_backend) if which == "next_step" else _seq_model(cpu_backend)
    T = model.input_shape[0]
    X = np.random.default_rng(4).normal(size=(3, T, 2))
    gen = model.generate(X, 4, mode="state")
    seq = X
    for k in range(4):  # a fresh model on the whole sequence so far, from zero states
        grown = nn.Sequential(model.layers, input_shape=(T + k, 2), seed=1, dtype="float64", backend=cpu_backend)
        grown.params[:] = model.params
        y = grown.predict(seq)
        y = y if y.ndim == 2 else y[:, -1]
        np.testing.assert_allclose(gen[:, k], y, rtol=1e-11, atol=1e-13)
        seq = np.concatenate([seq, gen[:, k:k + 1]], axis=1)


def test_generate_with_feedback_and_errors(cpu_backend):
    # a classifier of the next symbol: feed back the one-hot of its argmax
    model = nn.Sequential([nn.LSTM(4, 8), nn.Dense(8, 4)], input_shape=(3, 4), seed=0, dtype="float64",
                          backend=cpu_backend)
    X = np.eye(4)[np.random.default_rng(5).integers(0, 4, size=(2, 3))]
    onehot = lambda y: np.eye(4)[y.argmax(axis=1)]  # noqa: E731
    gen = model.generate(X, 5, feedback=onehot, mode="state")
    x = X
    for k in range(5):
        grown = nn.Sequential(model.layers, input_shape=(3 + k, 4), seed=0, dtype="float64", backend=cpu_backend)
        grown.params[:] = model.params
        np.testing.assert_array_equal(gen[:, k], onehot(grown.predict(x)))
        x = np.concatenate([x, gen[:, k:k + 1]], axis=1)
    wide = nn.Sequential([nn.LSTM(4, 8), nn.Dense(8, 3)], input_shape=(3, 4), seed=0, backend=cpu_backend)
    with pytest.raises(ValueError, match="predicts 3 features per step but takes 4: pass feedback="):
        wide.generate(X, 2)
    with pytest.raises(ValueError, match=r"feedback\(y\) must have shape \(2, 4\)"):
        wide.generate(X, 2, feedback=lambda y: y)
    flat = nn.Sequential([nn.Flatten(), nn.Dense(12, 4)], input_shape=(3, 4), seed=0, backend=cpu_backend)
    with pytest.raises(ValueError, match=r"mode='state' needs layers .* layer 0 is Flatten\(\)"):
        flat.generate(X, 2, mode="state")
    assert flat.generate(X, 2).shape == (2, 2, 4)  # a window works for any sequence model
    with pytest.raises(ValueError, match="initial_state goes with mode='state'"):
        model.generate(X, 2, initial_state=(np.zeros((2, 8)),) * 2)
