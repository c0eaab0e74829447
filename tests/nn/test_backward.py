"""backward from a given output gradient, per-sample gradients, double backward: against PyTorch (float64)."""

import numpy as np
import pytest

from physdl import nn

from .test_gradients import CASES
from .torch_ref import torch_grads, torch_model

torch = pytest.importorskip("torch", reason="PyTorch is not installed")
TOL = dict(rtol=1e-6, atol=1e-10)


def _model(layers, shape, backend, seed=3):
    return nn.Sequential(layers, input_shape=shape, seed=seed, dtype="float64", backend=backend)


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward_equals_torch_vjp(case, cpu_backend):
    layers, shape, _ = CASES[case]
    model = _model(layers, shape, cpu_backend)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3,) + shape)
    dY = rng.normal(size=(3,) + model.output_shape)
    tm = torch_model(model)
    xt = torch.tensor(X, requires_grad=True)
    (tm(xt) * torch.tensor(dY)).sum().backward()
    g = model.backward(X, dY, input_grad=True)
    np.testing.assert_allclose(g.flat, torch_grads(model, tm), **TOL)
    np.testing.assert_allclose(g.input, xt.grad.numpy(), **TOL)
    for key, arr in g.layers.items():  # per-layer views in the layout of parameters()
        assert arr.shape == model.parameters()[key].shape
    assert model.backward(X, dY).input is None


def test_backward_checks_its_arguments(cpu_backend):
    model = _model([nn.Dense(3, 2)], (3,), cpu_backend)
    X = np.zeros((4, 3))
    with pytest.raises(ValueError, match="dY is needed"):
        model.backward(X)
    with pytest.raises(ValueError, match="dY must have shape"):
        model.backward(X, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="finite"):
        model.backward(X, np.full((4, 2), np.nan))
    with pytest.raises(TypeError, match="real"):
        model.backward(X, np.zeros((4, 2), complex))


def test_apply_gradients_equals_train_step(cpu_backend):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    a = _model([nn.Dense(3, 5), nn.Tanh(), nn.Dense(5, 2)], (3,), cpu_backend)
    b = _model([nn.Dense(3, 5), nn.Tanh(), nn.Dense(5, 2)], (3,), cpu_backend)
    oa, ob = nn.Adam(lr=1e-2, clip_norm=0.5), nn.Adam(lr=1e-2, clip_norm=0.5)
    for _ in range(4):
        a.train_step(X, y, "mse", oa)
        # the mse output gradient 2 (y_hat - y) / size, backpropagated, then one update
        dY = 2 * (b.predict(X) - y) / y.size
        b.apply_gradients(b.backward(X, dY), ob)
    np.testing.assert_allclose(b.params, a.params, rtol=1e-12, atol=1e-14)
    assert ob.steps == oa.steps == 4
    with pytest.raises(ValueError, match="must hold"):
        b.apply_gradients(np.zeros(3), ob)


PER_SAMPLE = {
    "mlp": ([nn.Dense(3, 5), nn.Tanh(), nn.Dense(5, 1)], (3,)),
    "mlp_rows": ([nn.Dense(3, 4), nn.Sigmoid(), nn.Flatten(), nn.Dense(8, 1)], (2, 3)),
    "conv": ([nn.Conv2d(1, 2, 3, padding=1, padding_mode="periodic"), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
              nn.Dense(2 * 4, 1)], (1, 4, 4)),
    "lstm": ([nn.LSTM(2, 3), nn.Dense(3, 1)], (4, 2)),  # no batched per-sample form: the engine's sample loop
}


