"""Tour entry: inverse problems and sparse modelling (book ch. 7 and its column)."""

from __future__ import annotations

from pathlib import Path

from . import Result, Row, reproduction


@reproduction("inverse", "Inverse problems, Tikhonov, LASSO and sparse-modelling continuation (ch. 7)")
def inverse(out: Path, quick: bool, progress: bool) -> Result:
    from ..inverse.run import run_inverse

    res = run_inverse(out / "inverse", quick=quick, progress=progress)
    rows = []
    for name in ("shaw", "phillips", "backward_heat"):
        r = res[name]
        rows.append(Row.measured(f"{name}: ||y - J x|| / ||noise|| at Morozov's alpha = {r['alpha_morozov']:.2e}",
                                 r["residual_over_noise"], 0.0, 1.0, allowance=0.01,
                                 allowance_reason="1%, stated margin; the root in alpha is found to 1e-12",
                                 reference_text="1 (discrepancy principle)",
                                 source="book footnote 5", fmt=".4f"))
        rows.append(Row.check(f"{name}: relative error, Morozov vs naive inverse",
                              f"{r['rel_error_morozov']:.3f} vs {r['rel_error_naive']:.2e}",
                              f"best alpha on a grid: {r['rel_error_best']:.3f}",
                              bool(r["rel_error_morozov"] < 3 * r["rel_error_best"]
                                   and r["rel_error_morozov"] < r["rel_error_naive"]),
                              comparison="Morozov < 3 x best-on-grid and Morozov < naive", source="exact solution"))
    d = res["lasso_max_rel_objective_diff"]
    lasso = "LASSO path (60 alphas), max relative objective difference against scikit-learn lasso_path at tol 1e-12"
    if d is None:
        rows.append(Row.check(lasso, "n/a", "scikit-learn", False, comparison="scikit-learn available to compare with",
                              source="scikit-learn"))
    else:
        rows.append(Row.measured(lasso, d, 0.0, 0.0, allowance=1e-8, allowance_reason="solver tolerances",
                                 source="scikit-learn"))
    for key, r in res["spm"].items():
        # the goal for the semicircle at noise 1e-4 is an L1 error below 5%; other rows only ask for an
        # error below 1 (an honest bound, not a reproduction); every spectrum must be non-negative and keep the
        # sum rule
        goal = 0.05 if key == "semicircle/0.0001" else 1.0
        rows.append(Row.measured(f"SpM {key}: L1 spectral error at the elbow lambda = {r['lambda']:.1e}", r["l1_error"],
                                 0.0, 0.0, allowance=goal,
                                 allowance_reason="the issue's goal" if goal < 1 else "bound, not a reproduction",
                                 reference_text="0 (exact spectrum)", source="Otsuki et al. PRE 95, 061302", fmt=".3f"))
        rows.append(Row.check(f"SpM {key}: spectrum non-negative, sum rule",
                              f"min rho {r['min_rho']:.0e}, sum rule error {r['sum_rule_error']:.0e}",
                              "rho >= 0, sum rule exact", bool(r["min_rho"] >= 0 and r["sum_rule_error"] < 1e-6),
                              comparison="min rho >= 0 and sum-rule error < 1e-6", source="Otsuki et al. PRE 95, 061302"))
    g = res["spm_goal"]
    rows.append(Row.measured(f"SpM semicircle/0.0001 on the CI test's grid (omega_max 2, 4000 x 1000, "
                             f"{g['basis_size']} functions): L1 error at the elbow lambda = {g['lambda']:.1e} "
                             f"(best lambda of the scan: {g['best_l1_error']:.3f})", g["l1_error"], 0.0, 0.0,
                             allowance=0.05, allowance_reason="the issue's goal", reference_text="0 (exact spectrum)",
                             source="Otsuki et al. PRE 95, 061302", fmt=".3f"))
    rows.append(Row.check("SpM semicircle/0.0001 on the CI test's grid: spectrum non-negative, sum rule",
                          f"min rho {g['min_rho']:.0e}, sum rule error {g['sum_rule_error']:.0e}",
                          "rho >= 0, sum rule exact", bool(g["min_rho"] >= 0 and g["sum_rule_error"] < 1e-6),
                          comparison="min rho >= 0 and sum-rule error < 1e-6", source="Otsuki et al. PRE 95, 061302"))
    figs = []
    for f in res["figures"]:
        target = out / f.name
        target.write_bytes(Path(f).read_bytes())
        figs.append(target)
    summary = ("Tikhonov regularisation through one SVD (eq. 7.9-7.10) on Shaw's and Phillips' problems and on the "
               "backward heat equation (smoothness penalty, eq. 7.6), alpha by Morozov's discrepancy principle with GCV and the "
               "L-curve beside it; a LASSO path (eq. 7.15) against scikit-learn; sparse-modelling analytic "
               "continuation (eq. 7.16-7.17) of a semicircle, an insulator and a metal at noise 1e-2, 1e-3, 1e-4 "
               f"in an IR basis of {res['basis_size']} functions. `physdl inverse [--quick]` runs this entry alone.")
    return Result("Inverse problems, Tikhonov, LASSO and sparse-modelling continuation (ch. 7)", summary, rows, figs)
