"""``physdl phases``: every chapter-8 reproduction in one run, with plots, a JSON of the numbers and
the beta_c table beside Table 8.1 of the book."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import (
    BETA_C_SQUARE,
    BOOK_TABLE_8_1,
    TC_SQUARE,
    TC_TRIANGULAR,
    PhaseClassifier,
    Thermometer,
    ThreeUnitNetwork,
    combine_seeds,
    crossing_temperature,
    ising_dataset,
)


@dataclass(frozen=True)
class Settings:
    """Sizes and statistics of one ``physdl phases`` run."""

    classifier_L: int
    classifier_n_per_T: int
    triangular_n_per_T: int
    thermometer_sizes: tuple
    thermometer_n_per_T: int
    thermometer_classes: int
    thermometer_test_fraction: float
    thermometer_epochs: tuple  # (fc, cnn)
    three_unit_n_per_T: int
    epochs: int
    every: int
    burn_in: int
    #: Class grids of the thermometer (beta ranges of the same width, centres 0.40 and 0.50): the
    #: estimate is made on both, so a reader can see that it does not follow the grid.
    thermometer_grids: tuple = ((0.20, 0.60), (0.30, 0.70))
    #: Phase classifiers trained per network kind (network seeds seed, seed + 1, ...): the crossing
    #: temperatures are their mean, with the spread over them in the error.
    classifier_seeds: int = 3
    #: Thermometers trained per network kind, size and grid (network seeds seed, seed + 1, ...): the
    #: beta_c estimate is their mean, with the spread over them in the error (:func:`combine_seeds`).
    thermometer_seeds: int = 2

    @classmethod
    def quick(cls) -> "Settings":
        return cls(16, 100, 60, (8, 16), 1500, 24, 0.4, (15, 10), 120, 8, 1, 100)

    @classmethod
    def full(cls) -> "Settings":
        return cls(32, 400, 200, (8, 16, 32), 3000, 24, 0.2, (15, 10), 400, 15, 2, 300)


def exact_specific_heat_peak(L: int) -> float:
    """Inverse temperature of the specific-heat maximum of the L x L torus (Kaufman, exact)."""
    from ..lattice import exact

    b = np.linspace(0.35, 0.50, 15001)
    return float(b[np.argmax(exact.kaufman_thermodynamics(b, L)["specific_heat"])])


def _jsonable(v):
    """An array, or an array-valued Estimate as {"value": [...], "error": [...]}, for the JSON summary."""
    from ..stats import Estimate

    if isinstance(v, Estimate):
        return {"value": np.asarray(v.value).tolist(), "error": np.asarray(v.error).tolist()}
    return np.asarray(v).tolist()


def run_phases(out_dir="physdl-phases", quick: bool = False, seed: int = 0, progress: bool = True,
               cache_dir=None, networks=("fc", "cnn"), runner=None) -> dict:
    """Run the chapter-8 pipeline; write PNGs, ``phases.json`` and ``beta_c_table.md`` into ``out_dir``.

    The phase classifiers are trained with ``Settings.classifier_seeds`` network seeds (``seed``,
    ``seed + 1``, ...); their crossing temperatures are the mean over the seeds, with the seed spread
    in the error (:data:`CLASSIFIER_ERROR_NOTE`; per-seed values in the JSON).  :func:`headline`
    formats the numbers that ``physdl phases`` prints.

    Parameters
    ----------
    out_dir : path-like
    quick : bool
        Small settings (a couple of minutes on 2 cores) instead of the full ones.
    seed : int
    progress : bool
    cache_dir : path-like, optional
        Where the HDF5 data sets are kept and reused (default: ``out_dir/data``).
    networks : tuple of {"fc", "cnn"}
    runner : callable, optional
        How the data sets' temperatures are sampled (see :func:`physdl.lattice.ising_dataset`); the
        ``physdl phases`` command passes a :class:`physdl.distributed.DatasetRunner`, which runs them
        as a Dask sweep.  The data (and so every number) are the same bit for bit either way.

    Returns
    -------
    dict of the reproduced numbers (also written to ``phases.json``)
    """
    from .._validate import check_int

    seed = check_int(seed, "seed", minimum=0, maximum=2**64 - 16)  # seeds up to seed + 2 + groups are derived
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cache = Path(cache_dir) if cache_dir is not None else out / "data"
    s = Settings.quick() if quick else Settings.full()
    say = (lambda msg: print(f"[physdl phases] {msg}", flush=True)) if progress else (lambda msg: None)
    res: dict = {"settings": s.__dict__ | {"thermometer_sizes": list(s.thermometer_sizes)}, "seed": seed,
                 "quick": quick}
    figures = []

    # ---- Fig. 8.1: square-lattice classifier applied to the triangular lattice
    L = s.classifier_L
    say(f"square-lattice data, L = {L}")
    sq = ising_dataset("square", L, np.linspace(0.5 * TC_SQUARE, 1.6 * TC_SQUARE, 22), s.classifier_n_per_T,
                       s.every, s.burn_in, seed, cache / f"square_L{L}_n{s.classifier_n_per_T}_s{seed}.h5",
                       progress, runner=runner)
    say(f"triangular-lattice data, L = {L}")
    tri = ising_dataset("triangular", L, np.linspace(0.6 * TC_TRIANGULAR, 1.4 * TC_TRIANGULAR, 22),
                        s.triangular_n_per_T, s.every, s.burn_in, seed + 1,
                        cache / f"triangular_L{L}_n{s.triangular_n_per_T}_s{seed + 1}.h5", progress,
                        runner=runner)
    fig, ax = plt.subplots(figsize=(6, 4))
    res["classifier"] = {}
    train, test = sq.split(0.2, seed=seed)
    net_seeds = [seed + k for k in range(s.classifier_seeds)]
    for kind in networks:
        p_sq, p_tri, accs, curves = [], [], [], []
        for ns in net_seeds:
            say(f"phase classifier ({kind}, network seed {ns}) trained on the square lattice")
            clf = PhaseClassifier(L, kind=kind, seed=ns)
            clf.fit(train, Tc=TC_SQUARE, epochs=s.epochs, progress=progress)
            p_sq.append(clf.disorder_probability(test.configs))
            accs.append(float(np.mean((p_sq[-1] > 0.5) == (test.T > TC_SQUARE))))
            tri_scan = clf.scan(tri)
            p_tri.append(tri_scan["per_config"])
            curves.append(tri_scan["output"])
        tc_sq = crossing_temperature(test.T, np.stack(p_sq), seed=seed)
        tc_tri = crossing_temperature(tri.T, np.stack(p_tri), seed=seed)
        # the mean output curve over the seeds; its error: standard errors and seed spread in quadrature
        vals = np.stack([c.value for c in curves])
        spread = vals.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros(vals.shape[1])
        curve_err = np.sqrt(np.mean([c.error ** 2 for c in curves], axis=0) + spread ** 2)
        res["classifier"][kind] = {
            "test_accuracy": float(np.mean(accs)), "Tc_square": tc_sq.value, "Tc_square_err": tc_sq.error,
            "Tc_triangular": tc_tri.value, "Tc_triangular_err": tc_tri.error, "network_seeds": net_seeds,
            "test_accuracy_per_seed": accs,
            "Tc_square_per_seed": [_jsonable(crossing_temperature(test.T, p, seed=seed)) for p in p_sq],
            "Tc_triangular_per_seed": [_jsonable(crossing_temperature(tri.T, p, seed=seed)) for p in p_tri],
            "T_triangular": tri_scan["T"].tolist(), "output_triangular": vals.mean(axis=0).tolist(),
            "output_triangular_err": curve_err.tolist()}
        ax.errorbar(tri_scan["T"], vals.mean(axis=0), curve_err, fmt="o-", ms=3,
                    label=f"{kind.upper()}: T_c = {tc_tri.value:.3f} ± {tc_tri.error:.3f}")
    res["classifier_error_note"] = CLASSIFIER_ERROR_NOTE
    ax.axvline(TC_TRIANGULAR, color="k", ls="--", lw=1, label=f"exact 4/ln 3 = {TC_TRIANGULAR:.4f}")
    ax.axhline(0.5, color="gray", lw=0.5)
    ax.set_xlabel("T (triangular lattice)")
    ax.set_ylabel("network output P(T > T_c)")
    ax.set_title(f"Fig. 8.1: square-lattice classifier on the triangular lattice, L = {L}\n"
                 f"(mean of {len(net_seeds)} training seeds; bars: standard error and seed spread)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    figures.append(out / "fig8_1_triangular.png")
    fig.savefig(figures[-1], dpi=110)
    plt.close(fig)

    # ---- Fig. 8.2 / Table 8.1: thermometer, on two class grids with different centres
    res["thermometer"] = {}
    curves = {}
    heat = {}
    grids = [(float(lo), float(hi)) for lo, hi in s.thermometer_grids]
    th_seeds = [seed + k for k in range(s.thermometer_seeds)]
    gname = lambda g: f"{g[0]:.2f}-{g[1]:.2f}"  # noqa: E731
    for Lt in s.thermometer_sizes:
        peak = exact_specific_heat_peak(Lt)
        entry = res["thermometer"].setdefault(str(Lt), {"exact_specific_heat_peak": peak})
        for gi, g in enumerate(grids):
            temps = np.sort(1.0 / np.linspace(g[0], g[1], s.thermometer_classes))
            say(f"thermometer data, L = {Lt}, beta in [{g[0]:.2f}, {g[1]:.2f}]")
            ds = ising_dataset("square", Lt, temps, s.thermometer_n_per_T, s.every, s.burn_in, seed + 2 + gi,
                               cache / f"thermo_L{Lt}_n{s.thermometer_n_per_T}_c{s.thermometer_classes}"
                                       f"_b{gname(g)}_s{seed + 2 + gi}.h5", progress,
                                       runner=runner)
            train, test = ds.split(s.thermometer_test_fraction, seed=seed)
            for kind in networks:
                say(f"thermometer ({kind}), L = {Lt}, beta in [{g[0]:.2f}, {g[1]:.2f}]")
                per_seed = []
                for ns in th_seeds:
                    t_ns = Thermometer(Lt, kind=kind, seed=ns)
                    t_ns.fit(train, epochs=s.thermometer_epochs[0 if kind == "fc" else 1], progress=progress)
                    per_seed.append(t_ns.beta_c(test, n_boot=100, seed=seed))
                    if ns == th_seeds[0]:
                        th = t_ns  # heat map, learned specific heat and accuracy: the first seed's network
                bc, err = combine_seeds(per_seed)
                cv = th.specific_heat(test)
                entry.setdefault(kind, {})[gname(g)] = {
                    "grid_centre": 0.5 * (g[0] + g[1]), "beta_c": bc, "beta_c_err": err,
                    "beta_c_per_seed": [float(e.value) for e in per_seed],
                    "beta_c_bootstrap_err_per_seed": [float(e.error) for e in per_seed],
                    "network_seeds": list(th_seeds),
                    "rel_err_vs_exact_beta_c": rel_err(bc, BETA_C_SQUARE),
                    "heatmap_pc1_midpoint": th.heatmap_midpoint(),
                    "accuracy_within_1_class": th.accuracy(test, tolerance=1),
                    "specific_heat": {k: _jsonable(v) for k, v in cv.items()}}
                curves[(Lt, kind, gi)] = cv
                if gi == 0:
                    heat[(Lt, kind)] = (th.weights, th.betas)
    kinds = list(networks)
    fig, axes = plt.subplots(len(kinds), len(s.thermometer_sizes), figsize=(3.6 * len(s.thermometer_sizes),
                                                                              3.2 * len(kinds)), squeeze=False)
    for i, kind in enumerate(kinds):
        for j, Lt in enumerate(s.thermometer_sizes):
            W, b = heat[(Lt, kind)]
            order = np.argsort(b)
            ax = axes[i, j]
            lim = float(np.abs(W).max())
            im = ax.imshow(W[:, order], aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim,
                           extent=(b[order][0], b[order][-1], W.shape[0], 0))
            fig.colorbar(im, ax=ax, label="weight W_mk")
            ax.axvline(BETA_C_SQUARE, color="k", lw=1)
            bc = res["thermometer"][str(Lt)][kind][gname(grids[0])]["beta_c"]
            if np.isfinite(bc):
                ax.axvline(bc, color="lime", lw=1, ls="--")
            ax.set_title(f"{kind.upper()} L = {Lt}: beta_c = {bc:.4f}", fontsize=8)
            ax.set_xlabel("beta (class)")
            ax.set_ylabel("unit m of layer A")
    fig.suptitle("Fig. 8.2: last-layer weights of the thermometer (black: exact beta_c, green: estimate)")
    fig.tight_layout()
    figures.append(out / "fig8_2_thermometer_heatmaps.png")
    fig.savefig(figures[-1], dpi=100)
    plt.close(fig)

    from ..lattice import exact

    fig, axes = plt.subplots(1, len(s.thermometer_sizes), figsize=(4.2 * len(s.thermometer_sizes), 3.6),
                             squeeze=False)
    styles = {"fc": "s", "cnn": "o"}
    for j, Lt in enumerate(s.thermometer_sizes):
        ax = axes[0, j]
        bb = np.linspace(min(g[0] for g in grids), max(g[1] for g in grids), 400)
        ax.plot(bb, exact.kaufman_thermodynamics(bb, Lt)["specific_heat"], "k-", lw=1, label="exact (Kaufman)")
        for kind in kinds:
            for gi, g in enumerate(grids):
                cv = curves[(Lt, kind, gi)]
                r = res["thermometer"][str(Lt)][kind][gname(g)]
                ax.errorbar(cv["beta"], *cv["c"], fmt=styles.get(kind, "o"), ms=3, lw=0.7,
                            mfc="none" if gi else None, color=f"C{2 * kinds.index(kind) + gi}",
                            label=f"{kind.upper()} grid {gname(g)}: {r['beta_c']:.4f}")
        ax.axvline(BETA_C_SQUARE, color="gray", ls="--", lw=1)
        ax.set_xlabel("beta")
        ax.set_ylabel("specific heat per spin")
        ax.set_title(f"L = {Lt}: learned c(beta), peak = beta_c estimate", fontsize=9)
        ax.legend(fontsize=6)
    fig.suptitle("Thermometer: divergence of neighbouring classes / Delta beta^2, times beta^2 / N")
    fig.tight_layout()
    figures.append(out / "fig8_2b_thermometer_specific_heat.png")
    fig.savefig(figures[-1], dpi=100)
    plt.close(fig)

    # ---- Fig. 8.3: three hidden units
    Lt = s.thermometer_sizes[-1]
    say(f"three-unit network (eq. 8.9), L = {Lt}")
    betas = np.linspace(0.30, 0.70, s.thermometer_classes)
    temps = np.sort(1.0 / betas)
    ds = ising_dataset("square", Lt, temps, s.three_unit_n_per_T, s.every, s.burn_in, seed + 2,
                       cache / f"thermo_L{Lt}_n{s.three_unit_n_per_T}_c{s.thermometer_classes}_s{seed + 2}.h5",
                       progress, runner=runner)
    net = ThreeUnitNetwork(Lt, seed=seed)
    net.fit(ds, epochs=5 * s.epochs, progress=progress)
    corr = net.magnetization_correlation(ds)
    res["three_unit"] = {"L": Lt, **corr, "max_abs_corr_z_abs_m": float(np.max(np.abs(corr["z_vs_abs_m"]))),
                         "max_abs_corr_u_m": float(np.max(np.abs(corr["u_vs_m"])))}
    u, z = net.hidden_units(ds.configs)
    m = ds.magnetization
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for i, c in enumerate(("tab:red", "tab:green", "tab:blue")):
        axes[0].scatter(m, u[:, i], s=2, c=c, label=f"u_{i} (r = {corr['u_vs_m'][i]:+.2f})")
        axes[1].scatter(np.abs(m), z[:, i], s=2, c=c, label=f"z_{i} (r = {corr['z_vs_abs_m'][i]:+.2f})")
    axes[0].set_xlabel("magnetization m")
    axes[0].set_ylabel("u = phi* s (eq. 8.11)")
    axes[1].set_xlabel("|m|")
    axes[1].set_ylabel("z = softmax(u)")
    for ax in axes:
        ax.legend(fontsize=7, markerscale=4)
    fig.suptitle(f"Fig. 8.3: three hidden units vs magnetisation, L = {Lt}")
    fig.tight_layout()
    figures.append(out / "fig8_3_three_units.png")
    fig.savefig(figures[-1], dpi=110)
    plt.close(fig)

    # ---- table and JSON
    head = ["L"] + [f"beta_c {k.upper()} (grid centre {0.5 * (g[0] + g[1]):.2f})" for k in ("cnn", "fc")
                    if k in networks for g in grids]
    head += ["finite-L C peak (exact)", "CNN (book)", "FC (book)"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows2 = ["| L | " + " | ".join(f"{k.upper()} (grid centre {0.5 * (g[0] + g[1]):.2f})" for k in ("cnn", "fc")
                                   if k in networks for g in grids) + " |",
             "|" + "---|" * (1 + len(networks) * len(grids))]
    for Lt in s.thermometer_sizes:
        got = res["thermometer"][str(Lt)]
        cells, cells2 = [], []
        for k in ("cnn", "fc"):
            if k in networks:
                for g in grids:
                    r = got[k][gname(g)]
                    cells.append(f"{r['beta_c']:.4f} ± {r['beta_c_err']:.4f}")
                    cells2.append(f"{r['heatmap_pc1_midpoint']:.4f}")
        book = BOOK_TABLE_8_1.get(Lt, (float("nan"),) * 2)
        rows.append(f"| {Lt} | " + " | ".join(cells) + f" | {got['exact_specific_heat_peak']:.4f} | "
                    f"{book[0]:.6f} | {book[1]:.6f} |")
        rows2.append(f"| {Lt} | " + " | ".join(cells2) + " |")
    rows.append(f"| exact (L -> inf) | {BETA_C_SQUARE:.6f} |" + " |" * (len(head) - 2))
    table = "\n".join(rows)
    table2 = "\n".join(rows2)
    note = ("beta_c: peak of the specific heat the thermometer learned (physdl.phases.estimate_beta_c), on "
            f"held-out configurations, the mean over {len(th_seeds)} training seeds; ± the bootstrap error over those "
            "configurations and the spread over the training seeds (ddof = 1) in quadrature (physdl.phases.combine_seeds); "
            "it approaches the finite-L specific-heat peak, not the grid centre.")
    note2 = ("For contrast, the half-height crossing of the heat map's leading principal component "
             "(heatmap_step_midpoint), which follows the class grid:")
    (out / "beta_c_table.md").write_text(f"{table}\n\n{note}\n\n{note2}\n\n{table2}\n")
    res["beta_c_table"] = table
    res["heatmap_midpoint_table"] = table2
    res["thermometer_grids"] = [{"beta_min": g[0], "beta_max": g[1], "classes": int(s.thermometer_classes),
                                 "centre": 0.5 * (g[0] + g[1])} for g in grids]
    res["figures"] = [str(f) for f in figures]
    (out / "phases.json").write_text(json.dumps(res, indent=1, default=float))
    return res


CLASSIFIER_ERROR_NOTE = (
    "T_c of the phase classifier: the crossing of P(disordered) = 1/2 (physdl.phases.crossing_temperature), "
    "the mean over the training seeds in network_seeds; its error is the bootstrap error over the test "
    "configurations (mean of the seeds' bootstrap variances) and the standard deviation of the seeds' crossings "
    "(ddof = 1), added in quadrature: the spread of one trained network's crossing, not the error of the mean.")


def _sigmas(x: float, err: float, ref: float) -> str:
    return f"{(x - ref) / err:+.1f} sigma" if err > 0 and math.isfinite(x) else "n/a"


def headline(res: dict) -> str:
    """The headline numbers of a ``run_phases`` result, as the ``physdl phases`` command prints them.

    The classifier's crossing temperatures against the exact T_c (Onsager, 4/ln 3), with their
    errors (the training-seed spread included) and the distance in errors; the thermometer's
    beta_c table against the finite-size specific-heat peaks and beta_c; the three-unit network's
    correlation with the magnetisation.
    """
    from ..stats import format_value_error

    st = res["settings"]
    seeds = next(iter(res["classifier"].values()), {}).get("network_seeds", [])
    lines = [f"physdl phases ({'quick' if res.get('quick') else 'full'} settings, seed {res.get('seed', 0)}): "
             f"phase classifier L = {st['classifier_L']}, thermometers L = "
             f"{', '.join(map(str, st['thermometer_sizes']))}", "",
             f"Phase classifier trained on the square lattice (Fig. 8.1), crossing of P(disordered) = 1/2, mean of "
             f"{len(seeds)} training seeds {seeds}:"]
    for kind, r in res["classifier"].items():
        lines.append(f"  {kind.upper():3s} square     T_c = {format_value_error(r['Tc_square'], r['Tc_square_err'])}  "
                     f"(exact {TC_SQUARE:.4f}, {_sigmas(r['Tc_square'], r['Tc_square_err'], TC_SQUARE)}); "
                     f"test accuracy {r['test_accuracy']:.3f}")
        lines.append(f"  {kind.upper():3s} triangular T_c = "
                     f"{format_value_error(r['Tc_triangular'], r['Tc_triangular_err'])}  "
                     f"(exact 4/ln 3 = {TC_TRIANGULAR:.4f}, "
                     f"{_sigmas(r['Tc_triangular'], r['Tc_triangular_err'], TC_TRIANGULAR)})")
    lines.append("  (errors: bootstrap over the test configurations and the spread over training seeds, in quadrature)")
    lines += ["", f"Thermometer beta_c (Table 8.1; exact beta_c = {BETA_C_SQUARE:.6f}, finite-L peaks in the table):",
              res["beta_c_table"],
              "  (mean of " + str(res["settings"].get("thermometer_seeds", 1)) + " training seeds; ± bootstrap error over "
              "held-out configurations and the spread over training seeds, in quadrature)"]
    t3 = res["three_unit"]
    lines += ["", f"Three-unit network (eq. 8.9-8.11, L = {t3['L']}): max |corr(u_i, m)| = {t3['max_abs_corr_u_m']:.3f}, "
                  f"max |corr(z_i, |m|)| = {t3['max_abs_corr_z_abs_m']:.3f}"]
    return "\n".join(lines)


def rel_err(x: float, ref: float) -> float:
    return abs(x - ref) / abs(ref) if math.isfinite(x) else float("inf")
