"""HamiltonianNetwork.fit: interrupts leave a whole iteration, checkpoints resume bit for bit."""

import numpy as np
import pytest

from physdl import dynamics
from physdl.io import CorruptFileError



def _data():
    """Pendulum trajectories (10 of 24 observations at spacing 0.05, Yoshida 4 with 20 substeps)."""
    rng = np.random.default_rng(0)
    q, p = rng.uniform(-2.0, 2.0, (10, 1)), rng.uniform(-0.4, 0.4, (10, 1))
    Q, P = [q[:, 0]], [p[:, 0]]
    for _ in range(23):
        q, p, _ = dynamics.integrate("pendulum", "yoshida4", q, p, dt=0.05 / 20, steps=20)
        Q.append(q[:, 0])
        P.append(p[:, 0])
    return np.array(Q).T, np.array(P).T


def _net(Q):
    return dynamics.HamiltonianNetwork(0.05, n_basis=12, q_range=(Q.min() - 0.3, Q.max() + 0.3))


def _interrupt_after(monkeypatch, calls):
    orig = dynamics.HamiltonianNetwork._loss_grad
    n = {"k": 0}

    def flaky(self, *a):
        n["k"] += 1
        if n["k"] == calls:
            raise KeyboardInterrupt
        return orig(self, *a)

    monkeypatch.setattr(dynamics.HamiltonianNetwork, "_loss_grad", flaky)


def test_interrupted_fit_resumed_from_its_checkpoint_equals_an_uninterrupted_fit(tmp_path, monkeypatch):
    Q, P = _data()
    ref = _net(Q)
    f_ref = ref.fit(Q, P, n_layers=6, max_iter=60)
    assert len(ref.loss_history) > 20  # a fit long enough to interrupt in the middle
    path = tmp_path / "fit"
    net = _net(Q)
    _interrupt_after(monkeypatch, 25)
    with pytest.raises(KeyboardInterrupt):
        net.fit(Q, P, n_layers=6, max_iter=60, checkpoint=path)
    monkeypatch.undo()
    # the network holds the iterate of the last whole iteration: a fit stopped there by max_iter
    from physdl.io import load_checkpoint

    meta, arr = load_checkpoint(tmp_path / "fit.npz", dynamics.HamiltonianNetwork.FIT_KIND)
    k = meta["iteration"]
    assert 0 < k < len(ref.loss_history) - 1
    short = _net(Q)
    short.fit(Q, P, n_layers=6, max_iter=k)
    assert np.array_equal(net.a, short.a) and np.array_equal(arr["x"], short.a)
    # a fresh network resumes from the file and ends exactly where the uninterrupted fit did
    again = _net(Q)
    f = again.fit(Q, P, n_layers=6, max_iter=60, checkpoint=path)
    assert f == f_ref and np.array_equal(again.a, ref.a) and again.loss_history == ref.loss_history


def test_fit_checkpoint_for_other_data_or_a_corrupt_one_is_refused(tmp_path):
    Q, P = _data()
    path = tmp_path / "fit.npz"
    _net(Q).fit(Q, P, n_layers=6, max_iter=3, checkpoint=path)
    with pytest.raises(ValueError, match="fit.npz.*other data or settings"):
        _net(Q).fit(Q, P, n_layers=5, max_iter=3, checkpoint=path)
    with pytest.raises(ValueError, match="fit.npz.*other data or settings"):
        _net(Q).fit(Q + 1e-9, P, n_layers=6, max_iter=3, checkpoint=path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CorruptFileError, match="fit.npz"):
        _net(Q).fit(Q, P, n_layers=6, max_iter=3, checkpoint=path)


def test_fit_rejects_bad_settings():
    Q, P = _data()
    with pytest.raises(TypeError, match="progress"):
        _net(Q).fit(Q, P, progress="yes")
    with pytest.raises(ValueError, match="max_iter"):
        _net(Q).fit(Q, P, max_iter=0)


def test_fit_reaches_the_loss_of_scipys_lbfgsb():
    """The resumable L-BFGS ends at the same loss as scipy.optimize.minimize(method="L-BFGS-B")."""
    from scipy.optimize import minimize

    Q, P = _data()
    net = _net(Q)
    f = net.fit(Q, P, n_layers=6)
    res = minimize(net._loss_grad, np.zeros(net.n_basis), args=(Q, P, 6, 1e-8), jac=True, method="L-BFGS-B",
                   options={"maxiter": 500})
    assert f <= res.fun * (1 + 1e-3)
