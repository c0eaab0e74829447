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

import numpy as np

from .._validate import check_float, check_int
from ..stats import (  # noqa: F401  (moved to physdl.stats; re-exported here)
    AutocorrelationTime,
    BinningResult,
    Estimate,
    autocorrelation,
    binning_analysis,
    bootstrap,
    integrated_autocorrelation_time,
    jackknife,
    mean_with_error,
)
from ..stats._resampling import _series

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
    "bootstrap",
    "mean_with_error",
    "specific_heat",
    "susceptibility",
    "binder_cumulant",
]


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
