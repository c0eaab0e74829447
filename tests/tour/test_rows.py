"""Every tour row's status follows from its numbers or from an explicit, stated comparison.

A numeric row is ok exactly when ``|value - reference_value| <= sigmas * error + allowance`` and shows that
tolerance; a check row carries an explicit boolean and the comparison it comes from; a row with neither
cannot be built.  The entries run in their quick mode, except two that train for tens of seconds even
then; the functions that build those rows (and a few others) are fed numbers that agree with the
references and numbers that do not.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from physdl.stats import Estimate
from physdl.tour import Result, Row, registry

TOUR_DIR = Path(__file__).resolve().parents[2] / "python" / "physdl" / "tour"

# quick mode runs in about a second each (the report's figures included)
QUICK = ["box_muller", "weather_markov", "ising_exact", "ising_kaufman", "nbit_relu", "deep_vs_wide",
         "universal_approximation", "lstm_sorting", "checkerboard", "box_ball_sorting", "dynamics",
         "holography", "tensornet_dmrg", "hopfield_capacity", "rbm_ising", "inverse", "slmc_plaquette",
         "rbm_thermodynamics", "quantum_vmc"]
# tens of seconds even when quick (GAN training, the phase classifiers): only their row builders run here
EXPENSIVE = ["generative_gan", "phases"]
# row builders fed numbers that agree with the references and numbers that do not
BUILT = ["slmc_plaquette", "rbm_thermodynamics", "quantum_vmc", "generative_gan", "phases"]

def assert_honest(row: Row) -> None:
    """The row's status follows from what it carries, and what it carries is shown in it."""
    assert isinstance(row.ok, bool), row
    if row.value is not None:
        assert row.reference_value is not None and row.error is not None, row
        tol = row.sigmas * row.error + row.allowance
        assert row.tolerance == pytest.approx(tol)
        assert row.ok == (abs(row.value - row.reference_value) <= tol), row
        assert f"= {tol:.2g}" in row.reference, row            # the tolerance is shown
        if row.allowance:
            assert f"{row.allowance:.2g}" in row.reference, row
        if row.error:
            assert f"{row.sigmas:g} x {row.error:.2g}" in row.reference, row
    else:
        assert row.reference_value is None and row.error is None, row
        assert row.comparison.strip(), f"no stated basis for the status of {row.quantity!r}"
        assert row.comparison in row.reference, row         # the comparison is shown


def test_every_entry_is_covered():
    assert set(QUICK) | set(EXPENSIVE) == set(registry())
    assert not set(QUICK) & set(EXPENSIVE) and set(EXPENSIVE) <= set(BUILT)


def test_no_tour_module_builds_a_row_without_measured_or_check():
    """Rows in branches the quick runs do not reach (full settings, a missing optional dependency) too."""
    bare = []
    for path in sorted(TOUR_DIR.glob("*_tour.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Row":
                bare.append(f"{path.name}:{node.lineno}")
    assert not bare, bare


# markers-only lines of these entries are deterministic values, not Monte Carlo estimates (no error bars due)
EXACT_POINTS = {"holography": ("learned (emergent)",),   # the metric of the one trained network
                "inverse": ("|u_p . y|", "ratio")}      # Picard coefficients of the exact SVD
# figures of entries owned by other areas that still miss a title or axis labels: xfail(strict), so the
# test says when one is fixed and its entry should leave this list
FIGURE_GAPS = {}
FIGURES = {}


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    """Every quick entry run once; each figure it saves is checked (tests/results/figcheck.py) as it is saved."""
    from matplotlib.figure import Figure

    from tests.results.figcheck import problems

    out = tmp_path_factory.mktemp("tour")
    reg = registry()
    original = Figure.savefig
    current = [None]

    def checked(fig, fname, *args, **kwargs):
        FIGURES.setdefault(current[0], []).append(
            (Path(str(fname)).name, problems(fig, Path(str(fname)).name, EXACT_POINTS.get(current[0], ()))))
        return original(fig, fname, *args, **kwargs)

    res = {}
    Figure.savefig = checked
    try:
        for name in QUICK:
            current[0] = name
            res[name] = reg[name].func(out, True, False)
    finally:
        Figure.savefig = original
    return res


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=FIGURE_GAPS[n]))
                                  if n in FIGURE_GAPS else n for n in QUICK])
def test_quick_figures_are_readable(quick_results, name):
    """Labelled axes, a legend for several curves, colour bars on images, error bars on Monte Carlo points
    and a title that fits, for every figure of the entry (and every figure the entry lists was checked)."""
    figs = FIGURES.get(name, [])
    assert {f for f, _ in figs} == {Path(f).name for f in quick_results[name].figures}
    bad = [p for _, ps in figs for p in ps]
    assert not bad, bad


