"""Result objects: round trips through physdl.io, refusal of edited files, printing rounded to the error, plots."""

import math
from pathlib import Path
from decimal import ROUND_HALF_EVEN, Decimal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from physdl import io, lattice  # noqa: E402
from physdl.lattice.scan import ScanResult, scan  # noqa: E402
from physdl.stats import Estimate, format_value_error  # noqa: E402


def _rule(value: float, error: float) -> str:
    """The rounding rule done independently in decimal arithmetic: error to 2 significant digits,
    value quantised to the same place."""
    e = Decimal(error)
    q = Decimal(1).scaleb(e.adjusted() - 1)
    er = e.quantize(q, rounding=ROUND_HALF_EVEN)
    if er.adjusted() > e.adjusted():  # rounding gained a digit (0.0996 -> 0.10)
        q = q.scaleb(1)
        er = e.quantize(q, rounding=ROUND_HALF_EVEN)
    vr = Decimal(value).quantize(q, rounding=ROUND_HALF_EVEN)
    if q >= 1:
        return f"{int(vr)} ± {int(er)}"
    return f"{vr} ± {er}"


def test_format_matches_independent_rule():
    rng = np.random.default_rng(5)
    for _ in range(2000):
        err = float(10.0 ** rng.uniform(-6, 4))
        val = float(rng.normal(0, 1) * 10.0 ** rng.uniform(-3, 5))
        assert format_value_error(val, err) == _rule(val, err), (val, err)
    assert format_value_error(-1.040213, 0.002614) == _rule(-1.040213, 0.002614)
    assert str(Estimate(-1.040213, 0.002614)) == _rule(-1.040213, 0.002614)


@pytest.fixture(scope="module")
def run():
    sim = lattice.Simulation(lattice.Ising((8, 8)), T=2.3, update="wolff", seed=4)
    return sim.run(400, burn_in=50)


def _equal(a: lattice.RunResult, b: lattice.RunResult):
    np.testing.assert_array_equal(a.energy_series, b.energy_series)
    np.testing.assert_array_equal(a.magnetization_series, b.magnetization_series)
    assert a.to_dict() == b.to_dict()


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_run_result_round_trip(run, tmp_path, suffix):
    p = tmp_path / f"run{suffix}"
    run.save(p, seed=4, parameters={"L": 8, "update": "wolff"})
    back = lattice.RunResult.load(p)
    _equal(run, back)
    meta = io.read_params(p)
    assert meta["kind"] == "lattice/run-result" and meta["params"]["seed"] == 4
    assert meta["params"]["parameters"] == {"L": 8, "update": "wolff"}
    assert "physdl_version" in meta


def test_run_result_repr_is_short_and_rounded(run):
    r = repr(run)
    assert len(r) < 200 and "[" not in r
    assert format_value_error(*run.energy) in r and format_value_error(*run.binder) in r


def test_edited_or_foreign_file_refused_naming_it(run, tmp_path):
    p = tmp_path / "run.npz"
    run.save(p)
    z = dict(np.load(p, allow_pickle=False))
    z["energy_series"] = z["energy_series"] + 1.0  # edited content, metadata left as it was
    with open(p, "wb") as f:
        np.savez(f, **z)
    with pytest.raises(ValueError, match="run.npz"):
        lattice.RunResult.load(p)
    other = tmp_path / "other.h5"
    io.save_run(other, {"x": np.arange(3)}, {"seed": 1}, kind="demo")
    with pytest.raises(ValueError, match="other.h5"):
        lattice.RunResult.load(other)
    bad = tmp_path / "bad.h5"
    io.save_run(bad, {"energy_series": np.zeros(3)}, {"beta": 1.0}, kind="lattice/run-result")
    with pytest.raises(ValueError, match="bad.h5"):
        lattice.RunResult.load(bad)


def test_run_result_plot(run):
    fig, ax = plt.subplots()
    out = run.plot(ax=ax)
    assert out is ax and ax.get_xlabel() and ax.get_ylabel()
    plt.close(fig)


