"""LASSO against scikit-learn's Lasso / lasso_path / LassoCV, on both backends and all three solvers."""

import warnings

import numpy as np
import pytest

from physdl.inverse import kkt_violation, lasso, lasso_cv, lasso_objective, lasso_path


def _problem(n, p, correlated=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if correlated:  # neighbouring columns with correlation ~0.9
        X = X + 2.0 * np.roll(X, 1, axis=1)
    b = np.zeros(p)
    b[: min(5, p)] = np.arange(1, min(5, p) + 1) * (-1.0) ** np.arange(min(5, p))
    y = X @ b + 0.3 * rng.standard_normal(n)
    return X, y


PROBLEMS = [(50, 20, False), (30, 60, False), (40, 40, True)]


def _sk(X, y, alpha, positive=False, fit_intercept=False):
    from sklearn.linear_model import Lasso

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Lasso(alpha=alpha, tol=1e-14, max_iter=10**6, positive=positive, fit_intercept=fit_intercept).fit(X, y)


@pytest.mark.parametrize("n,p,corr", PROBLEMS)
@pytest.mark.parametrize("solver", ["cd", "fista", "admm"])
@pytest.mark.parametrize("positive", [False, True])
def test_lasso_matches_sklearn_objective_and_kkt(cpu_backend, n, p, corr, solver, positive):
    X, y = _problem(n, p, corr)
    alpha = 0.05 * np.abs(X.T @ y).max() / n
    sk = _sk(X, y, alpha, positive)
    ref = lasso_objective(X, y, sk.coef_, alpha)
    r = lasso(X, y, alpha, solver=solver, positive=positive, tol=1e-13, max_iter=10**6, backend=cpu_backend)
    assert abs(r.objective - ref) <= 1e-8 * max(1.0, ref)
    assert kkt_violation(X, y, r.coef, alpha, positive=positive) < 1e-4
    if positive:
        assert np.all(r.coef >= 0)


def test_lasso_intercept_matches_sklearn(cpu_backend):
    X, y = _problem(40, 30)
    y = y + 3.0
    sk = _sk(X, y, 0.1, fit_intercept=True)
    r = lasso(X, y, 0.1, fit_intercept=True, tol=1e-13, backend=cpu_backend)
    np.testing.assert_allclose(r.coef, sk.coef_, atol=1e-6)
    assert abs(r.intercept - sk.intercept_) < 1e-6


@pytest.mark.parametrize("n,p,corr", PROBLEMS)
@pytest.mark.parametrize("positive", [False, True])
def test_lasso_path_matches_sklearn(cpu_backend, n, p, corr, positive):
    from sklearn.linear_model import lasso_path as sk_path

    X, y = _problem(n, p, corr, seed=1)
    path = lasso_path(X, y, n_alphas=30, tol=1e-12, positive=positive, backend=cpu_backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alphas, coefs, _ = sk_path(X, y, alphas=path.alphas, tol=1e-14, max_iter=10**6, positive=positive)
    np.testing.assert_allclose(alphas, path.alphas)
    for k, a in enumerate(alphas):
        ref = lasso_objective(X, y, coefs[:, k], a)
        assert abs(lasso_objective(X, y, path.coefs[k], a) - ref) <= 1e-8 * max(1.0, ref)
        assert kkt_violation(X, y, path.coefs[k], a, positive=positive) < 1e-3


def test_default_grid_is_sklearns():
    from sklearn.linear_model import lasso_path as sk_path

    X, y = _problem(30, 10)
    path = lasso_path(X, y, n_alphas=10, eps=1e-2, tol=1e-10)
    alphas, _, _ = sk_path(X, y, alphas=10, eps=1e-2)
    np.testing.assert_allclose(path.alphas, alphas, rtol=1e-12)


def test_lasso_cv_matches_sklearn():
    from sklearn.linear_model import LassoCV

    X, y = _problem(60, 30, seed=2)
    r = lasso_cv(X, y, n_alphas=30, cv=5, tol=1e-10)
    sk = LassoCV(alphas=30, cv=5, tol=1e-10, max_iter=10**6).fit(X, y)
    np.testing.assert_allclose(r.alphas, sk.alphas_, rtol=1e-10)
    np.testing.assert_allclose(r.mse_path, sk.mse_path_, rtol=1e-5, atol=1e-8)
    assert r.alpha == pytest.approx(sk.alpha_, rel=1e-12)
    np.testing.assert_allclose(r.coef, sk.coef_, atol=1e-5)


def test_backends_agree():
    X, y = _problem(40, 60, seed=3)
    a = lasso_path(X, y, n_alphas=15, tol=1e-12, backend="cpp")
    b = lasso_path(X, y, n_alphas=15, tol=1e-12, backend="numba")
    for k in range(15):
        oa = lasso_objective(X, y, a.coefs[k], a.alphas[k])
        ob = lasso_objective(X, y, b.coefs[k], b.alphas[k])
        assert abs(oa - ob) < 1e-9 * max(1, oa)


@pytest.mark.parametrize("bad,exc", [
    (lambda X, y: lasso(X, y, -0.1), ValueError),
    (lambda X, y: lasso(X, y, 0.0), ValueError),
    (lambda X, y: lasso(X, y[:-1], 0.1), ValueError),
    (lambda X, y: lasso(np.where(X > 1, np.nan, X), y, 0.1), ValueError),
    (lambda X, y: lasso(X, y, 0.1, solver="lars"), ValueError),
    (lambda X, y: lasso(X, y, 0.1, tol=-1.0), ValueError),
    (lambda X, y: lasso_path(X, y, alphas=[0.1, -1.0]), ValueError),
    (lambda X, y: lasso_cv(X, y, cv=1), ValueError),
    (lambda X, y: lasso(X, y, 0.1, positive="yes"), TypeError),
])
def test_bad_input(bad, exc):
    X, y = _problem(10, 5)
    with pytest.raises(exc):
        bad(X, y)


@pytest.mark.parametrize("positive", [False, True])
def test_gram_path_for_tall_problems_matches_sklearn(cpu_backend, positive):
    """n >= 2p takes the Gram-matrix coordinate descent; objectives equal scikit-learn's to 1e-8."""
    from sklearn.linear_model import lasso_path as sk_path

    from physdl.inverse import lasso_objective, lasso_path

    rng = np.random.default_rng(5)
    X = rng.standard_normal((400, 40))
    X[:, 1] = X[:, 0] + 0.3 * X[:, 1]  # correlated columns
    b = np.zeros(40)
    b[:6] = rng.standard_normal(6) * 2
    y = X @ b + 0.3 * rng.standard_normal(400)
    path = lasso_path(X, y, n_alphas=30, tol=1e-12, positive=positive, backend=cpu_backend)
    _, ref, _ = sk_path(X, y, alphas=path.alphas, tol=1e-14, max_iter=10**6, positive=positive)
    for k, a in enumerate(path.alphas):
        mine, theirs = lasso_objective(X, y, path.coefs[k], a), lasso_objective(X, y, ref[:, k], a)
        assert abs(mine - theirs) <= 1e-8 * theirs
    assert np.all(path.gaps <= 1e-12 * (y @ y) / 400 * 1.0001)
    if positive:
        assert np.all(path.coefs >= 0)
