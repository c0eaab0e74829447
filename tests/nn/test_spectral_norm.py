"""Spectral normalisation and the one-pass backward variants, against PyTorch in float64."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.nn.utils import parametrize  # noqa: E402
from torch.nn.utils.parametrizations import spectral_norm  # noqa: E402

from physdl import nn  # noqa: E402

BACKENDS = ["cpp", "numba"]


def _mlp(backend, sn=True):
    return nn.Sequential([nn.Dense(3, 6, spectral_norm=sn), nn.Tanh(), nn.Dense(6, 5, spectral_norm=sn), nn.Softplus(),
                          nn.Dense(5, 1)], seed=3, dtype="float64", backend=backend)


def _torch_mlp(m):
    t = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 5), torch.nn.Softplus(),
                            torch.nn.Linear(5, 1)).double()
    P = m.parameters()
    with torch.no_grad():
        for ti, i in ((0, 0), (2, 2), (4, 4)):
            t[ti].weight.copy_(torch.from_numpy(P[f"{i}.weight"]))
            t[ti].bias.copy_(torch.from_numpy(P[f"{i}.bias"]))
    for ti, i in ((0, 0), (2, 2)):
        spectral_norm(t[ti])
        pm = t[ti].parametrizations.weight[0]
        u, v, _ = m.spectral_norm_state()[i]
        with torch.no_grad():
            pm._u.copy_(torch.from_numpy(u))
            pm._v.copy_(torch.from_numpy(v))
    return t


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradient_through_sigma_matches_torch(backend):
    m = _mlp(backend)
    t = _torch_mlp(m)
    X = np.random.default_rng(0).normal(size=(7, 3))
    m.spectral_norm_step()
    t.train()
    y = t(torch.from_numpy(X))  # one power iteration in torch's training-mode forward
    (y ** 2).sum().backward()
    ours = m.backward(X, lambda Y: 2 * Y, outputs=True)
    np.testing.assert_allclose(ours.outputs, y.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ti, i in ((0, 0), (2, 2), (4, 4)):
        w = t[ti].parametrizations.weight.original if ti < 4 else t[ti].weight
        np.testing.assert_allclose(ours.layers[f"{i}.weight"], w.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.layers[f"{i}.bias"], t[ti].bias.grad.numpy(), rtol=1e-10, atol=1e-12)
        if ti < 4:
            pm = t[ti].parametrizations.weight[0]
            u, v, sigma = m.spectral_norm_state()[i]
            np.testing.assert_allclose(u, pm._u.numpy(), rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(v, pm._v.numpy(), rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(sigma, float(pm._u @ (w.detach() @ pm._v)), rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradient_penalty_with_spectral_norm_matches_torch(backend):
    m = _mlp(backend)
    t = _torch_mlp(m)
    X = np.random.default_rng(1).normal(size=(6, 3))
    m.spectral_norm_step()
    with parametrize.cached():
        xt = torch.from_numpy(X).requires_grad_(True)
        g, = torch.autograd.grad(t(xt).sum(), xt, create_graph=True)
        gp = ((g.norm(dim=1) - 1) ** 2).mean()
        gp.backward()
    val, grads = m.gradient_penalty(X)
    np.testing.assert_allclose(val, gp.item(), rtol=1e-12)
    w0 = t[0].parametrizations.weight.original.grad.numpy()
    np.testing.assert_allclose(grads.layers["0.weight"], w0, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads.layers["4.weight"], t[4].weight.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_conv_spectral_norm_matches_torch():
    m = nn.Sequential([nn.Conv2d(2, 3, 3, padding=1, padding_mode="periodic", spectral_norm=True), nn.Tanh(),
                       nn.Flatten(), nn.Dense(3 * 4 * 4, 1)], input_shape=(2, 4, 4), seed=5, dtype="float64")
    t = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"), torch.nn.Tanh(),
                            torch.nn.Flatten(), torch.nn.Linear(48, 1)).double()
    P = m.parameters()
    with torch.no_grad():
        t[0].weight.copy_(torch.from_numpy(P["0.weight"]))
        t[0].bias.copy_(torch.from_numpy(P["0.bias"]))
        t[3].weight.copy_(torch.from_numpy(P["3.weight"]))
        t[3].bias.copy_(torch.from_numpy(P["3.bias"]))
    spectral_norm(t[0])
    u, v, _ = m.spectral_norm_state()[0]
    pm = t[0].parametrizations.weight[0]
    with torch.no_grad():
        pm._u.copy_(torch.from_numpy(u))
        pm._v.copy_(torch.from_numpy(v))
    X = np.random.default_rng(2).normal(size=(5, 2, 4, 4))
    m.spectral_norm_step()
    t(torch.from_numpy(X)).sum().backward()
    g = m.backward(X)
    np.testing.assert_allclose(g.layers["0.weight"], t[0].parametrizations.weight.original.grad.numpy(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_pass_variants_equal_two_pass(backend):
    m = _mlp(backend, sn=False)
    X = np.random.default_rng(3).normal(size=(8, 3))
    Y = m.predict(X)
    two = m.backward(X, 3 * Y ** 2, input_grad=True)
    one = m.backward(X, lambda y: 3 * y ** 2, input_grad=True, outputs=True)
    np.testing.assert_array_equal(one.flat, two.flat)
    np.testing.assert_array_equal(one.input, two.input)
    np.testing.assert_array_equal(one.outputs, Y)
    only = m.backward(X, 3 * Y ** 2, param_grad=False)
    assert only.flat is None
    np.testing.assert_array_equal(only.input, two.input)
    # gradient penalty on one forward equals input_gradient + double_backward
    gp, gr = m.gradient_penalty(X)
    g = m.input_gradient(X)
    n = np.linalg.norm(g, axis=1)
    H = (2 * (n - 1) / n / len(X))[:, None] * g
    np.testing.assert_allclose(gr.flat, m.double_backward(X, H).flat, rtol=1e-12, atol=1e-15)


def test_spectral_norm_saved_and_checked(tmp_path):
    m = _mlp("cpp")
    m.spectral_norm_step(3)
    m.save(tmp_path / "m")
    back = nn.Sequential.load(tmp_path / "m")
    for i, (u, v, s) in m.spectral_norm_state().items():
        u2, v2, s2 = back.spectral_norm_state()[i]
        np.testing.assert_array_equal(u, u2)
        np.testing.assert_array_equal(v, v2)
    X = np.ones((2, 3))
    np.testing.assert_array_equal(m.predict(X), back.predict(X))
    with pytest.raises(TypeError, match="spectral_norm"):
        nn.Dense(2, 2, spectral_norm="yes")
    with pytest.raises(ValueError, match="Dense and Conv2d"):
        m._engine.set_spectral_norm(1, 1e-12)


def test_backward_from_forward_refuses_stale_state():
    m = _mlp("cpp", sn=False)
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match="no forward pass"):
        m._engine.backward_from_forward(X, np.ones((2, 1)), True, True, np.empty((2, 3)))