@pytest.fixture(scope="module")
def small_scan():
    return scan(lambda L: lattice.Ising((L, L)), [2.2, 2.3, 2.4], sizes=[4, 6], sweeps=300, burn_in=30, seed=2)


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_scan_round_trip_and_refusal(small_scan, tmp_path, suffix):
    p = tmp_path / f"scan{suffix}"
    small_scan.save(p)
    back = ScanResult.load(p)
    assert back.to_dict() == small_scan.to_dict()
    for k, v in small_scan.table.items():
        np.testing.assert_array_equal(v, back.table[k])
    p2 = tmp_path / f"run{suffix}"
    lattice.Simulation(lattice.Ising((4, 4)), T=2.0, seed=1).run(10).save(p2)
    with pytest.raises(ValueError, match=f"run{suffix}"):
        ScanResult.load(p2)


def test_scan_table_equals_single_runs(small_scan):
    """Every row is the Simulation the docs say it is: same model, T, update, seed and chain."""
    t = small_scan.table
    for k in range(t["T"].size):
        r = lattice.Simulation(lattice.Ising((int(t["L"][k]),) * 2), T=float(t["T"][k]), update="wolff", seed=2,
                               chain=k).run(300, burn_in=30)
        for o in ("energy", "abs_magnetization", "specific_heat", "susceptibility", "binder"):
            assert (t[o][k], t[o + "_error"][k]) == tuple(getattr(r, o)), (k, o)


def test_scan_pandas_and_plot(small_scan):
    df = small_scan.to_pandas()
    assert len(df) == 6 and list(df["L"]) == [4, 4, 4, 6, 6, 6]
    np.testing.assert_array_equal(df["binder_error"].to_numpy(), small_scan.table["binder_error"])
    fig, ax = plt.subplots()
    out = small_scan.plot("susceptibility", ax=ax)
    assert out is ax and ax.get_xlabel() and ax.get_ylabel() and len(ax.get_legend().get_texts()) == 2
    plt.close(fig)
    assert "ScanResult(sizes=[4, 6]" in repr(small_scan) and len(repr(small_scan)) < 200


def test_scan_validates_input():
    with pytest.raises(ValueError, match="temperatures"):
        scan(lattice.Ising((4, 4)), [2.0, -1.0])
    with pytest.raises(TypeError, match="sizes"):
        scan(lambda L: lattice.Ising((L, L)), [2.0])
    with pytest.raises(ValueError, match="update"):
        scan(lattice.Ising((4, 4)), [2.0], update="glauber")


def test_binder_crossing_near_exact_tc():
    """L = 8 and 12 around T_c: the crossing lies within 3 of its errors plus a finite-size allowance
    of 0.03 of the exact 2 / ln(1 + sqrt 2) (the 8/12 crossing of the 2d Ising model is within about
    0.01 of T_c; corrections fall as L^-2 or faster for U)."""
    tc = 2.0 / math.log(1.0 + math.sqrt(2.0))
    res = scan(lambda L: lattice.Ising((L, L)), np.linspace(2.15, 2.40, 6), sizes=[8, 12], sweeps=3000,
               burn_in=300, seed=7)
    c = res.binder_crossing(8, 12)
    assert 0 < c.error < 0.05
    assert abs(c.value - tc) <= 3 * c.error + 0.03, (c, tc)
    # the linear fit through the bracketing points agrees with the quadratic one within errors
    c1 = res.binder_crossing(8, 12, degree=1, n_points=2)
    assert abs(c1.value - c.value) <= 3 * math.hypot(c.error, c1.error)
    shifted = dict(res.table)
    shifted["binder"] = np.where(res.table["L"] == 12, res.table["binder"] + 1.0, res.table["binder"])
    with pytest.raises(ValueError, match="do not cross"):
        ScanResult(shifted, res.params).binder_crossing(8, 12)


def test_scan_docstring_examples():
    import doctest

    import physdl.lattice.scan as mod

    r = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert r.attempted > 0 and r.failed == 0


