"""LassoCV through the held-out blocks' Gram matrices (taken when every training part has >= 2p rows).

The C++ route forms each training Gram as (sum of the blocks' Grams) - (its block's) with rank-one
centring corrections and scores the held-out rows from the block's Gram and sums; the Numba route
predicts the held-out rows directly.  Both are compared with scikit-learn's LassoCV, which centres
explicit training copies, and with each other.
"""

import warnings

import numpy as np
import pytest

from physdl.inverse import kkt_violation, lasso_cv, lasso_objective


def _tall(n=300, p=30, offset=0.0, seed=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1] = X[:, 0] + 0.3 * X[:, 1]  # correlated columns
    b = np.zeros(p)
    b[:6] = 2.0 * rng.standard_normal(6)
    y = X @ b + 0.5 * rng.standard_normal(n) + 1.5
    return X + offset * (1.0 + rng.random(p)), y


def _sk_cv(X, y, **kw):
    from sklearn.linear_model import LassoCV

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LassoCV(max_iter=10**6, **kw).fit(X, y)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("positive", [False, True])
def test_gram_cv_matches_sklearn(cpu_backend, fit_intercept, positive):
    X, y = _tall()
    r = lasso_cv(X, y, n_alphas=25, cv=5, tol=1e-11, fit_intercept=fit_intercept, positive=positive,
                 backend=cpu_backend)
    sk = _sk_cv(X, y, alphas=25, cv=5, tol=1e-11, fit_intercept=fit_intercept, positive=positive)
    np.testing.assert_allclose(r.alphas, sk.alphas_, rtol=1e-10)
    np.testing.assert_allclose(r.mse_path, sk.mse_path_, rtol=1e-7)
    assert r.alpha == pytest.approx(sk.alpha_, rel=1e-12)
    np.testing.assert_allclose(r.coef, sk.coef_, atol=1e-7)
    assert abs(r.intercept - sk.intercept_) < 1e-7
    # the refit is optimal on all the data (KKT), so no screening or warm start dropped a feature
    assert kkt_violation(X, y, r.coef, r.alpha, positive=positive, intercept=r.intercept) < 1e-5
    ref = lasso_objective(X, y, sk.coef_, sk.alpha_, sk.intercept_)
    assert abs(lasso_objective(X, y, r.coef, r.alpha, r.intercept) - ref) <= 1e-8 * max(1.0, ref)


def test_gram_cv_with_large_column_offsets(cpu_backend):
    """Columns with means ~1e4 (centring by corrections of uncentred Grams would lose ~8 digits)."""
    X, y = _tall(offset=1e4, seed=8)
    r = lasso_cv(X, y, n_alphas=20, cv=4, tol=1e-11, backend=cpu_backend)
    sk = _sk_cv(X, y, alphas=20, cv=4, tol=1e-11)
    np.testing.assert_allclose(r.mse_path, sk.mse_path_, rtol=1e-6)
    assert r.alpha == pytest.approx(sk.alpha_, rel=1e-12)
    np.testing.assert_allclose(r.coef, sk.coef_, atol=1e-6)


def test_gram_cv_backends_agree_and_uneven_folds():
    """n = 203 with cv = 4: folds of 51, 51, 51, 50 rows; the block-Gram formulas (C++) equal direct
    prediction of the held-out rows (Numba route) to rounding."""
    X, y = _tall(n=203, p=25, seed=9)
    a = lasso_cv(X, y, n_alphas=15, cv=4, tol=1e-12, backend="cpp")
    b = lasso_cv(X, y, n_alphas=15, cv=4, tol=1e-12, backend="numba")
    np.testing.assert_allclose(a.mse_path, b.mse_path, rtol=1e-8)
    assert a.alpha == b.alpha
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-8)
    # the training Gram of each fold, formed as a difference of block Grams, equals the direct one:
    # its path then equals the path on an explicitly centred copy (the old route) to the tolerance
    from physdl.inverse import lasso_path

    bounds = [0, 51, 102, 153, 203]
    for f in range(4):
        test = np.zeros(203, dtype=bool)
        test[bounds[f]:bounds[f + 1]] = True
        Xtr, ytr = X[~test], y[~test]
        xm, ym = Xtr.mean(axis=0), ytr.mean()
        path = lasso_path(Xtr - xm, ytr - ym, alphas=a.alphas, tol=1e-12, backend="cpp")
        pred = (X[test] - xm) @ path.coefs.T + ym
        direct = np.mean((y[test][:, None] - pred) ** 2, axis=0)
        np.testing.assert_allclose(a.mse_path[:, f], direct, rtol=1e-7)


def test_gram_cv_user_alphas_sorted_and_checked():
    X, y = _tall(n=200, p=10)
    r = lasso_cv(X, y, alphas=[0.01, 0.5, 0.1], cv=3, tol=1e-10)
    np.testing.assert_array_equal(r.alphas, [0.5, 0.1, 0.01])
    with pytest.raises(ValueError, match="alphas"):
        lasso_cv(X, y, alphas=[0.1, -0.2], cv=3)
    with pytest.raises(ValueError, match="alphas"):
        lasso_cv(X, y, alphas=[0.1, np.nan], cv=3)


@pytest.mark.parametrize("n,p", [(60, 150), (400, 40)])  # residual route (screening, working sets); Gram route
@pytest.mark.parametrize("positive", [False, True])
def test_path_kkt_at_every_alpha(cpu_backend, n, p, positive):
    """No screening rule or working set leaves out a feature that belongs in the solution: at a tight
    tolerance the KKT conditions hold to 1e-6 (relative to alpha) at every point of the path."""
    from physdl.inverse import lasso_path

    rng = np.random.default_rng(11)
    X = rng.standard_normal((n, p))
    X = X + 1.5 * np.roll(X, 1, axis=1)
    y = X[:, :8] @ np.linspace(-2.0, 2.0, 8) + 0.3 * rng.standard_normal(n)
    path = lasso_path(X, y, n_alphas=25, eps=1e-3, tol=1e-14, positive=positive, backend=cpu_backend)
    for k, a in enumerate(path.alphas):
        assert kkt_violation(X, y, path.coefs[k], a, positive=positive) < 1e-6, k
