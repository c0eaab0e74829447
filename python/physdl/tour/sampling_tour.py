"""Tour entries for ch. 5: the weather Markov chains (eq. 5.37-5.48) and exact Ising results."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import Result, Row, reproduction


@reproduction("weather_markov", "Weather Markov chains converge to their Perron-Frobenius vectors")
def weather_markov(out: Path, quick: bool, progress: bool) -> Result:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..sampling import markov, mcmc

    g, la = markov.gothenburg_weather(), markov.los_angeles_weather()
    n_days = 12
    tg, tla = g.trajectory([1.0, 0.0], n_days), la.trajectory([1.0, 0.0], n_days)
    n_path = 50_000 if quick else 500_000
    path = la.sample_path(n_path, seed=2021)
    sunny = (path == 1).astype(np.float64)
    est = mcmc.mean_with_error(sunny)
    pg, pla = g.stationary("power"), la.stationary("eigen")

    fig, ax = plt.subplots(figsize=(6, 4))
    days = np.arange(n_days + 1)
    ax.plot(days, tg[:, 0], "o-", label="Gothenburg, P(rainy) (eq. 5.41)")
    ax.plot(days, (1 + 2.0**-days) / 2, "k:", lw=1)
    ax.plot(days, tla[:, 0], "s-", label="Los Angeles, P(rainy)")
    ax.axhline(0.5, color="C0", lw=0.6)
    ax.axhline(1 / 6, color="C1", lw=0.6)
    ax.set_xlabel("day n")
    ax.set_ylabel("probability of rain")
    ax.set_title("P_n = T^n P_0 from a rainy day")
    ax.legend()
    fig.tight_layout()
    png = out / "weather_markov.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)

    rows = [
        Row("Gothenburg P_2 (rainy)", f"{tg[2, 0]:.4f}", "0.625", "book eq. 5.40", bool(abs(tg[2, 0] - 0.625) < 1e-12)),
        Row("Gothenburg P_inf, power method", f"({pg[0]:.4f}, {pg[1]:.4f})", "(1/2, 1/2)", "book eq. 5.42",
            bool(np.allclose(pg, 0.5, atol=1e-10))),
        Row("Los Angeles P_2 (rainy)", f"{tla[2, 0]:.4f}", "0.3", "book eq. 5.47", bool(abs(tla[2, 0] - 0.3) < 1e-12)),
        Row("Los Angeles P_inf, eigenvector", f"({pla[0]:.4f}, {pla[1]:.4f})", "(1/6, 5/6)", "book eq. 5.48",
            bool(np.allclose(pla, [1 / 6, 5 / 6], atol=1e-10))),
        Row(f"sunny fraction of a {n_path:,}-day path", f"{est.value:.4f} ± {est.error:.4f}", "5/6 = 0.8333",
            "book eq. 5.49", bool(abs(est.value - 5 / 6) < 4 * est.error)),
    ]
    summary = ("Both weather models of section 5.2.3 evolved from a rainy day: the distributions converge to "
               "the Perron-Frobenius eigenvectors (1/2, 1/2) and (1/6, 5/6) at the rate of the second "
               "eigenvalue (0.5 and 0.4); a Philox-driven sample path of the Los Angeles chain has the "
               "stationary sunny fraction within its autocorrelation-corrected error.")
    return Result("Weather Markov chains converge to their Perron-Frobenius vectors", summary, rows, [png])


@reproduction("ising_exact", "Exact 2D Ising: Kaufman's torus vs enumeration and Onsager")
def ising_exact(out: Path, quick: bool, progress: bool) -> Result:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..lattice import exact
    from ..lattice.enumerate import enumerate_ising

    betas = np.linspace(0.15, 0.9, 300)
    ens = enumerate_ising((4, 4)).thermodynamics(betas)
    k4 = exact.kaufman_thermodynamics(betas, 4)
    dev4 = max(np.abs(ens[q] - k4[q]).max() for q in ("log_z", "energy", "specific_heat"))
    far = np.array([0.3, 0.6])
    kL = exact.kaufman_thermodynamics(far, 256)
    dev_on = float(np.abs(kL["energy"] - exact.onsager_energy(far)).max())

    fig, ax = plt.subplots(figsize=(6, 4))
    T = 1 / betas
    for L in (4, 8, 16, 32, 64):
        ax.plot(T, exact.kaufman_thermodynamics(betas, L)["specific_heat"], label=f"Kaufman {L}x{L}")
    ax.plot(T, ens["specific_heat"], "k.", ms=2, label="enumeration 4x4")
    tinf = T[np.abs(betas - exact.SQUARE_BETA_C) > 1e-3]
    ax.plot(tinf, exact.onsager_specific_heat(1 / tinf), "k-", lw=1, label="Onsager (infinite)")
    ax.axvline(exact.SQUARE_TC, color="gray", lw=0.6)
    ax.set_ylim(0, 3)
    ax.set_xlabel("T / J")
    ax.set_ylabel("specific heat per spin")
    ax.legend(fontsize=8)
    fig.tight_layout()
    png = out / "ising_exact.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)

    rows = [
        Row("4x4 torus: max |Kaufman - enumeration| (ln Z, u, c)", f"{dev4:.1e}", "0", "2^16 states summed",
            bool(dev4 < 1e-10)),
        Row("256x256 energy vs Onsager at beta = 0.3, 0.6", f"{dev_on:.1e}", "0 (exp. small)", "Onsager 1944",
            bool(dev_on < 1e-10)),
        Row("Tc (square)", f"{exact.SQUARE_TC:.6f}", "2/ln(1+sqrt 2) = 2.269185", "book col. ch. 5", True),
        Row("u(Tc), infinite lattice", f"{float(exact.onsager_energy(exact.SQUARE_BETA_C)):.10f}",
            "-sqrt 2 = -1.4142135624", "Onsager 1944",
            bool(abs(exact.onsager_energy(exact.SQUARE_BETA_C) + np.sqrt(2)) < 1e-12)),
    ]
    summary = ("Kaufman's exact partition function of the L x L torus, differentiated analytically, equals "
               "the brute-force sum over all 2^16 states of the 4x4 torus to rounding error and tends to "
               "Onsager's infinite-lattice results; the specific-heat peak grows like ln L at Tc.")
    return Result("Exact 2D Ising: Kaufman's torus vs enumeration and Onsager", summary, rows, [png])
