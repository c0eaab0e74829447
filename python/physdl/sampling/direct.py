"""Direct sampling from uniform Philox numbers (book section 5.2.1-5.2.2, eq. 5.23-5.35).

* :func:`inverse_transform` (eq. 5.23-5.25): ``x = F^{-1}(z)`` for uniform ``z``;
  :func:`exponential` (eq. 5.29-5.30) and :func:`discrete` are its closed-form cases.
* :func:`box_muller` (eq. 5.26-5.30): Gaussian pairs from an angle and an exponential variate.
* :func:`rejection_sample` (eq. 5.31-5.35): accept a proposal ``x ~ Q`` with probability
  ``P(x) / (M Q(x))``; the acceptance rate is ``1/M`` for normalised densities (eq. 5.34).

All randomness comes from :class:`physdl.random.Generator` (Philox4x32-10), so a ``(seed, stream)``
pair reproduces a draw exactly on every backend.

Examples
--------
>>> from physdl.sampling import direct
>>> x = direct.exponential(5, rate=2.0, seed=1)
>>> x.shape, bool((x > 0).all())
((5,), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validate import check_array, check_float, check_int, check_seed
from ..random import Generator

__all__ = [
    "inverse_transform",
    "exponential",
    "discrete",
    "box_muller",
    "RejectionResult",
    "rejection_sample",
]


def _generator(seed, stream, generator):
    if generator is not None:
        if not isinstance(generator, Generator):
            raise TypeError("generator must be a physdl.random.Generator")
        return generator
    return Generator(check_seed(seed), check_seed(stream, "stream"))


def _open_uniform(gen: Generator, n: int) -> np.ndarray:
    """Uniforms in (0, 1]: ``1 - u`` with ``u`` in [0, 1)."""
    return 1.0 - gen.uniform(n)


def inverse_transform(inverse_cdf, n: int, seed: int = 0, stream: int = 0,
                      generator: Generator | None = None) -> np.ndarray:
    """Samples ``x = F^{-1}(z)`` with ``z`` uniform on (0, 1) (inverse transform sampling, eq. 5.25).

    Parameters
    ----------
    inverse_cdf : callable
        Vectorised ``F^{-1}``, mapping an array of ``z`` in (0, 1] to samples.
    n : int
        Number of samples.
    seed, stream : int
        Philox address (ignored when ``generator`` is given).
    generator : physdl.random.Generator, optional
        Draw from this stream instead (advances it).

    Returns
    -------
    ndarray (n,)

    Examples
    --------
    >>> import numpy as np
    >>> x = inverse_transform(lambda z: np.tan(np.pi * (z - 0.5)), 4, seed=3)   # Cauchy
    >>> x.shape
    (4,)
    """
    if not callable(inverse_cdf):
        raise TypeError("inverse_cdf must be a callable F^{-1}(z)")
    n = check_int(n, "n", minimum=0)
    gen = _generator(seed, stream, generator)
    z = _open_uniform(gen, n)
    x = np.asarray(inverse_cdf(z), dtype=np.float64)
    if x.shape != (n,):
        raise ValueError(f"inverse_cdf must be vectorised: returned shape {x.shape} for {n} inputs")
    if not np.all(np.isfinite(x)):
        raise ValueError("inverse_cdf returned NaN or inf; it must map (0, 1] to finite values")
    return x


def exponential(n: int, rate: float = 1.0, seed: int = 0, stream: int = 0,
                generator: Generator | None = None) -> np.ndarray:
    """Exponential samples with density ``rate * exp(-rate x)`` (eq. 5.29-5.30: ``lambda = -log z``).

    Examples
    --------
    >>> x = exponential(100_000, rate=4.0, seed=0)
    >>> bool(abs(x.mean() - 0.25) < 0.005)
    True
    """
    rate = check_float(rate, "rate", positive=True)
    return inverse_transform(lambda z: -np.log(z) / rate, n, seed, stream, generator)


def discrete(p, n: int, seed: int = 0, stream: int = 0, generator: Generator | None = None) -> np.ndarray:
    """Indices ``i`` drawn with probabilities ``p_i`` by inverting the cumulative distribution.

    Parameters
    ----------
    p : 1D array of non-negative weights (normalised here if their sum is within 1e-9 of 1;
        otherwise they must be normalised by the caller).

    Returns
    -------
    ndarray of int64 (n,)

    Examples
    --------
    >>> discrete([0.0, 1.0, 0.0], 3, seed=1).tolist()
    [1, 1, 1]
    """
    p = check_array(p, "p", dtype=np.float64, ndim=1, finite=True, nonempty=True)
    if np.any(p < 0):
        raise ValueError(f"p must be non-negative; p[{int(np.argmin(p))}] = {p.min()}")
    if abs(p.sum() - 1.0) > 1e-9:
        raise ValueError(f"p must sum to 1, got sum {p.sum()!r}")
    n = check_int(n, "n", minimum=0)
    gen = _generator(seed, stream, generator)
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    u = gen.uniform(n)
    idx = np.searchsorted(cdf, u, side="right")
    return np.minimum(idx, p.size - 1).astype(np.int64)


def box_muller(n: int, seed: int = 0, stream: int = 0, generator: Generator | None = None) -> np.ndarray:
    """Standard normal samples by the Box-Muller method (eq. 5.26-5.30).

    ``theta = 2 pi u_1`` is uniform, ``lambda = -log z`` is exponential (eq. 5.30), ``r = sqrt(2 lambda)``
    and ``(x, y) = (r cos theta, r sin theta)`` (eq. 5.27); pairs are interleaved.

    Parameters
    ----------
    n : int
        Number of normals (an odd ``n`` drops the last ``y``).

    Returns
    -------
    ndarray (n,)

    Examples
    --------
    >>> z = box_muller(200_000, seed=5)
    >>> bool(abs(z.mean()) < 0.01 and abs(z.var() - 1) < 0.01)
    True
    """
    n = check_int(n, "n", minimum=0)
    gen = _generator(seed, stream, generator)
    pairs = (n + 1) // 2
    theta = 2 * math.pi * gen.uniform(pairs)
    lam = -np.log(_open_uniform(gen, pairs))
    r = np.sqrt(2 * lam)
    out = np.empty(2 * pairs)
    out[0::2] = r * np.cos(theta)
    out[1::2] = r * np.sin(theta)
    return out[:n]


@dataclass(frozen=True)
class RejectionResult:
    """Accepted samples and the bookkeeping of a rejection-sampling run.

    Attributes
    ----------
    samples : ndarray (n,)
    n_proposed : int
    acceptance_rate : float
        ``n / n_proposed``; equals ``1/M`` on average for normalised ``P`` and ``Q`` (eq. 5.34).
    """

    samples: np.ndarray
    n_proposed: int

    @property
    def acceptance_rate(self) -> float:
        return self.samples.size / self.n_proposed if self.n_proposed else float("nan")


def rejection_sample(target_pdf, proposal_sample, proposal_pdf, M: float, n: int, seed: int = 0,
                     stream: int = 0, generator: Generator | None = None,
                     max_proposals: int = 100_000_000) -> RejectionResult:
    """Rejection sampling of ``P`` with proposal ``Q`` and bound ``M Q(x) >= P(x)`` (eq. 5.31-5.35).

    Candidates are drawn in vectorised batches; a candidate is accepted when a uniform ``r`` satisfies
    ``r < P(x) / (M Q(x))``.  A candidate with ``P(x) > M Q(x)`` violates eq. 5.31 and raises.

    Parameters
    ----------
    target_pdf : callable
        Vectorised ``P(x)`` (need not be normalised; then ``M`` bounds the unnormalised ratio).
    proposal_sample : callable
        ``proposal_sample(generator, size) -> array``: draws ``size`` candidates from ``Q`` using the
        given :class:`physdl.random.Generator` (e.g. via :func:`inverse_transform` with ``generator=``).
    proposal_pdf : callable
        Vectorised ``Q(x)``.
    M : float > 0
    n : int
        Number of accepted samples wanted.
    seed, stream : int
    generator : physdl.random.Generator, optional
    max_proposals : int
        Give up (ValueError) after this many candidates.

    Returns
    -------
    RejectionResult

    Examples
    --------
    >>> import numpy as np
    >>> half_normal = lambda x: np.sqrt(2 / np.pi) * np.exp(-x**2 / 2)
    >>> res = rejection_sample(half_normal, lambda g, k: exponential(k, generator=g),
    ...                        lambda x: np.exp(-x), M=np.sqrt(2 * np.e / np.pi), n=1000, seed=2)
    >>> res.samples.shape, bool(0.6 < res.acceptance_rate < 0.9)     # 1/M = 0.760
    ((1000,), True)
    """
    for f, name in ((target_pdf, "target_pdf"), (proposal_sample, "proposal_sample"),
                    (proposal_pdf, "proposal_pdf")):
        if not callable(f):
            raise TypeError(f"{name} must be callable")
    M = check_float(M, "M", positive=True)
    n = check_int(n, "n", minimum=0)
    max_proposals = check_int(max_proposals, "max_proposals", minimum=1)
    gen = _generator(seed, stream, generator)
    accepted, n_acc, n_prop = [], 0, 0
    rate_guess = 0.5
    while n_acc < n:  # loop over vectorised batches, each sized for the samples still missing
        batch = int(min(max(64, 1.2 * (n - n_acc) / max(rate_guess, 1e-3)), 1 << 22))
        if n_prop + batch > max_proposals:
            raise ValueError(f"gave up after {n_prop} proposals with {n_acc} of {n} accepted: "
                             f"M is too large or Q covers P badly")
        x = np.asarray(proposal_sample(gen, batch), dtype=np.float64)
        if x.shape[:1] != (batch,):
            raise ValueError(f"proposal_sample(generator, {batch}) returned shape {x.shape}")
        p = np.asarray(target_pdf(x), dtype=np.float64)
        q = np.asarray(proposal_pdf(x), dtype=np.float64)
        if not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))) or np.any(p < 0) or np.any(q < 0):
            raise ValueError("target_pdf and proposal_pdf must return finite, non-negative values")
        ratio = np.divide(p, M * q, out=np.full_like(p, np.inf), where=q > 0)
        ratio[(p == 0)] = 0.0
        if np.any(ratio > 1 + 1e-12):
            i = int(np.argmax(ratio))
            raise ValueError(f"M Q(x) >= P(x) (eq. 5.31) fails at x = {x[i]!r}: P/(M Q) = {ratio[i]:.6g}; "
                             f"increase M")
        keep = gen.uniform(batch) < ratio
        accepted.append(x[keep])
        n_acc += int(keep.sum())
        n_prop += batch
        rate_guess = max(n_acc / n_prop, 1e-3)
    samples = np.concatenate(accepted)[:n] if accepted else np.empty(0)
    # count proposals up to the n-th acceptance so the rate is not biased by the last batch's surplus
    if accepted and n > 0:
        last = accepted[-1]
        surplus = n_acc - n
        if surplus > 0:
            keep_idx = np.flatnonzero(keep)
            n_prop -= batch - (keep_idx[len(last) - surplus - 1] + 1)
    return RejectionResult(samples, n_prop)