@pytest.fixture(scope="module")
def dataset():
    return lattice.ising_dataset(L=4, temperatures=[1.5, 2.5, 3.5], n_per_T=6, every=2, burn_in=20, seed=3,
                                 progress=False)


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_dataset_round_trip_and_refusal(dataset, tmp_path, suffix):
    p = tmp_path / f"ds{suffix}"
    dataset.save(p)
    back = lattice.IsingDataset.load(p)
    np.testing.assert_array_equal(back.configs, dataset.configs)
    np.testing.assert_array_equal(back.T, dataset.T)
    assert (back.geometry, back.L) == (dataset.geometry, dataset.L) and back.to_dict() == dataset.to_dict() | {
        "params": back.params}
    train, _ = dataset.split(0.5, seed=1)
    train.save(tmp_path / f"train{suffix}")
    np.testing.assert_array_equal(lattice.IsingDataset.load(tmp_path / f"train{suffix}").configs, train.configs)
    # spins other than +-1 written with a valid checksum are refused, naming the file
    io.save_run(tmp_path / f"bad{suffix}", {"configs": dataset.configs * 2, "T": dataset.T},
                dict(dataset.params, geometry="square", L=4), kind="phases/ising-dataset")
    with pytest.raises(ValueError, match=f"bad{suffix}"):
        lattice.IsingDataset.load(tmp_path / f"bad{suffix}")
    with pytest.raises(ValueError, match=f"ds{suffix}"):
        ScanResult.load(p)


def test_dataset_repr_and_plot(dataset):
    r = repr(dataset)
    assert "L=4" in r and "(18, 4, 4)" in r and len(r) < 200
    fig, ax = plt.subplots()
    assert dataset.plot(ax=ax) is ax and ax.get_xlabel() and ax.get_ylabel()
    # the plotted means are the per-temperature mean |m| computed directly
    y = ax.lines[0].get_ydata()
    m = np.abs(dataset.configs.reshape(18, -1).mean(axis=1))
    np.testing.assert_allclose(y, [m[dataset.T == t].mean() for t in dataset.temperatures])
    plt.close(fig)


def test_history_round_trip_refusal_plot(tmp_path):
    from physdl import nn

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    y = (x[:, 0] > 0).astype(np.float64)[:, None]
    model = nn.Sequential([nn.Dense(3, 1), nn.Sigmoid()], input_shape=(3,), seed=0)
    h = model.fit(x, y, loss="bce", epochs=3, batch_size=16)
    for suffix in (".h5", ".npz"):
        p = tmp_path / f"hist{suffix}"
        h.save(p, seed=0, parameters={"lr": 0.05})
        back = nn.History.load(p) if hasattr(nn, "History") else type(h).load(p)
        assert back.to_dict() == h.to_dict()
        assert io.read_params(p)["kind"] == "nn/history"
        with pytest.raises(ValueError, match=f"hist{suffix}"):
            lattice.RunResult.load(p)
    fig, ax = plt.subplots()
    assert h.plot(ax=ax) is ax and ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    plt.close(fig)


def test_phase_scan_result(dataset, tmp_path):
    from physdl import phases
    from physdl.phases._results import PhaseScan

    clf = phases.PhaseClassifier(4, kind="fc", hidden=8, seed=0)
    clf.fit(dataset, Tc=2.269, epochs=2, batch_size=6)
    sc = clf.scan(dataset)
    assert isinstance(sc, dict) and set(sc) == {"T", "output", "per_config"}
    # the means are the per-temperature means of the outputs computed directly
    p = clf.disorder_probability(dataset.configs)
    np.testing.assert_allclose(sc["output"].value, [p[dataset.T == t].mean() for t in dataset.temperatures])
    # and the errors their standard errors, s / sqrt(n) with n = 6 configurations per temperature
    np.testing.assert_allclose(sc["output"].error, [p[dataset.T == t].std(ddof=1) / math.sqrt(6)
                                                    for t in dataset.temperatures])
    assert phases.PhaseScan is PhaseScan
    assert len(repr(sc)) < 250 and "PhaseScan(3 temperatures" in repr(sc)
    for suffix in (".h5", ".npz"):
        path = tmp_path / f"scan{suffix}"
        sc.save(path)
        back = PhaseScan.load(path)
        assert back.to_dict() == sc.to_dict()
        np.testing.assert_array_equal(back["per_config"], sc["per_config"])
        with pytest.raises(ValueError, match=f"scan{suffix}"):
            lattice.IsingDataset.load(path)
    fig, ax = plt.subplots()
    assert sc.plot(ax=ax, Tc=2.269) is ax and ax.get_ylabel() == "P(disordered)" and ax.get_xlabel()
    from .figcheck import problems
    assert not problems(fig, "PhaseScan")
    plt.close(fig)


