// Branch-free exp / sigmoid / tanh over arrays, written so that the compiler vectorises them
// (scalar libm calls dominated small recurrent layers).  exp: range reduction x = k ln2 + r with
// |r| <= ln2/2, a Taylor polynomial (degree 13 for double, 7 for float: relative error below
// 2e-16 / 1e-7), and 2^k assembled in the exponent bits.  Arguments are clamped to the range of
// normal results.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace physdl::nn::vmath {

inline double exp_one(double x) {
  x = x < -708.0 ? -708.0 : (x > 708.0 ? 708.0 : x);
  const double magic = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const double kk = x * 1.4426950408889634 + magic;
  std::uint64_t kb;
  std::memcpy(&kb, &kk, 8);
  const double k = kk - magic;
  const double r = (x - k * 0.6931471803691238) - k * 1.9082149292705877e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const std::uint64_t sb = (kb + 1023u) << 52;
  double s;
  std::memcpy(&s, &sb, 8);
  return p * s;
}

inline float exp_one(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float magic = 12582912.0f;  // 1.5 * 2^23
  const float kk = x * 1.44269504f + magic;
  std::uint32_t kb;
  std::memcpy(&kb, &kk, 4);
  const float k = kk - magic;
  const float r = (x - k * 0.693145752f) - k * 1.42860677e-6f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const std::uint32_t sb = (kb + 127u) << 23;
  float s;
  std::memcpy(&s, &sb, 4);
  return p * s;
}

template <class T>
inline T sigmoid_one(T x) {
  return T(1) / (T(1) + exp_one(-x));
}

// tanh x = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|); accurate to a few ulp absolute.
template <class T>
inline T tanh_one(T x) {
  const T ax = x < T(0) ? -x : x;
  const T e = exp_one(T(-2) * ax);
  const T t = (T(1) - e) / (T(1) + e);
  return x < T(0) ? -t : t;
}

// log(1 + t) for t in [0, 1] without forming 1 + t: 2 atanh(s) with s = t / (2 + t) in [0, 1/3], the odd
// series of atanh to s^33 (double) / s^15 (float), so the relative error stays at rounding level down to
// t -> 0 (where log1p(t) ~ t).
inline double log1p_unit(double t) {
  const double s = t / (2.0 + t), z = s * s;
  double p = 1.0 / 33.0;
  p = p * z + 1.0 / 31.0;
  p = p * z + 1.0 / 29.0;
  p = p * z + 1.0 / 27.0;
  p = p * z + 1.0 / 25.0;
  p = p * z + 1.0 / 23.0;
  p = p * z + 1.0 / 21.0;
  p = p * z + 1.0 / 19.0;
  p = p * z + 1.0 / 17.0;
  p = p * z + 1.0 / 15.0;
  p = p * z + 1.0 / 13.0;
  p = p * z + 1.0 / 11.0;
  p = p * z + 1.0 / 9.0;
  p = p * z + 1.0 / 7.0;
  p = p * z + 1.0 / 5.0;
  p = p * z + 1.0 / 3.0;
  return 2.0 * s + 2.0 * s * (z * p);
}
inline float log1p_unit(float t) {
  const float s = t / (2.0f + t), z = s * s;
  float p = 1.0f / 15.0f;
  p = p * z + 1.0f / 13.0f;
  p = p * z + 1.0f / 11.0f;
  p = p * z + 1.0f / 9.0f;
  p = p * z + 1.0f / 7.0f;
  p = p * z + 1.0f / 5.0f;
  p = p * z + 1.0f / 3.0f;
  return 2.0f * s + 2.0f * s * (z * p);
}

// softplus x = max(x, 0) + log(1 + e^{-|x|}): no overflow, branch-free.
template <class T>
inline T softplus_one(T x) {
  const T ax = x < T(0) ? -x : x;
  return (x > T(0) ? x : T(0)) + log1p_unit(exp_one(-ax));
}

// Array versions (vmath.cpp), compiled for AVX-512, AVX2 and baseline x86-64 with run-time dispatch.
void exp_array(const float* x, float* y, long n);
void exp_array(const double* x, double* y, long n);
void sigmoid_array(const float* x, float* y, long n);
void sigmoid_array(const double* x, double* y, long n);
void tanh_array(const float* x, float* y, long n);
void tanh_array(const double* x, double* y, long n);
void softplus_array(const float* x, float* y, long n);
void softplus_array(const double* x, double* y, long n);
// dx = dy * sigmoid(x): the derivative of softplus
void softplus_backward(const float* x, const float* dy, float* dx, long n);
void softplus_backward(const double* x, const double* dy, double* dx, long n);
// Forward-mode derivatives of softplus (sigma = sigmoid(x) = softplus', sigma (1 - sigma) = softplus''):
// yd = sigma xd; and of its backward pass: dx = sigma dy (skipped when dx is null),
// dxd = sigma (1 - sigma) xd dy + sigma dyd.
void softplus_tangent(const float* x, const float* xd, float* yd, long n);
void softplus_tangent(const double* x, const double* xd, double* yd, long n);
void softplus_backward_tangent(const float* x, const float* xd, const float* dy, const float* dyd, float* dx,
                               float* dxd, long n);
void softplus_backward_tangent(const double* x, const double* xd, const double* dy, const double* dyd, double* dx,
                               double* dxd, long n);
void relu_forward(const float* x, float* y, long n);
void relu_forward(const double* x, double* y, long n);
void relu_backward(const float* x, const float* dy, float* dx, long n);
void relu_backward(const double* x, const double* dy, double* dx, long n);
// Sum with eight partial sums (vectorisable; the order differs from a left-to-right sum).
float sum_array(const float* x, long n);
double sum_array(const double* x, long n);
// y[r, j] += b[j] over a row-major (rows, cols) block, and out[j] = sum over r of d[r, j] taken in the
// order r = 0, 1, ... (a bias and its gradient; each element's additions in the scalar loop's order)
void add_row_vector(float* y, const float* b, long rows, long cols);
void add_row_vector(double* y, const double* b, long rows, long cols);
void sum_rows(const float* d, float* out, long rows, long cols);
void sum_rows(const double* d, double* out, long rows, long cols);
double sum_squares(const float* x, long n);
double sum_squares(const double* x, long n);
// torch.optim.Adam element update: m += (1-b1)(g-m); v = b2 v + (1-b2) g^2; p -= s m / (sqrt(v)/c + eps)
void adam_update(float* p, const float* g, float* m, float* v, long n, float omb1, float b2, float omb2, float s,
                 float c, float eps);
void adam_update(double* p, const double* g, double* m, double* v, long n, double omb1, double b2, double omb2,
                 double s, double c, double eps);

}  // namespace physdl::nn::vmath
