#include "physdl/nn/vmath.hpp"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__AVX2__)
#define PHYSDL_NN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PHYSDL_NN_CLONES
#endif

namespace physdl::nn::vmath {

namespace {
template <class T>
inline void exp_impl(const T* x, T* y, long n) {
  for (long i = 0; i < n; ++i) y[i] = exp_one(x[i]);
}
template <class T>
inline void sigmoid_impl(const T* x, T* y, long n) {
  for (long i = 0; i < n; ++i) y[i] = sigmoid_one(x[i]);
}
template <class T>
inline void tanh_impl(const T* x, T* y, long n) {
  for (long i = 0; i < n; ++i) y[i] = tanh_one(x[i]);
}
template <class T>
inline void softplus_impl(const T* x, T* y, long n) {
  for (long i = 0; i < n; ++i) y[i] = softplus_one(x[i]);
}
template <class T>
inline void softplus_b_impl(const T* __restrict x, const T* __restrict dy, T* __restrict dx, long n) {
  for (long i = 0; i < n; ++i) dx[i] = dy[i] * sigmoid_one(x[i]);
}
template <class T>
inline void softplus_t_impl(const T* __restrict x, const T* __restrict xd, T* __restrict yd, long n) {
  for (long i = 0; i < n; ++i) yd[i] = sigmoid_one(x[i]) * xd[i];
}
template <class T>
inline void softplus_bt_impl(const T* __restrict x, const T* __restrict xd, const T* __restrict dy,
                             const T* __restrict dyd, T* __restrict dx, T* __restrict dxd, long n) {
  if (dx)
    for (long i = 0; i < n; ++i) {
      const T sg = sigmoid_one(x[i]);
      dx[i] = sg * dy[i];
      dxd[i] = sg * (T(1) - sg) * xd[i] * dy[i] + sg * dyd[i];
    }
  else
    for (long i = 0; i < n; ++i) {
      const T sg = sigmoid_one(x[i]);
      dxd[i] = sg * (T(1) - sg) * xd[i] * dy[i] + sg * dyd[i];
    }
}
template <class T>
inline void relu_f_impl(const T* __restrict x, T* __restrict y, long n) {
  for (long i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}
template <class T>
inline void relu_b_impl(const T* __restrict x, const T* __restrict dy, T* __restrict dx, long n) {
  for (long i = 0; i < n; ++i) dx[i] = x[i] > T(0) ? dy[i] : T(0);
}
template <class T>
inline void add_rows_impl(T* __restrict y, const T* __restrict b, long rows, long cols) {
  for (long r = 0; r < rows; ++r) {
    T* __restrict yr = y + r * cols;
    for (long j = 0; j < cols; ++j) yr[j] += b[j];
  }
}
template <class T>
inline void sum_rows_impl(const T* __restrict d, T* __restrict out, long rows, long cols) {
  for (long j = 0; j < cols; ++j) out[j] = T(0);
  for (long r = 0; r < rows; ++r) {
    const T* __restrict dr = d + r * cols;
    for (long j = 0; j < cols; ++j) out[j] += dr[j];
  }
}
template <class T>
inline T sum_impl(const T* x, long n) {
  T a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  long i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) a[k] += x[i + k];
  for (; i < n; ++i) a[0] += x[i];
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}
template <class T>
inline double sumsq_impl(const T* x, long n) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  long i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) a[k] += double(x[i + k]) * double(x[i + k]);
  for (; i < n; ++i) a[0] += double(x[i]) * double(x[i]);
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}
template <class T>
inline void adam_impl(T* p, const T* g, T* m, T* v, long n, T omb1, T b2, T omb2, T s, T c, T eps) {
  for (long i = 0; i < n; ++i) {
    const T mi = m[i] + omb1 * (g[i] - m[i]);
    const T vi = b2 * v[i] + omb2 * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    p[i] -= s * mi / (std::sqrt(vi) / c + eps);
  }
}
}  // namespace

