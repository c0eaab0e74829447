"""The holographic network of book ch. 12: the recurrence against an independent ODE reading, the
adjoint against finite differences, cpp = numba, resume bit for bit, and the AdS-Schwarzschild metric
h = 3 coth(3 eta) recovered from positive/negative data (sec. 12.3.1)."""

import numpy as np
import pytest

from physdl.holography import (QCD_CONDENSATE, HolographicNetwork, ads_schwarzschild_data,
                               ads_schwarzschild_metric, qcd_condensate_curve, qcd_data)

import physdl

CPU_BACKENDS = [b for b in ("cpp", "numba") if physdl.backends()[b].available]


def test_recurrence_is_forward_euler_of_the_equation_of_motion():
    # linear case (lam = 0, constant h = 4, m2 = -3): phi'' + 4 phi' + 3 phi = 0 has phi = A e^-eta + B e^-3eta
    # (eq. 12.20-12.21).  Forward Euler from eta = 1 to 0.1 converges to the exact solution at first order.
    errs = []
    for N in (200, 400, 800):
        net = HolographicNetwork(N, 1.0, 0.1, m2=-3.0, lam=0.0, h=np.full(N, 4.0))
        A, B = 0.3, -0.2
        x = np.array([[A * np.exp(-1) + B * np.exp(-3), -A * np.exp(-1) - 3 * B * np.exp(-3)]])
        _, _, tr = net.forward(x, trajectories=True)
        exact_phi = A * np.exp(-0.1) + B * np.exp(-0.3)
        errs.append(abs(tr[0, -1, 0] - exact_phi))
    assert errs[0] / errs[1] == pytest.approx(2.0, rel=0.05) and errs[1] / errs[2] == pytest.approx(2.0, rel=0.05)


def test_qcd_input_map_is_the_asymptotic_solution():
    # eq. 12.23-12.24 are phi and d(phi)/d(eta) of eq. 12.21: check the derivative by differences in eta_ini
    net = HolographicNetwork(15, 1.0, 0.1, m2=-3.0, lam=0.3, R=1.7, input_map="qcd")
    x = np.array([[0.01, 0.05]])
    a = np.sqrt(3) / (2 * np.pi) * 0.01 * 1.7
    b = np.pi / np.sqrt(3) * 0.05 * 1.7**3

    def phi(eta):
        return a * np.exp(-eta) + b * np.exp(-3 * eta) - 0.3 * a**3 / 2 * eta * np.exp(-3 * eta)

    _, _, tr = net.forward(x, trajectories=True)
    assert tr[0, 0, 0] == pytest.approx(phi(1.0), rel=1e-13)
    assert tr[0, 0, 1] == pytest.approx((phi(1 + 1e-6) - phi(1 - 1e-6)) / 2e-6, rel=1e-7)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("kw", [dict(output="tanh"), dict(output="window", sharpness=7.0, horizon="full"),
                                dict(input_map="qcd", m2=-3.0, output="window", sharpness=20.0, c_smooth=0.01,
                                     c_bdry=0.01, c_horizon=1e-4)])
def test_adjoint_gradient_matches_finite_differences(backend, kw):
    rng = np.random.default_rng(1)
    kw = dict(kw)
    m2 = kw.pop("m2", -1.0)
    net = HolographicNetwork(12, 1.0, 0.1, m2=m2, lam=0.4, R=1.3, backend=backend, **kw)
    net.h = 3.0 + rng.normal(size=12)
    if net.input_map == "qcd":
        x = np.column_stack([rng.uniform(0, 0.022, 64), rng.uniform(0, 0.11, 64)])
    else:
        x = np.column_stack([rng.uniform(0, 1.0, 64), rng.uniform(-0.3, 0.3, 64)])
    labels = rng.integers(0, 2, 64).astype(float)
    _, _, g = net.loss_and_grad(x, labels)
    p0 = net.params
    fd = np.empty_like(g)

    def loss_at(q):
        net.h, net.lam, net.R = q[:12], q[12], q[13]
        return net.loss_and_grad(x, labels)[0]

    for j in range(len(p0)):
        up, down = p0.copy(), p0.copy()
        up[j] += 1e-6
        down[j] -= 1e-6
        fd[j] = (loss_at(up) - loss_at(down)) / 2e-6
    scale = np.max(np.abs(g))
    assert np.max(np.abs(fd - g)) < 1e-6 * max(scale, 1.0)


