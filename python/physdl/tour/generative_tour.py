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


def ising_run(T: float, L: int, steps: int, seed: int = 0, progress: bool = False, n: int = 1200):
    """Conv WGAN-GP on L x L Monte Carlo configurations at T; returns MC and generated observables."""
    from .. import generative as g
    from .. import nn

    X = g.ising_configurations(L, T, n, seed=seed, every=4, burn_in=400)
    Xd = X.reshape(-1, 1, L, L).astype(np.float32)
    G = g.ising_generator(L, noise_channels=2, width=8, depth=3)
    D = g.ising_critic(L, width=8)
    w = g.WGAN(G, D, penalty=10.0, n_critic=3, g_optimizer=nn.Adam(2e-3, (0.5, 0.9)),
               d_optimizer=nn.Adam(2e-3, (0.5, 0.9)), seed=seed)
    w.train(Xd, steps, batch_size=64, progress=progress)
    mc = g.ising_observables(X, L)
    gen = g.ising_observables(g.to_spins(w.sample(n)), L)
    return mc, gen, w


def _mean_se(v, tau_bins: int = 20):
    """Mean and a binned standard error (bins absorb the chain's autocorrelation)."""
    v = np.asarray(v, float)
    b = v[: len(v) // tau_bins * tau_bins].reshape(tau_bins, -1).mean(axis=1)
    return float(v.mean()), float(b.std(ddof=1) / np.sqrt(tau_bins))


def _ising_row(L: int, T: float, steps: int, mc: dict, gen: dict) -> Row:
    """The generated mean energy per site against Monte Carlo's, within 3 errors of the difference; the
    Kolmogorov-Smirnov p-values of the energy and |m| distributions are shown beside it."""
    from .. import generative as g

    m_mc, se_mc = _mean_se(mc["energy"])
    m_g, se_g = _mean_se(gen["energy"])
    ks = g.distribution_test(gen["energy"], mc["energy"])
    ksm = g.distribution_test(gen["abs_magnetisation"], mc["abs_magnetisation"])
    return Row.measured(f"Ising L = {L}, T = {T}: generated energy per site (conv WGAN-GP, {steps} steps; "
                        "error of the difference)", m_g, float(np.hypot(se_mc, se_g)), m_mc, sigmas=3,
                        reference_text=f"Monte Carlo {m_mc:.4f} ± {se_mc:.4f}", source="ch. 6.3",
                        detail=f"generated ± {se_g:.4f}; KS p = {ks['pvalue']:.2g}, |m| KS p = {ksm['pvalue']:.2g}")


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
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    ax = axes[0]
    ax.scatter(X[:1000, 0], X[:1000, 1], s=2, c="k", label="data")
    smp = variants["WGAN-GP"][0].sample(1000)
    ax.scatter(smp[:, 0], smp[:, 1], s=2, c="C1", label="WGAN-GP")
    ax.set_aspect("equal")
    ax.legend()
    L, isteps = 16, (60 if quick else 800)
    notes = []
    for k, T in enumerate((1.8, 2.27, 3.0)):
        mc, gen, _ = ising_run(T, L, isteps, seed=k, progress=progress, n=600 if quick else 1200)
        rows.append(_ising_row(L, T, isteps, mc, gen))
        notes.append(f"T={T}: |m| generated {np.mean(gen['abs_magnetisation']):.3f}, MC {np.mean(mc['abs_magnetisation']):.3f}")
        ax = axes[k + 1]
        bins = np.linspace(-2, 0, 41)
        ax.hist(mc["energy"], bins=bins, alpha=0.5, density=True, label="Monte Carlo")
        ax.hist(gen["energy"], bins=bins, alpha=0.5, density=True, label="generated")
        ax.set_title(f"T = {T}")
        ax.set_xlabel("energy per site")
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
