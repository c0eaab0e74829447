"""Tour entries for the energy-based models: Hopfield storage capacity and frustration (ch. 10), an
RBM trained on Ising configurations and AIS (ch. 6.1-6.2), self-learning Monte Carlo (ch. 6 column)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import Result, Row, reproduction


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _crossing(alphas, values, errors, level=0.75):
    """First alpha where the curve falls below ``level`` (linear interpolation) and its standard error,
    propagated from the errors of the two bracketing points (independent); NaN, NaN when it never does."""
    for i in range(1, len(alphas)):
        if values[i] < level <= values[i - 1]:
            a0, a1, v0, v1 = alphas[i - 1], alphas[i], values[i - 1], values[i]
            slope, t = (a1 - a0) / (v1 - v0), (level - v0) / (v1 - v0)
            err = abs(slope) * float(np.hypot((1 - t) * errors[i - 1], t * errors[i]))
            return a0 + (level - v0) * slope, err
    return float("nan"), float("nan")


@reproduction("hopfield_capacity", "Hopfield network: storage capacity alpha_c ~ 0.138 and frustration (ch. 10)")
def hopfield_capacity(out: Path, quick: bool, progress: bool) -> Result:
    from .. import hopfield as H

    N = 1000 if quick else 5000
    alphas = np.array([0.05, 0.10, 0.12, 0.13, 0.14, 0.15, 0.16, 0.18, 0.20])
    pts = H.capacity_curve(N, alphas, n_sets=1 if quick else 3, n_starts=4 if quick else 8, seed=1)
    ov = np.array([p.overlap.value for p in pts])
    err = np.array([p.overlap.error for p in pts])
    a_drop, a_err = _crossing(alphas, ov, err)
    # 3 errors (propagated from the two bracketing overlaps) plus the finite-N allowance: at finite N the
    # overlap falls smoothly and its 0.75 crossing sits above the N -> infinity alpha_c
    rows = [Row.measured(f"N = {N}: alpha where the retrieval overlap falls below 0.75", a_drop,
                         a_err, 0.138, sigmas=3, allowance=0.032,
                         allowance_reason=f"finite N = {N} shifts the crossing up",
                         reference_text="0.138 (Amit, Gutfreund, Sompolinsky)", source="ch. 10")]
    E0, gs = H.ground_states(H.triangle_antiferromagnet())
    rows.append(Row.check("frustrated triangle J12 = J13 = -J23: ground-state degeneracy", str(len(gs)), "6",
                          len(gs) == 6, comparison="count of ground states == 6 (enumeration of 2^3 states)",
                          source="ch. 10"))
    xi = H.random_patterns(3, 1001, seed=2)
    mix = H.mixture(xi)
    res = H.Hopfield.from_patterns(xi).run(mix, seed=3)
    m = H.overlaps(res.states, xi)[0]
    far = float(m[np.argmax(np.abs(m - 0.5))])
    rows.append(Row.measured("mixture state sgn(a1 + a2 + a3): the overlap furthest from 1/2 after relaxation", far,
                             0.0, 0.5, allowance=0.08, allowance_reason="finite N = 1001: crosstalk of the patterns",
                             reference_text="1/2 each (spurious attractor)", source="AGS", fmt=".3f",
                             detail="all: " + ", ".join(f"{x:.3f}" for x in m)))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(alphas, ov, yerr=err, marker="o")
    ax.axvline(0.138, color="k", ls="--", lw=1, label="alpha_c = 0.138")
    ax.set_xlabel("alpha = P / N")
    ax.set_ylabel("retrieval overlap")
    ax.set_title("Hopfield retrieval against the load P/N")
    ax.legend()
    fig.tight_layout()
    png = out / "hopfield_capacity.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return Result("Hopfield storage capacity (ch. 10)",
                  "Hebb couplings (eq. 10.14) store P random patterns; asynchronous updates from each stored "
                  "pattern reach a fixed point whose overlap with it collapses near alpha = 0.138.", rows, [png])


@reproduction("rbm_ising", "RBM trained on Ising configurations; AIS log Z against enumeration (ch. 6.1-6.2)")
def rbm_ising(out: Path, quick: bool, progress: bool) -> Result:
    from scipy.special import softmax

    from ..boltzmann import RBM
    from ..geometry import Lattice
    from ..lattice import Ising, Simulation
    from ..lattice._spin_chains import all_states

    L, T, n = 4, 2.5, (2000 if quick else 4000)
    X = Simulation(Ising((L, L)), T=T, update="wolff", seed=3).configurations(n, every=2, burn_in=200)
    X = X.reshape(n, -1).astype(np.float64)
    bonds = Lattice("square", (L, L)).bonds()

    def obs(S):
        return -(S[:, bonds[:, 0]] * S[:, bonds[:, 1]]).sum(1) / L**2, np.abs(S.mean(1))

    rbm = RBM(16, 32, units="spin", seed=1, init_std=0.1)
    sched = ((0.05, 15), (0.01, 10), (0.002, 5)) if quick else ((0.05, 30), (0.01, 20), (0.002, 10))
    for lr, ep in sched:
        rbm.fit(X, epochs=ep, learning_rate=lr, batch_size=100, k=5, method="pcd", n_chains=200, monitor=False)
    v, _ = rbm.sample(4000, k=100)
    rows = []
    for name, d, s in zip(("energy per spin", "|m|"), obs(X), obs(v.astype(float))):
        e = float(np.hypot(d.std() / np.sqrt(d.size), s.std() / np.sqrt(s.size)))
        rows.append(Row.measured(f"4x4 Ising T = 2.5: {name}, RBM samples vs Monte Carlo data (error of the difference)",
                                 s.mean(), e, d.mean(), sigmas=3, source="Torlai-Melko test"))
    small = RBM(10, 8, units="binary", seed=4, init_std=0.8)
    est = small.ais(n_chains=500, n_betas=500, seed=5)
    exact = small.log_partition()
    rows.append(Row.measured("AIS log Z of a 10x8 RBM vs enumeration", est.value, est.error, exact, sigmas=3,
                             source="Neal; Salakhutdinov-Murray"))
    S = all_states(16).astype(float)
    p = softmax(-rbm.free_energy(S))
    ee, mm = obs(S)
    e_data = float(obs(X)[0].mean())
    rows.append(Row.measured("trained RBM: exact <E>/N by enumerating its 2^16 visible states", float(p @ ee), 0.0,
                             e_data, allowance=0.04, allowance_reason="stated margin for the trained model's bias",
                             reference_text=f"{e_data:.4f} (data)", source="eq. 6.12-6.13", fmt=".4f"))
    return Result("RBM on Ising configurations (ch. 6.1-6.2)",
                  "An RBM with 32 +-1 hidden units trained by PCD on Monte Carlo configurations of the 4x4 Ising "
                  "torus; its Gibbs samples reproduce the energy and |m| of the data; AIS matches exact log Z.", rows)


def _slmc_rows(res) -> list[Row]:
    """Rows from ``{L: autocorrelation_comparison(L, ...)}``."""
    rows = []
    for L, r in res.items():
        tl, ts = r["tau_local"], r["tau_slmc"]
        ratio = tl.value / ts.value
        ratio_err = ratio * float(np.hypot(tl.error / tl.value, ts.error / ts.value))
        big = L == 32
        wall = (tl.value * r["seconds_per_local"]) / (ts.value * r["seconds_per_slmc"])
        # a speed-up measured in this run against a stated goal (one-sided), not a value to reproduce
        rows.append(Row.check(f"L = {L}, T_c = 2.493: tau_int(|m|) local (sweeps) / SLMC (proposals) "
                              "[and the gain in wall time]",
                              f"{tl} / {ts} = {ratio:.1f} ± {ratio_err:.1f} [{wall:.2f}]",
                              "issue goal at L = 32" if big else "SLMC decorrelates faster",
                              bool(ratio >= 5.0) if big else bool(ratio > 1.0),
                              comparison="ratio >= 5" if big else "ratio > 1", source="Liu, Qi, Meng, Fu PRB 95, 041101"))
        rows.append(Row.measured(f"L = {L}: fitted J1 (J2, J3 >= 0)", r["effective"].J[0], 0.0, 1.1064,
                                 allowance=0.03, allowance_reason=f"regression on a finite training set at L = {L}",
                                 reference_text="J1 = 1.1064 (Liu et al.)", source="eq. 6.114", fmt=".4f",
                                 detail=f"acceptance {r['acceptance']:.2f}"))
    return rows


@reproduction("slmc_plaquette", "Self-learning Monte Carlo on the plaquette Ising model (ch. 6 column, eq. 6.114)")
def slmc_plaquette(out: Path, quick: bool, progress: bool) -> Result:
    from ..slmc import autocorrelation_comparison

    Ls = (8, 16) if quick else (16, 24, 32, 40, 48)
    res = {L: autocorrelation_comparison(L, n_train=500 if quick else 2000, n_local=10000 if quick else 200000,
                                         n_slmc=3000 if quick else 50000, seed=1) for L in Ls}
    rows = _slmc_rows(res)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, lab in (("tau_local", "local Metropolis (per sweep)"), ("tau_slmc", "SLMC (per proposal)")):
        ax.errorbar(list(res), [res[L][key].value for L in res], yerr=[res[L][key].error for L in res], marker="o",
                    label=lab)
    ax.set_xlabel("L")
    ax.set_ylabel("tau_int(|m|)")
    ax.set_title("Autocorrelation of |m| at T_c: local vs SLMC")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    png = out / "slmc_tau.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return Result("Self-learning Monte Carlo (ch. 6 column)",
                  "An effective Ising model fitted by linear regression to local-update energies proposes Wolff "
                  "clusters accepted with the exact correction (eq. 6.114); its |m| decorrelates faster.", rows, [png])


def _thermo_rows(res) -> list[Row]:
    """Rows from ``{T: ising_thermodynamics(4, T, ...)}``: the RBM's energy, |m| and C against the data's."""
    rows = []
    tol = 3.0
    for T, r in res.items():
        for key in ("energy", "|m|", "C"):
            d, m = r["data"][key], r["rbm"][key]
            e = float(np.hypot(d.error, m.error))
            rows.append(Row.measured(f"4x4 Ising T = {T}: {key} per spin, RBM samples vs Monte Carlo "
                                     "(error of the difference)", m.value, e, d.value, sigmas=tol,
                                     reference_text=f"{d}", source="Torlai-Melko PRB 94, 165134"))
    return rows


@reproduction("rbm_thermodynamics", "RBM thermodynamics against Monte Carlo at several temperatures (Torlai-Melko)")
def rbm_thermodynamics(out: Path, quick: bool, progress: bool) -> Result:
    from ..boltzmann.thermo import ising_thermodynamics

    temps = (1.8, 3.0) if quick else (1.5, 1.8, 2.0, 2.27, 2.5, 3.0, 3.5)
    res = {}
    for T in temps:
        res[T] = ising_thermodynamics(4, T, n=4000, seed=0)
        if progress:
            print(f"[rbm_thermodynamics] T = {T} done", flush=True)
    rows = _thermo_rows(res)
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    Ts = list(res)
    for ax, key, lab in zip(axes, ("energy", "|m|", "C"), ("energy per spin", "|m|", "specific heat per spin")):
        for who, mk, name in (("data", "o", "Monte Carlo (Wolff)"), ("rbm", "s", "RBM samples")):
            ax.errorbar(Ts, [res[T][who][key].value for T in Ts], yerr=[res[T][who][key].error for T in Ts],
                        marker=mk, ls="-" if who == "data" else "none", label=name, capsize=2)
        ax.axvline(2.269, color="k", ls=":", lw=1)
        ax.set_xlabel("T")
        ax.set_ylabel(lab)
    axes[0].legend()
    fig.suptitle("RBM samples against Monte Carlo (4 x 4 Ising)")
    fig.tight_layout()
    png = out / "rbm_thermodynamics.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return Result("RBM thermodynamics against Monte Carlo (ch. 6.1-6.2, Torlai-Melko)",
                  "A +-1 RBM with 32 hidden units trained by PCD-5 at each temperature on 4000 Wolff configurations "
                  "of the 4x4 Ising torus; the energy, |m| and specific heat of its Gibbs samples against the "
                  "data's, errors by the jackknife.", rows, [png])


TOPICS = {"hopfield": ["hopfield_capacity"], "rbm": ["rbm_ising", "rbm_thermodynamics"], "slmc": ["slmc_plaquette"]}


def cli(topic: str, out: str, quick: bool, progress: bool) -> int:
    """``physdl ebm TOPIC``: run the topic's tour entries, print their rows, write figures and the report."""
    from . import run_tour

    results = run_tour(out, quick=quick, only=TOPICS[topic], progress=progress)
    for res in results:
        print(res.title)
        for row in res.rows:
            print(f"  [{'ok ' if row.ok else 'OFF'}] {row.quantity} = {row.reproduced}  (reference {row.reference})")
        for f in res.figures:
            print(f"  figure: {f}")
    print(f"\nreport: {out}/index.md and {out}/index.html")
    return 0
