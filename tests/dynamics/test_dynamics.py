"""Ch. 9: symplectic integrators keep the energy error bounded while RK4's drifts; convergence orders;
the Lorenz and standard-map Lyapunov exponents; the RevNet inverse."""

import numpy as np
import pytest

import physdl
from physdl import dynamics

CPU_BACKENDS = [b for b in ("cpp", "numba") if physdl.backends()[b].available]


def test_symplectic_energy_error_bounded_rk4_drifts():
    # the pendulum over 10^5 steps (book's discussion of ch. 9): symplectic errors oscillate, RK4's grows
    q0, p0 = [[2.0]], [[0.0]]
    drift = {}
    for m in ("symplectic_euler", "leapfrog", "yoshida4", "rk4"):
        _, _, E = dynamics.integrate("pendulum", m, q0, p0, dt=0.2, steps=100_000, record_every=1000)
        err = np.abs(E[0] - E[0, 0])
        drift[m] = (err[: len(err) // 10].max(), err[-len(err) // 10:].max())
    for m in ("symplectic_euler", "leapfrog", "yoshida4"):
        first, last = drift[m]
        assert last < 2.0 * first + 1e-12, (m, drift[m])  # no secular growth
    first, last = drift["rk4"]
    assert last > 5.0 * first  # RK4 loses energy steadily
    assert drift["yoshida4"][1] < drift["leapfrog"][1] < drift["symplectic_euler"][1]


@pytest.mark.parametrize("method,order", [("symplectic_euler", 1), ("leapfrog", 2), ("yoshida4", 4), ("rk4", 4)])
def test_convergence_order_on_the_harmonic_oscillator(method, order):
    # exact solution q = cos t, p = -sin t
    errs = []
    for dt in (0.02, 0.01):
        steps = int(round(2.0 / dt))
        q, p, _ = dynamics.integrate("harmonic", method, [[1.0]], [[0.0]], dt=dt, steps=steps)
        errs.append(np.hypot(q[0, 0] - np.cos(2.0), p[0, 0] + np.sin(2.0)))
    assert np.log2(errs[0] / errs[1]) == pytest.approx(order, abs=0.25)


def test_cpp_equals_numba():
    if len(CPU_BACKENDS) < 2:
        pytest.skip("needs both backends")
    rng = np.random.default_rng(0)
    q0, p0 = rng.normal(size=(5, 2)) * 0.3, rng.normal(size=(5, 2)) * 0.3
    for m in dynamics.METHODS:
        a = dynamics.integrate("henon_heiles", m, q0, p0, dt=0.05, steps=500, record_every=50, backend="cpp")
        b = dynamics.integrate("henon_heiles", m, q0, p0, dt=0.05, steps=500, record_every=50, backend="numba")
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-14)


def test_lorenz_largest_exponent_and_divergence():
    lam = dynamics.lorenz_lyapunov(time=1000.0)
    # literature value 0.9056 (Sprott, Chaos and Time-Series Analysis, 2003); the spectrum sums to the
    # divergence -(sigma + 1 + beta), the middle exponent of a flow is 0
    assert lam[0] == pytest.approx(0.9056, rel=0.02)
    assert lam.sum() == pytest.approx(-(10 + 1 + 8 / 3), rel=1e-3)
    assert abs(lam[1]) < 0.02


def test_standard_map_exponents():
    # K = 5 (chaotic sea): largest exponent near ln(K/2) = 0.916; area preservation: the two sum to 0.
    # K = 0.5 near the stable fixed point (q, p) = (pi, 0): a regular orbit with exponent ~ 0.
    out = dynamics.standard_map_lyapunov([1.0, 2.0], [0.5, 1.0], K=5.0, iterations=200_000)
    assert np.all(np.abs(out[:, 0] - np.log(2.5)) < 0.1)
    np.testing.assert_allclose(out.sum(axis=1), 0.0, atol=1e-10)
    reg = dynamics.standard_map_lyapunov([np.pi + 0.1], [0.0], K=0.5, iterations=200_000)
    assert abs(reg[0, 0]) < 1e-3


def test_revnet_inverse_is_exact_through_100_layers():
    # weights of scale 0.5: the rounding of each layer is amplified by the backward map no more than O(1)
    net = dynamics.RevNet(8, 100, scale=0.5, seed=3)
    x = np.random.default_rng(0).normal(size=(32, 16))
    y = net.forward(x)
    assert np.max(np.abs(y - x)) > 1.0  # the map is far from the identity
    np.testing.assert_allclose(net.inverse(y), x, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kw,exc", [(dict(dt=0.0), ValueError), (dict(dt=-0.1), ValueError),
                                    (dict(dt=float("nan")), ValueError), (dict(steps=-1), ValueError),
                                    (dict(system="kepler"), ValueError), (dict(method="euler"), ValueError),
                                    (dict(q=[[np.nan]]), ValueError), (dict(q=[[1.0, 2.0]]), ValueError)])
def test_bad_input_is_refused(kw, exc):
    args = dict(system="pendulum", method="leapfrog", q=[[1.0]], p=[[0.0]], dt=0.1, steps=10) | kw
    with pytest.raises(exc):
        dynamics.integrate(args.pop("system"), args.pop("method"), args.pop("q"), args.pop("p"), **args)


def _observed(system, q0, p0, dt, T, sub=20):
    """Trajectories of the true system (Yoshida 4, 20 substeps per observation) at spacing dt."""
    Q, P = [q0[:, 0]], [p0[:, 0]]
    q, p = q0, p0
    for _ in range(T - 1):
        q, p, _ = dynamics.integrate(system, "yoshida4", q, p, dt=dt / sub, steps=sub)
        Q.append(q[:, 0])
        P.append(p[:, 0])
    return np.array(Q).T, np.array(P).T


