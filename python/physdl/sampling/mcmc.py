"""Error analysis of Markov-chain Monte Carlo time series (book eq. 5.66-5.68 and footnotes 20-21).

* burn-in (eq. 5.66, footnote 20): :func:`discard_burn_in`, :func:`detect_equilibration`;
* thinning: :func:`thin`;
* autocorrelation (footnote 21): :func:`autocorrelation` by FFT, :func:`integrated_autocorrelation_time`
  with the automatic window of Madras and Sokal (J. Stat. Phys. 50, 109 (1988)): the smallest ``W``
  with ``W >= c tau_int(W)``, ``c ~ 5-6``;
* error bars of eq. 5.68 for correlated data: :func:`binning_analysis` and the blocked jackknife
  :func:`jackknife` for derived quantities (:func:`specific_heat`, :func:`susceptibility`,
  :func:`binder_cumulant`).

Convention: ``tau_int = 1/2 + sum_{t>=1} rho(t)``, so the variance of the mean of ``n`` correlated
samples is ``2 tau_int sigma^2 / n`` (an AR(1) process ``x_t = phi x_{t-1} + noise`` has
``tau_int = (1 + phi) / (2 (1 - phi))``).  Nothing here loops over samples in Python.

Examples
--------
>>> import numpy as np
>>> from physdl.sampling import mcmc
>>> x = np.random.default_rng(0).normal(size=10_000)
>>> r = mcmc.integrated_autocorrelation_time(x)
>>> bool(abs(r.tau - 0.5) < 0.05)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from .._validate import check_array, check_float, check_int

__all__ = [
    "Estimate",
    "AutocorrelationTime",
    "BinningResult",
    "autocorrelation",
    "integrated_autocorrelation_time",
    "discard_burn_in",
    "thin",
    "detect_equilibration",
    "binning_analysis",
    "jackknife",
    "mean_with_error",
    "specific_heat",
    "susceptibility",
    "binder_cumulant",
]


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error (and, for jackknife estimates, the bias-corrected value)."""

    value: float
    error: float

    def __iter__(self):
        return iter((self.value, self.error))

    def __format__(self, spec):
        return f"{format(self.value, spec)} ± {format(self.error, spec)}"


@dataclass(frozen=True)
class AutocorrelationTime:
    """Integrated autocorrelation time with its Madras-Sokal error and window.

    Attributes
    ----------
    tau : float
        ``tau_int = 1/2 + sum_{t=1}^{W} rho(t)``.
    error : float
        ``tau * sqrt((4 W + 2) / n)`` (Madras and Sokal 1988, eq. 2.24).
    window : int
        The chosen summation window ``W``.
    converged : bool
        False when no ``W < n/2`` satisfied ``W >= c tau(W)``: the series is too short for its
        correlation time (the value is then a lower bound).
    n : int
        Number of samples.
    """

    tau: float
    error: float
    window: int
    converged: bool
    n: int

    @property
    def n_effective(self) -> float:
        """Effective number of independent samples ``n / (2 tau_int)``."""
        return self.n / (2 * self.tau)


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
    return AutocorrelationTime(t, t * math.sqrt((4 * W + 2) / n), W, converged, n)


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
    return Estimate(float(x.mean()), float(math.sqrt(2 * tau.tau * y.var(ddof=1) / x.size)) * scale)


def discard_burn_in(x, n_burn: int) -> np.ndarray:
    """Drop the first ``n_burn`` samples (thermalisation, eq. 5.66 and footnote 20).

    Works on any array along axis 0.

    Examples
    --------
    >>> discard_burn_in([5, 4, 1, 2], 2).tolist()
    [1, 2]
    """
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("x must be at least one-dimensional")
    n_burn = check_int(n_burn, "n_burn", minimum=0)
    if n_burn >= x.shape[0]:
        raise ValueError(f"n_burn = {n_burn} would discard all {x.shape[0]} samples")
    return x[n_burn:]


def thin(x, every: int) -> np.ndarray:
    """Keep every ``every``-th sample along axis 0 (thinning; ``every ~ 2 tau_int`` gives ~independent samples).

    Examples
    --------
    >>> thin([0, 1, 2, 3, 4], 2).tolist()
    [0, 2, 4]
    """
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("x must be at least one-dimensional")
    every = check_int(every, "every", minimum=1)
    return x[::every]


