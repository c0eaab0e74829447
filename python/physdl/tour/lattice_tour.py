"""Tour entry: Monte Carlo energy and specific heat of the 2D Ising torus against Kaufman's exact
finite-lattice solution (book eq. 8.7; Metropolis eq. 5.69 and cluster updates)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import Result, Row, reproduction


@reproduction("ising_kaufman", "2D Ising torus: Wolff Monte Carlo against Kaufman's exact solution")
def ising_kaufman(out: Path, quick: bool, progress: bool) -> Result:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..lattice import Ising, Simulation
    from ..lattice.exact import critical_temperature, kaufman_thermodynamics

    L = 16
    sweeps = 20_000 if quick else 100_000
    betas = [0.3, 1.0 / critical_temperature("square"), 0.5]
    model = Ising((L, L), geometry="square")
    rows, pts = [], []
    for i, beta in enumerate(betas):
        res = Simulation(model, beta=beta, update="wolff", seed=2021 + i).run(sweeps, burn_in=1000, progress=progress)
        ex = kaufman_thermodynamics(beta, L)
        e, c = float(ex["energy"]), float(ex["specific_heat"])
        pts.append((beta, res.energy, res.specific_heat))
        src = "Kaufman (1949), exact L = 16 torus"
        rows.append(Row.measured(f"energy per spin, beta = {beta:.4f}", res.energy.value, res.energy.error, e,
                                 sigmas=4, source=src))
        rows.append(Row.measured(f"specific heat, beta = {beta:.4f}", res.specific_heat.value,
                                 res.specific_heat.error, c, sigmas=4, source=src))

    grid = np.linspace(0.2, 0.7, 300)
    ex = kaufman_thermodynamics(grid, L)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].plot(grid, ex["energy"], "k-", lw=1.2, label="exact (Kaufman), L = 16")
    axes[1].plot(grid, ex["specific_heat"], "k-", lw=1.2, label="exact (Kaufman), L = 16")
    for i, (b, e, c) in enumerate(pts):
        lab = f"Wolff, {sweeps:,} sweeps" if i == 0 else None
        axes[0].errorbar(b, e.value, yerr=e.error, fmt="o", color="C3", capsize=2, label=lab)
        axes[1].errorbar(b, c.value, yerr=c.error, fmt="o", color="C3", capsize=2, label=lab)
    for ax, lab in zip(axes, ["energy per spin", "specific heat per spin"]):
        ax.axvline(1.0 / critical_temperature("square"), color="grey", ls=":", lw=1, label="beta_c (Onsager)")
        ax.set_xlabel("beta")
        ax.set_ylabel(lab)
        ax.set_title(f"{lab}: Monte Carlo vs exact, L = {L}")
        ax.legend()
    fig.tight_layout()
    png = out / "ising_kaufman.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    summary = (f"Wolff cluster Monte Carlo of the 16 x 16 periodic Ising model (J = 1) at beta = 0.3, "
               f"beta_c = {betas[1]:.4f} and 0.5, {sweeps:,} sweeps each, compared with Kaufman's exact "
               f"partition function of the finite torus; errors are binned jackknife.")
    return Result("2D Ising torus: Wolff Monte Carlo against Kaufman's exact solution", summary, rows, [png])
