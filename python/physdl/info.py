"""Information theory of discrete and Gaussian distributions (book ch. 1-2, eq. 1.4-1.19, 2.3, 2.8, 2.42-2.52).

* :func:`entropy` (information entropy, eq. 1.5), :func:`cross_entropy`, :func:`kl_divergence`
  (relative entropy, eq. 1.19 and 2.8);
* :func:`joint_entropy`, :func:`conditional_entropy`, :func:`mutual_information` of a joint table
  ``P(x, y)`` (marginals and conditionals of eq. 2.27-2.32);
* :func:`empirical_distribution` (eq. 2.3) with central-limit error bars (eq. 5.21),
  :func:`chebyshev_bound` (law of large numbers, eq. 5.12-5.14) and
  :func:`multinomial_log_probability` (eq. 1.14), whose
  large-sample rate is the relative entropy (Sanov's theorem, eq. 1.19);
* :func:`gaussian_kl`: closed-form KL divergence of two (multivariate) Gaussians (eq. 2.52).

Logarithms are natural (nats) unless ``base`` is given; ``0 log 0 = 0``.

Examples
--------
>>> from physdl import info
>>> round(float(info.entropy([0.25] * 4, base=2)), 12)     # eq. 1.7: log W
2.0
>>> float(info.kl_divergence([0.5, 0.5], [0.5, 0.5]))
0.0
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ._validate import check_array, check_axis, check_float, check_int

__all__ = [
    "entropy",
    "cross_entropy",
    "kl_divergence",
    "joint_entropy",
    "conditional_entropy",
    "mutual_information",
    "empirical_distribution",
    "chebyshev_bound",
    "multinomial_log_probability",
    "gaussian_kl",
]

_SUM_TOL = 1e-9


def _dist(p, name, axis=-1):
    p = check_array(p, name, dtype=np.float64, finite=True, nonempty=True)
    if p.ndim == 0:
        raise ValueError(f"{name} must be at least one-dimensional (a probability vector)")
    axis = check_axis(axis, "axis", p.ndim)
    if np.any(p < 0):
        raise ValueError(f"{name} must be non-negative (probabilities); min is {p.min()!r}")
    s = p.sum(axis=axis)
    if np.any(np.abs(s - 1) > _SUM_TOL):
        raise ValueError(f"{name} must sum to 1 along axis {axis}; got sum(s) {np.atleast_1d(s)[:5]!r}")
    return p


def _scale(base):
    if base is None:
        return 1.0
    base = check_float(base, "base", positive=True)
    if base == 1:
        raise ValueError("base must not be 1")
    return 1.0 / math.log(base)


def entropy(p, base: float | None = None, axis: int = -1):
    """Information entropy ``S = -sum_i p_i log p_i`` (eq. 1.5).

    Parameters
    ----------
    p : array of probabilities summing to 1 along ``axis``
    base : float, optional
        Logarithm base (default e: nats; 2: bits).
    axis : int, default -1

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> float(entropy([1.0, 0.0, 0.0]))          # eq. 1.6: a certain outcome carries no entropy
    0.0
    """
    p = _dist(p, "p", axis)
    return special.entr(p).sum(axis=axis) * _scale(base)


def cross_entropy(p, q, base: float | None = None, axis: int = -1):
    """Cross entropy ``H(p, q) = -sum_i p_i log q_i = S(p) + D_KL(p || q)``.

    ``inf`` when some ``q_i = 0`` where ``p_i > 0``.

    Examples
    --------
    >>> round(float(cross_entropy([0.5, 0.5], [0.25, 0.75], base=2)), 6)
    1.207519
    """
    p, q = _pair(p, q, axis)
    with np.errstate(divide="ignore"):
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, q, 1.0)), 0.0)
    return terms.sum(axis=axis) * _scale(base)


def _pair(p, q, axis):
    p = _dist(p, "p", axis)
    q = _dist(q, "q", axis)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    return p, q


def kl_divergence(p, q, base: float | None = None, axis: int = -1):
    """Relative entropy ``D_KL(p || q) = sum_i p_i log(p_i / q_i)`` (eq. 1.19, 2.8); ``>= 0`` (eq. 2.43).

    ``inf`` when ``q_i = 0`` for some ``p_i > 0``.

    Examples
    --------
    >>> round(float(kl_divergence([0.5, 0.5], [0.9, 0.1])), 6)
    0.510826
    """
    p, q = _pair(p, q, axis)
    return special.rel_entr(p, q).sum(axis=axis) * _scale(base)


def _joint(pxy):
    pxy = check_array(pxy, "pxy", dtype=np.float64, ndim=2, finite=True, nonempty=True)
    if np.any(pxy < 0):
        raise ValueError("pxy must be non-negative")
    if abs(pxy.sum() - 1) > _SUM_TOL:
        raise ValueError(f"pxy must sum to 1, got {pxy.sum()!r}")
    return pxy


def joint_entropy(pxy, base: float | None = None) -> float:
    """``S(X, Y) = -sum_{x,y} P(x, y) log P(x, y)`` of a joint table ``pxy[x, y]``."""
    pxy = _joint(pxy)
    return float(special.entr(pxy).sum() * _scale(base))


def conditional_entropy(pxy, given: str = "x", base: float | None = None) -> float:
    """Conditional entropy ``S(Y | X) = S(X, Y) - S(X)`` (``given="x"``) or ``S(X | Y)`` (``given="y"``).

    Computed as ``-sum P(x, y) log P(y | x)`` with ``P(y|x) = P(x, y) / P(x)`` (eq. 2.31).

    Examples
    --------
    >>> import numpy as np
    >>> float(conditional_entropy(np.diag([0.5, 0.5])))      # Y = X: nothing left to learn
    0.0
    """
    pxy = _joint(pxy)
    if given not in ("x", "y"):
        raise ValueError(f"given must be one of 'x', 'y'; got {given!r}")
    marg = pxy.sum(axis=1, keepdims=True) if given == "x" else pxy.sum(axis=0, keepdims=True)
    cond = np.divide(pxy, marg, out=np.zeros_like(pxy), where=marg > 0)
    with np.errstate(divide="ignore"):
        terms = np.where(pxy > 0, -pxy * np.log(np.where(pxy > 0, cond, 1.0)), 0.0)
    return float(terms.sum() * _scale(base))


def mutual_information(pxy, base: float | None = None) -> float:
    """Mutual information ``I(X; Y) = D_KL(P(x, y) || P(x) P(y))`` of a joint table ``pxy[x, y]``.

    Examples
    --------
    >>> import numpy as np
    >>> round(mutual_information(np.diag([0.5, 0.5]), base=2), 12)   # one shared bit
    1.0
    """
    pxy = _joint(pxy)
    prod = np.outer(pxy.sum(axis=1), pxy.sum(axis=0))
    return float(max(special.rel_entr(pxy, prod).sum(), 0.0) * _scale(base))


def empirical_distribution(samples, n_states: int | None = None, return_errors: bool = False):
    """Empirical probability ``q_i = #_i / #`` of integer-labelled samples (eq. 2.3, 5.20).

    Parameters
    ----------
    samples : 1D array of non-negative ints
    n_states : int, optional
        Length of the result (default ``max(samples) + 1``).
    return_errors : bool, default False
        Also return the central-limit error bars ``sqrt(q_i (1 - q_i) / #)`` of eq. 5.21 (the
        one-sigma band holds the true ``p_i`` about 68% of the time, eq. 5.17).

    Returns
    -------
    q : ndarray, or, when ``return_errors``, a :class:`physdl.stats.Estimate` of arrays ``(q, errors)``
        (it unpacks as ``q, errors = ...``)

    Examples
    --------
    >>> empirical_distribution([0, 2, 2, 1]).tolist()
    [0.25, 0.25, 0.5]
    """
    s = np.asarray(samples)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"samples must be a non-empty 1D array, got shape {s.shape}")
    if s.dtype.kind not in "iu":
        if s.dtype.kind == "f" and np.all(np.isfinite(s)) and np.all(s == np.round(s)):
            s = s.astype(np.int64)
        else:
            raise TypeError(f"samples must be integer state labels, got dtype {s.dtype}")
    if s.min() < 0:
        raise ValueError("samples must be non-negative state labels")
    n = int(s.max()) + 1 if n_states is None else check_int(n_states, "n_states", minimum=1)
    if s.max() >= n:
        raise ValueError(f"a sample label {int(s.max())} is >= n_states = {n}")
    q = np.bincount(s, minlength=n) / s.size
    if return_errors:
        from .stats import Estimate

        return Estimate(q, np.sqrt(q * (1 - q) / s.size), n=int(s.size))
    return q


def chebyshev_bound(variance: float, n: int, eps: float) -> float:
    """Law-of-large-numbers lower bound ``P(|X_mean - mu| < eps) >= 1 - sigma^2 / (eps^2 #)`` (eq. 5.14).

    Returns the bound clipped at 0 (it is vacuous when ``sigma^2 > eps^2 #``).

    Examples
    --------
    >>> chebyshev_bound(0.25, 10_000, 0.01)     # a fair coin, eq. 5.12
    0.75
    """
    variance = check_float(variance, "variance", nonnegative=True)
    n = check_int(n, "n", minimum=1)
    eps = check_float(eps, "eps", positive=True)
    return max(0.0, 1.0 - variance / (eps * eps * n))


def multinomial_log_probability(counts, q) -> float:
    """``ln`` of the probability of observing ``counts`` in ``#`` independent draws from ``q`` (eq. 1.14).

    ``ln[#! / prod #_i! * prod q_i^{#_i}]``, exact via ``ln Gamma``.  Sanov (eq. 1.19): for large ``#``,
    ``ln P / # -> -D_KL(counts/# || q)``.

    Examples
    --------
    >>> round(math.exp(multinomial_log_probability([1, 1], [0.5, 0.5])), 12)
    0.5
    """
    c = check_array(counts, "counts", dtype=np.float64, ndim=1, finite=True, nonempty=True)
    if np.any(c < 0) or np.any(c != np.round(c)):
        raise ValueError("counts must be non-negative integers")
    q = _dist(q, "q")
    if q.shape != c.shape:
        raise ValueError(f"counts and q must have the same length, got {c.size} and {q.size}")
    if np.any((c > 0) & (q == 0)):
        return float("-inf")
    # ln P = f(N) - sum f(c_i) - sum c_i ln(c_i / (N q_i)), f(x) = ln x! - x ln x + x (Stirling's
    # remainder, evaluated by its series for large x): no term overflows even when N does
    cmax = float(c.max())
    if cmax == 0.0:
        return 0.0
    r = c / cmax
    log_n = math.log(cmax) + math.log(float(r.sum()))
    pos = c > 0
    kl_terms = c[pos] * (np.log(r[pos]) - math.log(float(r.sum())) - np.log(q[pos]))
    return float(_stirling_rest(np.array([log_n]), log_n=True)[0] - _stirling_rest(c[pos]).sum() - kl_terms.sum())


def _stirling_rest(x, log_n: bool = False):
    """f(x) = ln Gamma(x + 1) - x ln x + x; with log_n the argument is ln x (x may overflow)."""
    lx = x if log_n else np.log(np.maximum(x, 1e-300))
    big = lx > math.log(1e6)
    xs = np.exp(np.minimum(lx, math.log(1e6)))
    with np.errstate(over="ignore"):
        inv = np.exp(-lx)
    series = 0.5 * (math.log(2 * math.pi) + lx) + inv / 12 - inv**3 / 360
    direct = special.gammaln(xs + 1) - xs * np.log(xs) + xs
    return np.where(big, series, direct)


def gaussian_kl(mu_p, cov_p, mu_q, cov_q) -> float:
    """Closed-form ``D_KL(N(mu_p, cov_p) || N(mu_q, cov_q))`` (eq. 2.52 and its d-dimensional form).

    ``1/2 [tr(S_q^-1 S_p) + (mu_q - mu_p)^T S_q^-1 (mu_q - mu_p) - d + ln(det S_q / det S_p)]``, via
    Cholesky factors (no explicit inverse).  In one dimension pass variances ``sigma^2`` (scalars).

    Parameters
    ----------
    mu_p, mu_q : float or (d,) array
    cov_p, cov_q : float (variance) or (d, d) symmetric positive-definite array

    Examples
    --------
    >>> round(gaussian_kl(0.0, 1.0, 1.0, 4.0), 12)      # eq. 2.52 with sigma_p=1, sigma_q=2, dmu=1
    0.44314718056
    """
    from scipy import linalg

    def prep(mu, cov, name):
        mu = check_array(np.atleast_1d(mu), f"mu_{name}", dtype=np.float64, ndim=1, finite=True, nonempty=True)
        cov = check_array(np.atleast_2d(cov), f"cov_{name}", dtype=np.float64, ndim=2, finite=True)
        d = mu.size
        if cov.shape != (d, d):
            raise ValueError(f"cov_{name} must have shape ({d}, {d}) to match mu_{name}, got {cov.shape}")
        if not np.allclose(cov, cov.T, rtol=1e-12, atol=0):
            raise ValueError(f"cov_{name} must be symmetric")
        try:
            L = linalg.cholesky(cov, lower=True)
        except linalg.LinAlgError:
            raise ValueError(f"cov_{name} must be positive definite") from None
        return mu, cov, L

    mp, cp, Lp = prep(mu_p, cov_p, "p")
    mq, cq, Lq = prep(mu_q, cov_q, "q")
    if mp.size != mq.size:
        raise ValueError(f"p and q have different dimensions {mp.size} and {mq.size}")
    d = mp.size
    A = linalg.solve_triangular(Lq, Lp, lower=True)  # Lq^-1 Lp: tr(Sq^-1 Sp) = ||A||_F^2
    b = linalg.solve_triangular(Lq, mq - mp, lower=True)
    logdet = 2 * (np.log(np.diag(Lq)).sum() - np.log(np.diag(Lp)).sum())
    return float(0.5 * ((A * A).sum() + b @ b - d + logdet))
