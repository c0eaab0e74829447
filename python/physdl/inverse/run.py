"""The chapter-7 reproduction: Picard plot and Tikhonov across alpha with Morozov's choice, a LASSO path,
and sparse-modelling continued spectra at three noise levels (``python -m physdl.inverse [--quick]``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .continuation import SPECTRA, add_noise, green_function, ir_basis, spectral_error, spm_lambda_scan
from .lasso import lasso_objective, lasso_path
from .linear import Tikhonov, picard
from .problems import backward_heat, phillips, shaw


def run_inverse(out="physdl-inverse", quick: bool = False, seed: int = 0, progress: bool = True) -> dict:
    """Run the reproductions, write ``inverse.json`` and PNG figures into ``out``; return the numbers."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    res: dict = {"figures": []}
    rng_noise = 1e-3
    # 1. Shaw + Morozov; backward heat with the smoothness penalty
    for prob, name in [(shaw(64), "shaw"), (phillips(64), "phillips"), (backward_heat(64, 0.001), "backward_heat")]:
        e = add_noise(np.zeros(prob.y_exact.size), rng_noise, seed=seed, stream=1)
        y = prob.y_exact + e
        pen = None if name == "shaw" else "difference"
        t = Tikhonov(prob.J, y, penalty=pen)
        a_m = t.morozov(np.linalg.norm(e))
        grid = np.geomspace(1e-12, 1e2, 300)
        errs = np.linalg.norm(t.solve(grid) - prob.x_exact, axis=1) / np.linalg.norm(prob.x_exact)
        res[name] = {
            "alpha_morozov": a_m,
            "residual_over_noise": float(t.residual_norm(a_m) / np.linalg.norm(e)),
            "rel_error_morozov": float(np.linalg.norm(t.solve(a_m) - prob.x_exact) / np.linalg.norm(prob.x_exact)),
            "rel_error_best": float(errs.min()),
            "alpha_gcv": t.gcv(), "alpha_lcurve": t.lcurve_corner(),
            "rel_error_naive": float(np.linalg.norm(np.linalg.lstsq(prob.J, y, rcond=None)[0] - prob.x_exact)
                                     / np.linalg.norm(prob.x_exact)),
        }
        res[name + "_curves"] = (grid, errs, t, y, prob)
    # 2. LASSO path on a sparse regression problem
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((100, 300))
    b = np.zeros(300)
    b[:10] = rng.choice([-2.0, 2.0], 10)
    yv = X @ b + 0.5 * rng.standard_normal(100)
    path = lasso_path(X, yv, n_alphas=60, tol=1e-10)
    try:
        from sklearn.linear_model import lasso_path as sk_path

        _, sk_coefs, _ = sk_path(X, yv, alphas=path.alphas, tol=1e-12, max_iter=10**6)
        res["lasso_max_rel_objective_diff"] = float(max(
            abs(lasso_objective(X, yv, path.coefs[k], a) - lasso_objective(X, yv, sk_coefs[:, k], a))
            / lasso_objective(X, yv, sk_coefs[:, k], a) for k, a in enumerate(path.alphas)))
    except ImportError:  # pragma: no cover
        res["lasso_max_rel_objective_diff"] = None
    # 3. sparse-modelling continuation at three noise levels
    beta = 40.0
    basis = ir_basis(beta, 4.0, n_tau=201 if quick else 1001, n_omega=301 if quick else 1001)
    spm = {}
    for name in ("semicircle", "insulator", "metal"):
        G = green_function(basis.tau, beta, SPECTRA[name])
        exact = SPECTRA[name](basis.omega)
        for sigma in (1e-2, 1e-3, 1e-4):
            scan = spm_lambda_scan(basis, add_noise(G, sigma, seed=seed, stream=2))
            c = scan.chosen
            spm[f"{name}/{sigma:g}"] = {
                "lambda": float(c.lam), "l1_error": spectral_error(basis.omega, c.rho, exact),
                "sum_rule_error": float(abs(np.trapezoid(c.rho, basis.omega) - 1)),
                "min_rho": float(c.rho.min()), "rho": c.rho, "exact": exact}
    res["spm"] = spm
    # the goal case on the CI test's grid: the semicircle at noise 1e-4 with omega_max = 2 (four
    # standard deviations of the spectrum), 4000 tau and 1000 omega points
    gb = ir_basis(beta, 2.0, n_tau=4000, n_omega=1000, cutoff=1e-12)
    exact = SPECTRA["semicircle"](gb.omega)
    scan = spm_lambda_scan(gb, add_noise(green_function(gb.tau, beta, SPECTRA["semicircle"]), 1e-4, seed=seed,
                                         stream=2))
    c = scan.chosen
    res["spm_goal"] = {"lambda": float(c.lam), "l1_error": spectral_error(gb.omega, c.rho, exact),
                       "best_l1_error": min(spectral_error(gb.omega, r.rho, exact) for r in scan.results),
                       "sum_rule_error": float(abs(np.trapezoid(c.rho, gb.omega) - 1)), "min_rho": float(c.rho.min()),
                       "basis_size": gb.size}
    res["basis_size"] = basis.size
    res["omega"] = basis.omega
    res["figures"] = _plots(out, res, path)
    summary = {k: v for k, v in res.items() if k in ("shaw", "phillips", "backward_heat", "lasso_max_rel_objective_diff",
                                                      "basis_size", "spm_goal")}
    summary["spm"] = {k: {kk: vv for kk, vv in v.items() if kk not in ("rho", "exact")} for k, v in spm.items()}
    (out / "inverse.json").write_text(json.dumps(summary, indent=1))
    res["summary"] = summary
    return res


