"""Shared helpers of the lattice tests: chi-square of sampled energies against enumeration."""

from __future__ import annotations

import numpy as np
from scipy import stats


def chi2_energies(samples, levels, probs, max_bins: int = 40):
    """Pearson chi-square p-value of sampled total energies against exact level probabilities.

    Adjacent levels (in energy order) are pooled until each bin expects at least
    max(5, n / max_bins) samples.
    """
    samples = np.asarray(samples, dtype=np.float64)
    order = np.argsort(levels)
    levels = np.asarray(levels, dtype=np.float64)[order]
    probs = np.asarray(probs, dtype=np.float64)[order]
    pos = np.clip(np.searchsorted(levels, samples), 1, levels.size - 1)
    idx = np.where(np.abs(samples - levels[pos - 1]) < np.abs(samples - levels[pos]), pos - 1, pos)
    idx = np.where(np.abs(samples - levels[0]) < 1e-6, 0, idx)
    assert np.allclose(samples, levels[idx], atol=1e-6), "a sampled energy is not an exact level"
    obs = np.bincount(idx, minlength=levels.size).astype(np.float64)
    n = samples.size
    min_expected = max(5.0, n / max_bins)
    exp = probs * n
    bins_o, bins_e, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(obs, exp):
        acc_o += o
        acc_e += e
        if acc_e >= min_expected:
            bins_o.append(acc_o)
            bins_e.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e > 0 and bins_e:
        bins_o[-1] += acc_o
        bins_e[-1] += acc_e
    bins_o, bins_e = np.array(bins_o), np.array(bins_e)
    bins_e *= bins_o.sum() / bins_e.sum()
    return stats.chisquare(bins_o, bins_e).pvalue, bins_o.size
