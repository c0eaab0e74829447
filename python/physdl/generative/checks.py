"""Generalisation checks of a generative model (book ch. 6.4, around eq. 6.92-6.95).

* :func:`nearest_neighbour_gap` -- distances of generated samples to their nearest training sample
  against those of held-out real samples: a generator that memorised its training set sits closer
  to it than fresh real data does (a gap below zero).
* :func:`inception_score` -- ``exp <KL(p(y|x) || p(y))>`` with any classifier (a callable returning
  class probabilities), e.g. a phase classifier; no application is imported here.
* :func:`distribution_test` -- two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``) of one
  observable, e.g. the energy or magnetisation of generated against Monte Carlo configurations.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_array, check_int

__all__ = ["nearest_neighbour_distances", "nearest_neighbour_gap", "inception_score", "distribution_test"]


def _rows(X, name):
    X = check_array(X, name, dtype=np.float64)
    if X.ndim < 2 or X.shape[0] < 1:
        raise ValueError(f"{name} must have a sample axis and per-sample axes, got shape {X.shape}")
    X = X.reshape(X.shape[0], -1)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
    return X


def nearest_neighbour_distances(X, reference, block: int = 1024) -> np.ndarray:
    """Euclidean distance of each row of ``X`` to its nearest row of ``reference`` (blocked matrix products)."""
    X, R = _rows(X, "X"), _rows(reference, "reference")
    if X.shape[1] != R.shape[1]:
        raise ValueError(f"X has {X.shape[1]} values per sample, reference {R.shape[1]}")
    block = check_int(block, "block", minimum=1)
    r2 = (R * R).sum(axis=1)
    out = np.empty(X.shape[0])
    for s in range(0, X.shape[0], block):
        x = X[s:s + block]
        d2 = (x * x).sum(axis=1)[:, None] + r2[None, :] - 2.0 * x @ R.T
        out[s:s + block] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out


def nearest_neighbour_gap(generated, train, held_out) -> dict:
    """Memorisation check: nearest-training-sample distances of generated and of held-out real samples.

    Returns
    -------
    dict with ``generated`` and ``held_out`` (mean distances), their standard errors, ``gap`` =
    ``generated - held_out`` and ``z`` = gap over its standard error.  A generator that copies its
    training set gives ``gap`` well below zero (``z << 0``); one that generalises gives ``gap``
    near zero or above (above: its samples are further from the data, i.e. of lower quality).
    """
    dg = nearest_neighbour_distances(generated, train)
    dh = nearest_neighbour_distances(held_out, train)
    if dg.size < 2 or dh.size < 2:
        raise ValueError("generated and held_out need at least 2 samples each")
    sg, sh = dg.std(ddof=1) / np.sqrt(dg.size), dh.std(ddof=1) / np.sqrt(dh.size)
    gap = dg.mean() - dh.mean()
    se = float(np.hypot(sg, sh))
    return {"generated": float(dg.mean()), "generated_err": float(sg), "held_out": float(dh.mean()),
            "held_out_err": float(sh), "gap": float(gap), "z": float(gap / se) if se > 0 else 0.0}


def inception_score(samples, classifier, eps: float = 1e-12) -> float:
    """``exp(<KL(p(y|x) || p(y))>_x)`` with ``p(y|x) = classifier(samples)`` (rows of class probabilities).

    1 when every sample gets the same class distribution; the number of classes when each sample is
    confidently of one class and the classes are used equally.
    """
    if not callable(classifier):
        raise TypeError(f"classifier must be callable (samples -> class probabilities), got {type(classifier).__name__}")
    P = check_array(classifier(samples), "classifier(samples)", dtype=np.float64)
    if P.ndim != 2 or P.shape[1] < 2:
        raise ValueError(f"classifier(samples) must return (n, n_classes >= 2) probabilities, got shape {P.shape}")
    if not (np.isfinite(P).all() and (P >= 0).all() and np.allclose(P.sum(axis=1), 1.0, atol=1e-6)):
        raise ValueError("classifier(samples) rows must be probabilities (>= 0, summing to 1)")
    py = P.mean(axis=0)
    kl = (P * (np.log(P + eps) - np.log(py + eps)[None, :])).sum(axis=1)
    return float(np.exp(kl.mean()))


def distribution_test(a, b) -> dict:
    """Two-sample Kolmogorov-Smirnov test of one observable: ``{"statistic", "pvalue", "mean_a", "mean_b"}``."""
    from scipy.stats import ks_2samp

    a = check_array(a, "a", dtype=np.float64).reshape(-1)
    b = check_array(b, "b", dtype=np.float64).reshape(-1)
    if a.size < 2 or b.size < 2:
        raise ValueError("a and b need at least 2 values each")
    for name, x in (("a", a), ("b", b)):
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} must hold finite values only")
    r = ks_2samp(a, b)
    return {"statistic": float(r.statistic), "pvalue": float(r.pvalue), "mean_a": float(a.mean()),
            "mean_b": float(b.mean())}
