"""Forward outputs, losses, gradients and optimizer trajectories equal PyTorch's (float64)."""

import numpy as np
import pytest

from physdl import nn

from .test_gradients import CASES, _targets
from .torch_ref import torch_grads, torch_loss, torch_model

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0)")


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_and_gradients_equal_torch(case, cpu_backend):
    layers, shape, loss = CASES[case]
    model = nn.Sequential(layers, input_shape=shape, seed=11, dtype="float64", backend=cpu_backend)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3,) + shape)
    y = _targets(model, X, loss)
    tm = torch_model(model)
    xt = torch.tensor(X, requires_grad=True)
    out_t = tm(xt)
    L_t = torch_loss(loss, out_t, y)
    L_t.backward()
    np.testing.assert_allclose(model.predict(X), out_t.detach().numpy(), rtol=1e-6, atol=1e-12)
    L, g, dx = model.gradients(X, y, loss, input_grad=True)
    assert L == pytest.approx(L_t.item(), rel=1e-6, abs=1e-12)
    np.testing.assert_allclose(g, torch_grads(model, tm), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("opt_name", ["sgd", "momentum", "nesterov", "adam", "adam_wd_clip"])
def test_optimizer_trajectory_equals_torch(opt_name, cpu_backend):
    layers = [nn.Dense(4, 6), nn.Tanh(), nn.Dense(6, 3)]
    model = nn.Sequential(layers, seed=2, dtype="float64", backend=cpu_backend)
    tm = torch_model(model)
    mk = {
        "sgd": (lambda: nn.SGD(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        "momentum": (lambda: nn.SGD(lr=0.1, momentum=0.9, weight_decay=1e-2),
                     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-2)),
        "nesterov": (lambda: nn.SGD(lr=0.05, momentum=0.8, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
        "adam": (lambda: nn.Adam(lr=1e-2), lambda p: torch.optim.Adam(p, lr=1e-2)),
        "adam_wd_clip": (lambda: nn.Adam(lr=2e-2, weight_decay=1e-2, clip_norm=0.1),
                         lambda p: torch.optim.Adam(p, lr=2e-2, weight_decay=1e-2)),
    }[opt_name]
    opt, topt = mk[0](), mk[1](tm.parameters())
    rng = np.random.default_rng(0)
    for _ in range(8):
        X = rng.normal(size=(16, 4))
        y = rng.integers(0, 3, size=16)
        L = model.train_step(X, y, loss="softmax_cross_entropy", optimizer=opt)
        topt.zero_grad()
        Lt = torch.nn.functional.cross_entropy(tm(torch.tensor(X)), torch.tensor(y))
        Lt.backward()
        if opt_name == "adam_wd_clip":
            torch.nn.utils.clip_grad_norm_(tm.parameters(), 0.1)
        topt.step()
        assert L == pytest.approx(Lt.item(), rel=1e-9)
    want = np.concatenate([p.detach().numpy().reshape(-1) for p in tm.parameters()])
    np.testing.assert_allclose(model.params, want, rtol=1e-6, atol=1e-12)


def test_state_dict_round_trip():
    model = nn.Sequential([nn.LSTM(3, 4), nn.Dense(4, 2)], input_shape=(5, 3), seed=1, dtype="float64")
    sd = model.to_torch_state_dict()
    other = nn.Sequential([nn.LSTM(3, 4), nn.Dense(4, 2)], input_shape=(5, 3), seed=99, dtype="float64")
    assert not np.allclose(other.params, model.params)
    other.from_torch_state_dict(sd)
    np.testing.assert_array_equal(other.params, model.params)