@pytest.mark.parametrize("case", sorted(PER_SAMPLE))
def test_per_sample_gradients_equal_torch_func(case, cpu_backend):
    layers, shape = PER_SAMPLE[case]
    model = _model(layers, shape, cpu_backend)
    X = np.random.default_rng(4).normal(size=(5,) + shape)
    G = model.per_sample_gradients(X)
    tm = torch_model(model)
    names = [k for k, _ in tm.named_parameters()]
    params = {k: v.detach() for k, v in tm.named_parameters()}

    def out(p, x):
        return torch.func.functional_call(tm, p, (x.unsqueeze(0),)).sum()

    if case == "lstm":  # torch's LSTM does not vmap: a loop of torch.autograd.grad
        grads = [torch.autograd.grad(out(params_rg, torch.tensor(X[s])), list(params_rg.values()))
                 for params_rg in [{k: v.clone().requires_grad_(True) for k, v in params.items()}]
                 for s in range(X.shape[0])]
        per = {k: torch.stack([gs[j] for gs in grads]) for j, k in enumerate(params)}
    else:
        per = torch.func.vmap(torch.func.grad(out), in_dims=(None, 0))(params, torch.tensor(X))
    ref = []
    for key, arr in model.parameters().items():
        i, name = key.split(".", 1)
        k = f"{i}.bias_ih_l0" if f"{i}.bias_ih_l0" in names and name == "bias" else key
        ref.append(per[k].reshape(X.shape[0], -1).numpy())
    np.testing.assert_allclose(G, np.concatenate(ref, axis=1), **TOL)


def test_per_sample_gradients_vector_output(cpu_backend):
    model = _model([nn.Dense(3, 4), nn.Tanh(), nn.Dense(4, 2)], (3,), cpu_backend)
    rng = np.random.default_rng(1)
    X, dY = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    G = model.per_sample_gradients(X, dY)
    tm = torch_model(model)
    for s in range(4):  # a loop of torch.autograd.grad, one sample at a time
        tm.zero_grad()
        (tm(torch.tensor(X[s:s + 1])) * torch.tensor(dY[s:s + 1])).sum().backward()
        np.testing.assert_allclose(G[s], torch_grads(model, tm), **TOL)
    np.testing.assert_allclose(G.sum(axis=0), model.backward(X, dY).flat, **TOL)


SMOOTH = {
    "tanh": [nn.Dense(3, 6), nn.Tanh(), nn.Dense(6, 4), nn.Tanh(), nn.Dense(4, 1)],
    "sigmoid_softplus": [nn.Dense(3, 5), nn.Sigmoid(), nn.Dense(5, 4), nn.Softplus(), nn.Dense(4, 1)],
    "cube_hrelu": [nn.Dense(3, 4), nn.Cube(), nn.Dense(4, 3), nn.HamiltonianReLU(3), nn.Dense(3, 1)],
    "relu": [nn.Dense(3, 6), nn.ReLU(), nn.Dense(6, 1)],
    "rows_flatten": [nn.Dense(3, 4), nn.Tanh(), nn.Flatten(), nn.Dense(8, 2)],
    "conv_periodic_avgpool": [nn.Conv2d(1, 2, 3, padding=1, padding_mode="periodic"), nn.Tanh(), nn.AvgPool2d(2),
                              nn.Flatten(), nn.Dense(2 * 2 * 2, 1)],
    "conv_strided_maxpool": [nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=1), nn.Softplus(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Dense(3 * 3 * 1, 1)],
}
SHAPES = {"rows_flatten": (2, 3), "conv_periodic_avgpool": (1, 4, 4), "conv_strided_maxpool": (2, 6, 4)}


def _torch_penalty_grads(model, X, dY, phi):
    tm = torch_model(model)
    xt = torch.tensor(X, requires_grad=True)
    out = (tm(xt) * torch.tensor(dY)).sum()
    (g,) = torch.autograd.grad(out, xt, create_graph=True)
    val = phi(g)
    val.backward()
    return float(val.detach()), torch_grads(model, tm), g.detach().numpy()


@pytest.mark.parametrize("case", sorted(SMOOTH))
def test_gradient_penalty_equals_torch_create_graph(case, cpu_backend):
    shape = SHAPES.get(case, (3,))
    model = _model(SMOOTH[case], shape, cpu_backend)
    rng = np.random.default_rng(6)
    X = rng.normal(size=(5,) + shape)
    dY = rng.normal(size=(5,) + model.output_shape)
    # book eq. 6.91: mean_s (||dD/dx_s|| - 1)^2
    val_t, g_t, gx_t = _torch_penalty_grads(
        model, X, dY, lambda g: ((g.reshape(g.shape[0], -1).norm(dim=1) - 1) ** 2).mean())
    val, grads = model.gradient_penalty(X, dY=dY)
    assert val == pytest.approx(val_t, rel=1e-9)
    np.testing.assert_allclose(grads.input, gx_t, **TOL)
    np.testing.assert_allclose(grads.flat, g_t, **TOL)


