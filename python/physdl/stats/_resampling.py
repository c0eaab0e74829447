"""Resampling and error bars for correlated series (book eq. 5.66-5.68, footnote 21).

* :func:`autocorrelation` by FFT and :func:`integrated_autocorrelation_time` with the automatic
  window of Madras and Sokal (J. Stat. Phys. 50, 109 (1988));
* :func:`mean_with_error` (eq. 5.68), :func:`binning_analysis`, the blocked :func:`jackknife` and a
  blocked :func:`bootstrap` (Philox-seeded) for derived quantities.

These lived in :mod:`physdl.sampling.mcmc` (which re-exports them); every area uses them, so they
live beside the estimate type.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from .._validate import check_array, check_float, check_int, check_seed
from ._estimate import Estimate

__all__ = ["AutocorrelationTime", "BinningResult", "autocorrelation", "integrated_autocorrelation_time",
           "mean_with_error", "binning_analysis", "jackknife", "bootstrap"]


def _scaled(x):
    """(x / s, s) with s a power of two near max |x| (exact rescaling; 1 for an all-zero series)."""
    m = float(np.max(np.abs(x)))
    if m == 0.0:
        return x, 1.0
    s = math.ldexp(1.0, math.frexp(m)[1])
    return x / s, s


def _series(x, name="x", min_len=2):
    x = check_array(x, name, dtype=np.float64, ndim=1, finite=True)
    if x.size < min_len:
        raise ValueError(f"{name} needs at least {min_len} samples, got {x.size}")
    return x


@dataclass(frozen=True, repr=False)
class AutocorrelationTime(Estimate):
    """Integrated autocorrelation time with its Madras-Sokal error and window: an :class:`Estimate`.

    ``value`` (= ``tau``) is the time, ``error`` (= ``tau_error``) its Madras-Sokal error, so it
    unpacks as ``(tau, error)`` and prints rounded like every estimate.

    Attributes
    ----------
    tau : float
        ``tau_int = 1/2 + sum_{t=1}^{W} rho(t)`` (also ``value``).
    error : float
        ``tau * sqrt((4 W + 2) / n)`` (Madras and Sokal 1988, eq. 2.24) (also ``tau_error``).
    window : int
        The chosen summation window ``W``.
    converged : bool
        False when no ``W < n/2`` satisfied ``W >= c tau(W)``: the series is too short for its
        correlation time (the value is then a lower bound).
    n : int
        Number of samples.
    """

    window: int = 0
    converged: bool = True

    @property
    def n_effective(self) -> float:
        """Effective number of independent samples ``n / (2 tau_int)``."""
        return self.n / (2 * self.tau)


def autocorrelation(x, max_lag: int | None = None) -> np.ndarray:
    """Normalised autocorrelation ``rho(t) = C(t)/C(0)`` of a series, by FFT (zero-padded, O(n log n)).

    ``C(t) = 1/(n - t) sum_{i<n-t} (x_i - xbar)(x_{i+t} - xbar)``.

    Parameters
    ----------
    x : 1D array
    max_lag : int, optional
        Largest lag returned (default ``n - 1``).

    Returns
    -------
    ndarray (max_lag + 1,) with ``rho[0] = 1``.

    Examples
    --------
    >>> autocorrelation([1.0, -1.0, 1.0, -1.0])[:2].tolist()
    [1.0, -1.0]
    """
    x = _series(x)
    n = x.size
    max_lag = n - 1 if max_lag is None else check_int(max_lag, "max_lag", minimum=0, maximum=n - 1)
    x = _scaled(x)[0]
    y = x - x.mean()
    size = sfft.next_fast_len(2 * n, real=True)
    f = sfft.rfft(y, size)
    c = sfft.irfft(f * np.conj(f), size)[: max_lag + 1]
    c /= np.arange(n, n - max_lag - 1, -1)
    if c[0] <= 0:
        raise ValueError("x is constant: its autocorrelation is undefined")
    return c / c[0]


def integrated_autocorrelation_time(x, c: float = 6.0) -> AutocorrelationTime:
    """Integrated autocorrelation time with the Madras-Sokal automatic window (footnote 21).

    ``tau(W) = 1/2 + sum_{t=1}^{W} rho(t)``; ``W`` is the smallest window with ``W >= c tau(W)``.

    Parameters
    ----------
    x : 1D array
        A time series (e.g. energy per sweep).
    c : float, default 6
        Window factor (5-6 is usual; larger is less biased, noisier).

    Returns
    -------
    AutocorrelationTime

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> from scipy.signal import lfilter
    >>> ar = lfilter([1.0], [1.0, -0.9], rng.normal(size=200_000))   # AR(1), phi = 0.9
    >>> r = integrated_autocorrelation_time(ar)                       # exact 1.9/0.2 = 9.5
    >>> bool(abs(r.tau - 9.5) < 3 * r.error)
    True
    """
    x = _series(x, min_len=4)
    c = check_float(c, "c", positive=True)
    n = x.size
    rho = autocorrelation(x, max_lag=n // 2)
    tau = 0.5 + np.cumsum(rho[1:])  # tau[W-1] = tau(W), W = 1..n/2
    w = np.arange(1, tau.size + 1)
    ok = w >= c * tau
    converged = bool(ok.any())
    W = int(w[np.argmax(ok)]) if converged else int(w[-1])
    t = float(max(tau[W - 1], 0.5 / n))  # guard: tau must be positive
    err = t * math.sqrt((4 * W + 2) / n)
    return AutocorrelationTime(value=t, error=err, tau=t, tau_error=err, n=n, window=W, converged=converged)


def mean_with_error(x, c: float = 6.0) -> Estimate:
    """Sample mean of a correlated series with error ``sqrt(2 tau_int var / n)`` (eq. 5.68).

    Examples
    --------
    >>> import numpy as np
    >>> m = mean_with_error(np.random.default_rng(2).normal(size=40_000))
    >>> bool(abs(m.error - 0.005) < 0.0005)
    True
    """
    x = _series(x, min_len=4)
    tau = integrated_autocorrelation_time(x, c)
    y, scale = _scaled(x)  # the variance of x * 1e160 overflows; that of y does not
    vy = float(y.var(ddof=1))
    with np.errstate(over="ignore"):
        var = float(np.float64(vy) * scale * scale)
    return Estimate(float(x.mean()), float(math.sqrt(2 * tau.tau * vy / x.size)) * scale, variance=var, tau=tau.tau,
                    tau_error=tau.error, n=int(x.size))


@dataclass(frozen=True)
class BinningResult:
    """Standard error of the mean against block size (binning / blocking analysis).

    Attributes
    ----------
    block_sizes : ndarray of int
        1, 2, 4, ... while at least ``min_blocks`` blocks remain.
    errors : ndarray
        Naive error of the mean from the block means at each block size.
    error_errors : ndarray
        Statistical uncertainty of each error, ``error / sqrt(2 (n_blocks - 1))``.
    error : float
        Plateau estimate: the error at the first level that agrees, within one ``error_errors``,
        with every larger block size (or at the last level if none does).
    plateau_level : int
        Index of that level.
    tau : float
        ``tau_int`` estimate ``(error / naive error)^2 / 2``.
    converged : bool
        Whether a plateau was found before the last level.
    """

    block_sizes: np.ndarray
    errors: np.ndarray
    error_errors: np.ndarray
    error: float
    plateau_level: int
    tau: float
    converged: bool


def binning_analysis(x, min_blocks: int = 32) -> BinningResult:
    """Binning analysis: errors of the mean from block averages of doubling size (eq. 5.68).

    For correlated data the naive error ``sigma / sqrt(n)`` underestimates the true one; block means of
    ``B >> tau_int`` samples are nearly independent, so the blocked error rises to a plateau.

    Parameters
    ----------
    x : 1D array
    min_blocks : int, default 32
        Stop doubling when fewer than this many blocks would remain.

    Returns
    -------
    BinningResult

    Examples
    --------
    >>> import numpy as np
    >>> r = binning_analysis(np.random.default_rng(3).normal(size=65536))
    >>> bool(abs(r.error - 1 / 256) < 0.1 / 256)
    True
    """
    x = _series(x)
    min_blocks = check_int(min_blocks, "min_blocks", minimum=2)
    if x.size < 2 * min_blocks:
        raise ValueError(f"x needs at least 2*min_blocks = {2 * min_blocks} samples, got {x.size}")
    n_levels = int(math.floor(math.log2(x.size / min_blocks))) + 1
    sizes, errs, eerrs = [], [], []
    for level in range(n_levels):  # one reshape per level (log2 n levels), vectorised inside
        b = 1 << level
        nb = x.size // b
        means = x[: nb * b].reshape(nb, b).mean(axis=1)
        e = means.std(ddof=1) / math.sqrt(nb)
        sizes.append(b), errs.append(e), eerrs.append(e / math.sqrt(2 * (nb - 1)))
    errs, eerrs = np.array(errs), np.array(eerrs)
    # plateau: first level k with errs[k] >= errs[j] - eerrs[j] for all j > k
    lower = errs - eerrs
    later_max = np.maximum.accumulate(lower[::-1])[::-1]  # max over j >= k of lower[j]
    later = np.append(later_max[1:], -np.inf)  # max over j > k
    ok = errs >= later
    k = int(np.argmax(ok))  # the last level always satisfies it
    converged = k < len(errs) - 1
    err = float(errs[k])
    tau = 0.5 * (err / errs[0]) ** 2 if errs[0] > 0 else 0.5
    return BinningResult(np.array(sizes), errs, eerrs, err, k, float(tau), bool(converged))


def jackknife(func, *series, n_blocks: int = 64, block_size: int | None = None) -> Estimate:
    """Blocked jackknife estimate and error of ``func(mean(series_1), mean(series_2), ...)``.

    The series are cut into ``n_blocks`` consecutive blocks (choose blocks longer than a few
    ``tau_int``); leave-one-block-out means ``theta_i`` give
    ``error^2 = (n_b - 1)/n_b sum_i (theta_i - theta_bar)^2`` and the bias-corrected value
    ``n_b theta - (n_b - 1) theta_bar``.

    Parameters
    ----------
    func : callable
        Vectorised function of the means: called once with arrays of shape ``(n_blocks,)`` (and once
        with the full-sample means as 0-d arrays).  E.g. ``lambda e, e2: beta**2 * N * (e2 - e**2)``.
    *series : 1D arrays of equal length
        Per-sample values (e.g. ``e`` and ``e**2``).
    n_blocks : int, default 64
    block_size : int, optional
        Overrides ``n_blocks`` with ``n // block_size`` blocks.

    Returns
    -------
    Estimate
        ``value`` is the bias-corrected jackknife estimate, ``error`` its standard error.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(4).normal(size=20_000)
    >>> est = jackknife(lambda m, m2: m2 - m**2, x, x**2)        # variance, exact 1
    >>> bool(abs(est.value - 1) < 4 * est.error)
    True
    """
    if not callable(func):
        raise TypeError("func must be a callable of the series means")
    if not series:
        raise ValueError("jackknife needs at least one series")
    arrs = [_series(s, f"series[{i}]") for i, s in enumerate(series)]
    n = arrs[0].size
    if any(a.size != n for a in arrs):
        raise ValueError(f"all series must have the same length, got {[a.size for a in arrs]}")
    if block_size is not None:
        block_size = check_int(block_size, "block_size", minimum=1)
        n_blocks = n // block_size
    n_blocks = check_int(n_blocks, "n_blocks", minimum=2)
    if n_blocks > n:
        raise ValueError(f"n_blocks = {n_blocks} exceeds the number of samples {n}")
    b = n // n_blocks
    used = n_blocks * b
    full, loo = [], []
    for a in arrs:
        sums = a[:used].reshape(n_blocks, b).sum(axis=1)
        total = sums.sum()
        full.append(np.asarray(total / used))
        loo.append((total - sums) / (used - b))
    theta = np.asarray(func(*full), dtype=np.float64)
    thetas = np.asarray(func(*loo), dtype=np.float64)
    if thetas.shape != (n_blocks,):
        raise ValueError(f"func must be vectorised: expected shape ({n_blocks},) for block means, "
                         f"got {thetas.shape}")
    mean_t = thetas.mean()
    err = math.sqrt((n_blocks - 1) / n_blocks * ((thetas - mean_t) ** 2).sum())
    value = n_blocks * float(theta) - (n_blocks - 1) * mean_t
    return Estimate(float(value), float(err), n=int(n))


def bootstrap(func, *series, n_boot: int = 1000, block_size: int = 1, seed: int = 0) -> Estimate:
    """Blocked bootstrap estimate and error of ``func(mean(series_1), mean(series_2), ...)``.

    The series are cut into ``n // block_size`` consecutive blocks (choose blocks longer than a few
    ``tau_int`` for correlated data; ``block_size = 1`` is Efron's bootstrap); ``n_boot`` resamples
    draw that many blocks with replacement, and the error is the standard deviation (ddof = 1) of
    ``func`` over the resamples.  The block indices come from Philox (stream ``"stats.bootstrap"``
    of :mod:`physdl.random.streams`), so a seed fixes the result on every machine.

    Parameters
    ----------
    func : callable
        Vectorised function of the means: called with arrays of shape ``(n_boot,)`` and once with
        the full-sample means as 0-d arrays.
    *series : 1D arrays of equal length
    n_boot : int, default 1000
    block_size : int, default 1
    seed : int, default 0

    Returns
    -------
    Estimate
        ``value`` is ``func`` of the full-sample means (not bias corrected), ``error`` the bootstrap
        standard error, ``n`` the number of samples used.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(4).normal(size=4000)
    >>> est = bootstrap(lambda m: m, x, n_boot=400, seed=1)        # the error of a mean: 1/sqrt(n)
    >>> bool(abs(est.error - 1 / np.sqrt(4000)) < 0.15 / np.sqrt(4000))
    True
    """
    from ..random import Generator
    from ..random import streams

    if not callable(func):
        raise TypeError("func must be a callable of the series means")
    if not series:
        raise ValueError("bootstrap needs at least one series")
    arrs = [_series(s, f"series[{i}]") for i, s in enumerate(series)]
    n = arrs[0].size
    if any(a.size != n for a in arrs):
        raise ValueError(f"all series must have the same length, got {[a.size for a in arrs]}")
    n_boot = check_int(n_boot, "n_boot", minimum=2, maximum=10**7)
    block_size = check_int(block_size, "block_size", minimum=1, maximum=n // 2)
    seed = check_seed(seed)
    nb = n // block_size
    used = nb * block_size
    if nb * n_boot > 10**8:
        raise ValueError(f"n_boot * n_blocks = {nb * n_boot} resampled blocks is too many (at most 1e8)")
    gen = Generator(seed, stream=streams.stream("stats.bootstrap"))
    idx = gen.integers(nb, (n_boot, nb))
    full, boot = [], []
    for a in arrs:
        means = a[:used].reshape(nb, block_size).mean(axis=1)
        full.append(np.asarray(means.mean()))
        boot.append(means[idx].mean(axis=1))
    theta = float(np.asarray(func(*full), dtype=np.float64))
    thetas = np.asarray(func(*boot), dtype=np.float64)
    if thetas.shape != (n_boot,):
        raise ValueError(f"func must be vectorised: expected shape ({n_boot},) for resampled means, "
                         f"got {thetas.shape}")
    return Estimate(theta, float(thetas.std(ddof=1)), n=int(used))
