// The entries of the C API (physdl/capi/capi.h, version 3; lasso_solve_stop: version 5) over the engines of
// the other packages:
// RBM block Gibbs sampling and Hopfield asynchronous updates (physdl/ebm), LASSO (physdl/inverse),
// VMC local energies (physdl/quantum).  Argument checks, then the core function with the arguments
// the Python package passes; no logic of their own.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <new>
#include <stdexcept>
#include <vector>

#include "physdl/capi/capi.h"
#include "physdl/ebm/ebm.hpp"
#include "physdl/inverse/lasso.hpp"
#include "physdl/quantum/quantum.hpp"

namespace {

constexpr std::int64_t kMaxDim = std::int64_t(1) << 31;  // per-axis sizes: products stay in int64

// a * b <= len (both >= 0, checked), or an error code.
int check_len(const void* p, std::size_t len, std::int64_t a, std::int64_t b) {
  if (a < 0 || b < 0) return PHYSDL_ERR_SIZE;
  if (a != 0 && b > std::numeric_limits<std::int64_t>::max() / a) return PHYSDL_ERR_SIZE;
  const std::int64_t need = a * b;
  if (need == 0) return PHYSDL_OK;
  if (p == nullptr) return PHYSDL_ERR_NULL;
  if (static_cast<std::uint64_t>(need) > len) return PHYSDL_ERR_SHORT;
  return PHYSDL_OK;
}

template <class T>
bool all_finite(const T* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

template <class F>
int guarded(F&& f) {
  try {
    f();
    return PHYSDL_OK;
  } catch (const std::invalid_argument&) {
    return PHYSDL_ERR_VALUE;
  } catch (const std::out_of_range&) {
    return PHYSDL_ERR_VALUE;
  } catch (...) {
    return PHYSDL_ERR_INTERNAL;
  }
}

template <class T>
int rbm_gibbs(const T* W, std::size_t W_len, const T* b, std::size_t b_len, const T* c, std::size_t c_len,
              std::int64_t nv, std::int64_t nh, int pm, T* v, std::size_t v_len, T* h, std::size_t h_len,
              std::int64_t m, std::int64_t k, std::uint64_t seed, std::uint64_t stream0, std::uint64_t t0) {
  if (nv < 1 || nh < 1 || nv > kMaxDim || nh > kMaxDim || m < 0 || k < 0) return PHYSDL_ERR_SIZE;
  if (pm != 0 && pm != 1) return PHYSDL_ERR_ENUM;
  if (int rc = check_len(W, W_len, nv, nh)) return rc;
  if (int rc = check_len(b, b_len, nv, 1)) return rc;
  if (int rc = check_len(c, c_len, nh, 1)) return rc;
  if (int rc = check_len(v, v_len, m, nv)) return rc;
  if (int rc = check_len(h, h_len, m, nh)) return rc;
  if (!all_finite(W, nv * nh) || !all_finite(b, nv) || !all_finite(c, nh) || !all_finite(v, m * nv))
    return PHYSDL_ERR_VALUE;
  if (m == 0) return PHYSDL_OK;
  return guarded([&] { physdl::ebm::rbm_gibbs<T>(W, b, c, nv, nh, pm == 1, v, h, m, k, seed, stream0, t0); });
}

// The stop test of physdl_lasso_solve_stop: the caller's flag (ctx) is non-zero.
bool flag_set(void* ctx) { return *static_cast<const volatile int*>(ctx) != 0; }

}  // namespace

extern "C" {

int physdl_rbm_gibbs_f64(const double* W, size_t W_len, const double* b, size_t b_len, const double* c,
                         size_t c_len, int64_t nv, int64_t nh, int pm, double* v, size_t v_len, double* h,
                         size_t h_len, int64_t m, int64_t k, uint64_t seed, uint64_t stream0, uint64_t t0) {
  return rbm_gibbs<double>(W, W_len, b, b_len, c, c_len, nv, nh, pm, v, v_len, h, h_len, m, k, seed, stream0, t0);
}

int physdl_rbm_gibbs_f32(const float* W, size_t W_len, const float* b, size_t b_len, const float* c, size_t c_len,
                         int64_t nv, int64_t nh, int pm, float* v, size_t v_len, float* h, size_t h_len, int64_t m,
                         int64_t k, uint64_t seed, uint64_t stream0, uint64_t t0) {
  return rbm_gibbs<float>(W, W_len, b, b_len, c, c_len, nv, nh, pm, v, v_len, h, h_len, m, k, seed, stream0, t0);
}

int physdl_hopfield_async(const double* W, size_t W_len, int64_t n, int8_t* S, size_t S_len, int64_t m,
                          int64_t max_sweeps, int tie_keep, uint64_t seed, uint64_t stream0, double* energy_sweep,
                          size_t energy_sweep_len, int64_t* sweeps, size_t sweeps_len, int64_t* flips,
                          size_t flips_len) {
  // the limits of the Python binding (physdl._core.ebm.hopfield_async)
  if (n < 1 || n >= (std::int64_t(1) << 24) || m < 0) return PHYSDL_ERR_SIZE;
  if (max_sweeps < 1 || max_sweeps >= (std::int64_t(1) << 39)) return PHYSDL_ERR_SIZE;
  if (tie_keep != 0 && tie_keep != 1) return PHYSDL_ERR_ENUM;
  if (int rc = check_len(W, W_len, n, n)) return rc;
  if (int rc = check_len(S, S_len, m, n)) return rc;
  if (int rc = check_len(energy_sweep, energy_sweep_len, m, max_sweeps + 1)) return rc;
  if (int rc = check_len(sweeps, sweeps_len, m, 1)) return rc;
  if (int rc = check_len(flips, flips_len, m, 1)) return rc;
  if (!all_finite(W, n * n)) return PHYSDL_ERR_VALUE;
  for (std::int64_t i = 0; i < m * n; ++i)
    if (S[i] != 1 && S[i] != -1) return PHYSDL_ERR_VALUE;
  if (m == 0) return PHYSDL_OK;
  return guarded([&] {
    physdl::ebm::hopfield_async(W, n, S, m, max_sweeps, tie_keep == 1, seed, stream0, energy_sweep, nullptr, sweeps,
                                flips);
  });
}

int physdl_lasso_solve_stop(int solver, const double* xt, size_t xt_len, const double* y, size_t y_len, int64_t n,
                            int64_t p, double alpha, double* beta, size_t beta_len, double tol, int64_t max_iter,
                            int positive, double param, int64_t* n_iter, double* gap, const volatile int* stop) {
  if (solver < PHYSDL_LASSO_CD || solver > PHYSDL_LASSO_ADMM) return PHYSDL_ERR_ENUM;
  if (positive != 0 && positive != 1) return PHYSDL_ERR_ENUM;
  if (n < 1 || p < 1 || n > kMaxDim || p > kMaxDim || max_iter < 1) return PHYSDL_ERR_SIZE;
  if (int rc = check_len(xt, xt_len, p, n)) return rc;
  if (int rc = check_len(y, y_len, n, 1)) return rc;
  if (int rc = check_len(beta, beta_len, p, 1)) return rc;
  if (!(alpha > 0) || !std::isfinite(alpha) || !(tol >= 0) || !std::isfinite(tol) || std::isnan(param))
    return PHYSDL_ERR_VALUE;
  if (!all_finite(xt, n * p) || !all_finite(y, n) || !all_finite(beta, p)) return PHYSDL_ERR_VALUE;
  if (stop != nullptr && *stop != 0) return PHYSDL_STOPPED;
  namespace inv = physdl::inverse;
  inv::LassoInfo info;
  inv::Interrupt ctl;
  if (stop != nullptr) {
    ctl.stop = flag_set;
    ctl.ctx = const_cast<int*>(stop);  // read only, through flag_set
  }
  inv::Interrupt* pc = stop != nullptr ? &ctl : nullptr;
  std::vector<double> b;
  const int rc = guarded([&] {
    b.assign(beta, beta + p);  // private: a stopped solve leaves the caller's beta as it was
    if (solver == PHYSDL_LASSO_CD)
      info = inv::lasso_cd(xt, y, long(n), long(p), alpha, b.data(), tol, long(max_iter), positive == 1, param, pc);
    else if (solver == PHYSDL_LASSO_FISTA)
      info = inv::lasso_fista(xt, y, long(n), long(p), alpha, b.data(), tol, long(max_iter), positive == 1, param, pc);
    else
      info = inv::lasso_admm(xt, y, long(n), long(p), alpha, b.data(), tol, long(max_iter), positive == 1, param, pc);
  });
  if (rc != PHYSDL_OK) return rc;
  if (info.stopped) return PHYSDL_STOPPED;
  std::copy(b.begin(), b.end(), beta);
  if (n_iter) *n_iter = info.n_iter;
  if (gap) *gap = info.gap;
  return PHYSDL_OK;
}

int physdl_lasso_solve(int solver, const double* xt, size_t xt_len, const double* y, size_t y_len, int64_t n,
                       int64_t p, double alpha, double* beta, size_t beta_len, double tol, int64_t max_iter,
                       int positive, double param, int64_t* n_iter, double* gap) {
  return physdl_lasso_solve_stop(solver, xt, xt_len, y, y_len, n, p, alpha, beta, beta_len, tol, max_iter, positive,
                                 param, n_iter, gap, nullptr);
}

int physdl_vmc_local_energy(const double* params, size_t params_len, int n, int m, int64_t n_groups,
                            const uint64_t* flips, const int64_t* offsets, int64_t n_terms, const uint64_t* zmasks,
                            const double* coef_re, const double* coef_im, uint64_t sign_mask,
                            const uint64_t* states, size_t states_len, int64_t count, double* out, size_t out_len) {
  if (n < 1 || n > 64 || m < 0 || m > kMaxDim || n_groups < 0 || n_terms < 0 || count < 0) return PHYSDL_ERR_SIZE;
  const std::int64_t P = std::int64_t(n) + m + std::int64_t(m) * n;
  if (int rc = check_len(params, params_len, P, 1)) return rc;
  if (int rc = check_len(states, states_len, count, 1)) return rc;
  if (int rc = check_len(out, out_len, count, 1)) return rc;
  if (offsets == nullptr || (n_groups > 0 && flips == nullptr) ||
      (n_terms > 0 && (zmasks == nullptr || coef_re == nullptr || coef_im == nullptr)))
    return PHYSDL_ERR_NULL;
  if (offsets[0] != 0 || offsets[n_groups] != n_terms) return PHYSDL_ERR_VALUE;
  for (std::int64_t g = 0; g < n_groups; ++g)
    if (offsets[g + 1] < offsets[g]) return PHYSDL_ERR_VALUE;
  const std::uint64_t beyond = n == 64 ? 0 : ~((std::uint64_t(1) << n) - 1);
  for (std::int64_t g = 0; g < n_groups; ++g)
    if (flips[g] & beyond) return PHYSDL_ERR_VALUE;
  for (std::int64_t t = 0; t < n_terms; ++t)
    if ((zmasks[t] & beyond) || coef_im[t] != 0.0 || !std::isfinite(coef_re[t])) return PHYSDL_ERR_VALUE;
  if (sign_mask & beyond) return PHYSDL_ERR_VALUE;
  for (std::int64_t i = 0; i < count; ++i)
    if (states[i] & beyond) return PHYSDL_ERR_VALUE;
  if (!all_finite(params, P)) return PHYSDL_ERR_VALUE;
  if (count == 0) return PHYSDL_OK;
  namespace q = physdl::quantum;
  return guarded([&] {
    q::PauliOperator op;  // the compiled operator, as physdl.quantum.PauliSum.core() builds it
    op.n_sites = n;
    op.flips.assign(flips, flips + n_groups);
    op.offsets.assign(offsets, offsets + n_groups + 1);
    op.zmasks.assign(zmasks, zmasks + n_terms);
    op.coef_re.assign(coef_re, coef_re + n_terms);
    op.coef_im.assign(coef_im, coef_im + n_terms);
    q::RBM r;  // params = [a (n), b (m), W (m, n) row-major], as physdl.quantum.RBM.params
    r.n = n;
    r.m = m;
    r.a = params;
    r.b = params + n;
    r.w = params + n + m;
    q::rbm_local_energy(r, op, sign_mask, states, long(count), out);
  });
}

}  // extern "C"
