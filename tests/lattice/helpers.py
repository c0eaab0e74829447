"""Shared helpers of the lattice tests: chi-square of sampled energies against enumeration."""

from __future__ import annotations

import numpy as np
from scipy import stats


def chi2_energies(samples, levels, probs, min_expected: float = 5.0):
    """Pearson chi-square p-value of sampled total energies against exact level probabilities.

    Levels with small expected counts are pooled (in energy order) until each bin expects at
    least ``min_expected`` samples.
    """
    samples = np.asarray(samples, dtype=np.float64)
    levels = np.asarray(levels, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    idx = np.argmin(np.abs(samples[:, None] - levels[None, :]), axis=1)
    assert np.allclose(samples, levels[idx], atol=1e-6), "a sampled energy is not an exact level"
    obs = np.bincount(idx, minlength=levels.size).astype(np.float64)
    n = samples.size
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
