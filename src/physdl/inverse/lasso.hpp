// LASSO (book eq. 7.15); the sparse-modelling ADMM of analytic continuation is in spm.hpp.
//
// Objective (scikit-learn's scaling):  P(b) = 1/(2n) ||y - X b||^2 + alpha ||b||_1,  b >= 0 when
// `positive`.  X is passed by its columns: `xt` is the p x n row-major array X^T (X in Fortran
// order), so a column of X is contiguous.  Every solver stops when the duality gap of the unscaled
// objective 1/2 ||r||^2 + n alpha ||b||_1 is at most tol * ||y||^2, the test scikit-learn uses, or
// after max_iter passes.  Matrix-vector and Gram products go through physdl::nn::gemm (the host's
// BLAS; see physdl/nn/blas.hpp).
#pragma once

#include <cstdint>

#include "physdl/core/stop_poll.hpp"

namespace physdl::inverse {

struct LassoInfo {
  long n_iter = 0;    // passes over the data (epochs / iterations)
  double gap = 0.0;   // final duality gap in the 1/(2n) scaling
  bool stopped = false;  // the solve was interrupted (Interrupt::stop said so); the outputs are partial
};

/// Interruption of a long solve.  The solvers call poll() after every pass (epoch / iteration) and
/// every few coordinate updates or factor columns; at most every interval_ns it asks stop(ctx) and,
/// when that says so, the solver returns at once with `stopped` set (the binding polls Python's
/// signals there).  Polling never changes the arithmetic: an unstopped solve is bit for bit the same.
using Interrupt = physdl::core::StopPoll;

// Duality gap (1/(2n) scaling) of b, given its residual r = y - X b and the correlations c = X^T r.
double lasso_gap(const double* c, const double* r, const double* y, const double* b, long n, long p,
                 double alpha, bool positive);

// Cyclic coordinate descent on working sets with gap-safe screening (Fercoq, Gramfort, Salmon 2015).
// `beta` (length p) is the warm start and receives the solution.  `lam_prev` (unscaled, n*alpha of a
// previous path point, or <= 0) enables the sequential strong rule for the first working set.
LassoInfo lasso_cd(const double* xt, const double* y, long n, long p, double alpha, double* beta, double tol,
                   long max_iter, bool positive, double alpha_prev = -1.0, Interrupt* ctl = nullptr);

// The regularisation path: alphas in the given (decreasing) order, each warm-started from the previous
// solution.  coefs: n_alphas x p; gaps, n_iter: n_alphas.
void lasso_path_cd(const double* xt, const double* y, long n, long p, const double* alphas, long n_alphas,
                   double* coefs, double* gaps, long* n_iter, double tol, long max_iter, bool positive,
                   Interrupt* ctl = nullptr);

// The same path by coordinate descent on the Gram matrix (for n >> p): gram = X^T X (p x p, row-major,
// symmetric), xty = X^T y, yty = y.y.  Each coordinate update costs O(p); passes alternate between the
// full set (the KKT check) and the active set.  Same stopping test and outputs as lasso_path_cd.
void lasso_path_gram(const double* gram, const double* xty, double yty, long n, long p, const double* alphas,
                     long n_alphas, double* coefs, double* gaps, long* n_iter, double tol, long max_iter,
                     bool positive, Interrupt* ctl = nullptr);

struct LassoCVInfo {
  long best = 0;      // index of the chosen alpha
  long n_iter = 0;    // passes of the refit
  double gap = 0.0;   // duality gap of the refit (1/(2n) scaling)
  bool stopped = false;
};

// LassoCV on Gram matrices (for n_train >= p): x is X (n x p, row-major), fold f holds out the rows
// bounds[f] .. bounds[f + 1] - 1.  One Gram product per held-out block, T_f = X_f^T X_f (half of
// a full product each); the training Grams are sum_g T_g - T_f with the centring (fit_intercept) as
// rank-one corrections of the training means, the held-out errors come from T_f, X_f^T y_f and the
// block's sums, so no training copy of X is made.  On each fold, the path over `alphas`
// (decreasing) by lasso_path_gram's descent, stopped at gap <= tol ||y_train - mean||^2; mse
// (n_alphas x n_folds, row-major) receives the mean squared held-out errors.  The alpha of least
// mean error (the first such) is refitted on all the data, warm-started from the folds' mean
// solution; coef (p) receives it (slopes; the intercept is mean(y) - mean(X) . coef).
LassoCVInfo lasso_cv_gram(const double* x, const double* y, long n, long p, const long* bounds, long n_folds,
                          const double* alphas, long n_alphas, bool fit_intercept, double tol, long max_iter,
                          bool positive, double* mse, double* coef, Interrupt* ctl = nullptr);

// FISTA (Beck & Teboulle 2009) with gradient-based adaptive restart; step 1/L with L = ||X||_2^2 / n
// (lipschitz <= 0: estimated here by power iteration).
LassoInfo lasso_fista(const double* xt, const double* y, long n, long p, double alpha, double* beta, double tol,
                      long max_iter, bool positive, double lipschitz = -1.0, Interrupt* ctl = nullptr);

// ADMM on b = z (Boyd et al. 2011, sec. 6.4), penalty rho (rho <= 0: mean squared column norm / n).
// The b-step solves with a Cholesky factor of X^T X / n + rho I (p <= n) or, through the Woodbury
// identity, of X X^T / n + rho I (p > n).
LassoInfo lasso_admm(const double* xt, const double* y, long n, long p, double alpha, double* beta, double tol,
                     long max_iter, bool positive, double rho = -1.0, Interrupt* ctl = nullptr);

}  // namespace physdl::inverse