def test_hamiltonian_network_gradient_is_exact():
    rng = np.random.default_rng(1)
    Q, P = _observed("pendulum", rng.uniform(-2, 2, (6, 1)), rng.uniform(-0.5, 0.5, (6, 1)), 0.05, 12)
    for step in dynamics.hamiltonian.STEPS:
        net = dynamics.HamiltonianNetwork(0.05, n_basis=10, q_range=(-2.5, 2.5), step=step)
        a0 = rng.normal(size=10) * 0.2
        _, g = net._loss_grad(a0, Q, P, 4, 1e-3)
        fd = np.array([(net._loss_grad(a0 + e, Q, P, 4, 1e-3)[0] - net._loss_grad(a0 - e, Q, P, 4, 1e-3)[0]) / 2e-6
                       for e in np.eye(10) * 1e-6])
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("system,true_V,q_lo,q_hi", [
    ("pendulum", lambda q: 1 - np.cos(q), -2.2, 2.2),
    ("double_well", lambda q: q**4 / 4 - q**2 / 2, 0.2, 1.6),
])
def test_hamiltonian_network_learns_the_potential(system, true_V, q_lo, q_hi):
    rng = np.random.default_rng(0)
    n = 24
    Q, P = _observed(system, rng.uniform(q_lo, q_hi, (n, 1)), rng.uniform(-0.4, 0.4, (n, 1)), 0.05, 40)
    lo, hi = Q.min(), Q.max()
    net = dynamics.HamiltonianNetwork(0.05, n_basis=16, q_range=(lo - 0.3, hi + 0.3))
    net.fit(Q, P, n_layers=10)
    qq = np.linspace(lo, hi, 200)
    V, Vt = net.potential(qq), true_V(qq)
    # compare up to the additive constant fixed at q = 0 (V(0) = 0 for both); scale by the range of V
    err = np.max(np.abs((V - V[0]) - (Vt - Vt[0]))) / np.ptp(Vt)
    assert err < 0.02, err
    np.testing.assert_allclose(net.jacobian_determinant(qq), 1.0, atol=1e-14)  # eq. 9.26: symplectic


def test_tied_resnet_is_forward_euler_of_its_flow():
    from scipy.integrate import solve_ivp

    x0 = np.random.default_rng(2).normal(size=(1, 4))
    ref_net = dynamics.ResNet(4, 1, tied=True, seed=5)
    W, b = ref_net.W[0], ref_net.b[0]
    exact = solve_ivp(lambda t, x: np.tanh(W @ x + b), (0, 2.0), x0[0], rtol=1e-12, atol=1e-12).y[:, -1]
    errs = [np.max(np.abs(dynamics.ResNet(4, N, dt=2.0 / N, tied=True, seed=5).forward(x0)[0] - exact))
            for N in (100, 200, 400)]
    assert errs[0] / errs[1] == pytest.approx(2.0, rel=0.1) and errs[1] / errs[2] == pytest.approx(2.0, rel=0.1)


def test_hamiltonian_inspired_layers_preserve_volume():
    net = dynamics.HamiltonianInspiredNet(3, 20, h=0.3, seed=1)
    x = np.random.default_rng(3).normal(size=(1, 6))
    eps = 1e-6
    J = np.stack([(net.forward(x + eps * e) - net.forward(x - eps * e))[0] / (2 * eps) for e in np.eye(6)], axis=1)
    assert np.linalg.det(J) == pytest.approx(1.0, abs=1e-6)


def test_revnet_memory_free_backward_matches_finite_differences():
    net = dynamics.RevNet(3, 6, scale=0.8, seed=4)
    rng = np.random.default_rng(5)
    x, dY = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    y = net.forward(x)
    gW, gb, gx, x_rec = net.backward(y, dY)
    np.testing.assert_allclose(x_rec, x, atol=1e-12)

    def f():
        return float(np.sum(dY * net.forward(x)))

    for (arr, g) in ((net.W, gW), (net.b, gb)):
        flat, gflat = arr.reshape(-1), g.reshape(-1)
        for j in rng.choice(flat.size, 12, replace=False):
            old = flat[j]
            flat[j] = old + 1e-6
            up = f()
            flat[j] = old - 1e-6
            down = f()
            flat[j] = old
            assert gflat[j] == pytest.approx((up - down) / 2e-6, rel=1e-6, abs=1e-9)
    eps = 1e-6
    fd = np.array([(np.sum(dY * net.forward(x + eps * e.reshape(x.shape))) -
                    np.sum(dY * net.forward(x - eps * e.reshape(x.shape)))) / (2 * eps) for e in np.eye(x.size)])
    np.testing.assert_allclose(gx.reshape(-1), fd, rtol=1e-6, atol=1e-9)


def test_henon_heiles_regular_and_chaotic_orbits():
    def state(E, y, py):
        V = 0.5 * y * y - y**3 / 3
        return [0.0, y], [np.sqrt(2 * (E - V) - py * py), py]

    # E = 1/12: the section is covered by invariant tori (exponent -> 0); E = 1/6: the chaotic sea around
    # the origin has a positive exponent while an island orbit (y = 0.2, p_y = 0) stays regular
    qs, ps = zip(*[state(1 / 12, 0.1, 0.1), state(1 / 6, 0.0, 0.0), state(1 / 6, 0.2, 0.0)])
    lam = dynamics.henon_heiles_lyapunov(np.array(qs), np.array(ps), time=5000.0)
    assert lam[0] < 0.005 and lam[2] < 0.005 and lam[1] > 0.05
