import numpy as np
import pytest

import physdl
from physdl import hopfield as H


def test_energy_never_increases_every_step(cpu_backend):
    # many runs from random and corrupted starts; zero self-coupling (eq. 10.10)
    xi = H.random_patterns(13, 120, seed=4)
    net = H.Hopfield.from_patterns(xi)
    starts = np.concatenate([H.corrupt(xi, 0.3, seed=5), H.random_patterns(20, 120, seed=6)])
    res = net.run(starts, max_sweeps=30, seed=7, record_steps=True, backend=cpu_backend)
    assert res.energy_steps.shape == (33, 30 * 120 + 1)
    assert np.all(np.diff(res.energy_steps, axis=1) <= 1e-12)
    # the tracked energy equals the directly computed Lyapunov function of the final states
    np.testing.assert_allclose(res.energy[:, -1], net.energy(res.states), rtol=0, atol=1e-9)
    assert np.all(res.converged)
    # a converged state is a fixed point of every single update (checked independently of the kernel)
    h = res.states.astype(float) @ net.J
    assert np.all(np.where(h > 0, 1, -1) == res.states)


def test_energy_can_rise_with_self_coupling():
    # the monotonicity needs J_ii = 0: with a large positive diagonal removed by hand check of eq. 10.9
    J = np.array([[0.0, -1.0], [-1.0, 0.0]]) + np.diag([-3.0, -3.0])
    net = H.Hopfield(J)
    res = net.run(np.array([[1, -1]]), max_sweeps=3, seed=0, record_steps=True)
    assert np.any(np.diff(res.energy_steps[0]) > 0)


def test_patterns_are_fixed_points_below_capacity(cpu_backend):
    N, P = 500, 10  # alpha = 0.02
    xi = H.random_patterns(P, N, seed=1)
    net = H.Hopfield.from_patterns(xi)
    res = net.run(xi, max_sweeps=5, seed=2, backend=cpu_backend)
    assert np.array_equal(res.states, xi)
    assert np.all(res.flips == 0) and np.all(res.sweeps == 1)
    # basins: 15% noise is cleaned up completely
    rec = net.run(H.corrupt(xi, 0.15, seed=3), seed=4, backend=cpu_backend)
    np.testing.assert_array_equal(H.overlaps(rec.states, xi).diagonal(), 1.0)


def test_cpp_equals_numba_and_threads(threads):
    xi = H.random_patterns(8, 64, seed=11)
    net = H.Hopfield.from_patterns(xi)
    s0 = H.random_patterns(16, 64, seed=12)
    a = net.run(s0, seed=13, record_steps=True, backend="cpp")
    b = net.run(s0, seed=13, record_steps=True, backend="numba")
    physdl.set_num_threads(1)
    c = net.run(s0, seed=13, record_steps=True, backend="cpp")
    physdl.set_num_threads(2)
    d = net.run(s0, seed=13, record_steps=True, backend="cpp")
    for r in (b, c, d):
        assert np.array_equal(a.states, r.states)
        assert np.array_equal(a.energy_steps, r.energy_steps)
        assert np.array_equal(a.sweeps, r.sweeps)
    sa = net.run_sync(s0, backend="cpp")
    sb = net.run_sync(s0, backend="numba")
    assert np.array_equal(sa.states, sb.states) and np.array_equal(sa.period, sb.period)


def test_synchronous_period_two_cycle(cpu_backend):
    # two antiferromagnetically coupled spins: synchronous updates swap (+,+) <-> (-,-)
    net = H.Hopfield(np.array([[0.0, -1.0], [-1.0, 0.0]]))
    r = net.run_sync(np.array([[1, 1]]), backend=cpu_backend)
    assert r.period[0] == 2
    # verify the cycle independently: one synchronous step maps each state to the other
    step = lambda s: np.where(net.J @ s > 0, 1, -1)
    assert np.array_equal(step(r.states[0]), r.previous[0]) and np.array_equal(step(r.previous[0]), r.states[0])
    assert not np.array_equal(r.states[0], r.previous[0])
    # and in a Hebb network from random starts: every run ends in a fixed point or a 2-cycle (Goles)
    xi = H.random_patterns(31, 100, seed=2)  # P (N - 1) odd: no ties
    net = H.Hopfield.from_patterns(xi)
    rr = net.run_sync(H.random_patterns(50, 100, seed=3), max_steps=500, backend=cpu_backend)
    assert set(np.unique(rr.period)) <= {1, 2} and np.any(rr.period == 2)
    for s, p, per in zip(rr.states, rr.previous, rr.period):
        nxt = np.where(net.J @ s > 0, 1, -1)
        assert np.array_equal(nxt, s if per == 1 else p)


