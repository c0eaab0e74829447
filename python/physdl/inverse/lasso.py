"""LASSO (book eq. 7.15): coordinate descent, FISTA and ADMM, the regularisation path and LassoCV.

Objective (scikit-learn's scaling, so that ``alpha`` means the same as in ``sklearn.linear_model.Lasso``)::

    P(b) = 1/(2 n) ||y - X b||_2^2 + alpha ||b||_1          (b >= 0 with positive=True)

The book writes eq. 7.15 as ||A x - y||^2 + lambda |x|_1; its lambda is 2 n alpha.  Every solver stops
when the duality gap of the unscaled objective 1/2 ||r||^2 + n alpha ||b||_1 is at most
``tol * ||y||^2`` (the test scikit-learn's coordinate descent uses) or after ``max_iter`` passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _backend
from .._validate import check_array, check_choice, check_float, check_int
from ._blas import core_inverse

SOLVERS = ("cd", "fista", "admm")


@dataclass
class LassoResult:
    """A LASSO fit: coefficients, intercept, final duality gap (1/(2n) scaling) and passes used."""

    coef: np.ndarray
    intercept: float
    alpha: float
    gap: float
    n_iter: int
    objective: float
    solver: str


@dataclass
class LassoPath:
    """A regularisation path: ``coefs[k]`` solves the problem at ``alphas[k]`` (decreasing)."""

    alphas: np.ndarray
    coefs: np.ndarray
    gaps: np.ndarray
    n_iter: np.ndarray


@dataclass
class LassoCVResult:
    """Cross-validated LASSO: the chosen alpha, the mean squared test error per alpha and fold, the refit."""

    alpha: float
    alphas: np.ndarray
    mse_path: np.ndarray
    coef: np.ndarray
    intercept: float


def lasso_objective(X, y, coef, alpha, intercept=0.0) -> float:
    """The objective 1/(2n)||y - X b - b0||^2 + alpha ||b||_1 (eq. 7.15 in scikit-learn's scaling).

    Examples
    --------
    >>> import numpy as np
    >>> lasso_objective(np.eye(2), np.array([1.0, 0.0]), np.array([0.5, 0.0]), 0.25)
    0.1875
    """
    X = check_array(X, "X", dtype=np.float64, ndim=2, finite=True)
    y = check_array(y, "y", dtype=np.float64, ndim=1, shape=(X.shape[0],), finite=True)
    coef = check_array(coef, "coef", dtype=np.float64, ndim=1, shape=(X.shape[1],), finite=True)
    r = y - X @ coef - intercept
    return float(0.5 / X.shape[0] * (r @ r) + alpha * np.abs(coef).sum())


def _check_xy(X, y):
    X = check_array(X, "X", dtype=np.float64, ndim=2, finite=True, nonempty=True)
    y = check_array(y, "y", dtype=np.float64, ndim=1, finite=True)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one entry per row of X ({X.shape[0]}), got {y.shape[0]}")
    return X, y


def _center(X, y, fit_intercept):
    if not fit_intercept:
        return X, y, np.zeros(X.shape[1]), 0.0
    xm = X.mean(axis=0)
    ym = float(y.mean())
    return X - xm, y - ym, xm, ym


_COPY_BLOCK = 1 << 21  # elements per block of the copies below (~20-100 ms each): Ctrl-C is seen between blocks


def _columns(X, xm=None):
    """X^T as a C-contiguous (p, n) array (X's columns contiguous), less ``xm`` from every row of X when
    given; copied by blocks of columns, so that a KeyboardInterrupt is raised within a block's time
    even for a large X (one transposing copy of 10^8 entries takes seconds)."""
    if xm is None and X.flags.f_contiguous:
        return X.T
    n, p = X.shape
    xt = np.empty((p, n))
    step = max(1, _COPY_BLOCK // max(n, 1))
    for j0 in range(0, p, step):
        j1 = min(p, j0 + step)
        if xm is None:
            xt[j0:j1] = X[:, j0:j1].T
        else:
            np.subtract(X[:, j0:j1].T, xm[j0:j1, None], out=xt[j0:j1])
    return xt


def _gram(X):
    """X^T X without a transposed copy: one BLAS symmetric product when it is small (<= ~2^30
    multiply-adds), else the sum of the Gram matrices of blocks of rows (each ~2^27 multiply-adds, so
    that a KeyboardInterrupt is seen between blocks)."""
    n, p = X.shape
    if n * p * p <= 1 << 31:  # up to ~2^30 multiply-adds (a symmetric rank-k update): one call
        return X.T @ X
    rows = max(64, (1 << 28) // max(p * p, 1))
    g = np.zeros((p, p))
    for r0 in range(0, n, rows):
        blk = X[r0:r0 + rows]
        g += blk.T @ blk
    return g


def _common(tol, max_iter, positive):
    tol = check_float(tol, "tol", positive=True)
    max_iter = check_int(max_iter, "max_iter", minimum=1, maximum=2**40)
    if not isinstance(positive, (bool, np.bool_)):
        raise TypeError(f"positive must be a bool, got {type(positive).__name__}")
    return tol, max_iter, bool(positive)


def alpha_max(X, y, *, fit_intercept=False, positive=False) -> float:
    """The smallest alpha with the all-zero solution: max_j |x_j . y| / n (max_j x_j . y / n if positive).

    Examples
    --------
    >>> import numpy as np
    >>> alpha_max(np.eye(2), np.array([1.0, -3.0]))
    1.5
    """
    X, y = _check_xy(X, y)
    # (X - mean)^T (y - mean(y)) = X^T (y - mean(y)): no centred copy of X is needed
    c = X.T @ (y - y.mean()) if fit_intercept else X.T @ y
    m = c.max() if positive else np.abs(c).max()
    return float(max(m, 0.0) / X.shape[0])


def lasso(X, y, alpha, *, solver="cd", positive=False, fit_intercept=False, tol=1e-4, max_iter=100_000,
          coef_init=None, rho=None, backend=None) -> LassoResult:
    """Solve the LASSO (eq. 7.15) at one ``alpha`` by coordinate descent, FISTA or ADMM.

    Parameters
    ----------
    X : (n, p) array
    y : (n,) array
    alpha : float
        Regularisation strength, > 0 (scikit-learn's scaling; the book's lambda is 2 n alpha).
    solver : {"cd", "fista", "admm"}
        ``cd``: cyclic coordinate descent on working sets with gap-safe screening and Anderson
        extrapolation; ``fista``: accelerated proximal gradient with adaptive restart; ``admm``: the
        alternating direction method of multipliers on b = z with a Cholesky-factored b-step.
    positive : bool
        Constrain b >= 0.
    fit_intercept : bool
        Fit an unpenalised intercept (by centring X and y), as scikit-learn's default does.
    tol : float
        Stop when the duality gap <= tol ||y||^2 / n (1/(2n)-scaled objective), as scikit-learn.
    max_iter : int
        Most passes (epochs / iterations).
    coef_init : (p,) array, optional
        Warm start.
    rho : float, optional
        ADMM penalty (default: mean of ||x_j||^2 / n); ignored by the other solvers.
    backend : {None, "cpp", "numba"}

    Returns
    -------
    LassoResult

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> r = lasso(X, np.array([1.0, 0.0, 1.0]), 0.1, tol=1e-12)
    >>> np.round(r.coef, 6)
    array([0.85, 0.  ])
    """
    X, y = _check_xy(X, y)
    alpha = check_float(alpha, "alpha", nonnegative=True)
    if alpha == 0:
        raise ValueError("alpha must be > 0 (for alpha = 0 use physdl.inverse.least_squares)")
    solver = check_choice(solver, "solver", SOLVERS)
    tol, max_iter, positive = _common(tol, max_iter, positive)
    n, p = X.shape
    if coef_init is None:
        b = np.zeros(p)
    else:
        b = check_array(coef_init, "coef_init", dtype=np.float64, ndim=1, shape=(p,), finite=True).copy()
    if rho is not None:
        rho = check_float(rho, "rho", positive=True)
    if fit_intercept:
        xm, ym = X.mean(axis=0), float(y.mean())
        yc = y - ym
        xt = _columns(X, xm)
    else:
        xm, ym, yc = np.zeros(p), 0.0, y
        xt = _columns(X)
    be = _backend.resolve(backend, ("cpp", "numba"))
    param = -1.0
    if solver == "admm" and rho is not None:
        param = rho
    if solver == "fista":
        param = _lipschitz(xt) / n
    if be == "cpp":
        it, gap = core_inverse().lasso_solve(solver, xt, yc, alpha, b, tol, max_iter, positive, param)
    else:
        from . import _numba

        if solver == "cd":
            it, gap = _numba.lasso_cd(xt, yc, alpha, b, tol, max_iter, positive)
        elif solver == "fista":
            it, gap = _numba.lasso_fista(xt, yc, alpha, b, tol, max_iter, positive, param)
        else:
            it, gap = _numba.lasso_admm(xt, yc, alpha, b, tol, max_iter, positive, param)
    intercept = float(ym - xm @ b) if fit_intercept else 0.0
    r = yc - (X @ b - xm @ b)
    obj = float(0.5 / n * (r @ r) + alpha * np.abs(b).sum())
    return LassoResult(b, intercept, alpha, float(gap), int(it), obj, solver)


def _lipschitz(xt) -> float:
    """||X||_2^2 by Lanczos (ARPACK), a little enlarged for safety; exact SVD for small X."""
    if min(xt.shape) <= 200:
        s = np.linalg.norm(xt, 2)
        return float(s * s) * (1 + 1e-10)
    from scipy.sparse.linalg import svds

    s = svds(xt, k=1, return_singular_vectors=False, tol=1e-10, v0=np.ones(min(xt.shape)))[0]
    return float(s * s) * (1 + 1e-8)


def alpha_grid(X, y, *, n_alphas=100, eps=1e-3, fit_intercept=False, positive=False) -> np.ndarray:
    """``n_alphas`` alphas from alpha_max down to eps * alpha_max, log-spaced (scikit-learn's grid).

    Examples
    --------
    >>> import numpy as np
    >>> alpha_grid(np.eye(2), np.array([2.0, 0.0]), n_alphas=3, eps=0.01)
    array([1.  , 0.1 , 0.01])
    """
    n_alphas = check_int(n_alphas, "n_alphas", minimum=1, maximum=10**6)
    eps = check_float(eps, "eps", positive=True)
    amax = alpha_max(X, y, fit_intercept=fit_intercept, positive=positive)
    if amax == 0:
        raise ValueError("X^T y is zero: every alpha gives the zero solution")
    return np.geomspace(amax, amax * eps, n_alphas)


def lasso_path(X, y, *, alphas=None, n_alphas=100, eps=1e-3, positive=False, tol=1e-4, max_iter=100_000,
               backend=None) -> LassoPath:
    """The LASSO regularisation path by warm-started coordinate descent (like ``sklearn.linear_model.lasso_path``).

    Strong-rule working sets, gap-safe screening, a Gram cache through BLAS (when p is moderate) and
    Anderson-extrapolated coordinate descent; for n >= 2p, coordinate descent on the precomputed Gram
    matrix X^T X instead (O(p) per update).  No intercept (centre X and y first if you want one).

    Parameters
    ----------
    X, y : arrays (n, p), (n,)
    alphas : array, optional
        The alphas (> 0), solved in decreasing order; default :func:`alpha_grid`.
    n_alphas, eps : int, float
        The default grid.
    positive, tol, max_iter, backend
        As in :func:`lasso`.

    Returns
    -------
    LassoPath
        ``alphas`` (decreasing), ``coefs`` (n_alphas, p), ``gaps``, ``n_iter``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> path = lasso_path(X, np.array([1.0, 0.0, 1.0]), n_alphas=3, eps=0.1, tol=1e-12)
    >>> np.round(path.coefs[:, 0], 4)
    array([0.    , 0.6838, 0.9   ])
    """
    X, y = _check_xy(X, y)
    tol, max_iter, positive = _common(tol, max_iter, positive)
    if alphas is None:
        alphas = alpha_grid(X, y, n_alphas=n_alphas, eps=eps, positive=positive)
    else:
        alphas = check_array(alphas, "alphas", dtype=np.float64, ndim=1, finite=True, nonempty=True)
        if np.any(alphas <= 0):
            raise ValueError("alphas must all be > 0")
        alphas = np.sort(alphas)[::-1].copy()
    be = _backend.resolve(backend, ("cpp", "numba"))
    n, p = X.shape
    if n >= 2 * p:  # n >> p: coordinate descent on the Gram matrix X^T X (BLAS products, O(p) updates)
        gram = _gram(X)
        xty = X.T @ y
        args = (gram, xty, float(y @ y), n, alphas, tol, max_iter, positive)
        if be == "cpp":
            coefs, gaps, iters = core_inverse().lasso_path_gram(*args)
        else:
            from . import _numba

            coefs, gaps, iters = _numba.lasso_path_gram(*args)
    elif be == "cpp":
        coefs, gaps, iters = core_inverse().lasso_path_cd(_columns(X), y, alphas, tol, max_iter, positive)
    else:
        from . import _numba

        coefs, gaps, iters = _numba.lasso_path_cd(_columns(X), y, alphas, tol, max_iter, positive)
    return LassoPath(alphas, coefs, gaps, np.asarray(iters, dtype=np.int64))


def lasso_cv(X, y, *, alphas=None, n_alphas=100, eps=1e-3, cv=5, fit_intercept=True, positive=False, tol=1e-4,
             max_iter=100_000, backend=None) -> LassoCVResult:
    """Cross-validated alpha, as ``sklearn.linear_model.LassoCV`` with ``cv`` unshuffled K folds.

    The grid comes from the whole (centred) data; on each fold the path is fitted on the centred
    training part and scored by the mean squared error on the held-out part; the alpha with the
    least mean error is refitted on all the data.  When every training part has at least 2p rows,
    the folds run on Gram matrices: one product X_f^T X_f per held-out block f, the training Grams
    as their sum less X_f^T X_f with the centring as rank-one corrections, coordinate descent on
    them, the held-out errors from the same blocks' sums, and the refit on the whole Gram matrix
    (C++: one call; ``numba``: the same formulas in NumPy around the Numba path kernel).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 5)); y = X[:, 0] * 2 + 0.1 * rng.standard_normal(40)
    >>> r = lasso_cv(X, y, n_alphas=20, cv=4)
    >>> bool(abs(r.coef[0] - 2) < 0.2)
    True
    """
    X, y = _check_xy(X, y)
    cv = check_int(cv, "cv", minimum=2, maximum=X.shape[0])
    tol, max_iter, positive = _common(tol, max_iter, positive)
    fit_intercept = bool(fit_intercept)
    if alphas is None:
        alphas = alpha_grid(X, y, n_alphas=n_alphas, eps=eps, fit_intercept=fit_intercept, positive=positive)
    else:
        alphas = check_array(alphas, "alphas", dtype=np.float64, ndim=1, finite=True, nonempty=True)
        if np.any(alphas <= 0):
            raise ValueError("alphas must all be > 0")
        alphas = np.sort(alphas)[::-1].copy()
    n, p = X.shape
    # KFold without shuffling: the first n % cv folds get one extra sample
    sizes = np.full(cv, n // cv)
    sizes[: n % cv] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    be = _backend.resolve(backend, ("cpp", "numba"))
    if n - sizes.max() >= 2 * p and _gram_cv_fits(p, cv):
        # n_train >> p: everything from the held-out blocks' Gram matrices (no training copies of X)
        args = (np.ascontiguousarray(X), y, bounds, alphas, fit_intercept, tol, max_iter, positive)
        if be == "cpp":
            mse, coef, best, _, _ = core_inverse().lasso_cv_gram(*args)
        else:
            from . import _numba

            mse, coef, best, _, _ = _numba.lasso_cv_gram(*args)
        intercept = float(y.mean() - X.mean(axis=0) @ coef) if fit_intercept else 0.0
        return LassoCVResult(float(alphas[best]), alphas, mse, coef, intercept)
    mse = np.empty((len(alphas), cv))
    path = None
    fold_coefs = []
    for f in range(cv):
        test = np.zeros(n, dtype=bool)
        test[bounds[f]:bounds[f + 1]] = True
        Xtr, ytr = X[~test], y[~test]
        Xc, yc, xm, ym = _center(Xtr, ytr, fit_intercept)
        path = lasso_path(Xc, yc, alphas=alphas, positive=positive, tol=tol, max_iter=max_iter, backend=backend)
        pred = (X[test] - xm) @ path.coefs.T + ym
        mse[:, f] = np.mean((y[test][:, None] - pred) ** 2, axis=0)
        fold_coefs.append(path.coefs)
    alphas = path.alphas
    best = int(np.argmin(mse.mean(axis=1)))
    # the refit starts from the folds' mean solution at that alpha (close to the answer: small working sets)
    start = np.mean([c[best] for c in fold_coefs], axis=0)
    fit = lasso(X, y, float(alphas[best]), positive=positive, fit_intercept=fit_intercept, tol=tol, max_iter=max_iter,
                coef_init=start, backend=backend)
    return LassoCVResult(float(alphas[best]), alphas, mse, fit.coef, fit.intercept)


def _gram_cv_fits(p, cv) -> bool:
    """The Gram route of lasso_cv holds about cv + 3 matrices of p x p doubles (fold Grams kept up to 1 GiB,
    recomputed beyond); refuse it above 4 GiB of them."""
    return 3 * p * p * 8 <= 4 * 2**30

def kkt_violation(X, y, coef, alpha, *, positive=False, intercept=0.0) -> float:
    """Largest violation of the LASSO optimality (KKT) conditions, relative to alpha.

    With c = X^T (y - X b - b0) / n: |c_j| <= alpha where b_j = 0 and c_j = alpha sign(b_j) where b_j != 0
    (c_j <= alpha, and c_j = alpha where b_j > 0, when positive).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> kkt_violation(X, np.array([1.0, 0.0, 1.0]), np.array([0.85, 0.0]), 0.1) < 1e-12
    True
    """
    X, y = _check_xy(X, y)
    coef = check_array(coef, "coef", dtype=np.float64, ndim=1, shape=(X.shape[1],), finite=True)
    alpha = check_float(alpha, "alpha", positive=True)
    c = X.T @ (y - X @ coef - intercept) / X.shape[0]
    nz = coef != 0
    if positive:
        v0 = np.maximum(c[~nz] - alpha, 0.0)
    else:
        v0 = np.maximum(np.abs(c[~nz]) - alpha, 0.0)
    v1 = np.abs(c[nz] - alpha * np.sign(coef[nz]))
    return float(max(v0.max(initial=0.0), v1.max(initial=0.0)) / alpha)
