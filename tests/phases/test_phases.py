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


def test_crossing_temperature_on_a_known_step():
    T = np.repeat(np.linspace(1, 3, 21), 50)
    rng = np.random.default_rng(0)
    out = 1 / (1 + np.exp(-(T - 2.13) / 0.1)) + 0.05 * rng.standard_normal(T.size)
    tc, err = phases.crossing_temperature(T, out, seed=1)
    assert abs(tc - 2.13) < 4 * err + 0.01 and 0 < err < 0.05


@pytest.mark.parametrize("beta_step", [0.33, 0.4407, 0.58])
def test_beta_c_rule_recovers_a_planted_step(beta_step):
    # steps away from the centre of the grid (0.45) too: the rule must find the step, not the centre
    rng = np.random.default_rng(1)
    betas = np.linspace(0.25, 0.65, 24)
    step = np.tanh((betas - beta_step) / 0.02)
    W = np.outer(rng.standard_normal(32), step) + 0.1 * rng.standard_normal((32, betas.size))
    assert abs(phases.estimate_beta_c(W, betas) - beta_step) < 0.01
    assert abs(phases.estimate_beta_c(W[:, ::-1], betas[::-1]) - beta_step) < 0.01


def test_thermometer_learns_temperature(thermo16):
    th = phases.Thermometer(16, kind="fc", seed=0)
    th.fit(thermo16, epochs=8)
    assert th.weights.shape == (32, 16)
    # 16 classes: chance is 3/16 within one class; the energy alone resolves far better
    assert th.accuracy(thermo16, tolerance=1) > 0.4
    bc = th.beta_c()  # the rule runs on real weights (its accuracy is discussed in estimate_beta_c)
    assert bc != bc or 0.25 <= bc <= 0.65


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
