"""Chapter 8 at small scale: the same quantities as `physdl phases`, with looser, computed tolerances."""

import math

import numpy as np
import pytest

from physdl import phases
from physdl.io import save_run
from physdl.lattice import exact


@pytest.fixture(scope="module")
def square16(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "square16.h5"
    temps = np.linspace(0.5 * phases.TC_SQUARE, 1.6 * phases.TC_SQUARE, 16)
    return phases.ising_dataset("square", 16, temps, n_per_T=80, every=1, burn_in=100, seed=1, path=path,
                                progress=False), path


@pytest.fixture(scope="module")
def thermo16():
    temps = np.sort(1.0 / np.linspace(0.25, 0.65, 16))
    return phases.ising_dataset("square", 16, temps, n_per_T=120, every=1, burn_in=100, seed=2, progress=False)


def test_dataset_shapes_and_low_temperature_magnetisation(square16):
    ds, _ = square16
    assert ds.configs.shape == (16 * 80, 16, 16) and ds.configs.dtype == np.int8
    assert set(np.unique(ds.configs)) == {-1, 1}
    # far below T_c the finite-size corrections are exponentially small: compare with Onsager
    t = ds.temperatures[0]
    am = np.abs(ds.magnetization[ds.T == t])
    sem = am.std(ddof=1) / math.sqrt(am.size)
    m0 = float(exact.onsager_magnetization(1.0 / t))
    assert abs(am.mean() - m0) < 4 * sem + 1e-3


def test_dataset_cache_is_reused_and_checked(square16, tmp_path):
    ds, path = square16
    again = phases.ising_dataset("square", 16, ds.temperatures, n_per_T=80, every=1, burn_in=100, seed=1,
                                 path=path, progress=False)
    np.testing.assert_array_equal(again.configs, ds.configs)
    with pytest.raises(ValueError, match="other settings"):
        phases.ising_dataset("square", 16, ds.temperatures, n_per_T=80, every=1, burn_in=100, seed=2, path=path)
    other = tmp_path / "other.h5"
    save_run(other, {"x": np.zeros(3)}, {}, kind="something/else")
    with pytest.raises(ValueError, match="not an Ising dataset"):
        phases.ising_dataset("square", 16, ds.temperatures, path=other)


def test_classifier_finds_triangular_transition(square16):
    ds, _ = square16
    tri = phases.ising_dataset("triangular", 16, np.linspace(0.6, 1.4, 14) * phases.TC_TRIANGULAR, n_per_T=50,
                               every=1, burn_in=100, seed=3, progress=False)
    clf = phases.PhaseClassifier(16, kind="fc", seed=0)
    train, test = ds.split(0.25, seed=0)
    clf.fit(train, epochs=8)
    pred = clf.predict_proba(test.configs).argmax(axis=1)
    far = np.abs(test.T - phases.TC_SQUARE) > 0.3
    assert np.mean(pred[far] == (test.T[far] > phases.TC_SQUARE)) > 0.95
    scan = clf.scan(tri)
    tc, err = phases.crossing_temperature(tri.T, scan["per_config"], seed=0)
    # bootstrap error plus a finite-size allowance of 4% at L = 16 (the full run uses L = 32 and 2%)
    assert abs(tc - phases.TC_TRIANGULAR) < 4 * err + 0.04 * phases.TC_TRIANGULAR, (tc, err)


@pytest.fixture(scope="module")
def square8():
    temps = np.linspace(0.5 * phases.TC_SQUARE, 1.6 * phases.TC_SQUARE, 16)
    ds = phases.ising_dataset("square", 8, temps, n_per_T=80, every=1, burn_in=100, seed=1, progress=False)
    return ds.split(0.25, seed=0)


def _distinct(configs):
    return np.unique(configs.reshape(len(configs), -1), axis=0).shape[0]


def test_default_cnn_is_not_degenerate_at_seeds_0_1_2(square8):
    # The default CNN once gave every ordered configuration of one sign of m the same output (all
    # hidden ReLUs off there; L = 32, seed 0/1 of `physdl phases`).  At L = 8, for seeds 0, 1 and 2:
    # on ordered configurations of either sign the outputs vary (as many distinct values as distinct
    # configurations) and say "ordered"; the crossings agree with each other within their errors, and
    # their mean (error: bootstrap and seed spread in quadrature) with Onsager's T_c within 3 errors
    # plus a finite-size allowance of 5% at L = 8 (the L = 16 test allows 4%).
    train, test = square8
    m = test.magnetization
    ordered = test.T < 0.8 * phases.TC_SQUARE
    outs, tcs = [], []
    for seed in (0, 1, 2):
        clf = phases.PhaseClassifier(8, kind="cnn", seed=seed)
        clf.fit(train, epochs=20)
        p = clf.disorder_probability(test.configs)
        for sector in (m > 0, m < 0):
            sel = ordered & sector
            assert sel.sum() > 10
            assert np.unique(p[sel]).size == _distinct(test.configs[sel]), seed
            assert np.max(p[sel]) < 0.5 and np.mean(p[sel]) < 0.2, (seed, np.mean(p[sel]))
        outs.append(p)
        tcs.append(phases.crossing_temperature(test.T, p, seed=0))
    for i in range(3):
        for j in range(i):
            assert abs(tcs[i].value - tcs[j].value) < 3 * math.hypot(tcs[i].error, tcs[j].error), tcs
    tc, err = phases.crossing_temperature(test.T, np.stack(outs), seed=0)
    assert tc == pytest.approx(np.mean([t.value for t in tcs]), abs=1e-12)
    assert abs(tc - phases.TC_SQUARE) < 3 * err + 0.05 * phases.TC_SQUARE, (tc, err, tcs)


def test_symmetrized_training_covers_the_unseen_sign(square8):
    # Ordered training data of one sign of m only (as Markov chains that stayed in one sector): with
    # the default flips s -> -s the network says "ordered" on the other sign too; without them it
    # calls those configurations disordered (the mechanism behind the degenerate outputs)
    train, test = square8
    flip = np.where(train.magnetization < 0, -1, 1).astype(np.int8)
    one_sign = phases.IsingDataset(train.configs * flip[:, None, None], train.T, "square", 8)
    neg = test.configs[(test.T < 0.8 * phases.TC_SQUARE) & (test.magnetization < -0.5)]
    clf = phases.PhaseClassifier(8, kind="cnn", seed=0)
    clf.fit(one_sign, epochs=20)
    p = clf.disorder_probability(neg)
    assert np.max(p) < 0.5 and np.unique(p).size == _distinct(neg)
    raw = phases.PhaseClassifier(8, kind="cnn", seed=0)
    raw.fit(one_sign, epochs=20, symmetrize=False)
    assert np.mean(raw.disorder_probability(neg)) > 0.5
    with pytest.raises(TypeError, match="symmetrize must be True or False"):
        raw.fit(one_sign, symmetrize=1)


def test_crossing_over_training_seeds_adds_the_spread():
    T = np.repeat(np.linspace(1, 3, 21), 50)
    rng = np.random.default_rng(0)
    outs = np.stack([1 / (1 + np.exp(-(T - c) / 0.1)) + 0.05 * rng.standard_normal(T.size) for c in (2.10, 2.13, 2.20)])
    rows = [phases.crossing_temperature(T, o, seed=3) for o in outs]
    vals = np.array([r.value for r in rows])
    est = phases.crossing_temperature(T, outs, seed=3)
    assert est.value == pytest.approx(vals.mean(), abs=1e-14)
    want = math.sqrt(np.mean([r.error ** 2 for r in rows]) + vals.var(ddof=1))
    assert est.error == pytest.approx(want, rel=1e-12)
    assert est.error > 3 * max(r.error for r in rows)  # here the seed spread dominates
    one = phases.crossing_temperature(T, outs[:1], seed=3)
    assert (one.value, one.error) == (rows[0].value, rows[0].error)
    with pytest.raises(ValueError, match=r"output must have shape \(1050,\) or \(n_seeds, 1050\)"):
        phases.crossing_temperature(T, outs[:, :10])


def test_crossing_temperature_on_a_known_step():
    T = np.repeat(np.linspace(1, 3, 21), 50)
    rng = np.random.default_rng(0)
    out = 1 / (1 + np.exp(-(T - 2.13) / 0.1)) + 0.05 * rng.standard_normal(T.size)
    tc, err = phases.crossing_temperature(T, out, seed=1)
    assert abs(tc - 2.13) < 4 * err + 0.01 and 0 < err < 0.05


# ---- thermometer beta_c: the specific-heat peak the network has learned
GRIDS = {"centre 0.40": (0.20, 0.60), "centre 0.50": (0.30, 0.70)}  # same width, shifted


def _exact_peak(L):
    b = np.linspace(0.38, 0.47, 9001)
    return float(b[np.argmax(exact.kaufman_thermodynamics(b, L)["specific_heat"])])


def _planted_logits(L, betas, n_per_class, rng):
    """Logits of an ideal thermometer, z_k(s) = -beta_k H(s) + b_k + c(s), on Gaussian energies whose
    mean and variance per class are the exact ones of the L x L torus (Kaufman)."""
    d = exact.kaufman_thermodynamics(betas, L)
    N = L * L
    mean, sd = d["energy"] * N, np.sqrt(d["specific_heat"] * N) / betas
    lab = np.repeat(np.arange(betas.size), n_per_class)
    if n_per_class == 2:  # mean and variance exactly those of the torus
        H = mean[lab] + sd[lab] * np.tile([-1.0, 1.0], betas.size)
    else:
        H = mean[lab] + sd[lab] * rng.standard_normal(lab.size)
    # arbitrary biases and a per-configuration constant: neither may matter
    z = -np.outer(H, betas) + rng.standard_normal(betas.size) * 5 + rng.standard_normal((lab.size, 1)) * 3
    return z, lab, mean


@pytest.mark.parametrize("L", [8, 16, 32])
@pytest.mark.parametrize("grid", GRIDS)
def test_beta_c_rule_on_the_exact_specific_heat(L, grid):
    # noise-free input: the rule must find the exact finite-size specific-heat peak wherever the grid is
    betas = np.linspace(*GRIDS[grid], 24)
    z, lab, mean = _planted_logits(L, betas, 2, np.random.default_rng(0))
    cv = phases.thermometer_specific_heat(z, lab, betas, n_sites=L * L)
    mid = 0.5 * (betas[1:] + betas[:-1])
    expect = mid ** 2 * (mean[:-1] - mean[1:]) / np.diff(betas) / (L * L)  # finite difference of <H>
    np.testing.assert_allclose(cv["c"].value, expect, rtol=1e-9, atol=1e-12)
    # and the finite difference is the specific heat itself up to O(Delta beta^2)
    c_mid = exact.kaufman_thermodynamics(mid, L)["specific_heat"]
    assert np.max(np.abs(cv["c"].value - c_mid) / c_mid) < 0.1
    bc = phases.estimate_beta_c(z, lab, betas)
    assert abs(bc - _exact_peak(L)) < 0.2 * np.diff(betas)[0], (bc, _exact_peak(L))
    # the class order does not matter
    perm = np.random.default_rng(1).permutation(betas.size)
    inv = np.argsort(perm)
    assert phases.estimate_beta_c(z[:, perm], inv[lab], betas[perm]) == pytest.approx(bc, abs=1e-12)


@pytest.mark.parametrize("grid", GRIDS)
def test_beta_c_rule_with_sampling_noise(grid):
    # Gaussian energies, 400 per class: the curve agrees with the expectation within its computed
    # standard errors, and the peak within 4 bootstrap errors (+ the rule's interpolation allowance)
    L, betas = 16, np.linspace(*GRIDS[grid], 24)
    z, lab, mean = _planted_logits(L, betas, 400, np.random.default_rng(3))
    cv = phases.thermometer_specific_heat(z, lab, betas, n_sites=L * L)
    mid = 0.5 * (betas[1:] + betas[:-1])
    expect = mid ** 2 * (mean[:-1] - mean[1:]) / np.diff(betas) / (L * L)
    chi2 = np.sum(((cv["c"].value - expect) / cv["c"].error) ** 2)
    dof = expect.size
    assert chi2 < dof + 4 * math.sqrt(2 * dof), chi2
    bc, err = phases.bootstrap_beta_c(z, lab, betas, n_boot=100, seed=0)
    assert 0 < err < 0.02
    assert abs(bc - _exact_peak(L)) < 4 * err + 0.2 * np.diff(betas)[0], (bc, err)


def test_heatmap_midpoint_follows_the_grid_on_linear_weights():
    # the weights of an ideal thermometer are linear in beta (W_k = -beta_k w): the old reading of the
    # heat map returns the centre of the grid, whatever the physics (why it is not used for beta_c)
    w = np.random.default_rng(0).standard_normal(16)
    for lo, hi in GRIDS.values():
        betas = np.linspace(lo, hi, 24)
        assert phases.heatmap_step_midpoint(-np.outer(w, betas), betas) == pytest.approx(0.5 * (lo + hi), abs=1e-9)


def test_heatmap_midpoint_recovers_a_planted_step():
    rng = np.random.default_rng(1)
    betas = np.linspace(0.25, 0.65, 24)
    for beta_step in (0.33, 0.58):
        step = np.tanh((betas - beta_step) / 0.02)
        W = np.outer(rng.standard_normal(32), step) + 0.1 * rng.standard_normal((32, betas.size))
        assert abs(phases.heatmap_step_midpoint(W, betas) - beta_step) < 0.01


def test_beta_c_rule_bad_input():
    betas = np.linspace(0.3, 0.6, 6)
    z = np.zeros((12, 6))
    lab = np.repeat(np.arange(6), 2)
    with pytest.raises(ValueError, match="logits must have 2 dimensions|logits must be 2"):
        phases.estimate_beta_c(z[0], lab, betas)
    with pytest.raises(ValueError, match="at least 2 configurations"):
        phases.estimate_beta_c(z[:11], lab[:11], betas)
    with pytest.raises(ValueError, match="labels must lie in"):
        phases.estimate_beta_c(z, lab + 1, betas)
    with pytest.raises(TypeError, match="integer class indices"):
        phases.estimate_beta_c(z, lab.astype(float), betas)
    with pytest.raises(ValueError, match="distinct"):
        phases.estimate_beta_c(z, lab, np.full(6, 0.4))


@pytest.fixture(scope="module")
def thermo_grids():
    # L = 16 on two class grids of the same width with centres 0.40 and 0.50
    out = {}
    for i, (name, (lo, hi)) in enumerate(GRIDS.items()):
        temps = np.sort(1.0 / np.linspace(lo, hi, 24))
        out[name] = phases.ising_dataset("square", 16, temps, n_per_T=2500, every=2, burn_in=200, seed=20 + i,
                                         progress=False).split(0.4, seed=0)
    return out


@pytest.mark.parametrize("kind,grid", [("fc", "centre 0.40"), ("fc", "centre 0.50"), ("cnn", "centre 0.50")])
def test_thermometer_beta_c_does_not_follow_the_grid(thermo_grids, kind, grid):
    train, test = thermo_grids[grid]
    th = phases.Thermometer(16, kind=kind, seed=0)
    th.fit(train, epochs=15 if kind == "fc" else 10)
    assert th.weights.shape == (32, 24)
    # 24 classes: chance is 3/24 within one class
    assert th.accuracy(test, tolerance=1) > 0.3
    # held-out estimate against the exact L = 16 specific-heat peak (0.4315), within 4 bootstrap
    # errors plus the rule's interpolation allowance (a fifth of the class spacing); the grid
    # centres are 0.40 and 0.50, so an estimate that followed the grid would fail one of them
    bc, err = th.beta_c(test, n_boot=60, seed=0)
    assert 0 < err < 0.02
    assert abs(bc - _exact_peak(16)) < 4 * err + 0.2 * 0.4 / 23, (bc, err)


def test_thermometer_divergence_is_read_from_the_heat_map(thermo_grids):
    # J_k = (W_k - W_{k+1}) . (a_k - a_{k+1}): the curve from the logits equals the one built from the
    # heat map and the mean activations a_j of layer A, computed here by hand from the parameters
    train, test = thermo_grids["centre 0.40"]
    th = phases.Thermometer(16, kind="fc", hidden=12, seed=1)
    th.fit(train, epochs=2)
    p = list(th.model.parameters().values())
    W1, b1 = np.asarray(p[0], np.float64), np.asarray(p[1], np.float64)
    x = test.configs.reshape(len(test), -1).astype(np.float64)
    A = np.maximum(x @ W1.T + b1, 0.0)
    lab = np.searchsorted(th.temperatures, test.T)
    a = np.stack([A[lab == k].mean(axis=0) for k in range(24)])  # classes x hidden
    W = th.weights  # hidden x classes, classes ordered by temperature
    J = np.einsum("hk,kh->k", W[:, :-1] - W[:, 1:], a[:-1] - a[1:])
    # by temperature the neighbours are (k, k+1); by beta the order is reversed and J is symmetric
    b = th.betas
    mid = 0.5 * (b[1:] + b[:-1])
    c_heat = (mid ** 2 * J / (b[1:] - b[:-1]) ** 2 / 256)[::-1]
    np.testing.assert_allclose(th.specific_heat(test)["c"].value, c_heat, rtol=1e-4, atol=1e-4 * np.abs(c_heat).max())


def test_three_units_track_the_magnetisation(thermo16):
    net = phases.ThreeUnitNetwork(16, seed=0)
    net.fit(thermo16)
    corr = net.magnetization_correlation(thermo16)
    assert max(abs(c) for c in corr["u_vs_m"]) >= 0.9, corr


def test_bad_input(square16):
    ds, _ = square16
    with pytest.raises(ValueError, match="temperatures must not be empty"):
        phases.ising_dataset("square", 8, [])
    with pytest.raises(ValueError, match="L must be >= 4"):
        phases.ising_dataset("square", 2, [2.0])
    with pytest.raises(ValueError, match="geometry must be one of"):
        phases.ising_dataset("hexagonal", 8, [2.0])
    with pytest.raises(ValueError, match="temperatures must all be > 0"):
        phases.ising_dataset("square", 8, [1.0, -2.0])
    with pytest.raises(ValueError, match="L must be >= 4"):
        phases.PhaseClassifier(3)
    with pytest.raises(ValueError, match="L must be even"):
        phases.Thermometer(9, kind="cnn")
    clf = phases.PhaseClassifier(8)
    with pytest.raises(ValueError, match="dataset has L = 16"):
        clf.fit(ds)
    with pytest.raises(ValueError, match=r"configs must have shape \(n, 8, 8\)"):
        clf.predict_proba(ds.configs[:3])
    with pytest.raises(TypeError, match="dataset must be an IsingDataset"):
        phases.Thermometer(16).fit(ds.configs)


def test_run_summary_writes_array_estimates_as_json():
    import json

    from physdl.phases.run import _jsonable
    from physdl.stats import Estimate

    est = Estimate(np.array([1.0, 2.0]), np.array([0.1, 0.2]))
    out = json.loads(json.dumps({"c": _jsonable(est), "beta": _jsonable(np.array([0.4, 0.5]))}))
    assert out == {"c": {"value": [1.0, 2.0], "error": [0.1, 0.2]}, "beta": [0.4, 0.5]}


def _fake_result():
    table = "| L | beta_c CNN |\n|---|---|\n| 8 | 0.4300 ± 0.0100 |"
    return {"settings": {"classifier_L": 16, "thermometer_sizes": [8, 16]}, "seed": 0, "quick": True,
            "classifier": {"fc": {"Tc_square": 2.3, "Tc_square_err": 0.03, "Tc_triangular": 3.6, "Tc_triangular_err": 0.05,
                                  "test_accuracy": 0.95, "network_seeds": [0, 1, 2]},
                           "cnn": {"Tc_square": 2.25, "Tc_square_err": 0.02, "Tc_triangular": 3.5,
                                   "Tc_triangular_err": 0.07, "test_accuracy": 0.96, "network_seeds": [0, 1, 2]}},
            "beta_c_table": table, "three_unit": {"L": 16, "max_abs_corr_u_m": 0.99, "max_abs_corr_z_abs_m": 0.93}}


def test_headline_states_the_numbers_against_the_exact_values():
    from physdl.phases.run import headline

    text = headline(_fake_result())
    assert "mean of 3 training seeds [0, 1, 2]" in text
    # (2.3 - 2.269185) / 0.03 = +1.0 errors; (3.5 - 3.640957) / 0.07 = -2.0 errors
    assert "FC  square     T_c = 2.300 ± 0.030  (exact 2.2692, +1.0 sigma)" in text
    assert "CNN triangular T_c = 3.500 ± 0.070  (exact 4/ln 3 = 3.6410, -2.0 sigma)" in text
    assert "spread over training seeds" in text
    assert "| 8 | 0.4300 ± 0.0100 |" in text and "max |corr(u_i, m)| = 0.990" in text


def test_phases_command_prints_the_headline(monkeypatch, capsys, tmp_path):
    # the quick run takes minutes on a shared 2-core machine: the command is run with the pipeline
    # replaced by one returning a result, to check that what it prints is the headline
    from physdl import cli
    from physdl.phases import run

    seen = {}

    def fake_run(out, **kw):
        seen.update(kw)
        return _fake_result()

    monkeypatch.setattr(run, "run_phases", fake_run)
    assert cli.main(["phases", "--quick", "--serial", "--no-progress", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert seen["quick"] is True and seen["progress"] is False
    assert run.headline(_fake_result()) in text and "results:" in text
