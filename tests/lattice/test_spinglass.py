"""Spin-glass observables against brute-force enumeration: the overlap moments <q^2>, <q^4>, the
Binder ratio g and P(q) of two independent replicas on fixed couplings (exact: the replicas are
independent given the couplings, so P(q) = sum over pairs of configurations of the product of their
Boltzmann weights), for Simulation pairs and for two tempering ladders; temperature ladders; the
spin-glass RunResult summary."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from physdl import lattice
from physdl.lattice import spinglass


def _all_configs(shape):
    n = int(np.prod(shape))
    return np.array(list(itertools.product([-1, 1], repeat=n)), np.int8).reshape((-1,) + tuple(shape))


def _energies_square(model, S):
    """H = -sum_sites sum_d J[site, d] s_site s_(site + e_d) - h sum s, written out with np.roll."""
    s = S.astype(np.float64)
    E = np.zeros(len(S))
    for d in (0, 1):
        J = np.broadcast_to(np.asarray(model.J, dtype=np.float64), model.shape + (2,))
        E -= np.sum(J[..., d] * s * np.roll(s, -1, axis=d + 1), axis=(1, 2))
    return E - model.h * s.sum(axis=(1, 2))


def _energies_sk(model, S):
    s = S.astype(np.float64)
    return -0.5 * np.einsum("ci,ij,cj->c", s, model.matrix, s) - model.h * s.sum(1)


def _exact(S, E, beta):
    """Exact <q^2>, <q^4>, g and P(q) (on the N + 1 values of q) of two independent replicas."""
    N = S[0].size
    w = np.exp(-beta * (E - E.min()))
    w /= w.sum()
    F = S.reshape(len(S), -1).astype(np.float64)
    Q = np.rint(F @ F.T).astype(np.int64)  # N q for every pair of configurations
    P = np.bincount((Q + N).ravel(), weights=np.outer(w, w).ravel(), minlength=2 * N + 1)[::2]
    q = np.linspace(-1.0, 1.0, N + 1)
    q2, q4 = float(P @ q**2), float(P @ q**4)
    return q2, q4, 0.5 * (3.0 - q4 / q2**2), P


def _within(est, exact, k=4.0):
    return abs(est.value - exact) < k * est.error


def test_overlaps_of_configurations():
    rng = np.random.default_rng(0)
    a = rng.choice(np.array([-1, 1], np.int8), size=(5, 4, 6))
    assert np.array_equal(spinglass.overlaps(a, a), np.ones(5))
    assert np.array_equal(spinglass.overlaps(a, -a), -np.ones(5))
    want = (a.astype(float) * a[::-1]).mean(axis=(1, 2))
    np.testing.assert_allclose(spinglass.overlaps(a, a[::-1]), want, rtol=0, atol=1e-15)
    np.testing.assert_allclose(spinglass.overlaps(a[0], a[4], n_site_dims=2), want[0], atol=1e-15)
    with pytest.raises(ValueError, match="shape"):
        spinglass.overlaps(a, a[:, :2])


CASES = [
    # (model, Simulation keywords, betas)
    (lattice.EdwardsAnderson((2, 4), seed=3), {}, (0.5, 1.2)),
    (lattice.EdwardsAnderson((3, 3), couplings="gaussian", seed=4), dict(sweep="sequential"), (0.6, 1.5)),
    (lattice.Ising((2, 4)), {}, (0.25, 0.6)),  # multi-spin replicas (the default here)
]


@pytest.mark.parametrize("model,kw,betas", CASES, ids=["ea-pm-2x4", "ea-gauss-3x3", "ising-2x4-multispin"])
def test_overlap_run_matches_enumeration(model, kw, betas):
    S = _all_configs(model.shape)
    E = _energies_square(model, S)
    np.testing.assert_allclose(E, model.energy(S), atol=1e-12)  # the written-out H is the model's
    for i, beta in enumerate(betas):
        a = lattice.Simulation(model, beta=beta, seed=20 + i, **kw)
        b = lattice.Simulation(model, beta=beta, seed=40 + i, **kw)
        r = lattice.overlap_run(a, b, 40_000, burn_in=500)
        q2, q4, g, P = _exact(S, E, beta)
        assert _within(r.q2, q2) and _within(r.q4, q4) and _within(r.binder_g, g), (beta, r.summary(), q2, q4, g)
        assert r.q2.error < 0.03
        assert r.p_q.size == model.n_sites + 1 and abs(r.p_q.sum() - 1) < 1e-12
        np.testing.assert_allclose(r.q_centres, np.linspace(-1, 1, model.n_sites + 1), atol=1e-12)
        assert 0.5 * np.abs(r.p_q - P).sum() < 0.03  # total variation distance to the exact P(q)
        assert _within(r.chi_sg, model.n_sites * q2)


def test_overlap_tempering_matches_enumeration_per_temperature():
    model = lattice.SherringtonKirkpatrick(8, seed=5)
    S = _all_configs((8,))
    E = _energies_sk(model, S)
    np.testing.assert_allclose(E, model.energy(S), atol=1e-12)
    betas = [0.5, 1.0, 1.7, 2.5]
    pa = lattice.ParallelTempering(model, betas, seed=11)
    pb = lattice.ParallelTempering(model, betas, seed=12)
    res = lattice.overlap_tempering(pa, pb, 30_000, burn_in=500)
    assert [r.beta for r in res] == betas
    for k, r in enumerate(res):
        q2, q4, g, P = _exact(S, E, r.beta)
        assert _within(r.q2, q2) and _within(r.q4, q4) and _within(r.binder_g, g), (r.summary(), q2, q4, g)
        assert 0.5 * np.abs(r.p_q - P).sum() < 0.03
        assert r.extra["ladder_index"] == k
        np.testing.assert_array_equal(r.extra["swap_acceptance_a"], pa.swap_acceptance)
        assert "swap(" in r.summary()
    assert np.all(pa.swap_acceptance > 0.2) and np.all(pb.swap_acceptance > 0.2)


def test_chunks_do_not_change_the_overlaps(monkeypatch):
    model = lattice.EdwardsAnderson((4, 4), seed=9)
    def mk():
        return lattice.Simulation(model, beta=0.8, seed=1), lattice.Simulation(model, beta=0.8, seed=1, chain=1)

    whole = lattice.overlap_run(*mk(), 300, every=2, burn_in=10)
    monkeypatch.setattr(spinglass, "_CHUNK_BYTES", 7 * 2 * 16)  # 7 measurements per chunk
    cut = lattice.overlap_run(*mk(), 300, every=2, burn_in=10)
    np.testing.assert_array_equal(whole.q_series, cut.q_series)
    # and they are the overlaps of the chains' own configurations
    a, b = mk()
    ca, cb = a.configurations(300, every=2, burn_in=10), b.configurations(300, every=2, burn_in=10)
    np.testing.assert_array_equal(whole.q_series, (ca.astype(int) * cb).mean(axis=(1, 2)))
    pts = [lattice.ParallelTempering(model, [0.4, 0.8], seed=s) for s in (1, 2)]
    whole = lattice.overlap_tempering(*pts, 100)
    pts = [lattice.ParallelTempering(model, [0.4, 0.8], seed=s) for s in (1, 2)]
    monkeypatch.setattr(spinglass, "_CHUNK_BYTES", 3 * 2 * 2 * 16)
    cut = lattice.overlap_tempering(*pts, 100)
    for x, y in zip(whole, cut):
        np.testing.assert_array_equal(x.q_series, y.q_series)


def test_replica_pairs_are_checked():
    m = lattice.EdwardsAnderson((4, 4), seed=1)
    a = lattice.Simulation(m, beta=0.5, seed=1)
    with pytest.raises(ValueError, match="same one"):
        lattice.overlap_run(a, a, 10)
    with pytest.raises(ValueError, match="independent"):
        lattice.overlap_run(a, lattice.Simulation(m, beta=0.5, seed=1), 10)
    with pytest.raises(ValueError, match="beta"):
        lattice.overlap_run(a, lattice.Simulation(m, beta=0.6, seed=2), 10)
    with pytest.raises(ValueError, match="disorder"):
        lattice.overlap_run(a, lattice.Simulation(lattice.EdwardsAnderson((4, 4), seed=2), beta=0.5, seed=2), 10)
    # another model object with the same couplings is the same disorder
    lattice.overlap_run(a, lattice.Simulation(lattice.EdwardsAnderson((4, 4), seed=1), beta=0.5, seed=2), 4)
    with pytest.raises(TypeError, match="Simulation"):
        lattice.overlap_run(a, "b", 10)
    p = lattice.ParallelTempering(m, [0.3, 0.5], seed=1)
    with pytest.raises(ValueError, match="independent"):
        lattice.overlap_tempering(p, lattice.ParallelTempering(m, [0.3, 0.5], seed=1), 5)
    with pytest.raises(ValueError, match="betas"):
        lattice.overlap_tempering(p, lattice.ParallelTempering(m, [0.3, 0.6], seed=2), 5)


def test_geometric_ladder_endpoints_and_ratios_exact():
    T = lattice.geometric_ladder(0.7, 3.1, 9)
    assert T[0] == 0.7 and T[-1] == 3.1 and T.size == 9
    r = T[1:] / T[:-1]
    np.testing.assert_allclose(r, (3.1 / 0.7) ** (1 / 8), rtol=1e-14)
    np.testing.assert_array_equal(lattice.geometric_ladder(1.0, 2.0, 2), [1.0, 2.0])
    with pytest.raises(ValueError, match="T_max"):
        lattice.geometric_ladder(2.0, 1.0, 4)
    with pytest.raises(ValueError, match="n"):
        lattice.geometric_ladder(1.0, 2.0, 1)


def test_tuned_ladder_equalises_swap_acceptance():
    model = lattice.EdwardsAnderson((6, 6), seed=2)
    tl = lattice.tuned_ladder(model, 0.3, 3.0, 6, seed=7)
    T = tl.temperatures
    assert T[0] == 0.3 and T[-1] == 3.0 and np.all(np.diff(T) > 0)
    np.testing.assert_array_equal(lattice.tuned_ladder(model, 0.3, 3.0, 6, seed=7).temperatures, T)  # deterministic
    np.testing.assert_array_equal(tl.history[0][0], lattice.geometric_ladder(0.3, 3.0, 6))

    def acceptance(temps):  # an independent check run (another seed than the tuning's)
        pt = lattice.ParallelTempering(model, 1.0 / temps, seed=99)
        pt.run(4000, burn_in=500)
        return pt.swap_acceptance

    geo, tuned = acceptance(lattice.geometric_ladder(0.3, 3.0, 6)), acceptance(T)
    assert np.ptp(tuned) < 0.25 * np.ptp(geo), (geo, tuned)
    assert np.ptp(tuned) < 0.1 and tuned.min() > 0.3


def test_run_result_summary_marks_spin_glasses():
    ea = lattice.Simulation(lattice.EdwardsAnderson((4, 4), seed=1), beta=0.5, seed=1).run(50)
    assert ea.spin_glass and "spin glass" in ea.summary() and "|m|=" not in ea.summary() and "U=" not in ea.summary()
    sk = lattice.Simulation(lattice.SherringtonKirkpatrick(8, seed=1), beta=0.5, seed=1).run(50)
    assert sk.spin_glass and "|m|=" not in sk.summary()
    skf = lattice.Simulation(lattice.SherringtonKirkpatrick(8, J0=2.0, seed=1), beta=0.5, seed=1).run(50)
    assert not skf.spin_glass and "|m|=" in skf.summary()  # a ferromagnetic mean coupling: m is an order parameter
    ising = lattice.Simulation(lattice.Ising((4, 4)), beta=0.5, seed=1).run(50)
    assert not ising.spin_glass and "|m|=" in ising.summary() and "U=" in ising.summary()
    res = lattice.ParallelTempering(lattice.EdwardsAnderson((4, 4), seed=1), [0.3, 0.5, 0.8], seed=1).run(50)
    assert all(r.spin_glass for r in res)
    assert "swap(0,1)" in res[0].summary() and "swap(1,2)" not in res[0].summary()
    assert "swap(0,1)" in res[1].summary() and "swap(1,2)" in res[1].summary()
    assert res[2].extra["ladder_index"] == 2