@pytest.mark.parametrize("name", QUICK)
def test_quick_rows_are_honest(quick_results, name):
    res = quick_results[name]
    assert isinstance(res, Result) and res.rows
    for row in res.rows:
        assert_honest(row)
    assert res.ok == all(r.ok for r in res.rows)


# --- the row builders of the expensive entries, with numbers that agree and numbers that do not ---------


def _slmc_res(tau_slmc, J1):
    from physdl.slmc import EffectiveModel

    eff = EffectiveModel(0.0, np.array([J1, 0.0, 0.0]), 0.1)
    return {L: {"tau_local": Estimate(10.0, 1.0), "tau_slmc": Estimate(tau_slmc, 0.5), "effective": eff,
                "acceptance": 0.7, "seconds_per_local": 1e-3, "seconds_per_slmc": 1e-3} for L in (16, 32)}


def _thermo_res(shift):
    return {T: {"data": {k: Estimate(v, 0.01) for k, v in (("energy", -1.5), ("|m|", 0.8), ("C", 0.5))},
                "rbm": {k: Estimate(v + shift, 0.01) for k, v in (("energy", -1.5), ("|m|", 0.8), ("C", 0.5))}}
            for T in (1.8, 3.0)}


def _phases_res(tc, beta_c, corr):
    grid = {"0.30-0.50": {"beta_c": beta_c, "beta_c_err": 0.005, "grid_centre": 0.40}}
    return {"settings": {"classifier_L": 16, "thermometer_classes": 11},
            "classifier": {"fc": {"Tc_triangular": tc, "Tc_triangular_err": 0.03}},
            "thermometer": {"16": {"exact_specific_heat_peak": 0.4315, "cnn": grid, "fc": grid}},
            "three_unit": {"max_abs_corr_u_m": corr}}


def _ising(energy, spread, n=400, seed=0):
    rng = np.random.default_rng(seed)
    e = energy + spread * rng.normal(size=n)
    return {"energy": e, "abs_magnetisation": np.clip(0.5 + 0.1 * rng.normal(size=n), 0, 1)}


def _built_rows(name, good: bool) -> list[Row]:
    if name == "slmc_plaquette":
        from physdl.tour.ebm_tour import _slmc_rows

        # L = 32 is judged against the issue's goal of a ratio >= 5; J1 against 1.1064 within 0.03
        return _slmc_rows(_slmc_res(1.5 if good else 2.5, 1.11 if good else 1.2))
    if name == "rbm_thermodynamics":
        from physdl.tour.ebm_tour import _thermo_rows

        return _thermo_rows(_thermo_res(0.01 if good else 0.1))
    if name == "quantum_vmc":
        from physdl.tour.quantum_tour import _rows

        raw = [("Heisenberg, Marshall sign, L = 10: VMC energy (80 steps) vs ED", "-18.05 ± 0.01 (rel. 6e-04)",
                "-18.061785", "eq. 11.5, exact diagonalisation", good),
               ("Heisenberg, no sign rule: a positive RBM cannot carry the Marshall sign", "-5.37 ± 0.04 (rel. 7e-01)",
                "-18.061785; expected rel. error > 5e-02", "book lines 4120-4140", True)]
        return _rows(raw, quick=True)
    if name == "generative_gan":
        from physdl.tour.generative_tour import _abs_m_row, _ising_row, ising_summary

        mc = _ising(-1.45, 0.05)
        summ = ising_summary(mc, _ising(-1.45 if good else -1.30, 0.05, seed=1))
        return [_ising_row(16, 2.27, 60, summ), _abs_m_row(16, 2.27, summ)]
    if name == "phases":
        from physdl.tour.phases_tour import _rows

        from physdl.phases import TC_TRIANGULAR
        return _rows(_phases_res(TC_TRIANGULAR + (0.01 if good else 0.5), 0.4315 + (0.002 if good else 0.1),
                                 0.99 if good else 0.5))
    raise AssertionError(name)


@pytest.mark.parametrize("name", BUILT)
def test_built_rows_are_honest_and_follow_their_numbers(name):
    good, bad = _built_rows(name, True), _built_rows(name, False)
    for row in good + bad:
        assert_honest(row)
    assert all(r.ok for r in good), [r for r in good if not r.ok]
    assert not all(r.ok for r in bad)
    assert [r.quantity for r in good] == [r.quantity for r in bad]


