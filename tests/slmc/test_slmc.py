import functools

import numpy as np
import pytest
from scipy import stats

import physdl
from physdl.slmc import (SLMC, TC_PLAQUETTE, PlaquetteIsing, autocorrelation_comparison, exact_distribution,
                         fit_effective, local_metropolis)


def brute_energy(s, L, J=1.0, K=0.2):
    s = s.reshape(L, L).astype(int)
    r = np.roll
    return float(-J * (s * r(s, -1, 1) + s * r(s, -1, 0)).sum()
                 - K * (s * r(s, -1, 1) * r(s, -1, 0) * r(r(s, -1, 0), -1, 1)).sum())


def test_tables_and_energy_against_direct_sums():
    for L in (4, 5, 6):
        m = PlaquetteIsing(L)
        S = np.where(np.random.default_rng(L).random((20, L * L)) < 0.5, 1, -1)
        np.testing.assert_allclose(m.energy(S), [brute_energy(s, L) for s in S])


@functools.lru_cache(maxsize=4)
def _exact(L, beta):
    return exact_distribution(PlaquetteIsing(L), beta)


def _chi2_against_exact(model, beta, E, M):
    """Chi-square of the joint (E, M) histogram of thinned samples against enumeration."""
    S, Ex, p = _exact(model.L, beta)
    Mx = S.astype(int).sum(1)
    keys_x = np.round(Ex * 10).astype(int) * 1000 + Mx
    keys = np.round(E * 10).astype(int) * 1000 + M
    uniq, inv = np.unique(keys_x, return_inverse=True)
    pk = np.bincount(inv, weights=p)
    pos = np.searchsorted(uniq, keys)
    assert np.all(uniq[pos] == keys)  # every sampled (E, M) exists
    counts = np.bincount(pos, minlength=uniq.size)
    exp = pk * keys.size
    big = exp >= 5
    c = np.append(counts[big], counts[~big].sum())
    e = np.append(exp[big], exp[~big].sum())
    return stats.chisquare(c, e)


@pytest.mark.parametrize("T,cpu_backend", [(TC_PLAQUETTE, "cpp"), (TC_PLAQUETTE, "numba"), (4.0, "cpp")])
def test_slmc_samples_the_exact_distribution_4x4(T, cpu_backend):
    model = PlaquetteIsing(4)
    beta = 1.0 / T
    tr = local_metropolis(model, beta, 300, 8, seed=1, backend=cpu_backend)
    eff = fit_effective(model, tr.states_history[:, 50:].reshape(-1, model.n), tr.energy[:, 50:].ravel())
    for nc in (1, 2):
        run = SLMC(model, eff, beta).run(2000, 40, seed=2, start=tr.states[np.arange(40) % 8], n_clusters=nc,
                                         backend=cpu_backend)
        E, M = run.energy[:, 100::4].ravel(), run.magnetization[:, 100::4].ravel()
        chi2, pval = _chi2_against_exact(model, beta, E, M)
        assert pval > 1e-3, (T, nc, chi2, pval)
    # a deliberately bad effective model is still exact (eq. 6.114), only slower
    run = SLMC(model, [0.5, 0.3, 0.0], beta).run(2000, 40, seed=3, backend=cpu_backend)
    chi2, pval = _chi2_against_exact(model, beta, run.energy[:, 100::4].ravel(), run.magnetization[:, 100::4].ravel())
    assert pval > 1e-3


def test_local_metropolis_samples_the_exact_distribution():
    model = PlaquetteIsing(4)
    beta = 1 / 3.0
    run = local_metropolis(model, beta, 4000, 20, seed=5, keep_states=False)
    chi2, pval = _chi2_against_exact(model, beta, run.energy[:, 200::5].ravel(), run.magnetization[:, 200::5].ravel())
    assert pval > 1e-3


def test_kernels_track_energy_and_cpp_equals_numba(threads):
    model = PlaquetteIsing(6)
    out = []
    for be, nt in (("cpp", 1), ("cpp", 2), ("numba", 1)):
        physdl.set_num_threads(nt)
        a = local_metropolis(model, 0.4, 50, 3, seed=9, keep_states=False, backend=be)
        b = SLMC(model, [1.1, 0.05, 0.0], 0.4).run(200, 3, seed=9, start=a.states, n_clusters=2, backend=be)
        out.append((a, b))
    for a, b in out[1:]:
        assert np.array_equal(a.energy, out[0][0].energy) and np.array_equal(a.states, out[0][0].states)
        assert np.array_equal(b.energy, out[0][1].energy) and np.array_equal(b.cluster_size, out[0][1].cluster_size)
    a, b = out[0]
    np.testing.assert_allclose(a.energy[:, -1], model.energy(a.states))
    np.testing.assert_allclose(b.energy[:, -1], model.energy(b.states))
    np.testing.assert_array_equal(b.magnetization[:, -1], b.states.astype(int).sum(1))


def test_effective_fit_recovers_a_pure_ising_model():
    # on a model with K = 0 the regression must return J1 = J and J2 = J3 = 0 exactly
    model = PlaquetteIsing(6, J=0.8, K=0.0)
    run = local_metropolis(model, 0.5, 100, 2, seed=1)
    eff = fit_effective(model, run.states_history.reshape(-1, model.n), run.energy.ravel(), nonnegative=False)
    np.testing.assert_allclose(eff.J, [0.8, 0.0, 0.0], atol=1e-9)
    assert eff.residual < 1e-9


@pytest.mark.slow
def test_slmc_beats_local_updates_at_tc_L32():
    out = autocorrelation_comparison(32, n_train=2000, n_local=200000, n_slmc=50000, seed=1)
    tl, ts = out["tau_local"], out["tau_slmc"]
    ratio = tl.value / ts.value
    err = ratio * np.hypot(tl.error / tl.value, ts.error / ts.value)
    assert out["converged_local"] and out["converged_slmc"]
    assert ratio + 2 * err >= 5.0 and ratio >= 3.5, (ratio, err, out)


def test_bad_input():
    with pytest.raises(ValueError, match="L must be"):
        PlaquetteIsing(3)
    m = PlaquetteIsing(4)
    with pytest.raises(ValueError, match="\\+1 and -1"):
        m.energy(np.zeros((1, 16)))
    with pytest.raises(ValueError, match="beta"):
        local_metropolis(m, -1.0, 10)
    with pytest.raises(ValueError, match="effective"):
        SLMC(m, [1.0, np.nan, 0.0], 0.4)
    with pytest.raises(ValueError, match="n_steps"):
        SLMC(m, [1.0, 0, 0], 0.4).run(0)
    with pytest.raises(ValueError, match="n_chains"):
        SLMC(m, [1.0, 0, 0], 0.4).run(10, start=np.ones((2, 16)))
    with pytest.raises(TypeError, match="PlaquetteIsing"):
        local_metropolis("square", 0.4, 10)
