"""Data for generative models: the 2D ring of Gaussians, and mode counting (book ch. 6.3)."""

from __future__ import annotations

import math

import numpy as np

from ..random import streams as _streams
from .._validate import check_array, check_float, check_int, check_seed
from ..random import Generator

__all__ = ["STREAMS", "ring_modes", "ring_of_gaussians", "mode_coverage", "ising_configurations", "ising_observables"]

# Philox streams of this package (all of a seed's streams here start at 2^61 + 2^40, away from the
# nn engine's streams 0-1 and the lattice's disorder stream 2^62).
# Philox streams, from the "generative" range of the stream register
STREAMS = {name: _streams.stream("generative", k) for k, name in enumerate(("data", "latent", "interpolation",
                                                                             "batches", "spins"))}


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


def ising_configurations(L: int, T: float, n: int, seed: int = 0, every: int = 4, burn_in: int = 500,
                         dtype="float32") -> np.ndarray:
    """``n`` Monte Carlo configurations of the square-lattice Ising model as training data.

    Metropolis sweeps of :class:`physdl.lattice.Simulation` (``J = 1``, periodic ``L x L`` torus),
    ``every`` sweeps apart after ``burn_in`` sweeps.

    Returns
    -------
    ndarray ``(n, L, L)`` of +-1 in ``dtype`` (flatten with ``reshape(n, -1)`` for a Dense network)
    """
    from .. import lattice

    L = check_int(L, "L", minimum=2, maximum=4096)
    T = check_float(T, "T", positive=True)
    if str(np.dtype(dtype)) not in ("float32", "float64"):
        raise TypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    sim = lattice.Simulation(lattice.Ising((L, L)), T=T, seed=check_seed(seed))
    return sim.configurations(n, every=every, burn_in=burn_in).astype(dtype)


def ising_observables(samples, L: int) -> dict:
    """Energy per site ``-(1/N) sum_<ij> s_i s_j`` and ``|m|`` of samples mapped to +-1 by their sign.

    Generated samples (e.g. a generator's ``tanh`` outputs) are mapped to ``s = sign(x)`` (0 -> +1)
    before the observables are taken, so Monte Carlo and generated samples are measured alike.

    Parameters
    ----------
    samples : array ``(n, L, L)`` or ``(n, L*L)``
    L : int

    Returns
    -------
    dict with ``energy``, ``magnetisation`` and ``abs_magnetisation`` (per sample, ``(n,)``)
    """
    L = check_int(L, "L", minimum=2, maximum=4096)
    X = check_array(samples, "samples", dtype=np.float64)
    if X.ndim < 2 or X.shape[0] == 0 or int(np.prod(X.shape[1:])) != L * L:
        raise ValueError(f"samples must have shape (n, {L}, {L}) or (n, {L * L}), got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("samples must contain only finite values")
    s = np.where(X.reshape(-1, L, L) >= 0, 1.0, -1.0)
    e = -(s * (np.roll(s, 1, axis=1) + np.roll(s, 1, axis=2))).sum(axis=(1, 2)) / (L * L)
    m = s.mean(axis=(1, 2))
    return {"energy": e, "abs_magnetisation": np.abs(m), "magnetisation": m}
