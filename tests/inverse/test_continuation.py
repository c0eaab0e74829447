"""Sparse-modelling analytic continuation: kernel, quadrature, IR basis against sparse-ir, ADMM."""

import numpy as np
import pytest
import scipy.integrate

from physdl.inverse import (add_noise, bosonic_kernel, fermionic_kernel, green_function, insulator_spectrum,
                            ir_basis, semicircle, spectral_error, spm_continuation, spm_lambda_scan)


def test_kernels_closed_form_and_no_overflow():
    tau = np.array([0.0, 0.3, 2.0])
    om = np.array([-3.0, -0.5, 0.7, 4.0])
    beta = 2.0
    ref = np.exp(-np.outer(tau, om)) / (1 + np.exp(-beta * om))
    np.testing.assert_allclose(fermionic_kernel(tau, om, beta), ref, rtol=1e-14)
    refb = om * np.exp(-np.outer(tau, om)) / (1 - np.exp(-beta * om))
    np.testing.assert_allclose(bosonic_kernel(tau, om, beta), refb, rtol=1e-13)
    big = fermionic_kernel([0.0, 500.0, 1000.0], [-800.0, 800.0], 1000.0)
    assert np.all(np.isfinite(big))


def test_green_function_against_quad():
    beta = 10.0
    g = green_function([0.0, 2.5, 5.0], beta, insulator_spectrum)
    for t, gt in zip([0.0, 2.5, 5.0], g):
        f = lambda w: fermionic_kernel([t], [w], beta)[0, 0] * insulator_spectrum([w])[0]  # noqa: E731
        ref = -scipy.integrate.quad(f, -10, 10, epsabs=1e-13, limit=200)[0]
        assert abs(gt - ref) < 1e-10


def test_ir_basis_against_sparse_ir():
    sparse_ir = pytest.importorskip("sparse_ir")
    beta, wmax = 10.0, 4.0
    b = ir_basis(beta, wmax, n_tau=801, n_omega=801)
    ref = sparse_ir.FiniteTempBasis("F", beta, wmax, eps=1e-10)
    # the trapezoidal grids converge as h^2: 801 points agree to a few parts in 1e3
    np.testing.assert_allclose(b.s[:12], ref.s[:12], rtol=3e-3)
    u = b.u_functions()
    uref = ref.u(b.tau).T
    for l in range(6):
        sign = np.sign(u[:, l] @ uref[:, l])
        assert np.max(np.abs(sign * u[:, l] - uref[:, l])) < 1e-2 * np.max(np.abs(uref[:, l]))


@pytest.fixture(scope="module")
def semicircle_problem():
    """The semicircle (half width 1) at beta = 40 on 4000 tau and 1000 omega points in [-2, 2]: omega_max
    is four standard deviations of the spectrum (its second moment, which -G'(0) - G'(beta) gives)."""
    beta = 40.0
    b = ir_basis(beta, 2.0, n_tau=4000, n_omega=1000, cutoff=1e-12)
    return b, green_function(b.tau, beta, semicircle), semicircle(b.omega)


def test_spm_semicircle_nonnegative_sum_rule_and_error_falls_with_the_noise(semicircle_problem, cpu_backend):
    b, G, exact = semicircle_problem
    errs = []
    for sigma in [1e-2, 1e-3, 1e-4, 1e-5]:
        scan = spm_lambda_scan(b, add_noise(G, sigma, seed=1), backend=cpu_backend)
        rho = scan.chosen.rho
        assert np.all(rho >= 0)
        assert abs(np.trapezoid(rho, b.omega) - 1) < 1e-6
        # the elbow lies where chi^2 has fallen to within a few times the noise floor sigma^2 beta
        # (the data's noise in the weighted norm), not at either end of the scan
        assert 0 < scan.best < len(scan.lams) - 1
        assert sigma**2 * 40.0 * 0.5 < scan.chi2[scan.best] < 5 * sigma**2 * 40.0
        errs.append(spectral_error(b.omega, rho, exact))
    # the error falls from noise 1e-2 to 1e-4 and then stays on a floor (measured 0.378, 0.181, 0.058,
    # 0.062): at 1e-5 the data fix the same 15 IR coefficients as at 1e-4 (the spectrum is even; the
    # next non-zero coefficient's signal, 7.7e-6 in units of the noise per point, is just below 1e-5)
    # and the L1 prior with rho >= 0 decides the rest (converged ADMM runs give 0.052-0.06 at both
    # 1e-4 and 1e-5; see the floor test below)
    assert errs[0] > errs[1] > errs[2]
    assert errs[3] < 1.1 * errs[2]
    assert errs[2] < 0.065  # the goal of 0.05 is not met, see below


