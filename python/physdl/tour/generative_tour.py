"""Tour entry for the GANs (book ch. 6.3-6.4): the ring's modes covered by each variant, Ising energy
histograms of generated against Monte Carlo configurations at T = 1.8, 2.27, 3.0, the nearest-neighbour check."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import Result, Row, reproduction


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _mlp(n_in, n_out, seed, H=64):
    from .. import nn

    return nn.Sequential([nn.Dense(n_in, H), nn.ReLU(), nn.Dense(H, H), nn.ReLU(), nn.Dense(H, n_out)],
                         seed=seed, dtype="float32")


ALL = ("GAN minimax", "GAN non-saturating", "EBGAN", "WGAN clip", "WGAN-GP", "WGAN-GP + SN")


def ring_variants(steps: int, progress: bool = False, names=ALL):
    """Train each variant on the 8-mode ring; returns {name: (trainer, coverage)} and the data."""
    from .. import generative as g
    from .. import nn

    STD = 0.05
    X = g.ring_of_gaussians(4096, std=STD, seed=0)
    out = {}
    for name in names:
        G = _mlp(4, 2, 1)
        if name == "WGAN-GP + SN":
            D = nn.Sequential([nn.Dense(2, 64, spectral_norm=True), nn.ReLU(), nn.Dense(64, 64, spectral_norm=True),
                               nn.ReLU(), nn.Dense(64, 1, spectral_norm=True)], seed=2, dtype="float32")
        elif name == "EBGAN":
            D = nn.Sequential(list(_mlp(2, 1, 2).layers) + [nn.Softplus()], seed=2, dtype="float32")
        else:
            D = _mlp(2, 1, 2)
        opt = lambda: nn.Adam(1e-3, (0.5, 0.9))  # noqa: E731
        if name.startswith("GAN"):
            t = g.GAN(G, D, loss="minimax" if "minimax" in name else "non_saturating",
                      g_optimizer=nn.Adam(1e-3, (0.5, 0.999)), d_optimizer=nn.Adam(1e-3, (0.5, 0.999)), seed=0)
        elif name == "EBGAN":
            t = g.EBGAN(G, D, margin=1.0, g_optimizer=opt(), d_optimizer=opt(), seed=0)
        elif name == "WGAN clip":
            t = g.WGAN(G, D, clip=0.05, n_critic=5, g_optimizer=nn.Adam(5e-4, (0.5, 0.9)),
                       d_optimizer=nn.Adam(5e-4, (0.5, 0.9)), seed=0)
        else:
            t = g.WGAN(G, D, penalty=1.0, n_critic=5, g_optimizer=opt(), d_optimizer=opt(), seed=0)
        t.train(X, steps, batch_size=256, progress=progress)
        out[name] = (t, g.mode_coverage(t.sample(2000), g.ring_modes(), STD))
    return out, X


T_C = 2.0 / np.log(1.0 + np.sqrt(2.0))  # Onsager's critical temperature (J = 1)


def ising_run(T: float, L: int, steps: int, seed: int = 0, progress: bool = False, n_train: int = 2000,
              n_gen: int = 2000, n_ref: int = 2000):
    """WGAN-GP (:func:`physdl.generative.ising_wgan`) on Monte Carlo configurations at ``T``.

    At and below ``T_c`` the data are made flip symmetric (:func:`with_spin_flips`) and the generator
    gets one lattice-constant latent channel (the sign of the order).  The trainer is
    :func:`~physdl.generative.ising_wgan` with its defaults (the exact gradient through the drawn
    spins, the zero-centred gradient penalty, the generator's moving average), constant learning
    rates.  Returns the observables of an independent Monte Carlo chain (``n_ref`` configurations)
    and of ``n_gen`` generated configurations (spins drawn from the averaged generator's outputs),
    and the trainer.
    """
    from .. import generative as g

    X = g.ising_configurations(L, T, n_train, seed=seed, every=4, burn_in=400).reshape(-1, 1, L, L)
    ordered = T <= T_C + 0.01
    if ordered:
        X = g.with_spin_flips(X)
    w = g.ising_wgan(L, global_channels=1 if ordered else 0, seed=seed)
    w.train(X, steps, batch_size=64, progress=progress)
    ref = g.ising_configurations(L, T, n_ref, seed=seed + 100, every=4, burn_in=400)
    return g.ising_observables(ref, L), g.ising_observables(g.sample_spins(w.sample(n_gen), seed=seed), L), w


def ising_summary(mc: dict, gen: dict) -> dict:
    """Means and standard errors of the energy per site and |m|: the Monte Carlo chain's from its
    integrated autocorrelation time (:func:`physdl.stats.mean_with_error`), the generated samples'
    (independent) as ``std / sqrt(n)``; two-sample Kolmogorov-Smirnov p-values of both."""
    from .. import generative as g
    from .. import stats

    out = {}
    for key in ("energy", "abs_magnetisation"):
        e = stats.mean_with_error(mc[key])
        v = np.asarray(gen[key], float)
        out[key] = {"mc": e.value, "mc_err": e.error, "gen": float(v.mean()),
                    "gen_err": float(v.std(ddof=1) / np.sqrt(v.size)),
                    "ks_p": g.distribution_test(v, mc[key])["pvalue"]}
    return out


def _ising_row(L: int, T: float, steps: int, summ: dict) -> Row:
    """The generated mean energy per site against Monte Carlo's, within 3 errors of the difference; |m|
    and the Kolmogorov-Smirnov p-values of the energy and |m| distributions are shown beside it."""
    e, m = summ["energy"], summ["abs_magnetisation"]
    return Row.measured(f"Ising L = {L}, T = {T}: generated energy per site (conv WGAN-GP, {steps} steps; "
                        "error of the difference)", e["gen"], float(np.hypot(e["mc_err"], e["gen_err"])), e["mc"],
                        sigmas=3, reference_text=f"Monte Carlo {e['mc']:.4f} ± {e['mc_err']:.4f}", source="ch. 6.3",
                        detail=(f"generated ± {e['gen_err']:.4f}; |m| generated {m['gen']:.4f} ± {m['gen_err']:.4f}, "
                                f"Monte Carlo {m['mc']:.4f} ± {m['mc_err']:.4f}; KS p: energy {e['ks_p']:.2g}, "
                                f"|m| {m['ks_p']:.2g}"))


def _abs_m_row(L: int, T: float, summ: dict) -> Row:
    m = summ["abs_magnetisation"]
    return Row.measured(f"Ising L = {L}, T = {T}: generated |m| (error of the difference)", m["gen"],
                        float(np.hypot(m["mc_err"], m["gen_err"])), m["mc"], sigmas=3,
                        reference_text=f"Monte Carlo {m['mc']:.4f} ± {m['mc_err']:.4f}", source="ch. 6.3",
                        detail=f"generated ± {m['gen_err']:.4f}; KS p = {m['ks_p']:.2g}")


@reproduction("generative_gan", "GANs: mode coverage, Ising energy histograms, memorisation check (ch. 6.3-6.4)")
def gan_tour(out: Path, quick: bool, progress: bool) -> Result:
    from .. import generative as g

    steps = 1000 if quick else 3000
    variants, X = ring_variants(steps, progress, ("GAN non-saturating", "WGAN-GP") if quick else ALL)
    rows = []
    cov = variants["WGAN-GP"][1]
    rows.append(Row.check(f"8-mode ring, WGAN-GP ({steps} steps): modes covered (by nearest mode)",
                          str(cov["n_covered"]), "8", bool(cov["n_covered"] == 8), comparison="count == 8 modes",
                          source="ch. 6.4"))
    collapse = ", ".join(f"{k}: {v[1]['n_covered']}/8" for k, v in variants.items())
    held = g.ring_of_gaussians(2000, std=0.05, seed=7)
    nn_gap = g.nearest_neighbour_gap(variants["WGAN-GP"][0].sample(2000), X, held)
    # one-sided: generated samples closer to the training set than held-out real ones would be memorisation
    rows.append(Row.check("nearest training sample: generated minus held-out real distance (z-score)",
                          f"{nn_gap['gap']:+.4f} (z = {nn_gap['z']:+.1f})", "no memorisation", bool(nn_gap["z"] > -3),
                          comparison="z > -3", source="ch. 6.4, lines 3145-3270"))
    plt = _plt()
    fig, axes = plt.subplots(2, 4, figsize=(16, 8))
    axes[1, 0].axis("off")
    ax = axes[0, 0]
    ax.scatter(X[:1000, 0], X[:1000, 1], s=2, c="k", label="data")
    smp = variants["WGAN-GP"][0].sample(1000)
    ax.scatter(smp[:, 0], smp[:, 1], s=2, c="C1", label="WGAN-GP")
    ax.set_aspect("equal")
    ax.legend()
    L, isteps = 16, (1000 if quick else 1500)
    notes = []
    for k, T in enumerate((1.8, 2.27, 3.0)):
        mc, gen, _ = ising_run(T, L, isteps, seed=k, progress=progress, n_gen=1000 if quick else 2000)
        summ = ising_summary(mc, gen)
        rows.append(_ising_row(L, T, isteps, summ))
        rows.append(_abs_m_row(L, T, summ))
        notes.append(f"T={T}: |m| generated {summ['abs_magnetisation']['gen']:.3f}, "
                     f"MC {summ['abs_magnetisation']['mc']:.3f}")
        for row, key, bins, label in ((0, "energy", np.linspace(-2, 0, 41), "energy per site"),
                                      (1, "abs_magnetisation", np.linspace(0, 1, 41), "|m|")):
            ax = axes[row, k + 1]
            ax.hist(mc[key], bins=bins, alpha=0.5, density=True, label="Monte Carlo")
            ax.hist(gen[key], bins=bins, alpha=0.5, density=True, label="generated")
            ax.set_title(f"T = {T}")
            ax.set_xlabel(label)
            ax.legend()
    fig.tight_layout()
    png = out / "gan.png"
    fig.savefig(png, dpi=90)
    plt.close(fig)
    return Result("GANs on the ring and on Ising configurations (ch. 6.3-6.4)",
                  f"Modes covered by each variant after {steps} steps: {collapse} (mode collapse reported as it "
                  f"happens). Ising |m|: {'; '.join(notes)}.", rows, [png])


def cli_run(args) -> int:
    """``physdl generative gan``: run the tour entry and print its summary and rows."""
    from . import run_tour

    results = run_tour(args.out, quick=args.quick, only=["generative_gan"], progress=not args.no_progress)
    print(results[0].summary)
    for row in results[0].rows:
        print(f"  [{'ok ' if row.ok else 'OFF'}] {row.quantity} = {row.reproduced}  (reference {row.reference})")
    print(f"\nreport: {args.out}/index.md and {args.out}/index.html")
    return 0
