#include "physdl/nn/network.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "physdl/nn/blas.hpp"
#include "physdl/nn/vmath.hpp"

#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#define PHYSDL_NN_HAVE_MXCSR 1
#endif

namespace physdl::nn {

namespace {

long prod(const std::vector<long>& s) {
  long p = 1;
  for (long d : s) p *= d;
  return p;
}

std::string shape_str(const std::vector<long>& s) {
  std::string r = "(";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + (s.size() == 1 ? ",)" : ")");
}

// Flush denormals to zero (and treat denormal inputs as zero) for the duration of one call:
// saturated sigmoid/tanh gates produce denormal gradients that slow x86 arithmetic a hundredfold.
struct FlushDenormals {
#ifdef PHYSDL_NN_HAVE_MXCSR
  unsigned int saved;
  FlushDenormals() : saved(_mm_getcsr()) { _mm_setcsr(saved | 0x8040u); }
  ~FlushDenormals() { _mm_setcsr(saved); }
#endif
};

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument(msg); }

template <class T>
inline T sigm(T x) {
  return vmath::sigmoid_one(x);
}

template <class T>
void grow(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.assign(n, T(0));
}

// True when every value is finite (exponent bits not all ones); vectorises as integer work.
bool all_finite(const float* x, long n) {
  std::uint32_t bad = 0;
  for (long i = 0; i < n; ++i) {
    std::uint32_t u;
    std::memcpy(&u, x + i, 4);
    bad |= static_cast<std::uint32_t>((u & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}
bool all_finite(const double* x, long n) {
  std::uint64_t bad = 0;
  for (long i = 0; i < n; ++i) {
    std::uint64_t u;
    std::memcpy(&u, x + i, 8);
    bad |= static_cast<std::uint64_t>((u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull);
  }
  return bad == 0;
}

}  // namespace

// ------------------------------------------------------------------ layer interface
template <class T>
struct Layer {
  std::vector<long> in_shape, out_shape;
  long in_size = 0, out_size = 0, poff = 0, np = 0;
  virtual ~Layer() = default;
  virtual void reserve(long /*cap*/) {}
  virtual void forward(const T* x, T* y, long n, const T* p) = 0;
  // dy: gradient of the loss w.r.t. y; writes parameter gradients into g (overwriting) and,
  // when dx is not null, the gradient w.r.t. x.
  virtual void backward(const T* x, const T* y, const T* dy, T* dx, long n, const T* p, T* g) = 0;
  void finish() {
    in_size = prod(in_shape);
    out_size = prod(out_shape);
  }
};

namespace {

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
    this->np = nout * nin + nout;
    this->finish();
  }
  void forward(const T* x, T* y, long n, const T* p) override {
    const long rows = n * (this->in_size / nin);
    const T* W = p;
    const T* b = p + nout * nin;
    gemm<T>(false, true, rows, nout, nin, T(1), x, nin, W, nin, T(0), y, nout);
    for (long r = 0; r < rows; ++r) {
      T* yr = y + r * nout;
      for (long j = 0; j < nout; ++j) yr[j] += b[j];
    }
  }
  void backward(const T* x, const T*, const T* dy, T* dx, long n, const T* p, T* g) override {
    const long rows = n * (this->in_size / nin);
    gemm<T>(true, false, nout, nin, rows, T(1), dy, nout, x, nin, T(0), g, nin);
    T* gb = g + nout * nin;
    for (long j = 0; j < nout; ++j) gb[j] = T(0);
    for (long r = 0; r < rows; ++r) {
      const T* d = dy + r * nout;
      for (long j = 0; j < nout; ++j) gb[j] += d[j];
    }
    if (dx) gemm<T>(false, false, rows, nin, nout, T(1), dy, nout, p, nin, T(0), dx, nin);
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
        for (long i = 0; i < m; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
        break;
      case kStep:
        for (long i = 0; i < m; ++i) y[i] = x[i] > T(0) ? T(1) : T(0);
        break;
      case kCube:
        for (long i = 0; i < m; ++i) y[i] = x[i] * x[i] * x[i];
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
        for (long i = 0; i < m; ++i) dx[i] = x[i] > T(0) ? dy[i] : T(0);
        break;
      case kStep:  // derivative zero almost everywhere
        for (long i = 0; i < m; ++i) dx[i] = T(0);
        break;
      case kCube:
        for (long i = 0; i < m; ++i) dx[i] = T(3) * x[i] * x[i] * dy[i];
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
};

// ------------------------------------------------------------------ convolution geometry
// Maps the image [C,H,W] onto columns [C*kh*kw, OH*OW] (eq. 4.4-4.8): column (oh, ow) of row
// (c, a, b) holds x[c, oh*sh - ph + a, ow*sw - pw + b], zero outside or wrapped when periodic.
struct Geometry {
  long C, H, W, kh, kw, sh, sw, ph, pw, OH, OW;
  bool periodic;
  std::vector<long> rowidx, colidx;  // source row/col per (a, oh) / (b, ow), -1 = zero padding
  void build() {
    rowidx.resize(std::size_t(kh * OH));
    colidx.resize(std::size_t(kw * OW));
    for (long a = 0; a < kh; ++a)
      for (long o = 0; o < OH; ++o) {
        long i = o * sh - ph + a;
        if (periodic) i = ((i % H) + H) % H;
        rowidx[std::size_t(a * OH + o)] = (i >= 0 && i < H) ? i : -1;
      }
    for (long b = 0; b < kw; ++b)
      for (long o = 0; o < OW; ++o) {
        long j = o * sw - pw + b;
        if (periodic) j = ((j % W) + W) % W;
        colidx[std::size_t(b * OW + o)] = (j >= 0 && j < W) ? j : -1;
      }
  }
  long K() const { return C * kh * kw; }
  long P() const { return OH * OW; }
  // col[K, n*P] (leading dimension n*P) from x[n, C, H, W]
  template <class T>
  void im2col(const T* x, long n, T* col) const {
    const long P_ = P(), ld = n * P_;
    for (long s = 0; s < n; ++s)
      for (long c = 0; c < C; ++c) {
        const T* xc = x + (s * C + c) * H * W;
        for (long a = 0; a < kh; ++a)
          for (long b = 0; b < kw; ++b) {
            T* row = col + ((c * kh + a) * kw + b) * ld + s * P_;
            for (long oh = 0; oh < OH; ++oh) {
              const long i = rowidx[std::size_t(a * OH + oh)];
              T* r = row + oh * OW;
              if (i < 0) {
                for (long ow = 0; ow < OW; ++ow) r[ow] = T(0);
                continue;
              }
              const T* xr = xc + i * W;
              const long* cj = colidx.data() + b * OW;
              for (long ow = 0; ow < OW; ++ow) r[ow] = cj[ow] < 0 ? T(0) : xr[cj[ow]];
            }
          }
      }
  }
  // x[n, C, H, W] += scatter of col (x must be zeroed by the caller when needed)
  template <class T>
  void col2im(const T* col, long n, T* x) const {
    const long P_ = P(), ld = n * P_;
    for (long s = 0; s < n; ++s)
      for (long c = 0; c < C; ++c) {
        T* xc = x + (s * C + c) * H * W;
        for (long a = 0; a < kh; ++a)
          for (long b = 0; b < kw; ++b) {
            const T* row = col + ((c * kh + a) * kw + b) * ld + s * P_;
            for (long oh = 0; oh < OH; ++oh) {
              const long i = rowidx[std::size_t(a * OH + oh)];
              if (i < 0) continue;
              const T* r = row + oh * OW;
              T* xr = xc + i * W;
              const long* cj = colidx.data() + b * OW;
              for (long ow = 0; ow < OW; ++ow)
                if (cj[ow] >= 0) xr[cj[ow]] += r[ow];
            }
          }
      }
  }
};

// [n, C, P] -> [C, n*P]
template <class T>
void to_channel_major(const T* src, long n, long C, long P, T* dst) {
  for (long s = 0; s < n; ++s)
    for (long c = 0; c < C; ++c) std::memcpy(dst + c * n * P + s * P, src + (s * C + c) * P, sizeof(T) * P);
}
template <class T>
void from_channel_major(const T* src, long n, long C, long P, T* dst) {
  for (long s = 0; s < n; ++s)
    for (long c = 0; c < C; ++c) std::memcpy(dst + (s * C + c) * P, src + c * n * P + s * P, sizeof(T) * P);
}

std::vector<long> check_image(const char* what, const std::vector<long>& ishape, long cin) {
  if (ishape.size() != 3 || ishape[0] != cin)
    fail(std::string(what) + " expects input of shape (" + std::to_string(cin) + ", H, W), got " +
         shape_str(ishape));
  return ishape;
}

// ------------------------------------------------------------------ Conv2d (eq. 4.6-4.8)
template <class T>
struct Conv2d : Layer<T> {
  Geometry g{};
  long cout = 0;
  std::vector<T> col, yt;
  Conv2d(const std::vector<long>& s, const std::vector<long>& ishape) {
    if (s.size() != 9) fail("Conv2d needs 9 settings");
    const long cin = s[0];
    cout = s[1];
    check_image("Conv2d", ishape, cin);
    g = Geometry{cin, ishape[1], ishape[2], s[2], s[3], s[4], s[5], s[6], s[7], 0, 0, s[8] != 0, {}, {}};
    if (cin < 1 || cout < 1 || g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.ph < 0 || g.pw < 0)
      fail("Conv2d settings must be positive (padding >= 0)");
    if (g.periodic && (g.ph > g.H || g.pw > g.W)) fail("Conv2d periodic padding must not exceed the image size");
    const long eh = g.H + 2 * g.ph - g.kh, ew = g.W + 2 * g.pw - g.kw;
    if (eh < 0 || ew < 0)
      fail("Conv2d kernel " + std::to_string(g.kh) + "x" + std::to_string(g.kw) + " is larger than the padded input " +
           shape_str(ishape));
    g.OH = eh / g.sh + 1;
    g.OW = ew / g.sw + 1;
    g.build();
    this->in_shape = ishape;
    this->out_shape = {cout, g.OH, g.OW};
    this->np = cout * g.K() + cout;
    this->finish();
  }
  void reserve(long cap) override {
    grow(col, std::size_t(g.K() * cap * g.P()));
    grow(yt, std::size_t(cout * cap * g.P()));
  }
  void forward(const T* x, T* y, long n, const T* p) override {
    const long K = g.K(), P = g.P(), ld = n * P;
    g.im2col(x, n, col.data());
    gemm<T>(false, false, cout, ld, K, T(1), p, K, col.data(), ld, T(0), yt.data(), ld);
    from_channel_major(yt.data(), n, cout, P, y);
    const T* b = p + cout * K;
    for (long s = 0; s < n; ++s)
      for (long c = 0; c < cout; ++c) {
        T* yc = y + (s * cout + c) * P;
        for (long q = 0; q < P; ++q) yc[q] += b[c];
      }
  }
  void backward(const T*, const T*, const T* dy, T* dx, long n, const T* p, T* gr) override {
    const long K = g.K(), P = g.P(), ld = n * P;
    to_channel_major(dy, n, cout, P, yt.data());
    gemm<T>(false, true, cout, K, ld, T(1), yt.data(), ld, col.data(), ld, T(0), gr, K);
    T* gb = gr + cout * K;
    for (long c = 0; c < cout; ++c) {
      T s = T(0);
      const T* r = yt.data() + c * ld;
      for (long q = 0; q < ld; ++q) s += r[q];
      gb[c] = s;
    }
    if (dx) {
      gemm<T>(true, false, K, ld, cout, T(1), p, K, yt.data(), ld, T(0), col.data(), ld);
      std::fill(dx, dx + n * this->in_size, T(0));
      g.col2im(col.data(), n, dx);
    }
  }
};

// ------------------------------------------------------------------ ConvTranspose2d (eq. 4.9)
template <class T>
struct ConvT2d : Layer<T> {
  Geometry g{};  // the convolution that maps this layer's output back onto its input
  long cin = 0, cout = 0;
  std::vector<T> col, xt;
  ConvT2d(const std::vector<long>& s, const std::vector<long>& ishape) {
    if (s.size() != 8) fail("ConvTranspose2d needs 8 settings");
    cin = s[0];
    cout = s[1];
    check_image("ConvTranspose2d", ishape, cin);
    const long kh = s[2], kw = s[3], sh = s[4], sw = s[5], ph = s[6], pw = s[7];
    if (cin < 1 || cout < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0)
      fail("ConvTranspose2d settings must be positive (padding >= 0)");
    const long OH = (ishape[1] - 1) * sh - 2 * ph + kh, OW = (ishape[2] - 1) * sw - 2 * pw + kw;
    if (OH < 1 || OW < 1) fail("ConvTranspose2d padding too large for input " + shape_str(ishape));
    g = Geometry{cout, OH, OW, kh, kw, sh, sw, ph, pw, ishape[1], ishape[2], false, {}, {}};
    g.build();
    this->in_shape = ishape;
    this->out_shape = {cout, OH, OW};
    this->np = cin * g.K() + cout;
    this->finish();
  }
  void reserve(long cap) override {
    grow(col, std::size_t(g.K() * cap * g.P()));
    grow(xt, std::size_t(cin * cap * g.P()));
  }
  void forward(const T* x, T* y, long n, const T* p) override {
    const long K = g.K(), P = g.P(), ld = n * P;
    to_channel_major(x, n, cin, P, xt.data());
    gemm<T>(true, false, K, ld, cin, T(1), p, K, xt.data(), ld, T(0), col.data(), ld);
    std::fill(y, y + n * this->out_size, T(0));
    g.col2im(col.data(), n, y);
    const T* b = p + cin * K;
    const long Q = g.H * g.W;
    for (long s = 0; s < n; ++s)
      for (long c = 0; c < cout; ++c) {
        T* yc = y + (s * cout + c) * Q;
        for (long q = 0; q < Q; ++q) yc[q] += b[c];
      }
  }
  void backward(const T*, const T*, const T* dy, T* dx, long n, const T* p, T* gr) override {
    const long K = g.K(), P = g.P(), ld = n * P, Q = g.H * g.W;
    g.im2col(dy, n, col.data());
    gemm<T>(false, true, cin, K, ld, T(1), xt.data(), ld, col.data(), ld, T(0), gr, K);
    T* gb = gr + cin * K;
    for (long c = 0; c < cout; ++c) gb[c] = T(0);
    for (long s = 0; s < n; ++s)
      for (long c = 0; c < cout; ++c) {
        const T* d = dy + (s * cout + c) * Q;
        T acc = T(0);
        for (long q = 0; q < Q; ++q) acc += d[q];
        gb[c] += acc;
      }
    if (dx) {
      gemm<T>(false, false, cin, ld, K, T(1), p, K, col.data(), ld, T(0), xt.data(), ld);
      from_channel_major(xt.data(), n, cin, P, dx);
    }
  }
};

// ------------------------------------------------------------------ pooling
template <class T>
struct Pool : Layer<T> {
  bool is_max;
  long C, H, W, kh, kw, sh, sw, OH, OW;
  std::vector<long> arg;
  Pool(bool mx, const std::vector<long>& s, const std::vector<long>& ishape) : is_max(mx) {
    if (s.size() != 4 || s[0] < 1 || s[1] < 1 || s[2] < 1 || s[3] < 1) fail("pooling needs settings {kh, kw, sh, sw} >= 1");
    if (ishape.size() != 3) fail("pooling expects input of shape (C, H, W), got " + shape_str(ishape));
    C = ishape[0];
    H = ishape[1];
    W = ishape[2];
    kh = s[0];
    kw = s[1];
    sh = s[2];
    sw = s[3];
    if (kh > H || kw > W) fail("pooling window larger than input " + shape_str(ishape));
    OH = (H - kh) / sh + 1;
    OW = (W - kw) / sw + 1;
    this->in_shape = ishape;
    this->out_shape = {C, OH, OW};
    this->finish();
  }
  void reserve(long cap) override {
    if (is_max) grow(arg, std::size_t(cap * this->out_size));
  }
  void forward(const T* x, T* y, long n, const T*) override {
    const T inv = T(1) / T(kh * kw);
    for (long sc = 0; sc < n * C; ++sc) {
      const T* xc = x + sc * H * W;
      for (long oh = 0; oh < OH; ++oh)
        for (long ow = 0; ow < OW; ++ow) {
          const long o = sc * OH * OW + oh * OW + ow;
          if (is_max) {
            long best = (oh * sh) * W + ow * sw;
            for (long a = 0; a < kh; ++a)
              for (long b = 0; b < kw; ++b) {
                const long q = (oh * sh + a) * W + ow * sw + b;
                if (xc[q] > xc[best]) best = q;
              }
            arg[std::size_t(o)] = best;
            y[o] = xc[best];
          } else {
            T s = T(0);
            for (long a = 0; a < kh; ++a)
              for (long b = 0; b < kw; ++b) s += xc[(oh * sh + a) * W + ow * sw + b];
            y[o] = s * inv;
          }
        }
    }
  }
  void backward(const T*, const T*, const T* dy, T* dx, long n, const T*, T*) override {
    if (!dx) return;
    std::fill(dx, dx + n * this->in_size, T(0));
    const T inv = T(1) / T(kh * kw);
    for (long sc = 0; sc < n * C; ++sc) {
      T* dc = dx + sc * H * W;
      for (long oh = 0; oh < OH; ++oh)
        for (long ow = 0; ow < OW; ++ow) {
          const long o = sc * OH * OW + oh * OW + ow;
          if (is_max) {
            dc[arg[std::size_t(o)]] += dy[o];
          } else {
            for (long a = 0; a < kh; ++a)
              for (long b = 0; b < kw; ++b) dc[(oh * sh + a) * W + ow * sw + b] += dy[o] * inv;
          }
        }
    }
  }
};

// ------------------------------------------------------------------ RNN (eq. 4.13-4.21) and LSTM (eq. 4.25-4.35)
// Time-major workspaces [T, n, .]; the input projections of all steps are one product, the
// recurrent products one per step, and the weight gradients of all steps one product each.
template <class T>
struct Recurrent : Layer<T> {
  bool lstm, ret_seq;
  long Tn, I, H, G;
  std::vector<T> xtm, pre, hs, cs, tcs, dpre, dh, dhn, dc, dxtm;
  Recurrent(bool is_lstm, const std::vector<long>& s, const std::vector<long>& ishape) : lstm(is_lstm) {
    const char* name = is_lstm ? "LSTM" : "RNN";
    if (s.size() != 3 || s[0] < 1 || s[1] < 1) fail(std::string(name) + " needs settings {in, hidden, return_sequences}");
    I = s[0];
    H = s[1];
    ret_seq = s[2] != 0;
    if (ishape.size() != 2 || ishape[1] != I)
      fail(std::string(name) + " expects input of shape (T, " + std::to_string(I) + "), got " + shape_str(ishape));
    Tn = ishape[0];
    if (Tn < 1) fail(std::string(name) + " needs at least one time step");
    G = lstm ? 4 * H : H;
    this->in_shape = ishape;
    this->out_shape = ret_seq ? std::vector<long>{Tn, H} : std::vector<long>{H};
    this->np = G * I + G * H + G;
    this->finish();
  }
  void reserve(long cap) override {
    grow(xtm, std::size_t(Tn * cap * I));
    grow(dxtm, std::size_t(Tn * cap * I));
    grow(pre, std::size_t(Tn * cap * G));
    grow(dpre, std::size_t(Tn * cap * G));
    grow(hs, std::size_t(Tn * cap * H));
    grow(dh, std::size_t(cap * H));
    grow(dhn, std::size_t(cap * H));
    if (lstm) {
      grow(cs, std::size_t(Tn * cap * H));
      grow(tcs, std::size_t(Tn * cap * H));
      grow(dc, std::size_t(cap * H));
    }
  }
  void forward(const T* x, T* y, long n, const T* p) override {
    const T* Wx = p;
    const T* Wh = p + G * I;
    const T* b = Wh + G * H;
    for (long s = 0; s < n; ++s)
      for (long t = 0; t < Tn; ++t) std::memcpy(&xtm[std::size_t((t * n + s) * I)], x + (s * Tn + t) * I, sizeof(T) * I);
    gemm<T>(false, true, Tn * n, G, I, T(1), xtm.data(), I, Wx, I, T(0), pre.data(), G);
    for (long r = 0; r < Tn * n; ++r) {
      T* pr = &pre[std::size_t(r * G)];
      for (long j = 0; j < G; ++j) pr[j] += b[j];
    }
    for (long t = 0; t < Tn; ++t) {
      T* a = &pre[std::size_t(t * n * G)];
      T* h = &hs[std::size_t(t * n * H)];
      if (t > 0) gemm<T>(false, true, n, G, H, T(1), h - n * H, H, Wh, H, T(1), a, G);
      if (!lstm) {
        vmath::tanh_array(a, h, n * H);
        continue;
      }
      T* c = &cs[std::size_t(t * n * H)];
      T* tc = &tcs[std::size_t(t * n * H)];
      const T* cp = t > 0 ? c - n * H : nullptr;
      for (long s = 0; s < n; ++s) {
        T* ar = a + s * G;
        vmath::sigmoid_array(ar, ar, 2 * H);
        vmath::tanh_array(ar + 2 * H, ar + 2 * H, H);
        vmath::sigmoid_array(ar + 3 * H, ar + 3 * H, H);
        T* cr = c + s * H;
        const T* cpr = cp ? cp + s * H : nullptr;
        for (long j = 0; j < H; ++j) cr[j] = ar[H + j] * (cpr ? cpr[j] : T(0)) + ar[j] * ar[2 * H + j];  // eq. 4.28
        vmath::tanh_array(cr, tc + s * H, H);
        for (long j = 0; j < H; ++j) h[s * H + j] = ar[3 * H + j] * tc[s * H + j];  // eq. 4.27
      }
    }
    if (ret_seq) {
      for (long s = 0; s < n; ++s)
        for (long t = 0; t < Tn; ++t) std::memcpy(y + (s * Tn + t) * H, &hs[std::size_t((t * n + s) * H)], sizeof(T) * H);
    } else {
      std::memcpy(y, &hs[std::size_t((Tn - 1) * n * H)], sizeof(T) * n * H);
    }
  }
  void backward(const T*, const T*, const T* dy, T* dx, long n, const T* p, T* g) override {
    const T* Wx = p;
    const T* Wh = p + G * I;
    std::fill(dhn.begin(), dhn.begin() + n * H, T(0));
    if (lstm) std::fill(dc.begin(), dc.begin() + n * H, T(0));
    for (long t = Tn - 1; t >= 0; --t) {
      // dh = dh_next + dy_t
      for (long s = 0; s < n; ++s)
        for (long j = 0; j < H; ++j) {
          T v = dhn[std::size_t(s * H + j)];
          if (ret_seq) v += dy[(s * Tn + t) * H + j];
          else if (t == Tn - 1) v += dy[s * H + j];
          dh[std::size_t(s * H + j)] = v;
        }
      T* da = &dpre[std::size_t(t * n * G)];
      const T* h = &hs[std::size_t(t * n * H)];
      if (!lstm) {
        for (long q = 0; q < n * H; ++q) da[q] = dh[std::size_t(q)] * (T(1) - h[q] * h[q]);  // eq. 4.17
      } else {
        const T* a = &pre[std::size_t(t * n * G)];
        const T* tc = &tcs[std::size_t(t * n * H)];
        const T* cp = t > 0 ? &cs[std::size_t((t - 1) * n * H)] : nullptr;
        for (long s = 0; s < n; ++s) {
          const T* ar = a + s * G;
          T* dr = da + s * G;
          for (long j = 0; j < H; ++j) {
            const long q = s * H + j;
            const T ig = ar[j], fg = ar[H + j], gg = ar[2 * H + j], og = ar[3 * H + j];
            const T dhq = dh[std::size_t(q)];
            const T dcq = dc[std::size_t(q)] + dhq * og * (T(1) - tc[q] * tc[q]);  // eq. 4.32 (B), 4.34
            const T cprev = cp ? cp[q] : T(0);
            dr[j] = dcq * gg * ig * (T(1) - ig);
            dr[H + j] = dcq * cprev * fg * (T(1) - fg);
            dr[2 * H + j] = dcq * ig * (T(1) - gg * gg);
            dr[3 * H + j] = dhq * tc[q] * og * (T(1) - og);  // eq. 4.32 (A), 4.33
            dc[std::size_t(q)] = dcq * fg;  // eq. 4.35, first term: memory path without J
          }
        }
      }
      if (t > 0) gemm<T>(false, false, n, H, G, T(1), da, G, Wh, H, T(0), dhn.data(), H);
    }
    gemm<T>(true, false, G, I, Tn * n, T(1), dpre.data(), G, xtm.data(), I, T(0), g, I);
    T* gWh = g + G * I;
    if (Tn > 1)
      gemm<T>(true, false, G, H, (Tn - 1) * n, T(1), dpre.data() + n * G, G, hs.data(), H, T(0), gWh, H);
    else
      std::fill(gWh, gWh + G * H, T(0));
    T* gb = gWh + G * H;
    std::fill(gb, gb + G, T(0));
    for (long r = 0; r < Tn * n; ++r) {
      const T* d = &dpre[std::size_t(r * G)];
      for (long j = 0; j < G; ++j) gb[j] += d[j];
    }
    if (dx) {
      gemm<T>(false, false, Tn * n, I, G, T(1), dpre.data(), G, Wx, I, T(0), dxtm.data(), I);
      for (long s = 0; s < n; ++s)
        for (long t = 0; t < Tn; ++t) std::memcpy(dx + (s * Tn + t) * I, &dxtm[std::size_t((t * n + s) * I)], sizeof(T) * I);
    }
  }
};

// ------------------------------------------------------------------ dot-product self-attention
// Q = x Wq^T, K = x Wk^T, V = x Wv^T, y = softmax(Q K^T / sqrt(dk)) V, per sample.
template <class T>
struct Attention : Layer<T> {
  long Tn, D, dk, dv, E;
  T scale;
  std::vector<T> qkv, A, dqkv, dA;
  Attention(const std::vector<long>& s, const std::vector<long>& ishape) {
    if (s.size() != 3 || s[0] < 1 || s[1] < 1 || s[2] < 1) fail("Attention needs settings {d_in, d_k, d_v} >= 1");
    D = s[0];
    dk = s[1];
    dv = s[2];
    if (ishape.size() != 2 || ishape[1] != D)
      fail("Attention expects input of shape (T, " + std::to_string(D) + "), got " + shape_str(ishape));
    Tn = ishape[0];
    E = 2 * dk + dv;
    scale = T(1) / std::sqrt(T(dk));
    this->in_shape = ishape;
    this->out_shape = {Tn, dv};
    this->np = E * D;
    this->finish();
  }
  void reserve(long cap) override {
    grow(qkv, std::size_t(cap * Tn * E));
    grow(dqkv, std::size_t(cap * Tn * E));
    grow(A, std::size_t(cap * Tn * Tn));
    grow(dA, std::size_t(Tn * Tn));
  }
  void forward(const T* x, T* y, long n, const T* p) override {
    gemm<T>(false, true, n * Tn, E, D, T(1), x, D, p, D, T(0), qkv.data(), E);
    for (long s = 0; s < n; ++s) {
      const T* Q = &qkv[std::size_t(s * Tn * E)];
      T* As = &A[std::size_t(s * Tn * Tn)];
      gemm<T>(false, true, Tn, Tn, dk, scale, Q, E, Q + dk, E, T(0), As, Tn);
      for (long r = 0; r < Tn; ++r) {
        T* ar = As + r * Tn;
        T mx = ar[0];
        for (long j = 1; j < Tn; ++j) mx = std::max(mx, ar[j]);
        for (long j = 0; j < Tn; ++j) ar[j] -= mx;
        vmath::exp_array(ar, ar, Tn);
        T sum = T(0);
        for (long j = 0; j < Tn; ++j) sum += ar[j];
        const T inv = T(1) / sum;
        for (long j = 0; j < Tn; ++j) ar[j] *= inv;
      }
      gemm<T>(false, false, Tn, dv, Tn, T(1), As, Tn, Q + 2 * dk, E, T(0), y + s * Tn * dv, dv);
    }
  }
  void backward(const T* x, const T*, const T* dy, T* dx, long n, const T* p, T* g) override {
    for (long s = 0; s < n; ++s) {
      const T* Q = &qkv[std::size_t(s * Tn * E)];
      const T* As = &A[std::size_t(s * Tn * Tn)];
      const T* dO = dy + s * Tn * dv;
      T* dq = &dqkv[std::size_t(s * Tn * E)];
      gemm<T>(false, true, Tn, Tn, dv, T(1), dO, dv, Q + 2 * dk, E, T(0), dA.data(), Tn);
      gemm<T>(true, false, Tn, dv, Tn, T(1), As, Tn, dO, dv, T(0), dq + 2 * dk, E);
      for (long r = 0; r < Tn; ++r) {
        const T* ar = As + r * Tn;
        T* dr = &dA[std::size_t(r * Tn)];
        T sum = T(0);
        for (long j = 0; j < Tn; ++j) sum += dr[j] * ar[j];
        for (long j = 0; j < Tn; ++j) dr[j] = ar[j] * (dr[j] - sum);
      }
      gemm<T>(false, false, Tn, dk, Tn, scale, dA.data(), Tn, Q + dk, E, T(0), dq, E);
      gemm<T>(true, false, Tn, dk, Tn, scale, dA.data(), Tn, Q, E, T(0), dq + dk, E);
    }
    gemm<T>(true, false, E, D, n * Tn, T(1), dqkv.data(), E, x, D, T(0), g, D);
    if (dx) gemm<T>(false, false, n * Tn, D, E, T(1), dqkv.data(), E, p, D, T(0), dx, D);
  }
};

template <class T>
std::unique_ptr<Layer<T>> make_layer(int kind, const std::vector<long>& s, const std::vector<long>& ishape) {
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
      return std::make_unique<Elementwise<T>>(kind, s, ishape);
    case kFlatten: {
      auto l = std::make_unique<Elementwise<T>>(kind, s, ishape);
      l->out_shape = {l->in_size};
      return l;
    }
    case kConv2d:
      return std::make_unique<Conv2d<T>>(s, ishape);
    case kConvT2d:
      return std::make_unique<ConvT2d<T>>(s, ishape);
    case kMaxPool:
    case kAvgPool:
      return std::make_unique<Pool<T>>(kind == kMaxPool, s, ishape);
    case kRNN:
    case kLSTM:
      return std::make_unique<Recurrent<T>>(kind == kLSTM, s, ishape);
    case kAttention:
      return std::make_unique<Attention<T>>(s, ishape);
    default:
      fail("unknown layer kind " + std::to_string(kind));
  }
}

}  // namespace

// ------------------------------------------------------------------ optimizer
template <class T>
Optimizer<T>::Optimizer(int kind, double lr, double momentum, double beta1, double beta2, double eps,
                        double weight_decay, double clip_norm, bool nesterov, long nparams)
    : kind_(kind), lr_(lr), momentum_(momentum), beta1_(beta1), beta2_(beta2), eps_(eps), wd_(weight_decay),
      clip_(clip_norm), nesterov_(nesterov) {
  if (kind != 0 && kind != 1) fail("optimizer kind must be 0 (SGD) or 1 (Adam)");
  if (nparams < 0) fail("nparams must be >= 0");
  m_.assign(std::size_t(nparams), T(0));
  if (kind == 1) v_.assign(std::size_t(nparams), T(0));
}

template <class T>
double Optimizer<T>::step(T* p, T* g, long np) {
  if (np != long(m_.size())) fail("optimizer was built for " + std::to_string(m_.size()) + " parameters, got " + std::to_string(np));
  double ss = 0.0;
  for (long i = 0; i < np; ++i) ss += double(g[i]) * double(g[i]);
  const double norm = std::sqrt(ss);
  if (clip_ > 0.0) {  // as torch.nn.utils.clip_grad_norm_
    const double coef = clip_ / (norm + 1e-6);
    if (coef < 1.0) {
      const T c = T(coef);
      for (long i = 0; i < np; ++i) g[i] *= c;
    }
  }
  if (wd_ != 0.0) {
    const T wd = T(wd_);
    for (long i = 0; i < np; ++i) g[i] += wd * p[i];
  }
  ++t_;
  const T lr = T(lr_);
  if (kind_ == 0) {
    if (momentum_ == 0.0) {
      for (long i = 0; i < np; ++i) p[i] -= lr * g[i];
    } else {
      const T mu = T(momentum_);
      T* buf = m_.data();
      if (t_ == 1)
        for (long i = 0; i < np; ++i) buf[i] = g[i];
      else
        for (long i = 0; i < np; ++i) buf[i] = mu * buf[i] + g[i];
      if (nesterov_)
        for (long i = 0; i < np; ++i) p[i] -= lr * (g[i] + mu * buf[i]);
      else
        for (long i = 0; i < np; ++i) p[i] -= lr * buf[i];
    }
  } else {  // torch.optim.Adam (single-tensor path)
    const T b1 = T(beta1_), b2 = T(beta2_), omb1 = T(1.0 - beta1_), omb2 = T(1.0 - beta2_);
    const double bc1 = 1.0 - std::pow(beta1_, double(t_));
    const double bc2 = 1.0 - std::pow(beta2_, double(t_));
    const T step_size = T(lr_ / bc1);
    const T bc2s = T(std::sqrt(bc2));
    const T eps = T(eps_);
    T* m = m_.data();
    T* v = v_.data();
    for (long i = 0; i < np; ++i) {
      m[i] += omb1 * (g[i] - m[i]);
      v[i] = b2 * v[i] + omb2 * g[i] * g[i];
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) / bc2s + eps);
    }
    (void)b1;
  }
  return norm;
}

// ------------------------------------------------------------------ network
template <class T>
Network<T>::Network(const std::vector<int>& kinds, const std::vector<std::vector<long>>& settings,
                    const std::vector<long>& input_shape, long max_batch) {
  if (kinds.size() != settings.size()) fail("kinds and settings must have the same length");
  if (kinds.empty()) fail("a network needs at least one layer");
  for (long d : input_shape)
    if (d < 1) fail("input_shape entries must be >= 1, got " + shape_str(input_shape));
  in_shape_ = input_shape;
  in_size_ = prod(input_shape);
  std::vector<long> shape = input_shape;
  long off = 0;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    try {
      layers_.push_back(make_layer<T>(kinds[i], settings[i], shape));
    } catch (const std::invalid_argument& e) {
      fail("layer " + std::to_string(i) + ": " + e.what());
    }
    layers_.back()->poff = off;
    off += layers_.back()->np;
    shape = layers_.back()->out_shape;
  }
  params_.assign(std::size_t(off), T(0));
  grads_.assign(std::size_t(off), T(0));
  acts_.resize(layers_.size());
  reserve(std::max(1L, max_batch));
}

