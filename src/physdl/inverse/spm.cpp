#include "physdl/inverse/spm.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "physdl/nn/blas.hpp"

namespace physdl::inverse {

namespace {

inline double soft(double z, double t) { return z > t ? z - t : (z < -t ? z + t : 0.0); }

// Residual balancing of one penalty: returns the factor applied to it (1, 2 or 1/2).
inline double balance(double primal, double dual, double mu) {
  if (primal > 10.0 * dual && mu < 1e10) return 2.0;
  if (dual > 10.0 * primal && mu > 1e-10) return 0.5;
  return 1.0;
}

}  // namespace

long spm_admm(const double* v, const double* s, const double* g, const double* a, long m, long l, double lam,
              double* params, double* x, double* z1, double* u1, double* z2, double* u2, double tol, long max_iter) {
  using physdl::nn::gemm;
  std::vector<double> dinv(l), rhs(l), w(m), vx(m), vt(l);
  double mu1 = params[0], mu2 = params[1];
  double ada = 0.0;
  auto factor = [&]() {
    ada = 0.0;
    for (long k = 0; k < l; ++k) {
      dinv[k] = 1.0 / (s[k] * s[k] + mu1 + mu2);
      ada += a[k] * a[k] * dinv[k];
    }
  };
  factor();
  long it = 0;
  for (; it < max_iter;) {
    // x-step: minimise 1/2||g - s x||^2 + mu/2 ||x - z1 + u1||^2 + mu'/2 ||V x - z2 + u2||^2 with a.x = 1
    for (long i = 0; i < m; ++i) w[i] = z2[i] - u2[i];
    gemm<double>(true, false, l, 1, m, 1.0, v, l, w.data(), 1, 0.0, vt.data(), 1);  // V^T (z2 - u2)
    double adb = 0.0;
    for (long k = 0; k < l; ++k) {
      rhs[k] = s[k] * g[k] + mu1 * (z1[k] - u1[k]) + mu2 * vt[k];
      adb += a[k] * dinv[k] * rhs[k];
    }
    const double nu = (adb - 1.0) / ada;  // Lagrange multiplier of the sum rule
    for (long k = 0; k < l; ++k) x[k] = dinv[k] * (rhs[k] - nu * a[k]);
    gemm<double>(false, false, m, 1, l, 1.0, v, l, x, 1, 0.0, vx.data(), 1);  // V x
    double rp1 = 0.0, rp2 = 0.0, dz1 = 0.0, dz2 = 0.0, nx = 0.0, nz = 0.0;
    for (long k = 0; k < l; ++k) {
      const double old = z1[k];
      z1[k] = soft(x[k] + u1[k], lam / mu1);
      u1[k] += x[k] - z1[k];
      rp1 += (x[k] - z1[k]) * (x[k] - z1[k]);
      dz1 += (z1[k] - old) * (z1[k] - old);
      nx += x[k] * x[k];
    }
    for (long i = 0; i < m; ++i) {
      const double old = z2[i];
      const double t = vx[i] + u2[i];
      z2[i] = t > 0.0 ? t : 0.0;
      u2[i] += vx[i] - z2[i];
      rp2 += (vx[i] - z2[i]) * (vx[i] - z2[i]);
      dz2 += (z2[i] - old) * (z2[i] - old);
      nz += z2[i] * z2[i];
    }
    ++it;
    params[2] += 1.0;
    const double scale = std::max(1.0, std::sqrt(nx + nz));
    const double rp = std::sqrt(rp1 + rp2), rd = std::sqrt(mu1 * mu1 * dz1 + mu2 * mu2 * dz2);
    if (rp <= tol * scale && rd <= tol * scale) break;
    if (std::fmod(params[2], double(kSpmBalanceEvery)) == 0.0) {
      const double f1 = balance(std::sqrt(rp1), mu1 * std::sqrt(dz1), mu1);
      const double f2 = balance(std::sqrt(rp2), mu2 * std::sqrt(dz2), mu2);
      if (f1 != 1.0 || f2 != 1.0) {
        mu1 *= f1;
        mu2 *= f2;
        for (long k = 0; k < l; ++k) u1[k] /= f1;
        for (long i = 0; i < m; ++i) u2[i] /= f2;
        params[0] = mu1;
        params[1] = mu2;
        factor();
      }
    }
  }
  return it;
}

}  // namespace physdl::inverse