def test_spurious_mixture_state_is_a_fixed_point():
    xi = H.random_patterns(3, 1001, seed=21)
    net = H.Hopfield.from_patterns(xi)
    mix = H.mixture(xi)
    m = H.overlaps(mix, xi)[0]
    np.testing.assert_allclose(m, 0.5, atol=0.06)  # overlap 1/2 with each of the three (AGS)
    res = net.run(mix, seed=1)
    assert np.abs(H.overlaps(res.states, xi)[0] - 0.5).max() < 0.08  # stays near the mixture
    assert np.abs(H.overlaps(res.states, xi)[0]).max() < 0.9         # never recalls a pattern


def test_capacity_drop_between_012_and_016():
    pts = H.capacity_curve(2000, [0.12, 0.16], n_sets=2, n_starts=6, seed=3)
    assert pts[0].overlap.value > 0.9
    assert pts[1].overlap.value < 0.75
    assert pts[0].overlap.value - pts[1].overlap.value > 3 * np.hypot(pts[0].overlap.error, pts[1].overlap.error)


@pytest.mark.slow
def test_capacity_curve_n5000():
    pts = H.capacity_curve(5000, [0.10, 0.13, 0.15, 0.17], n_sets=2, n_starts=6, seed=5)
    ov = [p.overlap.value for p in pts]
    assert ov[0] > 0.95 and ov[1] > 0.9 and ov[3] < 0.5


def test_frustration_by_enumeration():
    E0, gs = H.ground_states(H.triangle_antiferromagnet(2.0))
    assert E0 == -2.0 and len(gs) == 6   # sixfold degeneracy (ch. 10)
    J = H.spin_glass_couplings(10, seed=3)
    E0, gs = H.ground_states(J)
    assert len(gs) >= 2 and len(gs) % 2 == 0   # at least the global spin-flip pair
    # brute force check independently with itertools
    import itertools
    best = min(-0.5 * np.array(s) @ J @ np.array(s) for s in itertools.product((-1, 1), repeat=10))
    assert best == E0
    # each ground state is a fixed point of asynchronous updates with tie 'keep'
    res = H.Hopfield(J, tie="keep").run(gs, seed=1)
    assert np.array_equal(res.states, gs)


def test_bad_input():
    with pytest.raises(ValueError, match="only \\+1 and -1"):
        H.Hopfield.from_patterns(np.array([[1, 0, 1]]))
    with pytest.raises(ValueError, match="P <= 2\\*\\*N"):
        H.random_patterns(9, 3)
    with pytest.raises(ValueError, match="P <= 2\\*\\*N"):
        H.hebb(np.ones((5, 2)))
    with pytest.raises(ValueError, match="finite"):
        H.Hopfield(np.array([[0.0, np.nan], [np.nan, 0.0]]))
    with pytest.raises(ValueError, match="symmetric"):
        H.Hopfield(np.array([[0.0, 1.0], [0.0, 0.0]]))
    net = H.Hopfield(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="3 units"):
        net.run(np.ones((1, 4)))
    with pytest.raises(ValueError, match="max_sweeps"):
        net.run(np.ones((1, 3)), max_sweeps=0)
    with pytest.raises(ValueError, match="fraction"):
        H.corrupt(np.ones((1, 3)), 1.5)


def test_float_kernel_cpp_equals_numba_and_integer_kernel():
    # a network given by J (the float64 kernel) and the same Hebb network on integer couplings
    xi = H.random_patterns(7, 60, seed=21)
    hebb_net = H.Hopfield.from_patterns(xi)
    assert hebb_net._Jint is not None
    plain = H.Hopfield(hebb_net.J.copy())
    assert plain._Jint is None
    s0 = H.random_patterns(12, 60, seed=22)
    a = plain.run(s0, seed=3, record_steps=True, backend="cpp")
    b = plain.run(s0, seed=3, record_steps=True, backend="numba")
    assert np.array_equal(a.states, b.states) and np.array_equal(a.energy_steps, b.energy_steps)
    c = hebb_net.run(s0, seed=3, record_steps=True, backend="cpp")
    # (N - 1) P = 413 odd: every N h_i is a sum of an odd number of +-1 terms, never 0, so no ties and both kernels take the same path
    assert np.array_equal(a.states, c.states) and np.array_equal(a.sweeps, c.sweeps)
    np.testing.assert_allclose(a.energy_steps, c.energy_steps, rtol=0, atol=1e-12)


def test_cli_ebm_topics(capsys):
    from physdl.cli import main
    from physdl.tour.ebm_tour import TOPICS
    from physdl.tour import _REGISTRY

    with pytest.raises(SystemExit) as e:
        main(["ebm", "nope"])
    assert e.value.code == 2 and "invalid choice" in capsys.readouterr().err
    # every topic names registered tour entries (the command runs exactly those)
    assert set(TOPICS) == {"hopfield", "rbm", "slmc"}
    assert all(name in _REGISTRY for names in TOPICS.values() for name in names)