template <class T>
Network<T>::~Network() = default;

template <class T>
long Network<T>::output_size() const {
  return layers_.back()->out_size;
}
template <class T>
std::vector<long> Network<T>::output_shape() const {
  return layers_.back()->out_shape;
}
template <class T>
long Network<T>::param_offset(long i) const {
  return layers_.at(std::size_t(i))->poff;
}
template <class T>
long Network<T>::param_count(long i) const {
  return layers_.at(std::size_t(i))->np;
}
template <class T>
std::vector<long> Network<T>::layer_output_shape(long i) const {
  return layers_.at(std::size_t(i))->out_shape;
}
template <class T>
long Network<T>::label_count() const {
  return output_size() / output_shape().back();
}

template <class T>
void Network<T>::reserve(long n) {
  if (n <= cap_) return;
  long mx = in_size_;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->reserve(n);
    grow(acts_[i], std::size_t(n * layers_[i]->out_size));
    mx = std::max(mx, layers_[i]->out_size);
  }
  grow(gbuf_a_, std::size_t(n * mx));
  grow(gbuf_b_, std::size_t(n * mx));
  grow(dx0_, std::size_t(n * in_size_));
  cap_ = n;
}

template <class T>
const T* Network<T>::forward(const T* x, long n) {
  if (n < 1) fail("X must contain at least one sample");
  if (!all_finite(x, n * in_size_)) fail("X must contain only finite values (found NaN or inf)");
  FlushDenormals ftz;
  reserve(n);
  const T* in = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->forward(in, acts_[i].data(), n, params_.data() + layers_[i]->poff);
    in = acts_[i].data();
  }
  return in;
}

