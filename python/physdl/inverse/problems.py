"""Ill-posed test problems with known answers: the backward heat equation (book sec. 7.2-7.3) and
Shaw's first-kind Fredholm problem (C. B. Shaw, J. Math. Anal. Appl. 37 (1972); as in Hansen's
Regularization Tools), and Phillips' problem (D. L. Phillips, J. ACM 9 (1962) 84)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_float, check_int

__all__ = ["InverseProblem", "backward_heat", "shaw", "phillips", "phillips_data"]


@dataclass
class InverseProblem:
    """J x = y with the exact solution x_exact and noise-free data y_exact = J x_exact."""

    J: np.ndarray
    x_exact: np.ndarray
    y_exact: np.ndarray
    grid: np.ndarray
    name: str


def backward_heat(m: int = 64, t: float = 0.01, kappa: float = 1.0) -> InverseProblem:
    """The backward heat equation: recover u(x, 0) on (0, 1) from u(x, t) (Dirichlet ends).

    The forward map is exp(t kappa Delta_h) for the second-difference Laplacian on m interior
    points, through its sine eigenbasis: eigenvalues -(4/h^2) sin^2(k pi h / 2), h = 1/(m+1).
    Mode k is damped by exp(-t kappa (2/h)^2 sin^2(k pi h/2)), so small measurement errors in u(t)
    are amplified without bound going back in time (the loss of stability (3) of Hadamard's list).
    The initial state is a smooth bump plus a step, u0(x) = x (1 - x) 4 + 0.5 [0.3 < x < 0.6].

    Examples
    --------
    >>> p = backward_heat(16, 0.001)
    >>> p.J.shape
    (16, 16)
    """
    m = check_int(m, "m", minimum=2, maximum=20000)
    t = check_float(t, "t", positive=True)
    kappa = check_float(kappa, "kappa", positive=True)
    h = 1.0 / (m + 1)
    x = np.arange(1, m + 1) * h
    k = np.arange(1, m + 1)
    S = np.sqrt(2 * h) * np.sin(np.pi * np.outer(x, k))  # orthonormal sine basis
    lam = (2.0 / h) ** 2 * np.sin(k * np.pi * h / 2) ** 2
    J = (S * np.exp(-t * kappa * lam)) @ S.T
    u0 = 4 * x * (1 - x) + 0.5 * ((x > 0.3) & (x < 0.6))
    return InverseProblem(J, u0, J @ u0, x, "backward heat")


def shaw(m: int = 64) -> InverseProblem:
    """Shaw's one-dimensional image-restoration problem, a Fredholm integral equation of the first kind.

    K(s, t) = (cos s + cos t)^2 (sin u / u)^2, u = pi (sin s + sin t), s, t in [-pi/2, pi/2],
    discretised by the midpoint rule with m points (m even); x(t) = 2 exp(-6 (t - 0.8)^2) +
    exp(-2 (t + 0.5)^2).

    Examples
    --------
    >>> p = shaw(8)
    >>> bool(abs(p.J - p.J.T).max() < 1e-14)
    True
    """
    m = check_int(m, "m", minimum=2, maximum=20000)
    h = np.pi / m
    t = -np.pi / 2 + (np.arange(m) + 0.5) * h
    cs = np.cos(t)
    sn = np.sin(t)
    u = np.pi * (sn[:, None] + sn[None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        sinc = np.where(u == 0, 1.0, np.sin(u) / np.where(u == 0, 1.0, u))
    J = h * (cs[:, None] + cs[None, :]) ** 2 * sinc**2
    x = 2 * np.exp(-6 * (t - 0.8) ** 2) + np.exp(-2 * (t + 0.5) ** 2)
    return InverseProblem(J, x, J @ x, t, "shaw")


def _phillips_phi(x):
    return np.where(np.abs(x) < 3.0, 1.0 + np.cos(np.pi * x / 3.0), 0.0)


def phillips_data(s) -> np.ndarray:
    """The closed-form right-hand side of Phillips' problem, g(s) = int phi(s - t) phi(t) dt for |s| <= 6:
    g(s) = (6 - |s|) (1 + cos(pi s / 3) / 2) + 9 / (2 pi) sin(pi |s| / 3).

    Examples
    --------
    >>> round(float(phillips_data([0.0])[0]), 12)
    9.0
    """
    s = np.abs(np.asarray(s, dtype=np.float64))
    if s.ndim != 1 or not np.all(np.isfinite(s)) or np.any(s > 6.0):
        raise ValueError("s must be a finite 1-D array in [-6, 6]")
    return (6.0 - s) * (1.0 + 0.5 * np.cos(np.pi * s / 3.0)) + 9.0 / (2.0 * np.pi) * np.sin(np.pi * s / 3.0)


def phillips(m: int = 64) -> InverseProblem:
    """Phillips' first-kind Fredholm problem: int_{-6}^{6} phi(s - t) x(t) dt = g(s) with
    phi(x) = 1 + cos(pi x / 3) for |x| < 3 (0 otherwise) and the exact solution x(t) = phi(t).

    Discretised by the midpoint rule on m points of [-6, 6]; ``y_exact`` is J x_exact (it differs from
    the closed form :func:`phillips_data` by the O(h^2) quadrature error).

    Examples
    --------
    >>> p = phillips(16)
    >>> p.J.shape
    (16, 16)
    """
    m = check_int(m, "m", minimum=2, maximum=20000)
    h = 12.0 / m
    t = -6.0 + (np.arange(m) + 0.5) * h
    J = h * _phillips_phi(t[:, None] - t[None, :])
    x = _phillips_phi(t)
    return InverseProblem(J, x, J @ x, t, "phillips")