def test_cpp_and_numba_agree():
    if len(CPU_BACKENDS) < 2:
        pytest.skip("needs both backends")
    x, lab = ads_schwarzschild_data(200, seed=3)
    res = []
    for b in ("cpp", "numba"):
        net = HolographicNetwork(10, m2=-1.0, lam=1.0, output="window", sharpness=50.0, c_smooth=1e-3, backend=b)
        r = net.fit(x, lab, epochs=5, lr=0.01, trials=3, h_init=np.full(10, 3.0), h_spread=1.0, seed=4)
        res.append(r)
        F, _ = net.forward(x)
        res.append(F)
    np.testing.assert_allclose(res[0].h, res[2].h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res[0].history, res[2].history, rtol=1e-12)
    np.testing.assert_allclose(res[1], res[3], rtol=1e-12, atol=1e-15)


def test_two_threads_equal_one(threads):
    import physdl

    x, lab = ads_schwarzschild_data(200, seed=3)
    out = []
    for n in (1, 2):
        physdl.set_num_threads(n)
        net = HolographicNetwork(10, m2=-1.0, lam=1.0)
        out.append(net.fit(x, lab, epochs=4, lr=0.01, trials=4, h_spread=1.0, seed=5).h)
    assert np.array_equal(out[0], out[1])


def test_fit_resumes_bit_for_bit(tmp_path):
    x, lab = ads_schwarzschild_data(200, seed=3)

    def make():
        return HolographicNetwork(10, m2=-1.0, lam=1.0, output="window", sharpness=50.0, c_smooth=1e-3)

    full = make().fit(x, lab, epochs=12, lr=0.01, trials=2, h_init=np.full(10, 3.0), h_spread=1.0, seed=6)
    ck = tmp_path / "fit.npz"
    make().fit(x, lab, epochs=12, lr=0.01, trials=2, h_init=np.full(10, 3.0), h_spread=1.0, seed=6,
               checkpoint=ck, checkpoint_every=5)
    # interrupt after epoch 5: rewind the checkpoint to its state then, by refitting with a short run
    ck.unlink()
    part = tmp_path / "part.npz"
    net = make()
    with pytest.raises(KeyboardInterrupt):
        _interrupting_fit(net, x, lab, part)
    resumed = make().fit(x, lab, epochs=12, lr=0.01, trials=2, h_init=np.full(10, 3.0), h_spread=1.0, seed=6,
                         checkpoint=part, checkpoint_every=5)
    assert np.array_equal(resumed.h, full.h) and np.array_equal(resumed.history, full.history)