template <class T>
double Network<T>::loss_grad(int loss, long n, const T* targets, const std::int64_t* labels) {
  const T* y = acts_.back().data();
  T* d = gbuf_a_.data();
  const long m = n * output_size();
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
      const long c = output_shape().back(), rows = m / c;
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

template <class T>
double Network<T>::loss_and_gradients(const T* x, long n, int loss, const T* targets, const std::int64_t* labels,
                                      bool input_grad) {
  if (loss == kSoftmaxCE ? labels == nullptr : targets == nullptr) fail("y is missing for this loss");
  if (targets && !all_finite(targets, n * output_size())) fail("y must contain only finite values (found NaN or inf)");
  forward(x, n);
  FlushDenormals ftz;
  const double L = loss_grad(loss, n, targets, labels);
  T* dy = gbuf_a_.data();
  T* other = gbuf_b_.data();
  for (long i = long(layers_.size()) - 1; i >= 0; --i) {
    Layer<T>& l = *layers_[std::size_t(i)];
    const T* xin = i == 0 ? x : acts_[std::size_t(i - 1)].data();
    T* dx = i > 0 ? other : (input_grad ? dx0_.data() : nullptr);
    l.backward(xin, acts_[std::size_t(i)].data(), dy, dx, n, params_.data() + l.poff, grads_.data() + l.poff);
    std::swap(dy, other);
  }
  return L;
}

template <class T>
double Network<T>::train_step(const T* x, long n, int loss, const T* targets, const std::int64_t* labels,
                              Optimizer<T>& opt) {
  const double L = loss_and_gradients(x, n, loss, targets, labels, false);
  FlushDenormals ftz;
  last_norm_ = opt.step(params_.data(), grads_.data(), num_params());
  return L;
}

template class Network<float>;
template class Network<double>;
template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace physdl::nn
