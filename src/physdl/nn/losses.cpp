// Losses (mean reduction, PyTorch conventions; the table is in layer_kinds.hpp).  Numba twin:
// python/physdl/nn/_numba/losses.py.
#include <algorithm>
#include <cmath>

#include "physdl/nn/detail.hpp"
#include "physdl/nn/vmath.hpp"

namespace physdl::nn::detail {

namespace {

template <class T>
inline T sigm(T x) {
  return vmath::sigmoid_one(x);
}

}  // namespace

template <class T>
double loss_and_grad(int loss, const T* y, long m, long c, const T* targets, const std::int64_t* labels, T* d) {
  double L = 0.0;
  switch (loss) {
    case kMSE: {
      const T sc = T(2.0 / double(m));
      for (long i = 0; i < m; ++i) {
        const T e = y[i] - targets[i];
        L += double(e) * double(e);
        d[i] = sc * e;
      }
      return L / double(m);
    }
    case kBCE: {
      const T inv = T(1.0 / double(m));
      for (long i = 0; i < m; ++i) {
        const T p = y[i], t = targets[i];
        const double lp = std::max(std::log(double(p)), -100.0), l1p = std::max(std::log1p(-double(p)), -100.0);
        L -= double(t) * lp + (1.0 - double(t)) * l1p;
        d[i] = inv * (p - t) / std::max((T(1) - p) * p, T(1e-12));
      }
      return L / double(m);
    }
    case kBCELogits: {
      const T inv = T(1.0 / double(m));
      for (long i = 0; i < m; ++i) {
        const T z = y[i], t = targets[i];
        L += double(std::max(z, T(0)) - z * t + std::log1p(std::exp(-std::abs(z))));
        d[i] = inv * (sigm(z) - t);
      }
      return L / double(m);
    }
    case kSoftmaxCE: {
      const long rows = m / c;
      long valid = 0;
      for (long r = 0; r < rows; ++r) {
        const std::int64_t lab = labels[r];
        if (lab == -100) continue;
        if (lab < 0 || lab >= c)
          fail("y: labels must be in [0, " + std::to_string(c) + ") or -100 (ignored), got " + std::to_string(lab));
        ++valid;
      }
      if (valid == 0) fail("y: every label is -100 (ignored); nothing to fit");
      const T inv = T(1.0 / double(valid));
      for (long r = 0; r < rows; ++r) {
        const T* yr = y + r * c;
        T* dr = d + r * c;
        const std::int64_t lab = labels[r];
        if (lab == -100) {
          for (long j = 0; j < c; ++j) dr[j] = T(0);
          continue;
        }
        T mx = yr[0];
        for (long j = 1; j < c; ++j) mx = std::max(mx, yr[j]);
        for (long j = 0; j < c; ++j) dr[j] = yr[j] - mx;
        vmath::exp_array(dr, dr, c);
        T s = T(0);
        for (long j = 0; j < c; ++j) s += dr[j];
        L += double(std::log(s) + mx - yr[lab]);
        const T is = T(1) / s;
        for (long j = 0; j < c; ++j) dr[j] *= is * inv;
        dr[lab] -= inv;
      }
      return L / double(valid);
    }
    default:
      fail("unknown loss " + std::to_string(loss));
  }
}


template double loss_and_grad<float>(int, const float*, long, long, const float*, const std::int64_t*, float*);
template double loss_and_grad<double>(int, const double*, long, long, const double*, const std::int64_t*, double*);

}  // namespace physdl::nn::detail

namespace physdl::nn {

// No multiply-add contraction: every product and sum is rounded on its own, as NumPy's ufuncs do.
#if defined(__GNUC__) && !defined(__clang__)
#define PHYSDL_NN_NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define PHYSDL_NN_NO_CONTRACT
#endif

template <class T>
PHYSDL_NN_NO_CONTRACT void penalty_terms(const T* g, long n, long m, double t, double* norm, T* h) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  if (m != 1 && m != 2) detail::fail("penalty_terms: m must be 1 or 2 values per sample");
  const double dn = double(n);
  for (long i = 0; i < n; ++i) {
    const T* gi = g + i * m;
    const double a = double(gi[0]);
    double s = a * a;
    if (m == 2) {
      const double b = double(gi[1]);
      const double b2 = b * b;
      s = s + b2;
    }
    const double r = std::sqrt(s);
    norm[i] = r;
    const double coef = r > 0 ? 2.0 * (r - t) / r / dn : 0.0;  // (NaN: not > 0, coefficient 0)
    for (long j = 0; j < m; ++j) h[i * m + j] = T(coef * double(gi[j]));
  }
}

template void penalty_terms<float>(const float*, long, long, double, double*, float*);
template void penalty_terms<double>(const double*, long, long, double, double*, double*);

}  // namespace physdl::nn
