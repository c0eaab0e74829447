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
        Row.measured("Gothenburg P_2 (rainy)", tg[2, 0], 0.0, 0.625, allowance=1e-12, allowance_reason="rounding",
                     source="book eq. 5.40"),
        Row.measured("Gothenburg P_inf, power method: max |P - (1/2, 1/2)|", np.abs(pg - 0.5).max(), 0.0, 0.0,
                     allowance=1e-10, allowance_reason="power-method stop", source="book eq. 5.42",
                     detail=f"P = ({pg[0]:.4f}, {pg[1]:.4f})"),
        Row.measured("Los Angeles P_2 (rainy)", tla[2, 0], 0.0, 0.3, allowance=1e-12, allowance_reason="rounding",
                     source="book eq. 5.47"),
        Row.measured("Los Angeles P_inf, eigenvector: max |P - (1/6, 5/6)|", np.abs(pla - [1 / 6, 5 / 6]).max(),
                     0.0, 0.0, allowance=1e-10, allowance_reason="eigensolver rounding", source="book eq. 5.48",
                     detail=f"P = ({pla[0]:.4f}, {pla[1]:.4f})"),
        Row.measured(f"sunny fraction of a {n_path:,}-day path", est.value, est.error, 5 / 6, sigmas=4,
                     reference_text="5/6 = 0.8333", source="book eq. 5.49"),
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
    ax.plot(T, ens["specific_heat"], "k.", ms=2, label="exact enumeration 4x4")
    tinf = T[np.abs(betas - exact.SQUARE_BETA_C) > 1e-3]
    ax.plot(tinf, exact.onsager_specific_heat(1 / tinf), "k-", lw=1, label="Onsager (infinite)")
    ax.axvline(exact.SQUARE_TC, color="gray", lw=0.6)
    ax.set_ylim(0, 3)
    ax.set_xlabel("T / J")
    ax.set_ylabel("specific heat per spin")
    ax.set_title("2D Ising specific heat: exact torus results and Onsager", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    png = out / "ising_exact.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)

    u_c = float(exact.onsager_energy(exact.SQUARE_BETA_C))
    rows = [
        Row.measured("4x4 torus: max |Kaufman - enumeration| (ln Z, u, c)", dev4, 0.0, 0.0, allowance=1e-10,
                     allowance_reason="rounding", source="2^16 states summed"),
        Row.measured("256x256 energy vs Onsager at beta = 0.3, 0.6: max |difference|", dev_on, 0.0, 0.0,
                     allowance=1e-10, allowance_reason="finite-size term exponentially small in L, rounding",
                     source="Onsager 1944"),
        Row.measured("Tc (square)", exact.SQUARE_TC, 0.0, 2 / np.log(1 + np.sqrt(2)), allowance=1e-12,
                     allowance_reason="rounding", reference_text="2/ln(1+sqrt 2) = 2.2691853142", source="book col. ch. 5",
                     fmt=".10f"),
        Row.measured("u(Tc), infinite lattice", u_c, 0.0, -np.sqrt(2), allowance=1e-12, allowance_reason="rounding",
                     reference_text="-sqrt 2 = -1.4142135624", source="Onsager 1944", fmt=".10f"),
    ]
    summary = ("Kaufman's exact partition function of the L x L torus, differentiated analytically, equals "
               "the brute-force sum over all 2^16 states of the 4x4 torus to rounding error and tends to "
               "Onsager's infinite-lattice results; the specific-heat peak grows like ln L at Tc.")
    return Result("Exact 2D Ising: Kaufman's torus vs enumeration and Onsager", summary, rows, [png])
