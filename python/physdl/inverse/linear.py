"""Linear inverse problems (book sec. 7.2, eq. 7.2-7.10): least squares, the Moore-Penrose inverse,
Tikhonov regularisation through one SVD for any number of alphas, the smoothness penalty (eq. 7.6)
through the standard-form transformation, and the choice of alpha (Morozov's discrepancy principle,
the L-curve corner, generalised cross-validation).

Scaling as in the book: the Tikhonov solution minimises ||y - J x||^2 + alpha ||x||^2 (eq. 7.4-7.5),
x(alpha) = sum_p f_p (u_p . y / mu_p) v_p with the filter factors f_p = mu_p^2 / (mu_p^2 + alpha)
(eq. 7.9-7.10), and with the smoothness penalty alpha ||D x||^2, D the first-difference operator.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.optimize import brentq, minimize_scalar

from .._validate import check_array, check_float, check_int

__all__ = [
    "least_squares",
    "pseudo_inverse",
    "difference_operator",
    "Tikhonov",
    "picard",
]


def _check_system(J, y):
    J = check_array(J, "J", dtype=np.float64, ndim=2, finite=True, nonempty=True)
    y = check_array(y, "y", dtype=np.float64, ndim=1, finite=True)
    if y.shape[0] != J.shape[0]:
        raise ValueError(f"y must have one entry per row of J ({J.shape[0]}), got {y.shape[0]}")
    return J, y


def _check_alphas(alphas):
    a = check_array(np.atleast_1d(alphas), "alpha", dtype=np.float64, ndim=1, finite=True, nonempty=True)
    if np.any(a < 0):
        raise ValueError(f"alpha must be >= 0, got {a[a < 0][0]}")
    return a


def _rank_cut(s, rcond):
    if rcond is None:
        rcond = np.finfo(float).eps * max(1, s.size)
    rcond = check_float(rcond, "rcond", nonnegative=True)
    return s > rcond * (s[0] if s.size else 0.0)


def least_squares(J, y, *, rcond=None) -> np.ndarray:
    """The minimum-norm least-squares solution of J x = y (eq. 7.4), through the SVD.

    Singular values below ``rcond * mu_max`` are treated as zero (default: machine epsilon times
    max(n, m)), as in ``numpy.linalg.lstsq``.

    Examples
    --------
    >>> import numpy as np
    >>> least_squares(np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]), np.array([1.0, 2.0, 5.0]))
    array([1., 1.])
    """
    J, y = _check_system(J, y)
    return pseudo_inverse(J, rcond=rcond) @ y


def pseudo_inverse(J, *, rcond=None) -> np.ndarray:
    """The Moore-Penrose inverse A(0) of eq. 7.10: sum_p (1/mu_p) v_p u_p^T over mu_p > rcond mu_max.

    Examples
    --------
    >>> import numpy as np
    >>> pseudo_inverse(np.array([[2.0, 0.0], [0.0, 0.0]]))
    array([[0.5, 0. ],
           [0. , 0. ]])
    """
    J = check_array(J, "J", dtype=np.float64, ndim=2, finite=True, nonempty=True)
    u, s, vt = scipy.linalg.svd(J, full_matrices=False, lapack_driver="gesdd")
    keep = _rank_cut(s, rcond)
    return (vt[keep].T / s[keep]) @ u[:, keep].T


def difference_operator(m: int, order: int = 1) -> np.ndarray:
    """The (m - order) x m difference operator; order 1 gives (D x)_k = x_k - x_{k+1} of eq. 7.6.

    Examples
    --------
    >>> difference_operator(3)
    array([[ 1., -1.,  0.],
           [ 0.,  1., -1.]])
    """
    m = check_int(m, "m", minimum=2, maximum=10**6)
    order = check_int(order, "order", minimum=1, maximum=m - 1)
    d = np.eye(m)
    for _ in range(order):
        d = d[:-1] - d[1:]
    return d


class Tikhonov:
    """Tikhonov regularisation of J x = y for many alphas from one SVD (eq. 7.5, 7.9-7.10).

    Parameters
    ----------
    J : (n, m) array
    y : (n,) array
    penalty : None, "difference" or (q, m) array
        None: alpha ||x||^2 (eq. 7.5); "difference": alpha sum_k (x_k - x_{k+1})^2 (eq. 7.6); or any
        matrix L of full row rank q <= m (alpha ||L x||^2).  A general L is brought to standard form
        (Elden's transformation as in Hansen's Regularization Tools): with W a basis of the null space
        of L, x = L_J^# xbar + W (J W)^+ y, where L_J^# = (I - W (J W)^+ J) L^+, and the SVD of
        J L_J^# gives every alpha at once.

    Examples
    --------
    >>> import numpy as np
    >>> J = np.array([[1.0, 0.0], [0.0, 0.1]]); y = np.array([1.0, 0.1])
    >>> t = Tikhonov(J, y)
    >>> np.round(t.solve(0.01), 4)
    array([0.9901, 0.5   ])
    >>> np.round(t.filter_factors(0.01), 4)
    array([0.9901, 0.5   ])
    """

    def __init__(self, J, y, penalty=None):
        J, y = _check_system(J, y)
        n, m = J.shape
        self.J, self.y = J, y
        if penalty is None:
            L = None
        elif isinstance(penalty, str):
            if penalty != "difference":
                raise ValueError(f"penalty must be None, 'difference' or a matrix; got {penalty!r}")
            L = difference_operator(m)
        else:
            L = check_array(penalty, "penalty", dtype=np.float64, ndim=2, finite=True, nonempty=True)
            if L.shape[1] != m or L.shape[0] > m:
                raise ValueError(f"penalty must have shape (q, {m}) with q <= {m}, got {L.shape}")
        self.L = L
        if L is None:
            Jbar, ybar = J, y
            self._back = None
            self._xn = np.zeros(m)
        else:
            q = L.shape[0]
            Q, R = scipy.linalg.qr(L.T)  # L^T = Q R, Q: m x m
            if np.any(np.abs(np.diag(R[:q])) <= 1e-12 * np.abs(R[0, 0])):
                raise ValueError("penalty must have full row rank")
            W = Q[:, q:]  # null space of L
            Lpinv = scipy.linalg.solve_triangular(R[:q], Q[:, :q].T, lower=False).T  # L^+ = Q1 R1^{-T}
            if W.shape[1]:
                JW = J @ W
                JWp = np.linalg.pinv(JW)
                xn = W @ (JWp @ y)
                back = Lpinv - W @ (JWp @ (J @ Lpinv))
            else:
                xn = np.zeros(m)
                back = Lpinv
            Jbar = J @ back
            ybar = y - J @ xn
            self._back, self._xn = back, xn
        u, s, vt = scipy.linalg.svd(Jbar, full_matrices=False, lapack_driver="gesdd")
        self.u, self.mu, self.vt = u, s, vt
        self.beta = u.T @ ybar  # u_p . y
        self._perp2 = max(float(ybar @ ybar - self.beta @ self.beta), 0.0)  # ||y outside range(J)||^2
        self._n = n

    # ------------------------------------------------------------------ solutions
    def filter_factors(self, alpha) -> np.ndarray:
        """f_p = mu_p^2 / (mu_p^2 + alpha) (eq. 7.10 is A(alpha) = sum_p f_p / mu_p v_p u_p^T); shape (k, P)."""
        a = _check_alphas(alpha)
        mu2 = self.mu**2
        with np.errstate(divide="ignore", invalid="ignore"):
            f = mu2[None, :] / (mu2[None, :] + a[:, None])
        f = np.where(mu2[None, :] > 0, f, 0.0)
        return f[0] if np.ndim(alpha) == 0 else f

    def solve(self, alpha) -> np.ndarray:
        """x(alpha) (eq. 7.9) for one alpha (shape (m,)) or many (shape (k, m)) from the one SVD."""
        f = np.atleast_2d(self.filter_factors(alpha))
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.where(self.mu > 0, f * (self.beta / np.where(self.mu > 0, self.mu, 1.0)), 0.0)
        xbar = coef @ self.vt
        x = xbar if self._back is None else xbar @ self._back.T + self._xn
        return x[0] if np.ndim(alpha) == 0 else x

    def residual_norm(self, alpha) -> np.ndarray:
        """||y - J x(alpha)|| from the SVD coefficients."""
        f = np.atleast_2d(self.filter_factors(alpha))
        r2 = np.sum(((1 - f) * self.beta) ** 2, axis=1) + self._perp2
        r = np.sqrt(r2)
        return r[0] if np.ndim(alpha) == 0 else r

    def solution_norm(self, alpha) -> np.ndarray:
        """||x(alpha)|| (standard form) or ||L x(alpha)|| (general form): the penalty's norm."""
        f = np.atleast_2d(self.filter_factors(alpha))
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where(self.mu > 0, f * self.beta / np.where(self.mu > 0, self.mu, 1.0), 0.0)
        s = np.sqrt(np.sum(c**2, axis=1))
        return s[0] if np.ndim(alpha) == 0 else s

    def _alpha_range(self):
        mu = self.mu[self.mu > 0]
        return float(mu[-1] ** 2 * 1e-4), float(mu[0] ** 2 * 1e4)

    # ------------------------------------------------------------------ choosing alpha
    def morozov(self, noise_norm, tau: float = 1.0) -> float:
        """Morozov's discrepancy principle (book footnote 5): the alpha with ||y - J x(alpha)|| = tau * noise_norm.

        Parameters
        ----------
        noise_norm : float
            ||e||, the norm of the noise in y (> 0); for i.i.d. noise of deviation sigma, sigma sqrt(n).
        tau : float
            Safety factor (>= 1 in the usual statement; 1 by default).
        """
        delta = check_float(noise_norm, "noise_norm", positive=True)
        tau = check_float(tau, "tau", positive=True)
        target = tau * delta
        lo, hi = self._alpha_range()
        rmin = self.residual_norm(0.0) if self.mu[-1] > 0 else np.sqrt(self._perp2)
        rmax = self.residual_norm(hi)
        if not (rmin < target < rmax):
            raise ValueError(f"tau * noise_norm = {target:.3g} is outside the attainable residual norms "
                             f"({rmin:.3g}, {rmax:.3g}); check the noise level")
        g = lambda t: self.residual_norm(np.exp(t)) - target  # noqa: E731
        tl = np.log(lo)
        while g(tl) > 0:
            tl -= 10
        return float(np.exp(brentq(g, tl, np.log(hi), xtol=1e-12, rtol=1e-12)))

    def gcv_function(self, alpha) -> np.ndarray:
        """G(alpha) = ||y - J x(alpha)||^2 / (n - sum_p f_p)^2 (generalised cross-validation)."""
        f = np.atleast_2d(self.filter_factors(alpha))
        dof = self._n - (0 if self._back is None else self.J.shape[1] - self._back.shape[1])
        g = np.atleast_1d(self.residual_norm(alpha)) ** 2 / (dof - f.sum(axis=1)) ** 2
        return g[0] if np.ndim(alpha) == 0 else g

    def gcv(self, n_grid: int = 200) -> float:
        """The alpha minimising the GCV function (grid search, then a bounded refinement in log alpha)."""
        n_grid = check_int(n_grid, "n_grid", minimum=10, maximum=10**6)
        lo, hi = self._alpha_range()
        grid = np.geomspace(lo, hi, n_grid)
        k = int(np.argmin(self.gcv_function(grid)))
        a, b = np.log(grid[max(k - 1, 0)]), np.log(grid[min(k + 1, n_grid - 1)])
        res = minimize_scalar(lambda t: float(self.gcv_function(np.exp(t))), bounds=(a, b), method="bounded",
                              options={"xatol": 1e-10})
        return float(np.exp(res.x))

    def lcurve(self, alphas=None, n_grid: int = 400):
        """(alphas, log ||r||, log ||x||, curvature) along the L-curve."""
        if alphas is None:
            n_grid = check_int(n_grid, "n_grid", minimum=10, maximum=10**6)
            lo, hi = self._alpha_range()
            alphas = np.geomspace(lo, hi, n_grid)
        alphas = _check_alphas(alphas)
        t = np.log(alphas)
        x = np.log(self.residual_norm(alphas))
        yv = np.log(self.solution_norm(alphas))
        dx, dy = np.gradient(x, t), np.gradient(yv, t)
        ddx, ddy = np.gradient(dx, t), np.gradient(dy, t)
        kappa = (dx * ddy - ddx * dy) / np.maximum((dx**2 + dy**2) ** 1.5, 1e-300)
        return alphas, x, yv, kappa

    def lcurve_corner(self, n_grid: int = 400) -> float:
        """The alpha at the L-curve's corner: the largest curvature of (log ||r||, log ||x||) (Hansen)."""
        alphas, _, _, kappa = self.lcurve(n_grid=n_grid)
        return float(alphas[int(np.argmax(kappa[2:-2])) + 2])


def picard(J, y) -> dict:
    """Picard plot data: the singular values mu_p, |u_p . y| and their ratio |u_p . y| / mu_p.

    The discrete Picard condition holds while |u_p . y| decays faster than mu_p; where the noise
    floor makes |u_p . y| level off, the ratio grows and regularisation must cut there.

    Examples
    --------
    >>> import numpy as np
    >>> d = picard(np.diag([1.0, 0.1]), np.array([1.0, 0.01]))
    >>> d["ratio"]
    array([1. , 0.1])
    """
    J, y = _check_system(J, y)
    u, s, _ = scipy.linalg.svd(J, full_matrices=False)
    c = np.abs(u.T @ y)
    with np.errstate(divide="ignore"):
        ratio = np.where(s > 0, c / np.where(s > 0, s, 1.0), np.inf)
    return {"mu": s, "coef": c, "ratio": ratio}
