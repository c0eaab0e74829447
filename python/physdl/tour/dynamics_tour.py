"""Tour entry: networks as discretised equations of motion (book ch. 9)."""

from __future__ import annotations

from pathlib import Path

from . import Result, Row, reproduction


@reproduction("dynamics", "Symplectic layers, chaos and reversible networks (ch. 9)")
def dynamics_tour(out: Path, quick: bool, progress: bool) -> Result:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from .. import dynamics

    steps = 100_000
    fig, ax = plt.subplots(figsize=(5, 3.4))
    growth = {}
    for m in dynamics.METHODS:
        _, _, E = dynamics.integrate("pendulum", m, [[2.0]], [[0.0]], dt=0.2, steps=steps, record_every=500)
        err = np.abs(E[0] - E[0, 0])
        growth[m] = err[-len(err) // 10:].max() / max(err[: len(err) // 10].max(), 1e-300)
        ax.semilogy(np.arange(E.shape[1]) * 500 * 0.2, err + 1e-17, label=m)
    ax.set_xlabel("t")
    ax.set_ylabel("|E(t) - E(0)|")
    ax.set_title("pendulum, dt = 0.2")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = out / "dynamics_energy.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    lam = dynamics.lorenz_lyapunov(time=300.0 if quick else 2000.0)
    net = dynamics.RevNet(8, 100, scale=0.5, seed=3)
    x = np.random.default_rng(0).normal(size=(64, 16))
    inv_err = float(np.max(np.abs(net.inverse(net.forward(x)) - x)))
    # energy-error growth is judged against one-sided goals (bounded vs growing), not a value to reproduce
    rows = [Row.check(f"{m}: energy error, last tenth / first tenth of 10^5 steps", f"{growth[m]:.2f}",
                      "bounded" if m != "rk4" else "grows", bool(growth[m] < 2.0) if m != "rk4" else bool(growth[m] > 5.0),
                      comparison="ratio < 2" if m != "rk4" else "ratio > 5", source="sec. 9.2")
            for m in dynamics.METHODS]
    rows.append(Row.measured("Lorenz largest Lyapunov exponent", lam[0], 0.0, 0.9056, allowance=0.02 * 0.9056,
                             allowance_reason=f"2%: finite averaging time {300 if quick else 2000}",
                             source="Sprott 2003"))
    div = -(11 + 8 / 3)
    rows.append(Row.measured("Lorenz spectrum sum", lam.sum(), 0.0, div, allowance=1e-3 * abs(div),
                             allowance_reason="0.1%: RK4 step and Gram-Schmidt", source="exact (divergence)"))
    rows.append(Row.measured("RevNet inverse error through 100 layers", inv_err, 0.0, 0.0, allowance=1e-12,
                             allowance_reason="rounding through 100 layers", source="eq. 9.9"))
    summary = ("A network whose layers are steps of Hamilton's equations: symplectic steps (symplectic Euler, "
               "leapfrog, Yoshida 4) keep the pendulum's energy error bounded over 10^5 layers while RK4's drifts; "
               "Lyapunov exponents by Benettin's method; the reversible network of eq. 9.7-9.9 inverted exactly.")
    return Result("Symplectic layers, chaos and reversible networks (ch. 9)", summary, rows, [path])
