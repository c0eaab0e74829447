"""Linear inverse problems against SciPy, scikit-learn and closed forms."""

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg

from physdl.inverse import Tikhonov, backward_heat, difference_operator, least_squares, picard, pseudo_inverse, shaw


def test_least_squares_and_pinv_match_scipy():
    rng = np.random.default_rng(0)
    for shape in [(30, 10), (10, 30)]:
        J = rng.standard_normal(shape)
        y = rng.standard_normal(shape[0])
        np.testing.assert_allclose(least_squares(J, y), scipy.linalg.lstsq(J, y)[0], atol=1e-12)
        np.testing.assert_allclose(pseudo_inverse(J), scipy.linalg.pinv(J), atol=1e-12)


def test_tikhonov_equals_normal_equations_and_sklearn_ridge():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(1)
    J = rng.standard_normal((40, 15))
    y = rng.standard_normal(40)
    t = Tikhonov(J, y)
    alphas = np.array([1e-3, 0.1, 1.0, 10.0])
    xs = t.solve(alphas)
    for a, x in zip(alphas, xs):
        ne = np.linalg.solve(J.T @ J + a * np.eye(15), J.T @ y)
        np.testing.assert_allclose(x, ne, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(x, Ridge(alpha=a, fit_intercept=False, tol=1e-14).fit(J, y).coef_, atol=1e-8)
        np.testing.assert_allclose(t.residual_norm(a), np.linalg.norm(y - J @ ne), rtol=1e-10)
        np.testing.assert_allclose(t.solution_norm(a), np.linalg.norm(ne), rtol=1e-10)


def test_filter_factors_are_eq_7_10():
    rng = np.random.default_rng(2)
    J = rng.standard_normal((12, 8))
    y = rng.standard_normal(12)
    t = Tikhonov(J, y)
    mu = np.linalg.svd(J, compute_uv=False)
    np.testing.assert_allclose(t.filter_factors(0.3), mu**2 / (mu**2 + 0.3), rtol=1e-12)
    # A(alpha) of eq. 7.10 built literally from the SVD
    u, s, vt = np.linalg.svd(J, full_matrices=False)
    A = sum(s[p] / (s[p] ** 2 + 0.3) * np.outer(vt[p], u[:, p]) for p in range(s.size))
    np.testing.assert_allclose(t.solve(0.3), A @ y, atol=1e-12)


def test_smoothness_penalty_matches_stacked_least_squares():
    rng = np.random.default_rng(3)
    for shape in [(30, 20), (12, 20)]:
        J = rng.standard_normal(shape)
        y = rng.standard_normal(shape[0])
        D = difference_operator(shape[1])
        t = Tikhonov(J, y, penalty="difference")
        for a in [1e-2, 1.0, 30.0]:
            stacked = np.vstack([J, np.sqrt(a) * D])
            ref = scipy.linalg.lstsq(stacked, np.concatenate([y, np.zeros(D.shape[0])]))[0]
            np.testing.assert_allclose(t.solve(a), ref, atol=1e-9)
            np.testing.assert_allclose(t.residual_norm(a), np.linalg.norm(y - J @ ref), rtol=1e-9)
            np.testing.assert_allclose(t.solution_norm(a), np.linalg.norm(D @ ref), rtol=1e-8)


def test_morozov_residual_equals_noise_norm():
    p = shaw(64)
    rng = np.random.default_rng(4)
    e = 1e-3 * rng.standard_normal(64)
    t = Tikhonov(p.J, p.y_exact + e)
    a = t.morozov(np.linalg.norm(e))
    assert abs(t.residual_norm(a) / np.linalg.norm(e) - 1) < 0.01
    # an independent check of the residual at that alpha, from the normal equations
    x = np.linalg.solve(p.J.T @ p.J + a * np.eye(64), p.J.T @ (p.y_exact + e))
    assert abs(np.linalg.norm(p.y_exact + e - p.J @ x) / np.linalg.norm(e) - 1) < 0.01


def test_gcv_function_against_influence_matrix_and_choices_are_good():
    p = shaw(48)
    rng = np.random.default_rng(5)
    y = p.y_exact + 1e-3 * rng.standard_normal(48)
    t = Tikhonov(p.J, y)
    for a in [1e-6, 1e-4, 1e-2]:
        H = p.J @ np.linalg.solve(p.J.T @ p.J + a * np.eye(48), p.J.T)
        ref = np.sum(((np.eye(48) - H) @ y) ** 2) / np.trace(np.eye(48) - H) ** 2
        np.testing.assert_allclose(t.gcv_function(a), ref, rtol=1e-6)
    grid = np.geomspace(1e-12, 1, 300)
    errs = np.linalg.norm(t.solve(grid) - p.x_exact, axis=1)
    best = errs.min()
    for a in [t.gcv(), t.lcurve_corner(), t.morozov(1e-3 * np.sqrt(48))]:
        assert np.linalg.norm(t.solve(a) - p.x_exact) < 3 * best


def test_backward_heat_operator_is_the_matrix_exponential():
    p = backward_heat(40, 0.002)
    h = 1 / 41
    lap = (np.diag(-2 * np.ones(40)) + np.diag(np.ones(39), 1) + np.diag(np.ones(39), -1)) / h**2
    np.testing.assert_allclose(p.J, scipy.linalg.expm(0.002 * lap), atol=1e-12)
    # ill-posed: naive inversion of noisy data is useless, Tikhonov with Morozov is not
    rng = np.random.default_rng(6)
    e = 1e-4 * rng.standard_normal(40)
    y = p.y_exact + e
    naive = np.linalg.solve(p.J, y)
    t = Tikhonov(p.J, y, penalty="difference")
    x = t.solve(t.morozov(np.linalg.norm(e)))
    rel = lambda v: np.linalg.norm(v - p.x_exact) / np.linalg.norm(p.x_exact)  # noqa: E731
    assert rel(naive) > 10 and rel(x) < 0.3


def test_shaw_kernel_by_quadrature_and_picard():
    p = shaw(64)
    s = p.grid[10]
    f = lambda t: ((np.cos(s) + np.cos(t)) ** 2 * np.sinc(np.sin(s) + np.sin(t)) ** 2  # noqa: E731
                   * (2 * np.exp(-6 * (t - 0.8) ** 2) + np.exp(-2 * (t + 0.5) ** 2)))
    ref = scipy.integrate.quad(f, -np.pi / 2, np.pi / 2, epsabs=1e-12)[0]
    assert abs(p.y_exact[10] - ref) < 1e-3 * abs(ref)
    d = picard(p.J, p.y_exact + 1e-6 * np.random.default_rng(7).standard_normal(64))
    np.testing.assert_allclose(d["mu"], np.linalg.svd(p.J, compute_uv=False), rtol=1e-10, atol=1e-13 * d["mu"][0])
    assert d["coef"][-1] > 0.1 * 1e-6 and d["ratio"][-1] > d["ratio"][5]


@pytest.mark.parametrize("bad", [
    lambda: Tikhonov(np.ones((3, 2)), np.ones(4)),
    lambda: Tikhonov(np.ones((3, 2)), np.array([1.0, np.nan, 1.0])),
    lambda: Tikhonov(np.eye(3), np.ones(3)).solve(-1.0),
    lambda: Tikhonov(np.eye(3), np.ones(3)).morozov(-1.0),
    lambda: Tikhonov(np.eye(3), np.ones(3), penalty="curvature"),
    lambda: least_squares(np.ones((3, 2)), np.ones(2)),
])
def test_bad_input(bad):
    with pytest.raises(ValueError):
        bad()


def test_phillips_quadrature_converges_to_closed_form():
    from physdl.inverse import phillips, phillips_data

    errs = []
    for m in (32, 64, 128):
        p = phillips(m)
        errs.append(np.abs(p.y_exact - phillips_data(p.grid)).max())
    # the midpoint rule is at least second order: halving h divides the error by >= 4
    assert errs[0] / errs[1] > 4 and errs[1] / errs[2] > 4
    assert errs[2] < 1e-5


def test_phillips_tikhonov_morozov_and_picard():
    from physdl.inverse import Tikhonov, add_noise, phillips, picard

    p = phillips(64)
    e = add_noise(np.zeros(64), 1e-3, seed=3, stream=1)
    y = p.y_exact + e
    t = Tikhonov(p.J, y)
    a = t.morozov(np.linalg.norm(e))
    assert abs(t.residual_norm(a) / np.linalg.norm(e) - 1) < 0.01
    rel = np.linalg.norm(t.solve(a) - p.x_exact) / np.linalg.norm(p.x_exact)
    naive = np.linalg.norm(np.linalg.lstsq(p.J, y, rcond=None)[0] - p.x_exact) / np.linalg.norm(p.x_exact)
    assert rel < 0.05 and naive > 10 * rel
    # normal equations at the same alpha (independent route)
    ref = np.linalg.solve(p.J.T @ p.J + a * np.eye(64), p.J.T @ y)
    np.testing.assert_allclose(t.solve(a), ref, rtol=1e-6, atol=1e-8)
    d = picard(p.J, y)
    # Picard: the noisy coefficients level off at the noise while mu_p keeps falling
    assert d["coef"][-10:].mean() < 1e-2 and d["mu"][-1] < 1e-3 * d["mu"][0]


def test_phillips_bad_input():
    from physdl.inverse import phillips, phillips_data

    with pytest.raises(ValueError):
        phillips(1)
    with pytest.raises(ValueError):
        phillips_data([7.0])