def _tikhonov_panels(plt, path, name, curves, summary, gcv):
    """The Picard plot, the error against alpha (Morozov's and, with ``gcv``, GCV's alpha marked) and
    solutions across alpha, for one test problem; saved to ``path``, which is returned."""
    grid, errs, t, y, prob = curves
    d = picard(prob.J, y)
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    ax[0].semilogy(d["mu"], ".-", label="mu_p")
    ax[0].semilogy(d["coef"], "x", label="|u_p . y|")
    ax[0].semilogy(d["ratio"], "o", ms=3, label="ratio")
    ax[0].set_title(f"Picard plot ({name}, noise 1e-3)")
    ax[0].set_xlabel("singular index p")
    ax[0].set_ylabel("magnitude")
    ax[0].legend()
    ax[1].loglog(grid, errs)
    ax[1].axvline(summary["alpha_morozov"], color="r", ls="--", label="Morozov")
    if gcv:
        ax[1].axvline(summary["alpha_gcv"], color="g", ls=":", label="GCV")
    ax[1].set_xlabel("alpha")
    ax[1].set_ylabel("relative error")
    ax[1].legend()
    for a in (1e-8, summary["alpha_morozov"], 1e-1):
        ax[2].plot(prob.grid, t.solve(a), label=f"alpha={a:.1e}")
    ax[2].plot(prob.grid, prob.x_exact, "k--", label="exact")
    ax[2].set_ylim(-1, 3)
    ax[2].set_xlabel("t")
    ax[2].set_ylabel("solution x(t)")
    ax[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _plots(out, res, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return []
    figs = []
    for key, name, gcv in (("shaw", "Shaw", True), ("phillips", "Phillips", False)):
        figs.append(_tikhonov_panels(plt, out / f"inverse_{'tikhonov' if key == 'shaw' else key}.png", name,
                                     res[f"{key}_curves"], res[key], gcv))
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.semilogx(path.alphas, path.coefs)
    ax.set_xlabel("alpha")
    ax.set_ylabel("coefficients")
    ax.set_title("LASSO path (eq. 7.15)")
    fig.tight_layout()
    figs.append(out / "inverse_lasso_path.png")
    fig.savefig(figs[-1], dpi=90)
    plt.close(fig)
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    for i, name in enumerate(("semicircle", "insulator", "metal")):
        for sigma in (1e-2, 1e-3, 1e-4):
            r = res["spm"][f"{name}/{sigma:g}"]
            ax[i].plot(res["omega"], r["rho"], label=f"noise {sigma:g}")
        ax[i].plot(res["omega"], r["exact"], "k--", label="exact")
        ax[i].set_title(f"SpM continuation: {name}")
        ax[i].set_xlabel("omega")
        ax[i].set_ylabel("rho(omega)")
        ax[i].legend(fontsize=7)
    fig.tight_layout()
    figs.append(out / "inverse_spm.png")
    fig.savefig(figs[-1], dpi=90)
    plt.close(fig)
    return figs
