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


def test_spm_recovers_spectrum_nonnegative_with_sum_rule_and_improves_with_less_noise(cpu_backend):
    beta = 40.0
    b = ir_basis(beta, 4.0, n_tau=201, n_omega=301)
    G = green_function(b.tau, beta, semicircle)
    exact = semicircle(b.omega)
    errs = []
    for sigma in [1e-2, 1e-3, 1e-4]:
        scan = spm_lambda_scan(b, add_noise(G, sigma, seed=1), n_lams=20, lam_min=1e-8, tol=1e-7, max_iter=5000,
                               backend=cpu_backend)
        rho = scan.chosen.rho
        assert np.all(rho >= 0)
        assert abs(np.trapezoid(rho, b.omega) - 1) < 1e-6
        errs.append(spectral_error(b.omega, rho, exact))
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 0.2


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