def _interrupting_fit(net, x, lab, path):
    """A fit whose chunk after the first checkpoint raises KeyboardInterrupt (as Ctrl-C between chunks)."""
    calls = {"n": 0}
    orig = net._train_chunk

    def chunk(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return orig(*a, **k)

    net._train_chunk = chunk
    net.fit(x, lab, epochs=12, lr=0.01, trials=2, h_init=np.full(10, 3.0), h_spread=1.0, seed=6, checkpoint=path,
            checkpoint_every=5)


def test_damaged_or_foreign_checkpoint_is_refused(tmp_path):
    x, lab = ads_schwarzschild_data(100, seed=3)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.npz"):
        HolographicNetwork(10).fit(x, lab, epochs=2, checkpoint=bad)
    ck = tmp_path / "ck.npz"
    HolographicNetwork(10).fit(x, lab, epochs=2, checkpoint=ck, checkpoint_every=1)
    with pytest.raises(ValueError, match="different fit"):
        HolographicNetwork(10).fit(x, lab, epochs=2, seed=9, checkpoint=ck)
    # an edited file fails its checksum; the format before the shared checkpoints is refused; both name the file
    from physdl.holography.network import CheckpointError
    from physdl.io import CorruptFileError

    with np.load(ck) as z:
        raw = {k: z[k] for k in z.files}
    np.savez(tmp_path / "edited.npz", **dict(raw, p=raw["p"] + 1.0))
    with pytest.raises(CorruptFileError, match="edited.npz.*checksum"):
        HolographicNetwork(10).fit(x, lab, epochs=2, checkpoint=tmp_path / "edited.npz")
    np.savez(tmp_path / "old.npz", kind=np.array("physdl.holography.fit"), p=raw["p"], epoch=np.array(1))
    with pytest.raises(CheckpointError, match="old.npz.*not a physdl checkpoint"):
        HolographicNetwork(10).fit(x, lab, epochs=2, checkpoint=tmp_path / "old.npz")


def test_ads_schwarzschild_metric_is_learned():
    """Sec. 12.3.1: 10 layers, eta 1 -> 0.1, m^2 = -1, V = phi^4/4, 1000 data, batch 10, c_reg = 1e-3."""
    x, lab = ads_schwarzschild_data(1000, seed=1)
    net = HolographicNetwork(10, m2=-1.0, lam=1.0, output="window", eps=0.1, sharpness=100.0, c_smooth=1e-3)
    r = net.fit(x, lab, epochs=200, batch=10, lr=0.01, trials=4, h_init=np.full(10, 3.0), h_spread=2.0, seed=2)
    best = int(np.argmin(r.final_loss))
    true = ads_schwarzschild_metric(net.eta)
    away = net.eta >= 0.3
    rel = np.abs(r.h[best, away] - true[away]) / true[away]
    assert rel.max() < 0.10, (r.h[best], true)
    # the learned network classifies the data as the true metric does
    net.h = r.h[best]
    assert np.mean(net.predict(x) == (lab == 0)) > 0.95


def test_qcd_data_follow_table_12_1():
    fit = qcd_condensate_curve(QCD_CONDENSATE[:, 0])
    assert np.max(np.abs(fit - QCD_CONDENSATE[:, 1])) < 0.004  # the cubic passes within the band
    x, lab = qcd_data(2000, seed=1)
    pos = x[lab == 0]
    assert np.all(np.abs(qcd_condensate_curve(pos[:, 0]) - pos[:, 1]) < 0.004 * np.sqrt(1 + 30**2))
    assert 0.1 < np.mean(lab == 0) < 0.6


@pytest.mark.parametrize("kw,exc", [(dict(n_layers=0), ValueError), (dict(eta_ini=0.1, eta_fin=1.0), ValueError),
                                    (dict(eta_fin=-0.1), ValueError), (dict(m2=float("nan")), ValueError),
                                    (dict(output="relu"), ValueError), (dict(h=np.ones(3)), ValueError),
                                    (dict(R=0.0), ValueError), (dict(n_layers=2.5), TypeError)])
def test_bad_settings_are_refused(kw, exc):
    with pytest.raises(exc):
        HolographicNetwork(**kw)


def test_bad_data_are_refused():
    net = HolographicNetwork(10)
    with pytest.raises(ValueError, match="shape"):
        net.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match="finite"):
        net.forward(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="labels"):
        net.loss_and_grad(np.ones((2, 2)), [0.0, 0.5])
    with pytest.raises(ValueError, match="eta"):
        ads_schwarzschild_metric([0.5, 0.0])


def test_cli_quick_run(tmp_path):
    from physdl.cli import main

    assert main(["holography", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    md = (tmp_path / "index.md").read_text()
    assert "3 coth 3eta" in md and (tmp_path / "holography_metric.png").stat().st_size > 10_000
    assert main(["dynamics", "--quick", "--out", str(tmp_path / "d"), "--no-progress"]) == 0
    assert "Lorenz" in (tmp_path / "d" / "index.md").read_text()
