"""Information measures against SciPy, scikit-learn, numerical integration and Sanov's theorem."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from physdl import info


def _random_dist(rng, n, zeros=0):
    p = rng.random(n)
    p[:zeros] = 0.0
    return p / p.sum()


def test_entropy_and_kl_match_scipy():
    rng = np.random.default_rng(0)
    for _ in range(5):
        p, q = _random_dist(rng, 7, zeros=2), _random_dist(rng, 7)
        assert info.entropy(p) == pytest.approx(stats.entropy(p), rel=1e-13)
        assert info.entropy(p, base=2) == pytest.approx(stats.entropy(p, base=2), rel=1e-13)
        assert info.kl_divergence(p, q) == pytest.approx(stats.entropy(p, q), rel=1e-13)
        assert info.cross_entropy(p, q) == pytest.approx(stats.entropy(p) + stats.entropy(p, q), rel=1e-13)
    assert info.entropy(np.full(8, 1 / 8)) == pytest.approx(math.log(8))  # eq. 1.7
    assert info.kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert info.cross_entropy([0.5, 0.5], [1.0, 0.0]) == math.inf
    rows = np.array([[0.5, 0.5], [0.9, 0.1]])
    np.testing.assert_allclose(info.entropy(rows, axis=1), stats.entropy(rows, axis=1), rtol=1e-13)


def test_joint_measures_match_scikit_learn_on_labels():
    from sklearn.metrics import mutual_info_score

    rng = np.random.default_rng(1)
    x = rng.integers(0, 4, size=5000)
    y = (x + rng.integers(0, 3, size=5000)) % 5
    pxy = np.zeros((4, 5))
    np.add.at(pxy, (x, y), 1.0)
    pxy /= pxy.sum()
    assert info.mutual_information(pxy) == pytest.approx(mutual_info_score(x, y), rel=1e-12)
    hx, hy = stats.entropy(pxy.sum(1)), stats.entropy(pxy.sum(0))
    hxy = stats.entropy(pxy.ravel())
    assert info.joint_entropy(pxy) == pytest.approx(hxy, rel=1e-13)
    assert info.conditional_entropy(pxy, "x") == pytest.approx(hxy - hx, rel=1e-12)
    assert info.conditional_entropy(pxy, "y") == pytest.approx(hxy - hy, rel=1e-12)
    assert info.mutual_information(pxy) == pytest.approx(hx + hy - hxy, rel=1e-10)
    assert info.mutual_information(np.outer([0.3, 0.7], [0.2, 0.8])) == pytest.approx(0.0, abs=1e-15)


def test_empirical_distribution_and_sanov_rate():
    p_hat = info.empirical_distribution([0, 1, 1, 2, 2, 2], n_states=4)
    np.testing.assert_allclose(p_hat, [1 / 6, 2 / 6, 3 / 6, 0])
    # eq. 1.19: ln P(counts | q) / # -> -D_KL(counts/# || q), with an O(ln # / #) correction
    q = np.array([0.2, 0.3, 0.5])
    p = np.array([0.5, 0.25, 0.25])
    gaps = []
    for n in (100, 10_000, 1_000_000):
        counts = p * n
        rate = info.multinomial_log_probability(counts, q) / n
        gaps.append(abs(rate + info.kl_divergence(p, q)))
    assert gaps[2] < gaps[1] < gaps[0] and gaps[2] < 2e-5
    # exact multinomial probability against scipy
    assert math.exp(info.multinomial_log_probability([2, 1, 0], q)) == pytest.approx(
        stats.multinomial.pmf([2, 1, 0], 3, q), rel=1e-12)


def test_gaussian_kl_one_dimension_against_quadrature():
    mp, sp, mq, sq = 0.3, 0.7, -0.5, 1.6
    p, q = stats.norm(mp, sp), stats.norm(mq, sq)
    num = integrate.quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), -np.inf, np.inf, epsabs=1e-13)[0]
    assert info.gaussian_kl(mp, sp**2, mq, sq**2) == pytest.approx(num, rel=1e-9)
    # eq. 2.52 written out
    eq = 0.5 * (-math.log(sp**2 / sq**2) + (sp**2 / sq**2 - 1) + (mp - mq) ** 2 / sq**2)
    assert info.gaussian_kl(mp, sp**2, mq, sq**2) == pytest.approx(eq, rel=1e-13)


def test_gaussian_kl_multivariate_against_quadrature_and_diagonal_sum():
    mp, mq = np.array([0.1, -0.2]), np.array([0.5, 0.4])
    cp = np.array([[1.0, 0.4], [0.4, 0.8]])
    cq = np.array([[1.5, -0.3], [-0.3, 1.1]])
    p, q = stats.multivariate_normal(mp, cp), stats.multivariate_normal(mq, cq)
    f = lambda y, x: p.pdf([x, y]) * (p.logpdf([x, y]) - q.logpdf([x, y]))  # noqa: E731
    num = integrate.dblquad(f, -8, 8, -8, 8, epsabs=1e-10)[0]
    assert info.gaussian_kl(mp, cp, mq, cq) == pytest.approx(num, rel=1e-6)
    d = np.array([0.5, 2.0, 1.3])
    e = np.array([1.1, 0.7, 0.9])
    total = sum(info.gaussian_kl(0.0, a, 1.0, b) for a, b in zip(d, e))
    assert info.gaussian_kl(np.zeros(3), np.diag(d), np.ones(3), np.diag(e)) == pytest.approx(total, rel=1e-13)
    assert info.gaussian_kl(mp, cp, mp, cp) == pytest.approx(0.0, abs=1e-14)


def test_bad_input():
    with pytest.raises(ValueError, match="sum to 1"):
        info.entropy([0.5, 0.6])
    with pytest.raises(ValueError, match="non-negative"):
        info.kl_divergence([1.2, -0.2], [0.5, 0.5])
    with pytest.raises(ValueError, match="same shape"):
        info.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="finite"):
        info.entropy([np.nan, 1.0])
    with pytest.raises(ValueError, match="positive definite"):
        info.gaussian_kl([0, 0], [[1, 2], [2, 1]], [0, 0], np.eye(2))
    with pytest.raises(ValueError, match="shape"):
        info.gaussian_kl([0, 0], np.eye(3), [0, 0], np.eye(2))
    with pytest.raises(TypeError, match="integer"):
        info.empirical_distribution([0.5, 1.0])
    with pytest.raises(ValueError, match="given must be"):
        info.conditional_entropy(np.eye(2) / 2, given="z")
    with pytest.raises(ValueError, match="base must not be 1"):
        info.entropy([1.0], base=1)


def test_central_limit_error_bars_and_law_of_large_numbers():
    # eq. 5.17/5.21: the one-sigma band around q_i holds p_i ~68% of the time; eq. 5.12 bound holds
    rng = np.random.default_rng(4)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    n, reps = 2000, 400
    inside, dev_ok = 0, 0
    eps = 0.02
    for _ in range(reps):
        q, err = info.empirical_distribution(rng.choice(4, size=n, p=p), n_states=4, return_errors=True)
        inside += int(np.sum(np.abs(q - p) < err))
        dev_ok += int(abs(q[0] - p[0]) < eps)
    frac = inside / (4 * reps)
    assert abs(frac - 0.6827) < 4 * math.sqrt(0.6827 * 0.3173 / (4 * reps)) + 0.02
    bound = info.chebyshev_bound(p[0] * (1 - p[0]), n, eps)
    assert dev_ok / reps >= bound - 4 * math.sqrt(bound * (1 - bound) / reps)
    assert info.chebyshev_bound(1.0, 10, 0.01) == 0.0