def _penalty_fn(t):
    """The penalty's value and dvalue/dg written out in NumPy, each sample's terms as in eq. 6.91."""
    def fn(g):
        n = g.shape[0]
        norm = np.sqrt((g.reshape(n, -1).astype(np.float64) ** 2).sum(axis=1))
        value = float(np.mean((norm - t) ** 2))
        safe = np.where(norm > 0, norm, 1.0)
        coef = np.where(norm > 0, 2.0 * (norm - t) / safe / n, 0.0)
        return value, (coef.reshape((n,) + (1,) * (g.ndim - 1)) * g).astype(g.dtype)
    return fn


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1,), (2,), (3,), (1, 4, 4)])
def test_gradient_penalty_is_the_generic_objective_with_its_terms_bit_for_bit(shape, dtype, cpu_backend):
    """gradient_penalty's own path (no callable, columns added directly for one or two inputs) gives the
    very bits of input_gradient_objective with the penalty written out, also where some ||g_s|| = 0
    (ReLU critic: samples whose hidden units are all off have zero input gradient)."""
    if len(shape) == 3:
        layers = [nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"), nn.ReLU(), nn.Flatten(), nn.Dense(32, 1)]
    else:
        layers = [nn.Dense(shape[0], 6), nn.ReLU(), nn.Dense(6, 1)]
    model = nn.Sequential(layers, input_shape=shape, seed=4, dtype=dtype, backend=cpu_backend)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(8,) + shape).astype(dtype)
    # samples far on the negative side of every first-layer unit: zero input gradient
    W1 = np.asarray(list(model.parameters().values())[0], np.float64)
    if len(shape) == 1:
        model.params[:shape[0] * 6] = np.abs(W1).ravel()
        model.params[shape[0] * 6:shape[0] * 6 + 6] = 0
        X[:3] = -np.abs(X[:3]) - 1
        X[3:] = np.abs(X[3:]) + 0.1  # every unit on
    else:
        X[:3] = 0  # conv: zero input and, with zero biases, every unit at its kink (slope 0)
        model.params[18:20] = 0
    for t in (1.0, 0.25):
        val, grads = model.gradient_penalty(X, target=t)
        ref_val, ref = model.input_gradient_objective(X, _penalty_fn(t))
        gx = model.input_gradient(X)
        norms = np.sqrt((gx.reshape(8, -1).astype(np.float64) ** 2).sum(axis=1))
        assert (norms[:3] == 0).all() and (norms[3:] > 0).all()
        assert val == ref_val
        assert grads.flat.dtype == ref.flat.dtype and grads.flat.tobytes() == ref.flat.tobytes()
        assert grads.input.shape == ref.input.shape and grads.input.tobytes() == ref.input.tobytes()
        for key, arr in grads.layers.items():  # per-layer views, made on first access
            np.testing.assert_array_equal(arr, ref.layers[key])
    # every norm positive: the other branch
    val, grads = model.gradient_penalty(X[3:])
    ref_val, ref = model.input_gradient_objective(X[3:], _penalty_fn(1.0))
    assert val == ref_val and grads.flat.tobytes() == ref.flat.tobytes()


@pytest.mark.parametrize("case", ["tanh", "sigmoid_softplus", "cube_hrelu"])
def test_generic_input_gradient_objective_equals_torch(case, cpu_backend):
    model = _model(SMOOTH[case], (3,), cpu_backend)
    X = np.random.default_rng(8).normal(size=(4, 3))
    w = np.array([0.3, -1.2, 0.7])
    # phi(g) = sum_s sum_i w_i g_si^3 + 0.5 (sum g)^2, supplied as (value, dphi/dg)
    def fn(g):
        return float((w * g ** 3).sum() + 0.5 * g.sum() ** 2), 3 * w * g ** 2 + g.sum()

    val_t, g_t, _ = _torch_penalty_grads(model, X, np.ones((4, 1)),
                                         lambda g: (torch.tensor(w) * g ** 3).sum() + 0.5 * g.sum() ** 2)
    val, grads = model.input_gradient_objective(X, fn)
    assert val == pytest.approx(val_t, rel=1e-9)
    np.testing.assert_allclose(grads.flat, g_t, **TOL)


