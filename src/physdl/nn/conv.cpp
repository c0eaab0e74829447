// Convolution (eq. 4.2-4.9) and pooling layers.  Numba twin: python/physdl/nn/_numba/conv.py.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "physdl/nn/blas.hpp"
#include "physdl/nn/detail.hpp"
#include "physdl/nn/vmath.hpp"

namespace physdl::nn::detail {

namespace {

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
  // col[n][K, P] from x[n, C, H, W]
  template <class T>
  void im2col(const T* x, long n, T* col) const {
    const long P_ = P(), K_ = K();
    for (long s = 0; s < n; ++s)
      for (long c = 0; c < C; ++c) {
        const T* xc = x + (s * C + c) * H * W;
        for (long a = 0; a < kh; ++a)
          for (long b = 0; b < kw; ++b) {
            T* row = col + s * K_ * P_ + ((c * kh + a) * kw + b) * P_;
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
    const long P_ = P(), K_ = K();
    for (long s = 0; s < n; ++s)
      for (long c = 0; c < C; ++c) {
        T* xc = x + (s * C + c) * H * W;
        for (long a = 0; a < kh; ++a)
          for (long b = 0; b < kw; ++b) {
            const T* row = col + s * K_ * P_ + ((c * kh + a) * kw + b) * P_;
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
  std::vector<T> col;
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
  bool skips_param_grad() const override { return true; }
  void reserve(long cap) override { grow(col, std::size_t(g.K() * cap * g.P())); }
  void forward(const T* x, T* y, long n, const T* p) override {
    const long K = g.K(), P = g.P();
    g.im2col(x, n, col.data());
    const T* b = p + cout * K;
    for (long s = 0; s < n; ++s) {
      T* ys = y + s * cout * P;
      gemm<T>(false, false, cout, P, K, T(1), p, K, col.data() + s * K * P, P, T(0), ys, P);
      for (long c = 0; c < cout; ++c)
        for (long q = 0; q < P; ++q) ys[c * P + q] += b[c];
    }
  }
  void backward(const T*, const T*, const T* dy, T* dx, long n, const T* p, T* gr) override {
    const long K = g.K(), P = g.P();
    T* gb = gr ? gr + cout * K : nullptr;  // gr null: input gradient only
    if (gb)
      for (long c = 0; c < cout; ++c) gb[c] = T(0);
    for (long s = 0; s < n; ++s) {
      const T* ds = dy + s * cout * P;
      if (gr) {
        gemm<T>(false, true, cout, K, P, T(1), ds, P, col.data() + s * K * P, P, s == 0 ? T(0) : T(1), gr, K);
        for (long c = 0; c < cout; ++c) gb[c] += vmath::sum_array(ds + c * P, P);
      }
      if (dx) {
        if (s == 0) grow(dcol, std::size_t(K * n * P));
        gemm<T>(true, false, K, P, cout, T(1), p, K, ds, P, T(0), dcol.data() + s * K * P, P);
      }
    }
    if (dx) {
      std::fill(dx, dx + n * this->in_size, T(0));
      g.col2im(dcol.data(), n, dx);
    }
  }  // W^T dy in dcol, so that col(x) survives a backward (a second pass on one forward)
  std::vector<T> dcol;
  // double backward: col(xd) in tcol (grown on first use)
  std::vector<T> tcol;
  bool has_tangent() const override { return true; }
  void forward_tangent(const T*, const T*, const T* xd, T* yd, long n, const T* p) override {
    const long K = g.K(), P = g.P();
    grow(tcol, std::size_t(K * n * P));
    g.im2col(xd, n, tcol.data());
    for (long s = 0; s < n; ++s)
      gemm<T>(false, false, cout, P, K, T(1), p, K, tcol.data() + s * K * P, P, T(0), yd + s * cout * P, P);
  }
  // gW = sum_s dyd_s col(x_s)^T + dy_s col(xd_s)^T, gb = sum dyd; dx = col2im(W^T dy), dxd = col2im(W^T dyd)
  void backward_tangent(const T*, const T*, const T*, const T* dy, const T* dyd, T* dx, T* dxd, long n, const T* p,
                        T* gd) override {
    const long K = g.K(), P = g.P();
    T* gb = gd + cout * K;
    for (long c = 0; c < cout; ++c) gb[c] = T(0);
    for (long s = 0; s < n; ++s) {
      const T* ds = dy + s * cout * P;
      const T* dds = dyd + s * cout * P;
      gemm<T>(false, true, cout, K, P, T(1), dds, P, col.data() + s * K * P, P, s == 0 ? T(0) : T(1), gd, K);
      gemm<T>(false, true, cout, K, P, T(1), ds, P, tcol.data() + s * K * P, P, T(1), gd, K);
      for (long c = 0; c < cout; ++c) gb[c] += vmath::sum_array(dds + c * P, P);
    }
    if (dx) {
      for (long s = 0; s < n; ++s)
        gemm<T>(true, false, K, P, cout, T(1), p, K, dy + s * cout * P, P, T(0), col.data() + s * K * P, P);
      std::fill(dx, dx + n * this->in_size, T(0));
      g.col2im(col.data(), n, dx);
    }
    if (dxd) {
      for (long s = 0; s < n; ++s)
        gemm<T>(true, false, K, P, cout, T(1), p, K, dyd + s * cout * P, P, T(0), tcol.data() + s * K * P, P);
      std::fill(dxd, dxd + n * this->in_size, T(0));
      g.col2im(tcol.data(), n, dxd);
    }
  }
  bool has_per_sample() const override { return true; }
  bool backward_per_sample(const T*, const T*, const T* dy, T* dx, long n, const T* p, T* G, long ldg) override {
    const long K = g.K(), P = g.P();
    for (long s = 0; s < n; ++s) {
      const T* ds = dy + s * cout * P;
      T* gr = G + s * ldg;
      gemm<T>(false, true, cout, K, P, T(1), ds, P, col.data() + s * K * P, P, T(0), gr, K);
      for (long c = 0; c < cout; ++c) gr[cout * K + c] = vmath::sum_array(ds + c * P, P);
      if (dx) gemm<T>(true, false, K, P, cout, T(1), p, K, ds, P, T(0), col.data() + s * K * P, P);
    }
    if (dx) {
      std::fill(dx, dx + n * this->in_size, T(0));
      g.col2im(col.data(), n, dx);
    }
    return true;
  }
};

// ------------------------------------------------------------------ ConvTranspose2d (eq. 4.9)
template <class T>
struct ConvT2d : Layer<T> {
  Geometry g{};  // the convolution that maps this layer's output back onto its input
  long cin = 0, cout = 0;
  std::vector<T> col;
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
  void reserve(long cap) override { grow(col, std::size_t(g.K() * cap * g.P())); }
  void forward(const T* x, T* y, long n, const T* p) override {
    const long K = g.K(), P = g.P();
    for (long s = 0; s < n; ++s)
      gemm<T>(true, false, K, P, cin, T(1), p, K, x + s * cin * P, P, T(0), col.data() + s * K * P, P);
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
  void backward(const T* x, const T*, const T* dy, T* dx, long n, const T* p, T* gr) override {
    const long K = g.K(), P = g.P(), Q = g.H * g.W;
    g.im2col(dy, n, col.data());
    for (long s = 0; s < n; ++s) {
      const T* cs = col.data() + s * K * P;
      gemm<T>(false, true, cin, K, P, T(1), x + s * cin * P, P, cs, P, s == 0 ? T(0) : T(1), gr, K);
      if (dx) gemm<T>(false, false, cin, P, K, T(1), p, K, cs, P, T(0), dx + s * cin * P, P);
    }
    T* gb = gr + cin * K;
    for (long c = 0; c < cout; ++c) gb[c] = T(0);
    for (long s = 0; s < n; ++s)
      for (long c = 0; c < cout; ++c) gb[c] += vmath::sum_array(dy + (s * cout + c) * Q, Q);
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
  bool has_tangent() const override { return true; }
  // linear in x (average) or, with the argmax fixed, linear almost everywhere (max)
  void forward_tangent(const T*, const T*, const T* xd, T* yd, long n, const T* p) override {
    if (is_max) {
      for (long sc = 0; sc < n * C; ++sc)
        for (long q = 0; q < OH * OW; ++q) yd[sc * OH * OW + q] = xd[sc * H * W + arg[std::size_t(sc * OH * OW + q)]];
      return;
    }
    forward(xd, yd, n, p);
  }
  void backward_tangent(const T* x, const T* y, const T*, const T* dy, const T* dyd, T* dx, T* dxd, long n,
                        const T* p, T*) override {
    if (dx) backward(x, y, dy, dx, n, p, nullptr);
    if (dxd) backward(x, y, dyd, dxd, n, p, nullptr);
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
  }};


}  // namespace

template <class T>
std::unique_ptr<Layer<T>> make_conv_family(int kind, const std::vector<long>& s, const std::vector<long>& ishape) {
  switch (kind) {
    case kConv2d:
      return std::make_unique<Conv2d<T>>(s, ishape);
    case kConvT2d:
      return std::make_unique<ConvT2d<T>>(s, ishape);
    case kMaxPool:
    case kAvgPool:
      return std::make_unique<Pool<T>>(kind == kMaxPool, s, ishape);
    default:
      return nullptr;
  }
}

template std::unique_ptr<Layer<float>> make_conv_family<float>(int, const std::vector<long>&, const std::vector<long>&);
template std::unique_ptr<Layer<double>> make_conv_family<double>(int, const std::vector<long>&, const std::vector<long>&);

}  // namespace physdl::nn::detail
