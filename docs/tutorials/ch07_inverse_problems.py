"""Chapter 7: Tikhonov regularisation of Shaw's ill-posed problem, the LASSO against scikit-learn's
objective, and sparse-modelling analytic continuation of a semicircular density of states."""
import numpy as np

from physdl import inverse

# --- Tikhonov (eq. 7.5, 7.9-7.10): many alphas from one SVD, alpha by Morozov's principle
p = inverse.shaw(32)
rng = np.random.default_rng(0)
noise = 1e-3 * rng.standard_normal(p.y_exact.size)
t = inverse.Tikhonov(p.J, p.y_exact + noise)
for alpha in (1e-12, 1e-8, 1e-4):
    x = t.solve(alpha)
    err = np.linalg.norm(x - p.x_exact) / np.linalg.norm(p.x_exact)
    print(f"alpha = {alpha:.0e}: relative error of the solution {err:.3f}")
a = t.morozov(np.linalg.norm(noise))
print(f"Morozov's alpha = {a:.2e}: residual / noise norm = "
      f"{float(t.residual_norm(a)) / np.linalg.norm(noise):.4f}, relative error "
      f"{np.linalg.norm(t.solve(a) - p.x_exact) / np.linalg.norm(p.x_exact):.3f}")

# --- LASSO (eq. 7.15) in scikit-learn's scaling, with its duality gap and KKT conditions
X = rng.standard_normal((200, 500))
beta = np.zeros(500)
beta[:10] = 3 * rng.standard_normal(10)
y = X @ beta + 0.5 * rng.standard_normal(200)
path = inverse.lasso_path(X, y, n_alphas=50, tol=1e-10)
k = 30
print(f"LASSO path: alpha[{k}] = {path.alphas[k]:.3f}, {np.count_nonzero(path.coefs[k])} non-zeros, "
      f"KKT violation {inverse.kkt_violation(X, y, path.coefs[k], path.alphas[k]):.1e}")
cv = inverse.lasso_cv(X, y, cv=5, tol=1e-8)
print(f"LassoCV: alpha = {cv.alpha:.4f}, true non-zeros found: {np.count_nonzero(cv.coef[:10])} of 10, "
      f"false ones: {np.count_nonzero(cv.coef[10:])}")

# --- Sparse-modelling analytic continuation (eq. 7.16-7.17) of G(tau) with noise 1e-3
beta_T = 40.0
basis = inverse.ir_basis(beta_T, 2.0, n_tau=2000, n_omega=600, cutoff=1e-12)
G = inverse.add_noise(inverse.green_function(basis.tau, beta_T, inverse.semicircle), 1e-3, seed=1)
for criterion in ("elbow", "discrepancy"):
    scan = inverse.spm_lambda_scan(basis, G, criterion=criterion)
    rho = scan.chosen.rho
    print(f"SpM ({criterion}): lambda = {scan.lams[scan.best]:.1e}, L1 error "
          f"{inverse.spectral_error(basis.omega, rho, inverse.semicircle(basis.omega)):.3f}, "
          f"min rho = {rho.min():.1e}, sum rule {np.trapezoid(rho, basis.omega):.8f}")