def test_double_backward_refuses_layers_without_second_derivative(cpu_backend):
    model = _model([nn.Dense(3, 4), nn.Softmax(), nn.Dense(4, 1)], (3,), cpu_backend)
    with pytest.raises(ValueError, match="layer 1"):
        model.gradient_penalty(np.zeros((2, 3)))
    for layers, shape in [([nn.ConvTranspose2d(1, 1, 3), nn.Flatten(), nn.Dense(36, 1)], (1, 4, 4)),
                          ([nn.LSTM(2, 3), nn.Dense(3, 1)], (4, 2))]:
        m = _model(layers, shape, cpu_backend)
        X = np.zeros((2,) + shape)
        with pytest.raises(ValueError, match="layer 0"):
            m.double_backward(X, X)


def test_cpp_and_numba_agree_on_new_entry_points():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6, 3))
    a, b = (_model(SMOOTH["tanh"], (3,), be) for be in ("cpp", "numba"))
    np.testing.assert_allclose(a.per_sample_gradients(X), b.per_sample_gradients(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.gradient_penalty(X)[1].flat, b.gradient_penalty(X)[1].flat, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dense_bias_gradient_is_the_row_sum_in_row_order(dtype):
    """The C++ Dense layer's bias gradient is sum_r dY[r] with the rows added one after another (its
    vectorised loop keeps each element's order), for a width that is no multiple of a vector register
    and for one output: exactly, against the sum written out here."""
    rng = np.random.default_rng(11)
    for n_out in (37, 1):
        model = nn.Sequential([nn.Dense(5, n_out)], seed=1, dtype=dtype, backend="cpp")
        X = rng.normal(size=(300, 5)).astype(dtype)
        dY = rng.normal(size=(300, n_out)).astype(dtype)
        acc = np.zeros(n_out, dtype)
        for row in dY:
            acc = acc + row
        np.testing.assert_array_equal(model.backward(X, dY).layers["0.bias"], acc)


def test_apply_gradients_refuses_non_finite_gradients_before_any_change(cpu_backend):
    """NaN or inf in the gradients: ValueError, and neither the parameters nor the optimizer's state
    (its step count, so the next update) have moved."""
    model = nn.Sequential([nn.Dense(3, 4), nn.Tanh(), nn.Dense(4, 1)], seed=0, dtype="float32", backend=cpu_backend)
    opt = nn.Adam(1e-2)
    g = np.full(model.n_params, 0.5, np.float32)
    model.apply_gradients(g, opt)
    before = model.params.copy()
    for bad in (np.nan, np.inf, -np.inf):
        b = g.copy()
        b[7] = bad
        with pytest.raises(ValueError, match="finite"):
            model.apply_gradients(b, opt)
        np.testing.assert_array_equal(model.params, before)
        assert opt.steps == 1
    twin = nn.Sequential([nn.Dense(3, 4), nn.Tanh(), nn.Dense(4, 1)], seed=0, dtype="float32", backend=cpu_backend)
    topt = nn.Adam(1e-2)
    for _ in range(3):
        twin.apply_gradients(g, topt)
    for _ in range(2):  # with the refused ones, three updates: the same trajectory unless one counted
        model.apply_gradients(g, opt)
    np.testing.assert_array_equal(model.params, twin.params)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m", [1, 2])
def test_penalty_terms_kernel_is_the_numpy_path_bit_for_bit(m, dtype):
    """The C++ penalty terms (one or two values per sample) against the penalty written out in NumPy,
    over magnitudes from 1e-30 to 1e20, zero gradients and a NaN: the same value and gradient bits."""
    from physdl import _backend
    from physdl.nn.model import _penalty_terms

    core = _backend.module("cpp").nn
    rng = np.random.default_rng(12)
    for n in (1, 7, 300):
        g = (rng.normal(size=(n, m)) * rng.choice([1e-30, 1e-3, 1.0, 1e3, 1e20], size=(n, 1))).astype(dtype)
        g[::5] = 0
        if n > 3:
            g[2, 0] = np.nan
        for t in (1.0, 0.3):
            value, H = _penalty_terms(g, t, core)
            ref_value, ref_H = _penalty_fn(t)(g)
            assert (value == ref_value) or (np.isnan(value) and np.isnan(ref_value))
            assert H.dtype == ref_H.dtype and H.shape == ref_H.shape and H.tobytes() == ref_H.tobytes()