def test_spm_discrepancy_choice_estimates_the_noise_and_beats_the_elbow_at_large_noise(semicircle_problem):
    import physdl.inverse.continuation as C

    b, G, exact = semicircle_problem
    errs = []
    for sigma in [1e-2, 1e-3, 1e-4]:
        Gn = add_noise(G, sigma, seed=1)
        scan = spm_lambda_scan(b, Gn, criterion="discrepancy")
        # the noise estimate from the data outside the basis: relative deviation of sigma^2 is
        # sqrt(2 / (n_tau - L)) = 2.3%, so 5% on sigma is four of its standard deviations
        assert abs(scan.noise / sigma - 1) < 0.05
        assert scan.best == scan.discrepancy_index
        _, perp = C._project(b, Gn)
        inside = float(np.sum(b.w_tau[:, None] * b.u * b.u))
        # the largest lambda whose in-basis residual is within the noise's share of the basis
        ok = scan.chi2 - perp <= scan.noise**2 * inside
        assert scan.best == (int(np.argmax(ok)) if ok.any() else int(np.argmin(scan.chi2)))
        rho = scan.chosen.rho
        assert np.all(rho >= 0) and abs(np.trapezoid(rho, b.omega) - 1) < 1e-6
        err = spectral_error(b.omega, rho, exact)
        err_elbow = spectral_error(b.omega, scan.results[scan.elbow_index].rho, exact)
        if sigma >= 1e-3:  # measured 0.106 vs 0.379 and 0.058 vs 0.181
            assert err < 0.5 * err_elbow
        errs.append(err)
    # measured 0.106, 0.058, 0.063: at 1e-4 the error is on the floor the elbow test describes
    assert errs[0] > errs[1]
    assert errs[2] < 1.15 * errs[1]


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 15's goal (L1 error < 5% at noise 1e-4 at the elbow's lambda) is not "
                   "reached: 5.8% at the elbow, which is also the best lambda of the scan; the data resolve 15 IR "
                   "coefficients, whose best non-negative spectrum is 8.8% off (see the floor test above)")
def test_spm_semicircle_goal_five_percent_at_noise_1e_4(semicircle_problem):
    b, G, exact = semicircle_problem
    scan = spm_lambda_scan(b, add_noise(G, 1e-4, seed=1))
    assert spectral_error(b.omega, scan.chosen.rho, exact) < 0.05


def _best_nonnegative_l1(basis, exact, k):
    """min int |rho - exact| d omega over rho >= 0 in the span of the first k IR functions with
    int rho = 1: a linear programme (HiGHS), the best any method could do knowing those k
    coefficients and nothing else."""
    import scipy.optimize
    import scipy.sparse as sp

    sw = np.sqrt(basis.w_omega)
    B = basis.v[:, :k] / sw[:, None]
    m = B.shape[0]
    eye = sp.identity(m, format="csr")
    A_ub = sp.vstack([sp.hstack([sp.csr_matrix(B), -eye]), sp.hstack([sp.csr_matrix(-B), -eye]),
                      sp.hstack([sp.csr_matrix(-B), sp.csr_matrix((m, m))])], format="csr")
    b_ub = np.concatenate([exact, -exact, np.zeros(m)])
    A_eq = np.concatenate([basis.v[:, :k].T @ sw, np.zeros(m)])[None]
    res = scipy.optimize.linprog(np.concatenate([np.zeros(k), basis.w_omega]), A_ub=A_ub, b_ub=b_ub, A_eq=A_eq,
                                 b_eq=[1.0], bounds=[(None, None)] * k + [(0, None)] * m, method="highs")
    assert res.status == 0, res.message
    return float(res.fun)


def test_spm_semicircle_beats_the_floor_of_the_coefficients_the_data_resolve(semicircle_problem):
    """Why the semicircle's error stays near 5.8% at noise 1e-4 (the issue asks for 5%): the data fix
    only the IR coefficients whose signal |s_l x_l| exceeds the noise per coefficient, sigma sqrt(d tau)
    (the weighted tau grid makes U orthonormal).  The best non-negative spectrum built from those alone is
    the linear programme's optimum; with four coefficients more, known exactly, it is still above 5%.
    SpM's L1 prior with rho >= 0 and the sum rule must supply the rest, and it does better than the
    resolved coefficients alone, but a 5% error needs coefficients far below the noise."""
    b, G, exact = semicircle_problem
    sigma = 1e-4
    x_exact = b.v.T @ (np.sqrt(b.w_omega) * exact)
    noise = sigma * np.sqrt(b.tau[1] - b.tau[0])
    k = int(np.nonzero(np.abs(b.s * x_exact) > noise)[0].max()) + 1
    floor = _best_nonnegative_l1(b, exact, k)
    floor_more = _best_nonnegative_l1(b, exact, k + 4)
    full = _best_nonnegative_l1(b, exact, b.size)
    err = spectral_error(b.omega, spm_lambda_scan(b, add_noise(G, sigma, seed=1)).chosen.rho, exact)
    # measured: k = 15, floors 0.088 (15), 0.060 (19), 0.031 (all 32 functions); SpM 0.058
    assert 12 <= k <= 18, k
    assert floor > floor_more > 0.05 > full
    assert err < floor


