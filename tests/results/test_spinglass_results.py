"""The spin-glass and tempering results print, save, load and plot themselves (issue 18, Results)."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from physdl import io, lattice  # noqa: E402
from physdl.stats import format_value_error  # noqa: E402

from .figcheck import problems  # noqa: E402

MODEL = lattice.EdwardsAnderson((4, 4), seed=3)
BETAS = [0.5, 0.8, 1.2]


@pytest.fixture(scope="module")
def overlap():
    a = lattice.Simulation(MODEL, T=1.0, seed=1)
    b = lattice.Simulation(MODEL, T=1.0, seed=2)
    return lattice.overlap_run(a, b, 400, burn_in=50)


@pytest.fixture(scope="module")
def tempering():
    pa = lattice.ParallelTempering(MODEL, BETAS, seed=1)
    pb = lattice.ParallelTempering(MODEL, BETAS, seed=2)
    return lattice.overlap_tempering(pa, pb, 300, burn_in=30)


@pytest.fixture(scope="module")
def ladder():
    return lattice.tuned_ladder(MODEL, 0.5, 3.0, 5, iterations=2, rounds=300, burn_in=30, seed=4)


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_overlap_result_round_trip_and_refusal(overlap, tmp_path, suffix):
    p = tmp_path / f"q{suffix}"
    overlap.save(p, seed=1, parameters={"disorder_seed": 3, "L": 4})
    back = lattice.OverlapResult.load(p)
    assert back.to_dict() == overlap.to_dict()
    np.testing.assert_array_equal(back.q_series, overlap.q_series)
    meta = io.read_params(p)
    assert meta["kind"] == "lattice/overlap-result" and meta["params"]["seed"] == 1
    assert meta["params"]["parameters"] == {"disorder_seed": 3, "L": 4} and "physdl_version" in meta
    # another result's file, and one whose overlaps are impossible, are refused naming the file
    other = tmp_path / f"run{suffix}"
    lattice.Simulation(lattice.Ising((4, 4)), T=2.0, seed=1).run(10).save(other)
    with pytest.raises(ValueError, match=f"run{suffix}"):
        lattice.OverlapResult.load(other)
    bad = tmp_path / f"bad{suffix}"
    params = overlap._params() | {"seed": None, "parameters": {}}
    io.save_run(bad, {"q_series": overlap.q_series * 3, "q_edges": overlap.q_edges, "p_q": overlap.p_q}, params,
                kind="lattice/overlap-result")
    with pytest.raises(ValueError, match=f"bad{suffix}"):
        lattice.OverlapResult.load(bad)


def test_overlap_result_repr_and_plot(overlap):
    r = repr(overlap)
    assert len(r) < 200 and "[" not in r and format_value_error(*overlap.binder_g) in r
    fig, ax = plt.subplots()
    assert overlap.plot(ax=ax) is ax
    assert not problems(fig, "P(q)")
    # the plotted density is the histogram of the q series computed directly, and the error bars are the
    # spread of 16 block histograms
    q = overlap.q_series
    h, _ = np.histogram(q, bins=overlap.q_edges)
    w = np.diff(overlap.q_edges)
    dens = ax.patches[0].get_data().values
    np.testing.assert_allclose(dens, h / q.size / w)
    blocks = np.stack([np.histogram(b, bins=overlap.q_edges)[0] / 25 for b in q.reshape(16, 25)])
    np.testing.assert_allclose(overlap.p_q_error, blocks.std(axis=0, ddof=1) / 4)
    plt.close(fig)


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_overlap_tempering_round_trip(tempering, tmp_path, suffix):
    assert isinstance(tempering, list) and len(tempering) == 3  # still the list it was
    p = tmp_path / f"pt{suffix}"
    tempering.save(p, seed=1)
    back = lattice.OverlapTempering.load(p)
    assert back.to_dict() == tempering.to_dict()
    for a, b in zip(back, tempering):
        np.testing.assert_array_equal(a.p_q, b.p_q)
    with pytest.raises(ValueError, match=f"pt{suffix}"):
        lattice.OverlapResult.load(p)


def test_overlap_tempering_accessors_repr_plot(tempering):
    T, g = tempering.estimate("binder_g")
    np.testing.assert_allclose(T, 1.0 / np.array(BETAS))
    np.testing.assert_array_equal(g.value, [r.binder_g.value for r in tempering])
    a, b = tempering.swap_acceptance
    assert a.shape == b.shape == (2,) and np.all((0 <= a) & (a <= 1))
    r = repr(tempering)
    assert len(r) < 220 and "3 temperatures" in r
    fig, ax = plt.subplots()
    assert tempering.plot("q2", ax=ax) is ax and not problems(fig, "q2 vs T")
    (c,) = ax.containers
    np.testing.assert_allclose(c.lines[0].get_ydata(), [r.q2.value for r in tempering])
    plt.close(fig)
    with pytest.raises(ValueError, match="observable"):
        tempering.estimate("magnetization")


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_tuned_ladder_round_trip_repr_plot(ladder, tmp_path, suffix):
    p = tmp_path / f"ladder{suffix}"
    ladder.save(p)
    back = lattice.TunedLadder.load(p)
    assert back.to_dict() == ladder.to_dict()
    assert io.read_params(p)["params"]["seed"] == 4
    assert len(repr(ladder)) < 200 and "5 temperatures" in repr(ladder)
    # binomial errors from the attempts recorded per iteration
    acc = np.asarray(ladder.history[-1][1])
    m = np.asarray(ladder.attempts[-1])
    assert np.all(m == 150)  # even and odd pairs alternate: each pair is tried every other round of 300
    np.testing.assert_allclose(ladder.acceptance_error(), np.sqrt(acc * (1 - acc) / m))
    fig, ax = plt.subplots()
    assert ladder.plot(ax=ax) is ax and not problems(fig, "ladder")
    plt.close(fig)
    with pytest.raises(ValueError, match=f"ladder{suffix}"):
        lattice.OverlapTempering.load(p)
    with pytest.raises(ValueError, match="iteration"):
        ladder.acceptance_error(5)


def test_result_arguments_are_validated(overlap, tempering, tmp_path):
    with pytest.raises(ValueError, match="path must end in"):
        overlap.save(tmp_path / "q.txt")
    with pytest.raises(ValueError, match="seed"):
        overlap.save(tmp_path / "q.h5", seed=-1)
    with pytest.raises(ValueError, match="params must be JSON"):
        tempering.save(tmp_path / "t.h5", parameters={"x": object()})
    with pytest.raises(ValueError, match="empty"):
        lattice.OverlapTempering().save(tmp_path / "e.h5")
    with pytest.raises(ValueError, match="L must be"):
        lattice.ScanResult.from_runs([lattice.Simulation(lattice.Ising((4, 4)), T=2.0, seed=1).run(5)], L=0)


def test_scan_from_tempering_runs(tmp_path):
    """The per-temperature results of a tempering run as one scan table, each row equal to its run."""
    from physdl.lattice import ScanResult

    pt = lattice.ParallelTempering(lattice.Ising((6, 6)), [0.3, 0.4, 0.5], seed=1)
    runs = pt.run(300, burn_in=30)
    res = ScanResult.from_runs(runs, L=6)
    for k, r in enumerate(runs):
        assert res.table["T"][k] == pytest.approx(1.0 / r.beta)
        for o in ("energy", "binder", "susceptibility"):
            assert (res.table[o][k], res.table[o + "_error"][k]) == tuple(getattr(r, o))
    res.save(tmp_path / "pt.h5")
    assert ScanResult.load(tmp_path / "pt.h5").to_dict() == res.to_dict()
    with pytest.raises(TypeError, match="RunResult"):
        ScanResult.from_runs([1.0], L=6)


def test_scan_of_a_spin_glass_prints_no_ferromagnetic_observables():
    res = lattice.scan_temperatures(MODEL, [1.0, 2.0], sweeps=200, burn_in=20, update="metropolis", seed=1)
    text = str(res)
    assert res.params["spin_glass"] is True
    assert "|m|" not in text and " U" not in text and "C" in text.splitlines()[1]
    ferro = lattice.scan_temperatures(lattice.Ising((4, 4)), [2.0], sweeps=50, seed=1)
    assert "|m|" in str(ferro)
    # the default plot: the energy for the glass, the Binder cumulant for the ferromagnet
    for r, label in ((res, "energy per site e"), (ferro, "Binder cumulant U")):
        fig, ax = plt.subplots()
        assert r.plot(ax=ax).get_ylabel() == label and not problems(fig, label)
        plt.close(fig)


def test_scan_function_is_re_exported_without_shadowing_the_module():
    import types

    import physdl.lattice.scan as mod

    assert isinstance(lattice.scan, types.ModuleType) and lattice.scan is mod
    assert lattice.scan_temperatures is mod.scan and lattice.ScanResult is mod.ScanResult
    assert {"scan_temperatures", "ScanResult", "OverlapTempering"} <= set(lattice.__all__)


def test_nan_estimates_survive_the_round_trip(tmp_path):
    """A constant overlap series has no autocorrelation time (NaN): still saved and loaded."""
    r = lattice.overlap_analysis(np.ones(40), 2.0, 16)
    assert math.isnan(r.tau_q2.value)
    r.save(tmp_path / "c.npz")
    back = lattice.OverlapResult.load(tmp_path / "c.npz")
    assert math.isnan(back.tau_q2.value) and back.q2.value == 1.0


def test_disorder_average_is_the_leave_one_sample_out_jackknife():
    """[<q^2>], [<q^4>] and g = (3 - [<q^4>]/[<q^2>]^2)/2 over samples, errors by leaving out one sample,
    computed here by hand; the tempering form gives the same numbers per temperature."""
    rng = np.random.default_rng(8)
    N = 16
    per_sample = []
    for s in range(7):  # seven "disorder samples", two temperatures each, overlaps on the grid 2k/N - 1
        per_sample.append([lattice.overlap_analysis((2 * rng.integers(0, N + 1, size=200) - N) / N * w, b, N)
                           for b, w in ((1.0, 0.3 + 0.05 * s), (0.5, 1.0))])
    q2 = np.array([[r.q2.value for r in x] for x in per_sample])
    q4 = np.array([[r.q4.value for r in x] for x in per_sample])
    n = len(per_sample)

    def g(a2, a4):
        return 0.5 * (3 - a4 / a2 ** 2)

    for j in range(2):
        full = g(q2[:, j].mean(), q4[:, j].mean())
        loo = np.array([g(np.delete(q2[:, j], i).mean(), np.delete(q4[:, j], i).mean()) for i in range(n)])
        value = n * full - (n - 1) * loo.mean()
        error = math.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2))
        one = lattice.disorder_average([x[j] for x in per_sample])
        assert one["binder_g"].value == pytest.approx(value) and one["binder_g"].error == pytest.approx(error)
        assert one["q2"].value == pytest.approx(q2[:, j].mean())
        assert one["q2"].error == pytest.approx(q2[:, j].std(ddof=1) / math.sqrt(n))
        assert one["chi_sg"].value == pytest.approx(N * q2[:, j].mean()) and one["n_samples"] == n
        ladder = lattice.disorder_average([lattice.OverlapTempering(x) for x in per_sample])
        assert ladder["binder_g"].value[j] == pytest.approx(value) and ladder["binder_g"].error[j] == pytest.approx(error)
    with pytest.raises(ValueError, match="at least 2"):
        lattice.disorder_average(per_sample[0][:1])
    with pytest.raises(ValueError, match="share their betas"):
        lattice.disorder_average([per_sample[0][0], per_sample[1][1]])
    with pytest.raises(TypeError, match="OverlapResult"):
        lattice.disorder_average([1, 2])
