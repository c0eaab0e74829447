"""Tour entry: Box-Muller normals from Philox, against the normal density (book eq. 5.30-5.35)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import Result, Row, reproduction


@reproduction("box_muller", "Box-Muller normals from Philox4x32-10")
def box_muller(out: Path, quick: bool, progress: bool) -> Result:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import stats
    from .._progress import bar as progress_bar

    from ..random import Generator

    n_chunks, chunk = (10, 100_000) if quick else (50, 200_000)
    gen = Generator(seed=2021, stream=0)
    parts = [gen.normal(chunk) for _ in progress_bar(range(n_chunks), progress=progress, desc="normals", leave=False)]
    z = np.concatenate(parts)
    n = z.size
    ks = stats.kstest(z, "norm")
    mean, var = z.mean(), z.var(ddof=1)
    se_mean = np.sqrt(var / n)
    se_var = np.sqrt(2.0 / (n - 1))  # for Gaussian data
    kurt = stats.kurtosis(z)
    se_kurt = np.sqrt(24.0 / n)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(z, bins=120, range=(-5, 5), density=True, alpha=0.6, label=f"Philox Box-Muller, n={n:,}")
    x = np.linspace(-5, 5, 400)
    ax.plot(x, stats.norm.pdf(x), "k-", lw=1.2, label="exp(-x²/2)/√(2π)")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.set_title(f"Kolmogorov-Smirnov D = {ks.statistic:.2e}, p = {ks.pvalue:.3f}")
    ax.legend()
    fig.tight_layout()
    png = out / "box_muller.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)

    rows = [
        Row.check("KS p-value", f"{ks.pvalue:.3f}", "uniform on (0,1)", bool(ks.pvalue > 1e-3),
                  comparison="p > 0.001", source="Kolmogorov-Smirnov"),
        Row.measured("mean", mean, se_mean, 0.0, sigmas=4, source="exact"),
        Row.measured("variance", var, se_var, 1.0, sigmas=4, source="exact"),
        Row.measured("excess kurtosis", kurt, se_kurt, 0.0, sigmas=4, source="exact"),
    ]
    summary = (f"{n:,} standard normals drawn by Box-Muller from Philox4x32-10 (seed 2021) on the "
               f"default backend, compared with the normal density; the Kolmogorov-Smirnov test "
               f"gives D = {ks.statistic:.3e}, p = {ks.pvalue:.3f}.")
    return Result("Box-Muller normals from Philox4x32-10", summary, rows, [png])