def test_spm_admm_reaches_the_constrained_optimum_of_a_small_problem():
    """The ADMM (with its adapted penalties) against SciPy's SLSQP on the same convex problem:
    min 1/2 ||g - s x||^2 + lam ||x||_1 with V x >= 0 and a . x = 1, x = p - q with p, q >= 0."""
    import scipy.optimize

    import physdl.inverse.continuation as C

    b = ir_basis(10.0, 3.0, n_tau=61, n_omega=41, cutoff=1e-6)
    G = add_noise(green_function(b.tau, 10.0, insulator_spectrum), 1e-3, seed=3)
    gp, _ = C._project(b, G)
    a = b.v.T @ np.sqrt(b.w_omega)
    l = b.size
    for lam in (1e-3, 1e-5):
        res = spm_continuation(b, G, lam, tol=1e-10, max_iter=100000)

        def f(pq):
            x = pq[:l] - pq[l:]
            r = gp - b.s * x
            return 0.5 * r @ r + lam * pq.sum()

        def grad(pq):
            x = pq[:l] - pq[l:]
            gx = -b.s * (gp - b.s * x)
            return np.concatenate([gx + lam, -gx + lam])

        cons = [{"type": "eq", "fun": lambda pq: a @ (pq[:l] - pq[l:]) - 1.0,
                 "jac": lambda pq: np.concatenate([a, -a])},
                {"type": "ineq", "fun": lambda pq: b.v @ (pq[:l] - pq[l:]), "jac": lambda pq: np.hstack([b.v, -b.v])}]
        x0 = np.full(2 * l, 1e-3)
        ref = scipy.optimize.minimize(f, x0, jac=grad, bounds=[(0, None)] * (2 * l), constraints=cons, method="SLSQP",
                                      options={"ftol": 1e-15, "maxiter": 2000})
        assert ref.success
        ours = 0.5 * np.sum((gp - b.s * res.coef) ** 2) + lam * np.abs(res.coef).sum()
        assert ours <= ref.fun * (1 + 1e-6) + 1e-12
        assert abs(ours - ref.fun) <= 1e-5 * ref.fun


def test_spm_penalties_adapt_and_carry_across_the_scan(semicircle_problem):
    b, G, _ = semicircle_problem
    scan = spm_lambda_scan(b, add_noise(G, 1e-4, seed=1), n_lams=6, lam_min=1e-6)
    mus = np.array([r.state[5][:2] for r in scan.results])
    assert np.all(mus > 0)
    assert np.any(mus != 1.0)  # residual balancing moved the penalties from their start
    # a warm start from a result continues with its penalties: one more call at the same lambda
    # starts from that state and changes the solution by no more than the stopping tolerance allows
    last = scan.results[-1]
    again = spm_continuation(b, add_noise(G, 1e-4, seed=1), last.lam, state=last.state, tol=1e-9, max_iter=20000)
    assert np.max(np.abs(again.rho - last.rho)) < 0.05


def test_backends_agree_for_spm():
    b = ir_basis(20.0, 4.0, n_tau=101, n_omega=151)
    G = green_function(b.tau, 20.0, insulator_spectrum)
    r1 = spm_continuation(b, G, 1e-4, backend="cpp", max_iter=500)
    r2 = spm_continuation(b, G, 1e-4, backend="numba", max_iter=500)
    np.testing.assert_allclose(r1.rho, r2.rho, atol=1e-9)


@pytest.mark.parametrize("bad", [
    lambda b, G: spm_continuation(b, G[:-1], 1e-3),
    lambda b, G: spm_continuation(b, G, -1e-3),
    lambda b, G: spm_continuation(b, np.where(G < -0.3, np.nan, G), 1e-3),
    lambda b, G: ir_basis(-1.0, 4.0),
    lambda b, G: fermionic_kernel([0.0], [1.0], 0.0),
    lambda b, G: add_noise(G, -0.1),
    lambda b, G: fermionic_kernel([2.0], [1.0], 1.0),
])
def test_bad_input(bad):
    b = ir_basis(5.0, 4.0, n_tau=31, n_omega=41)
    G = green_function(b.tau, 5.0, insulator_spectrum)
    with pytest.raises(ValueError):
        bad(b, G)