@pytest.mark.slow
def test_binder_crossing_larger_sizes_slow():
    """L = 12 and 24 with longer runs: the crossing within 3 errors + 0.015 (finite-size allowance) of T_c."""
    tc = 2.0 / math.log(1.0 + math.sqrt(2.0))
    res = scan(lambda L: lattice.Ising((L, L)), np.linspace(2.20, 2.34, 8), sizes=[12, 24], sweeps=10000,
               burn_in=500, seed=11)
    c = res.binder_crossing(12, 24)
    assert 0 < c.error < 0.02
    assert abs(c.value - tc) <= 3 * c.error + 0.015, (c, tc)


def test_plot_methods_pass_the_figure_checks(run, small_scan, dataset):
    """Every result's plot: labelled axes, a legend, error bars on the Monte Carlo points, a title that fits."""
    from physdl import nn

    from .figcheck import problems

    rng = np.random.default_rng(1)
    x = rng.normal(size=(48, 3))
    y = (x[:, :1] > 0).astype(np.float64)
    model = nn.Sequential([nn.Dense(3, 1), nn.Sigmoid()], input_shape=(3,), seed=0)
    h = model.fit(x, y, loss="bce", epochs=3, batch_size=16, validation=(x[:8], y[:8]))
    plots = {"RunResult energy": lambda ax: run.plot(ax=ax),
             "RunResult magnetization": lambda ax: run.plot(ax=ax, observable="magnetization"),
             "ScanResult binder": lambda ax: small_scan.plot("binder", ax=ax),
             "ScanResult energy": lambda ax: small_scan.plot("energy", ax=ax),
             "IsingDataset": lambda ax: dataset.plot(ax=ax),
             "History": lambda ax: h.plot(ax=ax)}
    for name, draw in plots.items():
        fig, ax = plt.subplots()
        draw(ax)
        assert not problems(fig, name), problems(fig, name)
        plt.close(fig)
    # the checker itself: an image without a colour bar, unlabelled axes, bare points are each reported
    fig, ax = plt.subplots()
    ax.imshow(np.eye(3))
    ax.plot([1, 2], [1, 2], "o", label="a")
    ax.plot([1, 2], [2, 1], label="b")
    found = problems(fig, "bad")
    assert any("colour bar" in p for p in found) and any("x label" in p for p in found)
    assert any("error bars" in p for p in found) and any("no legend" in p for p in found)
    assert any("no title" in p for p in found)
    ax.set_title("a title far too long for this figure " * 6)
    assert any("does not fit" in p for p in problems(fig, "bad"))
    plt.close(fig)


def test_phases_figures_pass_the_figure_checks(monkeypatch, tmp_path):
    """The four figures of ``physdl phases``, made by the real pipeline on tiny settings (seconds):
    labelled axes, legends, a colour bar on the weight heat maps, error bars on the estimates, titles
    that fit."""
    from matplotlib.figure import Figure

    from physdl.phases import run as ph

    from .figcheck import problems

    tiny = ph.Settings(8, 12, 8, (4, 6), 40, 6, 0.4, (2, 2), 20, 2, 1, 20, classifier_seeds=2, thermometer_seeds=2)
    monkeypatch.setattr(ph.Settings, "quick", classmethod(lambda cls: tiny))
    original, seen = Figure.savefig, {}

    def checked(fig, fname, *args, **kwargs):
        seen[Path(str(fname)).name] = problems(fig, Path(str(fname)).name)
        return original(fig, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", checked)
    ph.run_phases(tmp_path, quick=True, progress=False)
    assert set(seen) == {"fig8_1_triangular.png", "fig8_2_thermometer_heatmaps.png",
                         "fig8_2b_thermometer_specific_heat.png", "fig8_3_three_units.png"}
    assert not any(seen.values()), seen


def test_run_summary_rounds_each_value_to_its_error(run):
    """The one-line summary prints every estimate as format_value_error does (no unrounded digits)."""
    s = run.summary()
    for key, est in (("e", run.energy), ("|m|", run.abs_magnetization), ("C", run.specific_heat),
                     ("chi", run.susceptibility), ("U", run.binder), ("tau_e", run.tau_energy)):
        assert f"{key}={format_value_error(est.value, est.error)} " in s + " ", (key, s)