def test_slmc_goal_is_the_stated_one():
    """The L = 32 speed-up row says '>= 5' and judges by 5."""
    from physdl.tour.ebm_tour import _slmc_rows

    rows = _slmc_rows(_slmc_res(10.0 / 4.5, 1.11))     # ratio 4.5: below the goal
    (big,) = [r for r in rows if r.quantity.startswith("L = 32") and r.value is None]
    assert big.ok is False and "ratio >= 5" in big.reference


def test_hopfield_crossing_error_is_propagated():
    from physdl.tour.ebm_tour import _crossing

    a, e = _crossing(np.array([0.1, 0.2]), np.array([1.0, 0.5]), np.array([0.0, 0.1]))
    assert a == pytest.approx(0.15) and e == pytest.approx(0.5 * 0.1 * 0.1 / 0.5)
    a, e = _crossing(np.array([0.1, 0.2]), np.array([1.0, 0.9]), np.array([0.0, 0.0]))
    assert math.isnan(a) and math.isnan(e)


# --- Row itself -------------------------------------------------------------------------------------------


def test_row_without_numbers_or_explicit_ok_raises():
    with pytest.raises(TypeError, match="Row.measured.*Row.check"):
        Row("max |corr|", "0.99", "1")
    with pytest.raises(TypeError):
        Row("max |corr|", "0.99", "1", "book")
    with pytest.raises(TypeError):                  # truthy, but not an explicit boolean
        Row("count", "6", "6", "", 1, comparison="count == 6")
    with pytest.raises(ValueError, match="comparison"):  # an explicit boolean with no stated basis
        Row("count", "6", "6", "", True)
    with pytest.raises(ValueError, match="comparison"):
        Row.check("count", "6", "6", True, comparison="  ")
    with pytest.raises(ValueError, match="both value and reference_value"):
        Row("x", "1", "1", value=1.0)
    with pytest.raises(ValueError, match="both value and reference_value"):
        Row("x", "1", "1", reference_value=1.0)
    with pytest.raises(ValueError, match="error without"):
        Row("x", "1", "1", ok=True, comparison="c", error=0.1)
    with pytest.raises(ValueError, match="reference_value must be finite"):
        Row.measured("x", 1.0, 0.1, float("nan"))


def test_numeric_row_status_follows_from_the_numbers():
    rng = np.random.default_rng(3)
    for _ in range(300):
        value, ref = rng.normal(size=2)
        err, allowance, sigmas = rng.uniform(0, 0.5), rng.choice([0.0, rng.uniform(0, 0.3)]), rng.choice([1, 3, 4])
        row = Row.measured("x", value, err, ref, sigmas=sigmas, allowance=allowance, allowance_reason="finite L")
        assert_honest(row)
        assert row.ok == (abs(value - ref) <= sigmas * err + allowance)
        if allowance:
            assert "finite L" in row.reference
    # a hand-given ok never overrides the numbers, either way
    assert Row("x", "", "", ok=True, value=1.0, error=0.01, reference_value=2.0).ok is False
    assert Row("x", "", "", ok=False, value=1.0, error=0.01, reference_value=1.02).ok is True
    # nothing measured, or no error estimated, is off, not ok
    assert Row.measured("x", float("nan"), 0.0, 1.0, allowance=10.0).ok is False
    assert Row.measured("x", 1.0, float("nan"), 1.0, allowance=10.0).ok is False
    for bad in ({"error": -0.1}, {"error": float("inf")}, {"sigmas": -1.0}, {"allowance": float("nan")}):
        with pytest.raises(ValueError, match="finite and >= 0"):
            Row.measured("x", 1.0, **{"error": 0.1, **bad}, reference_value=1.0)
    # an exact computation: tolerance from the allowance alone, shown with its reason
    r = Row.measured("P_2", 0.625 + 1e-13, 0.0, 0.625, allowance=1e-12, allowance_reason="rounding")
    assert r.ok and r.reference == "0.625; tolerance 1e-12 (rounding) = 1e-12"
    assert not Row.measured("P_2", 0.625 + 1e-11, 0.0, 0.625, allowance=1e-12).ok


def test_check_row_keeps_its_explicit_ok_and_shows_the_comparison():
    r = Row.check("ground states", "6", "6", np.bool_(True), comparison="count == 6")
    assert r.ok is True and r.reference == "6; ok if count == 6" and r.basis == "count == 6"
    r = Row.check("ground states", "5", "6", False, comparison="count == 6")
    assert r.ok is False
    # rebuilding a row from its fields does not repeat the shown basis
    again = dataclasses.replace(r)
    assert again.reference == r.reference
    m = Row.measured("e", 1.0, 0.1, 1.05, allowance=0.01)
    assert dataclasses.replace(m).reference == m.reference