def detect_equilibration(x, n_candidates: int = 50, c: float = 6.0) -> tuple[int, float]:
    """Automatic burn-in: the start ``t0`` that maximises the effective sample size of ``x[t0:]``.

    ``n_eff(t0) = (n - t0) / (2 tau_int(x[t0:]))`` over ``n_candidates`` evenly spaced ``t0`` in the
    first half of the series (the criterion of J. D. Chodera, J. Chem. Theory Comput. 12, 1799
    (2016)); a transient inflates the variance and ``tau_int``, so discarding it raises ``n_eff``.

    Parameters
    ----------
    x : 1D array
    n_candidates : int, default 50
    c : float, default 6
        Madras-Sokal window factor.

    Returns
    -------
    (t0, n_eff) : int, float

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=4000); x[:200] += 20 * np.exp(-np.arange(200) / 20)
    >>> t0, _ = detect_equilibration(x)
    >>> 80 <= t0 <= 400
    True
    """
    x = _series(x, min_len=8)
    n_candidates = check_int(n_candidates, "n_candidates", minimum=1)
    starts = np.unique(np.linspace(0, x.size // 2, n_candidates).astype(int))
    neff = np.array([(x.size - t) / (2 * integrated_autocorrelation_time(x[t:], c).tau)
                     for t in starts])  # one FFT per candidate start, not a loop over samples
    i = int(np.argmax(neff))
    return int(starts[i]), float(neff[i])


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
    return Estimate(float(value), float(err))


def specific_heat(e, beta: float, n_spins: int, n_blocks: int = 64) -> Estimate:
    """Specific heat per spin ``C = beta^2 N (<e^2> - <e>^2)`` from energies per spin ``e``, jackknife error.

    Parameters
    ----------
    e : 1D array
        Energy per spin of each (equilibrated) measurement.
    beta : float > 0
    n_spins : int
    n_blocks : int, default 64

    Examples
    --------
    >>> import numpy as np
    >>> e = np.random.default_rng(5).normal(-1.0, 0.1, size=50_000)
    >>> c = specific_heat(e, beta=0.5, n_spins=100)              # exact 0.25 * 100 * 0.01 = 0.25
    >>> bool(abs(c.value - 0.25) < 4 * c.error)
    True
    """
    beta = check_float(beta, "beta", positive=True)
    n_spins = check_int(n_spins, "n_spins", minimum=1)
    e = _series(e, "e")
    shift = e.mean()  # centre first: no cancellation in <e^2> - <e>^2
    d = e - shift
    return jackknife(lambda m1, m2: beta**2 * n_spins * (m2 - m1**2), d, d * d, n_blocks=n_blocks)


def susceptibility(m, beta: float, n_spins: int, absolute: bool = True, n_blocks: int = 64) -> Estimate:
    """Susceptibility per spin ``chi = beta N (<m^2> - <|m|>^2)`` (or with ``<m>`` if not ``absolute``).

    On a finite lattice without field ``<m> = 0`` by symmetry, so ``<|m|>`` is the usual choice.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.random.default_rng(6).normal(0.0, 0.1, size=50_000)
    >>> x = susceptibility(m, beta=1.0, n_spins=100, absolute=False)   # exact 1 * 100 * 0.01 = 1
    >>> bool(abs(x.value - 1.0) < 4 * x.error)
    True
    """
    beta = check_float(beta, "beta", positive=True)
    n_spins = check_int(n_spins, "n_spins", minimum=1)
    m = _series(m, "m")
    first = np.abs(m) if absolute else m
    return jackknife(lambda a, b: beta * n_spins * (b - a**2), first, m * m, n_blocks=n_blocks)


def binder_cumulant(m, n_blocks: int = 64) -> Estimate:
    """Binder cumulant ``U = 1 - <m^4> / (3 <m^2>^2)`` with jackknife error.

    ``U -> 2/3`` in the ordered phase and ``-> 0`` for Gaussian fluctuations (disordered phase).

    Examples
    --------
    >>> import numpy as np
    >>> u = binder_cumulant(np.random.default_rng(7).normal(size=100_000))
    >>> bool(abs(u.value) < 4 * u.error)
    True
    """
    m = _series(m, "m")
    m2 = m * m
    return jackknife(lambda a, b: 1.0 - b / (3.0 * a * a), m2, m2 * m2, n_blocks=n_blocks)
