"""The interrupt-safe LASSO solvers give the results of one unbroken solve.

The Numba twins run as loops of kernel calls of a bounded number of passes carrying the solver
state (physdl.inverse._numba._drive); cut into one-pass pieces they must equal a single piece bit
for bit.  The C++ solvers poll Python's signals between passes, which must not change the
arithmetic: both backends reach scikit-learn's objective to 1e-8.
"""

import warnings

import numpy as np
import pytest

from physdl.inverse import _numba, lasso, lasso_objective, lasso_path

UNBROKEN = 10**12  # passes per piece: the whole solve in one kernel call


def _problem(n, p, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X = X + 1.5 * np.roll(X, 1, axis=1)  # correlated columns: many passes
    b = np.zeros(p)
    b[:6] = np.linspace(-2.0, 2.0, 6)
    return X, X @ b + 0.3 * rng.standard_normal(n)


def _sk_objective(X, y, alpha, positive):
    from sklearn.linear_model import Lasso

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = Lasso(alpha=alpha, tol=1e-14, max_iter=10**6, positive=positive, fit_intercept=False).fit(X, y)
    return lasso_objective(X, y, sk.coef_, alpha)


def _solve(solver, xt, y, alpha, positive, first, param):
    b = np.zeros(xt.shape[0])
    if solver == "cd":
        out = _numba.lasso_cd(xt, y, alpha, b, 1e-12, 100_000, positive, first)
    elif solver == "fista":
        out = _numba.lasso_fista(xt, y, alpha, b, 1e-12, 100_000, positive, param, first)
    else:
        out = _numba.lasso_admm(xt, y, alpha, b, 1e-12, 100_000, positive, param, first)
    return b, out


@pytest.mark.parametrize("solver", ["cd", "fista", "admm"])
@pytest.mark.parametrize("n,p,positive", [(40, 25, False), (25, 40, True)])
def test_numba_pieces_equal_unbroken_solve(solver, n, p, positive):
    X, y = _problem(n, p)
    xt = np.ascontiguousarray(X.T)
    alpha = 0.02 * np.abs(X.T @ y).max() / n
    param = float(np.linalg.norm(X, 2) ** 2 * (1 + 1e-10) / n) if solver == "fista" else -1.0
    b1, (it1, gap1) = _solve(solver, xt, y, alpha, positive, 1, param)
    b2, (it2, gap2) = _solve(solver, xt, y, alpha, positive, UNBROKEN, param)
    b3, (it3, gap3) = _solve(solver, xt, y, alpha, positive, None, param)  # adaptive pieces
    assert it1 > 3  # really cut into several pieces
    assert it1 == it2 == it3 and gap1 == gap2 == gap3
    np.testing.assert_array_equal(b1, b2)
    np.testing.assert_array_equal(b1, b3)


@pytest.mark.parametrize("n,p", [(30, 50), (120, 20)])  # working-set path, Gram path (n >= 2p)
def test_numba_path_pieces_equal_unbroken(n, p):
    X, y = _problem(n, p)
    xt = np.ascontiguousarray(X.T)
    alphas = np.geomspace(1.0, 1e-3, 12) * np.abs(X.T @ y).max() / n
    if n >= 2 * p:
        args = (xt @ xt.T, xt @ y, float(y @ y), n, alphas, 1e-12, 100_000, False)
        one, cut = _numba.lasso_path_gram(*args, first=UNBROKEN), _numba.lasso_path_gram(*args, first=1)
    else:
        args = (xt, y, alphas, 1e-12, 100_000, False)
        one, cut = _numba.lasso_path_cd(*args, first=UNBROKEN), _numba.lasso_path_cd(*args, first=1)
    assert cut[2].sum() > len(alphas)
    for a, b in zip(one, cut):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("solver", ["cd", "fista", "admm"])
@pytest.mark.parametrize("positive", [False, True])
def test_polled_solvers_reach_sklearn_objective_on_both_backends(solver, positive):
    X, y = _problem(60, 45)
    alpha = 0.03 * np.abs(X.T @ y).max() / 60
    ref = _sk_objective(X, y, alpha, positive)
    coefs = {}
    for backend in ("cpp", "numba"):
        r = lasso(X, y, alpha, solver=solver, positive=positive, tol=1e-13, backend=backend)
        assert abs(r.objective - ref) <= 1e-8 * max(1.0, ref)
        coefs[backend] = r.coef
    np.testing.assert_allclose(coefs["cpp"], coefs["numba"], atol=1e-6)


@pytest.mark.parametrize("n,p", [(30, 50), (120, 20)])
def test_polled_paths_agree_across_backends_and_with_sklearn(n, p):
    X, y = _problem(n, p)
    alphas = np.geomspace(1.0, 1e-2, 6) * np.abs(X.T @ y).max() / n
    paths = {be: lasso_path(X, y, alphas=alphas, tol=1e-13, backend=be) for be in ("cpp", "numba")}
    for k, a in enumerate(paths["cpp"].alphas):
        ref = _sk_objective(X, y, a, False)
        for be in paths:
            assert abs(lasso_objective(X, y, paths[be].coefs[k], a) - ref) <= 1e-8 * max(1.0, ref)


@pytest.mark.parametrize("n,p", [(150, 100), (100, 150)])
def test_numba_admm_gram_in_blocks(n, p):
    """The ADMM matrix X^T X + n rho I (p <= n) or X X^T + n rho I (p > n), built in blocks of rows for
    Ctrl-C, equals one product on its lower triangle (all the factorisation reads) whatever the pieces;
    the solves from it agree bit for bit across cuts."""
    X, y = _problem(n, p)
    xt = np.ascontiguousarray(X.T)
    d = min(n, p)
    assert d > _numba.GRAM_ROWS  # several blocks
    ref = (X.T @ X if p <= n else X @ X.T) + n * 0.3 * np.eye(d)
    one = _numba._admm_gram(xt, 0.3, UNBROKEN)
    cut = _numba._admm_gram(xt, 0.3, 1)
    np.testing.assert_array_equal(one, cut)
    np.testing.assert_allclose(np.tril(one), np.tril(ref), rtol=1e-12, atol=1e-10 * np.abs(ref).max())
    alpha = 0.02 * np.abs(X.T @ y).max() / n
    b1, out1 = _solve("admm", xt, y, alpha, False, 1, -1.0)
    b2, out2 = _solve("admm", xt, y, alpha, False, UNBROKEN, -1.0)
    assert out1 == out2
    np.testing.assert_array_equal(b1, b2)
    assert abs(lasso_objective(X, y, b1, alpha) - _sk_objective(X, y, alpha, False)) <= 1e-8
