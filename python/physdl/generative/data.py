"""Data for generative models: the 2D ring of Gaussians, and mode counting (book ch. 6.3)."""

from __future__ import annotations

import math

import numpy as np

from .._validate import check_array, check_float, check_int, check_seed
from ..random import Generator

__all__ = ["STREAMS", "ring_modes", "ring_of_gaussians", "mode_coverage"]

# Philox streams of this package (all of a seed's streams here start at 2^61 + 2^40, away from the
# nn engine's streams 0-1 and the lattice's disorder stream 2^62).
_BASE = (1 << 61) + (1 << 40)
STREAMS = {"data": _BASE + 0, "latent": _BASE + 1, "interpolation": _BASE + 2, "batches": _BASE + 3}


def ring_modes(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """Centres ``radius * (cos 2 pi k/K, sin 2 pi k/K)`` of a ring mixture, shape ``(K, 2)``."""
    n_modes = check_int(n_modes, "n_modes", minimum=1, maximum=2**20)
    radius = check_float(radius, "radius", positive=True)
    a = 2.0 * math.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(a), np.sin(a)], axis=1)


def ring_of_gaussians(n: int, n_modes: int = 8, radius: float = 2.0, std: float = 0.05, seed: int = 0,
                      return_labels: bool = False):
    """``n`` samples of an equal-weight mixture of isotropic Gaussians on a circle.

    The mode of each sample and its offset come from Philox stream ``STREAMS["data"]`` of ``seed``
    (same seed, same data on every backend).

    Parameters
    ----------
    n : int
    n_modes : int, default 8
    radius, std : float
    seed : int
    return_labels : bool
        Also return the mode index of each sample.

    Returns
    -------
    X : ndarray ``(n, 2)`` float64 (and ``labels`` ``(n,)`` int64)

    Examples
    --------
    >>> X, k = ring_of_gaussians(1000, seed=0, return_labels=True)
    >>> X.shape, int(k.max())
    ((1000, 2), 7)
    """
    n = check_int(n, "n", minimum=1, maximum=2**32)
    modes = ring_modes(n_modes, radius)
    std = check_float(std, "std", positive=True)
    gen = Generator(check_seed(seed), stream=STREAMS["data"])
    labels = gen.integers(modes.shape[0], n)
    X = modes[labels] + std * gen.normal((n, 2))
    return (X, labels) if return_labels else X


def mode_coverage(samples, modes, std: float, radius_sigmas: float = 3.0, min_fraction: float = 0.1) -> dict:
    """Which modes a set of samples covers, counted by nearest mode.

    A sample is *high quality* when it lies within ``radius_sigmas * std`` of its nearest mode; a mode
    is *covered* when it holds at least ``min_fraction`` of its fair share ``n / K`` of high-quality
    samples.  Mode collapse shows as few covered modes.

    Parameters
    ----------
    samples : array ``(n, d)``
    modes : array ``(K, d)``
    std : float
        The width of each mode.
    radius_sigmas, min_fraction : float

    Returns
    -------
    dict with ``counts`` (high-quality samples per mode), ``covered`` (bool per mode), ``n_covered``,
    ``high_quality`` (fraction of samples), ``nearest`` (mode index per sample), ``mean`` and ``cov``
    (per mode, ``(K, d)`` and ``(K, d, d)``, NaN where fewer than 2 samples).
    """
    X = check_array(samples, "samples", dtype=np.float64, ndim=2)
    M = check_array(modes, "modes", dtype=np.float64, ndim=2)
    if M.shape[1] != X.shape[1] or M.shape[0] < 1:
        raise ValueError(f"modes must have shape (K, {X.shape[1]}), got {M.shape}")
    if not (np.isfinite(X).all() and np.isfinite(M).all()):
        raise ValueError("samples and modes must contain only finite values")
    std = check_float(std, "std", positive=True)
    radius_sigmas = check_float(radius_sigmas, "radius_sigmas", positive=True)
    min_fraction = check_float(min_fraction, "min_fraction", nonnegative=True)
    d2 = ((X[:, None, :] - M[None, :, :]) ** 2).sum(axis=2)
    nearest = d2.argmin(axis=1)
    good = d2[np.arange(X.shape[0]), nearest] <= (radius_sigmas * std) ** 2
    K, d = M.shape
    counts = np.bincount(nearest[good], minlength=K)
    covered = counts >= max(1.0, min_fraction * X.shape[0] / K)
    mean = np.full((K, d), np.nan)
    cov = np.full((K, d, d), np.nan)
    for k in np.flatnonzero(counts >= 2):  # loop over the K modes, not over samples
        pts = X[good & (nearest == k)]
        mean[k] = pts.mean(axis=0)
        cov[k] = np.cov(pts, rowvar=False).reshape(d, d)
    return {"counts": counts, "covered": covered, "n_covered": int(covered.sum()),
            "high_quality": float(good.mean()), "nearest": nearest, "mean": mean, "cov": cov}