PHYSDL_NN_CLONES void exp_array(const float* x, float* y, long n) { exp_impl(x, y, n); }
PHYSDL_NN_CLONES void exp_array(const double* x, double* y, long n) { exp_impl(x, y, n); }
PHYSDL_NN_CLONES void sigmoid_array(const float* x, float* y, long n) { sigmoid_impl(x, y, n); }
PHYSDL_NN_CLONES void sigmoid_array(const double* x, double* y, long n) { sigmoid_impl(x, y, n); }
PHYSDL_NN_CLONES void tanh_array(const float* x, float* y, long n) { tanh_impl(x, y, n); }
PHYSDL_NN_CLONES void tanh_array(const double* x, double* y, long n) { tanh_impl(x, y, n); }
PHYSDL_NN_CLONES void softplus_array(const float* x, float* y, long n) { softplus_impl(x, y, n); }
PHYSDL_NN_CLONES void softplus_array(const double* x, double* y, long n) { softplus_impl(x, y, n); }
PHYSDL_NN_CLONES void softplus_backward(const float* x, const float* dy, float* dx, long n) {
  softplus_b_impl(x, dy, dx, n);
}
PHYSDL_NN_CLONES void softplus_backward(const double* x, const double* dy, double* dx, long n) {
  softplus_b_impl(x, dy, dx, n);
}
PHYSDL_NN_CLONES void softplus_tangent(const float* x, const float* xd, float* yd, long n) {
  softplus_t_impl(x, xd, yd, n);
}
PHYSDL_NN_CLONES void softplus_tangent(const double* x, const double* xd, double* yd, long n) {
  softplus_t_impl(x, xd, yd, n);
}
PHYSDL_NN_CLONES void softplus_backward_tangent(const float* x, const float* xd, const float* dy, const float* dyd,
                                                float* dx, float* dxd, long n) {
  softplus_bt_impl(x, xd, dy, dyd, dx, dxd, n);
}
PHYSDL_NN_CLONES void softplus_backward_tangent(const double* x, const double* xd, const double* dy,
                                                const double* dyd, double* dx, double* dxd, long n) {
  softplus_bt_impl(x, xd, dy, dyd, dx, dxd, n);
}
PHYSDL_NN_CLONES void relu_forward(const float* x, float* y, long n) { relu_f_impl(x, y, n); }
PHYSDL_NN_CLONES void relu_forward(const double* x, double* y, long n) { relu_f_impl(x, y, n); }
PHYSDL_NN_CLONES void relu_backward(const float* x, const float* dy, float* dx, long n) { relu_b_impl(x, dy, dx, n); }
PHYSDL_NN_CLONES void relu_backward(const double* x, const double* dy, double* dx, long n) { relu_b_impl(x, dy, dx, n); }
PHYSDL_NN_CLONES void add_row_vector(float* y, const float* b, long rows, long cols) { add_rows_impl(y, b, rows, cols); }
PHYSDL_NN_CLONES void add_row_vector(double* y, const double* b, long rows, long cols) { add_rows_impl(y, b, rows, cols); }
PHYSDL_NN_CLONES void sum_rows(const float* d, float* out, long rows, long cols) { sum_rows_impl(d, out, rows, cols); }
PHYSDL_NN_CLONES void sum_rows(const double* d, double* out, long rows, long cols) { sum_rows_impl(d, out, rows, cols); }
PHYSDL_NN_CLONES float sum_array(const float* x, long n) { return sum_impl(x, n); }
PHYSDL_NN_CLONES double sum_array(const double* x, long n) { return sum_impl(x, n); }
PHYSDL_NN_CLONES double sum_squares(const float* x, long n) { return sumsq_impl(x, n); }
PHYSDL_NN_CLONES double sum_squares(const double* x, long n) { return sumsq_impl(x, n); }
PHYSDL_NN_CLONES void adam_update(float* p, const float* g, float* m, float* v, long n, float omb1, float b2,
                                  float omb2, float s, float c, float eps) {
  adam_impl(p, g, m, v, n, omb1, b2, omb2, s, c, eps);
}
PHYSDL_NN_CLONES void adam_update(double* p, const double* g, double* m, double* v, long n, double omb1, double b2,
                                  double omb2, double s, double c, double eps) {
  adam_impl(p, g, m, v, n, omb1, b2, omb2, s, c, eps);
}

}  // namespace physdl::nn::vmath
