// Dense and element-wise layers (book eq. 3.49; activations eq. 3.6-3.41).  Numba twin:
// python/physdl/nn/_numba/dense.py.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "physdl/nn/blas.hpp"
#include "physdl/nn/detail.hpp"
#include "physdl/nn/vmath.hpp"

namespace physdl::nn::detail {

namespace {

template <class T>
inline T sigm(T x) {
  return vmath::sigmoid_one(x);
}

// ------------------------------------------------------------------ Dense (eq. 3.49)
template <class T>
struct Dense : Layer<T> {
  long nin, nout;
  Dense(const std::vector<long>& s, const std::vector<long>& ishape) {
    if (s.size() != 2 || s[0] < 1 || s[1] < 1) fail("Dense needs settings {in, out} >= 1");
    nin = s[0];
    nout = s[1];
    if (ishape.empty() || ishape.back() != nin)
      fail("Dense(" + std::to_string(nin) + ", " + std::to_string(nout) + ") got input of shape " +
           shape_str(ishape) + "; its last axis must be " + std::to_string(nin));
    this->in_shape = ishape;
    this->out_shape = ishape;
    this->out_shape.back() = nout;
    this->np = checked_mul(nout, nin, "Dense weight") + nout;
    this->finish();
  }
  void forward(const T* x, T* y, long n, const T* p) override {
    const long rows = n * (this->in_size / nin);
    const T* W = p;
    const T* b = p + nout * nin;
    gemm<T>(false, true, rows, nout, nin, T(1), x, nin, W, nin, T(0), y, nout);
    vmath::add_row_vector(y, b, rows, nout);
  }
  void backward(const T* x, const T*, const T* dy, T* dx, long n, const T* p, T* g) override {
    const long rows = n * (this->in_size / nin);
    if (g) {  // g null: input gradient only
      gemm<T>(true, false, nout, nin, rows, T(1), dy, nout, x, nin, T(0), g, nin);
      vmath::sum_rows(dy, g + nout * nin, rows, nout);
    }
    if (dx) gemm<T>(false, false, rows, nin, nout, T(1), dy, nout, p, nin, T(0), dx, nin);
  }
  bool skips_param_grad() const override { return true; }
  bool has_per_sample() const override { return true; }
  bool backward_per_sample(const T* x, const T*, const T* dy, T* dx, long n, const T* p, T* G, long ldg) override {
    const long rps = this->in_size / nin;  // rows of one sample
    for (long s = 0; s < n; ++s) {
      const T* ds = dy + s * rps * nout;
      T* g = G + s * ldg;
      gemm<T>(true, false, nout, nin, rps, T(1), ds, nout, x + s * rps * nin, nin, T(0), g, nin);
      vmath::sum_rows(ds, g + nout * nin, rps, nout);
    }
    if (dx) gemm<T>(false, false, n * rps, nin, nout, T(1), dy, nout, p, nin, T(0), dx, nin);
    return true;
  }
  bool has_tangent() const override { return true; }
  void forward_tangent(const T*, const T*, const T* xd, T* yd, long n, const T* p) override {
    const long rows = n * (this->in_size / nin);
    gemm<T>(false, true, rows, nout, nin, T(1), xd, nin, p, nin, T(0), yd, nout);
  }
  // dx = dy W, dxd = dyd W, gW = dyd^T x + dy^T xd, gb = sum dyd
  void backward_tangent(const T* x, const T*, const T* xd, const T* dy, const T* dyd, T* dx, T* dxd, long n,
                        const T* p, T* gd) override {
    const long rows = n * (this->in_size / nin);
    gemm<T>(true, false, nout, nin, rows, T(1), dyd, nout, x, nin, T(0), gd, nin);
    gemm<T>(true, false, nout, nin, rows, T(1), dy, nout, xd, nin, T(1), gd, nin);
    vmath::sum_rows(dyd, gd + nout * nin, rows, nout);
    if (dx) gemm<T>(false, false, rows, nin, nout, T(1), dy, nout, p, nin, T(0), dx, nin);
    if (dxd) gemm<T>(false, false, rows, nin, nout, T(1), dyd, nout, p, nin, T(0), dxd, nin);
  }
};

// ------------------------------------------------------------------ element-wise activations
template <class T>
struct Elementwise : Layer<T> {
  int kind;
  long nbits = 1;
  Elementwise(int k, const std::vector<long>& s, const std::vector<long>& ishape) : kind(k) {
    if (k == kHReLU) {
      if (s.size() != 1 || s[0] < 1) fail("HamiltonianReLU needs settings {nbits >= 1}");
      nbits = s[0];
    }
    if (k == kSoftmax && ishape.empty()) fail("Softmax needs an input with at least one axis");
    this->in_shape = ishape;
    this->out_shape = ishape;
    this->finish();
  }
  void forward(const T* x, T* y, long n, const T*) override {
    const long m = n * this->in_size;
    switch (kind) {
      case kSigmoid:
        vmath::sigmoid_array(x, y, m);
        break;
      case kTanh:
        vmath::tanh_array(x, y, m);
        break;
      case kReLU:
        vmath::relu_forward(x, y, m);
        break;
      case kStep:
        for (long i = 0; i < m; ++i) y[i] = x[i] > T(0) ? T(1) : T(0);
        break;
      case kCube:
        for (long i = 0; i < m; ++i) y[i] = x[i] * x[i] * x[i];
        break;
      case kSoftplus:  // log(1 + e^x), evaluated without overflow
        vmath::softplus_array(x, y, m);
        break;
      case kFlatten:
        std::memcpy(y, x, sizeof(T) * std::size_t(m));
        break;
      case kHReLU:  // eq. 3.40: <h> = sum_u sigma(z + 0.5 - u)
        for (long i = 0; i < m; ++i) {
          T s = T(0);
          for (long u = 1; u <= nbits; ++u) s += sigm(x[i] + T(0.5) - T(u));
          y[i] = s;
        }
        break;
      case kSoftmax: {
        const long c = this->in_shape.back(), rows = m / c;
        for (long r = 0; r < rows; ++r) {
          const T* xr = x + r * c;
          T* yr = y + r * c;
          T mx = xr[0];
          for (long j = 1; j < c; ++j) mx = std::max(mx, xr[j]);
          for (long j = 0; j < c; ++j) yr[j] = xr[j] - mx;
          vmath::exp_array(yr, yr, c);
          T s = T(0);
          for (long j = 0; j < c; ++j) s += yr[j];
          const T inv = T(1) / s;
          for (long j = 0; j < c; ++j) yr[j] *= inv;
        }
        break;
      }
      default:
        fail("unknown activation");
    }
  }
  void backward(const T* x, const T* y, const T* dy, T* dx, long n, const T*, T*) override {
    if (!dx) return;
    const long m = n * this->in_size;
    switch (kind) {
      case kSigmoid:
        for (long i = 0; i < m; ++i) dx[i] = dy[i] * y[i] * (T(1) - y[i]);
        break;
      case kTanh:
        for (long i = 0; i < m; ++i) dx[i] = dy[i] * (T(1) - y[i] * y[i]);
        break;
      case kReLU:
        vmath::relu_backward(x, dy, dx, m);
        break;
      case kStep:  // derivative zero almost everywhere
        for (long i = 0; i < m; ++i) dx[i] = T(0);
        break;
      case kCube:
        for (long i = 0; i < m; ++i) dx[i] = T(3) * x[i] * x[i] * dy[i];
        break;
      case kSoftplus:
        vmath::softplus_backward(x, dy, dx, m);
        break;
      case kFlatten:
        std::memcpy(dx, dy, sizeof(T) * std::size_t(m));
        break;
      case kHReLU:
        for (long i = 0; i < m; ++i) {
          T s = T(0);
          for (long u = 1; u <= nbits; ++u) {
            const T sg = sigm(x[i] + T(0.5) - T(u));
            s += sg * (T(1) - sg);
          }
          dx[i] = dy[i] * s;
        }
        break;
      case kSoftmax: {
        const long c = this->in_shape.back(), rows = m / c;
        for (long r = 0; r < rows; ++r) {
          const T* yr = y + r * c;
          const T* dr = dy + r * c;
          T s = T(0);
          for (long j = 0; j < c; ++j) s += dr[j] * yr[j];
          for (long j = 0; j < c; ++j) dx[r * c + j] = yr[j] * (dr[j] - s);
        }
        break;
      }
      default:
        fail("unknown activation");
    }
  }
  // first and second derivative of the activation at x (with y = f(x))
  void derivs(T x, T y, T& d1, T& d2) const {
    switch (kind) {
      case kSigmoid:
        d1 = y * (T(1) - y);
        d2 = d1 * (T(1) - T(2) * y);
        break;
      case kTanh:
        d1 = T(1) - y * y;
        d2 = T(-2) * y * d1;
        break;
      case kReLU:
        d1 = x > T(0) ? T(1) : T(0);
        d2 = T(0);
        break;
      case kStep:
        d1 = T(0);
        d2 = T(0);
        break;
      case kCube:
        d1 = T(3) * x * x;
        d2 = T(6) * x;
        break;
      case kFlatten:
        d1 = T(1);
        d2 = T(0);
        break;
      case kSoftplus: {
        const T sg = sigm(x);
        d1 = sg;
        d2 = sg * (T(1) - sg);
        break;
      }
      case kHReLU: {
        d1 = T(0);
        d2 = T(0);
        for (long u = 1; u <= nbits; ++u) {
          const T sg = sigm(x + T(0.5) - T(u));
          d1 += sg * (T(1) - sg);
          d2 += sg * (T(1) - sg) * (T(1) - T(2) * sg);
        }
        break;
      }
      default:
        fail("this activation has no tangent");
    }
  }
  bool has_tangent() const override { return kind != kSoftmax; }
  void forward_tangent(const T* x, const T* y, const T* xd, T* yd, long n, const T*) override {
    const long m = n * this->in_size;
    if (kind == kSoftplus) {
      vmath::softplus_tangent(x, xd, yd, m);
      return;
    }
    if (kind == kTanh) {
      for (long i = 0; i < m; ++i) yd[i] = (T(1) - y[i] * y[i]) * xd[i];
      return;
    }
    if (kind == kReLU) {
      vmath::relu_backward(x, xd, yd, m);
      return;
    }
    T d1, d2;
    for (long i = 0; i < m; ++i) {
      derivs(x[i], y[i], d1, d2);
      yd[i] = d1 * xd[i];
    }
  }
  void backward_tangent(const T* x, const T* y, const T* xd, const T* dy, const T* dyd, T* dx, T* dxd, long n,
                        const T*, T*) override {
    const long m = n * this->in_size;
    if (kind == kSoftplus && dxd) {
      vmath::softplus_backward_tangent(x, xd, dy, dyd, dx, dxd, m);
      return;
    }
    if (kind == kReLU) {  // piecewise linear: d2 = 0
      if (dx) vmath::relu_backward(x, dy, dx, m);
      if (dxd) vmath::relu_backward(x, dyd, dxd, m);
      return;
    }
    T d1, d2;
    for (long i = 0; i < m; ++i) {
      derivs(x[i], y[i], d1, d2);
      if (dx) dx[i] = d1 * dy[i];
      if (dxd) dxd[i] = d2 * xd[i] * dy[i] + d1 * dyd[i];
    }
  }
};


}  // namespace

template <class T>
std::unique_ptr<Layer<T>> make_dense_family(int kind, const std::vector<long>& s, const std::vector<long>& ishape) {
  switch (kind) {
    case kDense:
      return std::make_unique<Dense<T>>(s, ishape);
    case kSigmoid:
    case kTanh:
    case kReLU:
    case kStep:
    case kSoftmax:
    case kHReLU:
    case kCube:
    case kSoftplus:
      return std::make_unique<Elementwise<T>>(kind, s, ishape);
    case kFlatten: {
      auto l = std::make_unique<Elementwise<T>>(kind, s, ishape);
      l->out_shape = {l->in_size};
      l->view = true;
      return l;
    }
    default:
      return nullptr;
  }
}

template std::unique_ptr<Layer<float>> make_dense_family<float>(int, const std::vector<long>&, const std::vector<long>&);
template std::unique_ptr<Layer<double>> make_dense_family<double>(int, const std::vector<long>&, const std::vector<long>&);

}  // namespace physdl::nn::detail
