"""Error analysis of Monte Carlo time series used by the lattice results (book sec. 5.2.5).

Delegates to :mod:`physdl.sampling` when it provides the tools; otherwise uses the small
implementations here (integrated autocorrelation time with Sokal's automatic window, binned
jackknife for derived quantities).
"""

from __future__ import annotations

import numpy as np


def tau_int(x, c: float = 6.0) -> float:
    """Integrated autocorrelation time 1/2 + sum_t rho(t) with the window W >= c tau(W)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n < 4:
        return 0.5
    try:  # prefer the sampling toolkit when merged
        from ..sampling import integrated_autocorrelation_time as _tau  # type: ignore[attr-defined]
    except ImportError:
        _tau = None
    if _tau is not None:
        res = _tau(x)
        return float(getattr(res, "tau", res if np.ndim(res) == 0 else res[0]))
    d = x - x.mean()
    var = d @ d / n
    if var == 0:
        return 0.5
    m = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(d, m)
    acf = np.fft.irfft(f * np.conj(f), m)[:n] / (n * var)
    tau = 0.5
    for w in range(1, n):
        tau += acf[w]
        if w >= c * tau:
            break
    return float(max(tau, 0.5))


def jackknife(series: dict[str, np.ndarray], func, n_bins: int = 32) -> tuple[float, float]:
    """Estimate and jackknife error of func(means) over n_bins blocks of the time series."""
    n = len(next(iter(series.values())))
    n_bins = int(min(n_bins, n))
    if n_bins < 2:
        val = func({k: float(np.mean(v)) for k, v in series.items()})
        return float(val), float("nan")
    size = n // n_bins
    blocks = {k: np.asarray(v[: n_bins * size], dtype=np.float64).reshape(n_bins, size).mean(axis=1)
              for k, v in series.items()}
    total = {k: b.sum() for k, b in blocks.items()}
    full = func({k: total[k] / n_bins for k in blocks})
    jk = np.array([func({k: (total[k] - blocks[k][i]) / (n_bins - 1) for k in blocks}) for i in range(n_bins)])
    err = np.sqrt((n_bins - 1) / n_bins * np.sum((jk - jk.mean()) ** 2))
    return float(full), float(err)
