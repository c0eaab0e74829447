// Sparse-modelling analytic continuation in the SVD (intermediate-representation) basis (Otsuki,
// Ohzeki, Shinaoka, Yoshimi, PRE 95, 061302 (2017); book eq. 7.16-7.17).
#pragma once

namespace physdl::inverse {

// Number of entries of the ADMM's parameter block: the penalties mu (L1 splitting z1 = x) and mu'
// (non-negativity splitting z2 = V x) and the iterations done so far.
constexpr long kSpmParams = 3;

// The penalties are rebalanced when the total iteration count is a multiple of this.
constexpr long kSpmBalanceEvery = 10;

// Minimise 1/2 ||g - s * x||^2 + lam ||x||_1 subject to V x >= 0 and a . x = 1 (the sum rule), by
// ADMM with the splittings z1 = x and z2 = V x.  The x-step is solved exactly: V has orthonormal
// columns, so its quadratic form is diagonal (s^2 + mu + mu'), and the sum rule enters through one
// Lagrange multiplier.  The penalties are adapted by residual balancing (Boyd et al. 2011, sec.
// 3.4.1) every kSpmBalanceEvery iterations of the total count: a penalty is doubled when its primal
// residual exceeds ten times its dual residual, halved in the opposite case, and its scaled dual
// variable rescaled to match; penalties stay in [1e-10, 1e10].
// v: m x l row-major with orthonormal columns; s, g, a: length l.  x, z1, u1 (l), z2, u2 (m) and
// params (kSpmParams) are the warm start and receive the final state; the state (z1, u1, z2, u2,
// params) alone determines the next iteration.  Stops when the primal residual
// sqrt(||x - z1||^2 + ||V x - z2||^2) and the dual residual sqrt(||mu dz1||^2 + ||mu' dz2||^2) are
// both <= tol * max(1, sqrt(||x||^2 + ||z2||^2)), or after max_iter iterations.  Returns the number of
// iterations done in this call.
long spm_admm(const double* v, const double* s, const double* g, const double* a, long m, long l, double lam,
              double* params, double* x, double* z1, double* u1, double* z2, double* u2, double tol, long max_iter);

}  // namespace physdl::inverse
