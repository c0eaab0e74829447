// Convolution (eq. 4.2-4.9) and pooling layers.  Numba twin: python/physdl/nn/_numba/conv.py.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "physdl/nn/blas.hpp"
#include "physdl/nn/detail.hpp"
#include "physdl/nn/vmath.hpp"

namespace physdl::nn::detail {

namespace {

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__AVX2__)
#define PHYSDL_CONV_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PHYSDL_CONV_CLONES
#endif

// d[r * dld + t] = s[r * sld + t] for r < rows, t < len: the short row copies of im2col, in 64-byte
// moves (one vector register each where the CPU has 512-bit registers) instead of library calls.
template <class T>
__attribute__((always_inline)) inline void copy_rows_impl(const T* __restrict s, long sld, T* __restrict d, long dld, long rows, long len) {
  constexpr long V = long(64 / sizeof(T)), V4 = long(16 / sizeof(T));
  for (long r = 0; r < rows; ++r) {
    const T* sr = s + r * sld;
    T* dr = d + r * dld;
    long t = 0;
    for (; t + V <= len; t += V) std::memcpy(dr + t, sr + t, 64);
    for (; t + V4 <= len; t += V4) std::memcpy(dr + t, sr + t, 16);
    for (; t < len; ++t) dr[t] = sr[t];
  }
}
PHYSDL_CONV_CLONES void copy_rows(const float* s, long sld, float* d, long dld, long rows, long len) {
  copy_rows_impl(s, sld, d, dld, rows, len);
}
PHYSDL_CONV_CLONES void copy_rows(const double* s, long sld, double* d, long dld, long rows, long len) {
  copy_rows_impl(s, sld, d, dld, rows, len);
}

// Direct unit-stride convolution of one sample's padded planes xp[cin, Hp, Wpp] (rows of the
// output computed VL = 64 bytes at a time, CB output channels at once, the accumulators held in
// vector registers): y[co, oh, ow] = bias[co] + sum_{c, a, b} w[co * wstride + (c kh + a) kw + b]
// xp[c, oh + a, ow + b].  Wpp leaves room for loads past the last output column.
template <class T, int CB>
__attribute__((always_inline)) inline void direct_rows(const T* __restrict xp, long cin, long Hp, long Wpp, const T* __restrict w, long wstride,
                        long kh, long kw, long OH, long OW, T* __restrict y, long ystride, const T* bias) {
  constexpr int VL = int(64 / sizeof(T));
  typedef T V __attribute__((vector_size(64)));
  for (long oh = 0; oh < OH; ++oh)
    for (long ow0 = 0; ow0 < OW; ow0 += VL) {
      V acc[CB];
      for (int k = 0; k < CB; ++k) acc[k] = (V){} + (bias ? bias[k] : T(0));
      for (long c = 0; c < cin; ++c)
        for (long a = 0; a < kh; ++a) {
          const T* xr = xp + (c * Hp + oh + a) * Wpp + ow0;
          const T* wr = w + (c * kh + a) * kw;
          for (long b = 0; b < kw; ++b) {
            V xv;
            std::memcpy(&xv, xr + b, 64);
            for (int k = 0; k < CB; ++k) acc[k] += wr[k * wstride + b] * xv;
          }
        }
      const long len = std::min(long(VL), OW - ow0);
      for (int k = 0; k < CB; ++k) {
        T* yr = y + k * ystride + oh * OW + ow0;
        if (len == VL)
          std::memcpy(yr, &acc[k], 64);
        else
          std::memcpy(yr, &acc[k], sizeof(T) * std::size_t(len));
      }
    }
}
template <class T>
__attribute__((always_inline)) inline void direct_conv_impl(const T* xp, long cin, long Hp, long Wpp, const T* w, long cout, long kh, long kw,
                             long OH, long OW, T* y, const T* bias) {
  const long ws = cin * kh * kw, ys = OH * OW;
  long co = 0;
  for (; co + 8 <= cout; co += 8)
    direct_rows<T, 8>(xp, cin, Hp, Wpp, w + co * ws, ws, kh, kw, OH, OW, y + co * ys, ys, bias ? bias + co : nullptr);
  for (; co + 4 <= cout; co += 4)
    direct_rows<T, 4>(xp, cin, Hp, Wpp, w + co * ws, ws, kh, kw, OH, OW, y + co * ys, ys, bias ? bias + co : nullptr);
  for (; co < cout; ++co)
    direct_rows<T, 1>(xp, cin, Hp, Wpp, w + co * ws, ws, kh, kw, OH, OW, y + co * ys, ys, bias ? bias + co : nullptr);
}
PHYSDL_CONV_CLONES void direct_conv(const float* xp, long cin, long Hp, long Wpp, const float* w, long cout, long kh,
                                    long kw, long OH, long OW, float* y, const float* bias) {
  direct_conv_impl(xp, cin, Hp, Wpp, w, cout, kh, kw, OH, OW, y, bias);
}
PHYSDL_CONV_CLONES void direct_conv(const double* xp, long cin, long Hp, long Wpp, const double* w, long cout,
                                    long kh, long kw, long OH, long OW, double* y, const double* bias) {
  direct_conv_impl(xp, cin, Hp, Wpp, w, cout, kh, kw, OH, OW, y, bias);
}

// Direct weight gradient of one sample, lane-wise partial sums: for each q = (c kh + a) kw + b and
// output channel co < CB, gwp[co * gstride + q * VL + lane] += sum_{oh, ow = ow0 + lane}
// dyp[co * dstride + oh * Wq + ow] xp[c, oh + a, ow + b], with dyp zero beyond the OW columns of each
// row (Wq = OW rounded up to VL).  The CB partial sums of one q stay in registers over the sample.
template <class T, int CB, int TB>
__attribute__((always_inline)) inline void wgrad_taps(const T* __restrict xp, long Hp, long Wpp, const T* __restrict dyp,
                                                      long dstride, long Wq, long kh, long kw, long OH,
                                                      T* __restrict gwp, long gstride, long c, long a, long b) {
  constexpr int VL = int(64 / sizeof(T));
  typedef T V __attribute__((vector_size(64)));
  const long q = (c * kh + a) * kw + b;
  V acc[TB][CB];
  for (int t = 0; t < TB; ++t)
    for (int k = 0; k < CB; ++k) std::memcpy(&acc[t][k], gwp + k * gstride + (q + t) * VL, 64);
  for (long oh = 0; oh < OH; ++oh) {
    const T* xr = xp + (c * Hp + oh + a) * Wpp + b;
    const T* dr = dyp + oh * Wq;
    for (long ow0 = 0; ow0 < Wq; ow0 += VL) {
      V dv[CB];
      for (int k = 0; k < CB; ++k) std::memcpy(&dv[k], dr + k * dstride + ow0, 64);
      for (int t = 0; t < TB; ++t) {
        V xv;
        std::memcpy(&xv, xr + ow0 + t, 64);
        for (int k = 0; k < CB; ++k) acc[t][k] += dv[k] * xv;
      }
    }
  }
  for (int t = 0; t < TB; ++t)
    for (int k = 0; k < CB; ++k) std::memcpy(gwp + k * gstride + (q + t) * VL, &acc[t][k], 64);
}
// (two kernel taps per pass share the loads of the output gradient)
template <class T, int CB>
__attribute__((always_inline)) inline void wgrad_rows(const T* __restrict xp, long cin, long Hp, long Wpp,
                                                      const T* __restrict dyp, long dstride, long Wq, long kh,
                                                      long kw, long OH, T* __restrict gwp, long gstride) {
  for (long c = 0; c < cin; ++c)
    for (long a = 0; a < kh; ++a) {
      long b = 0;
      for (; b + 2 <= kw; b += 2) wgrad_taps<T, CB, 2>(xp, Hp, Wpp, dyp, dstride, Wq, kh, kw, OH, gwp, gstride, c, a, b);
      for (; b < kw; ++b) wgrad_taps<T, CB, 1>(xp, Hp, Wpp, dyp, dstride, Wq, kh, kw, OH, gwp, gstride, c, a, b);
    }
}
template <class T>
__attribute__((always_inline)) inline void wgrad_impl(const T* xp, long cin, long Hp, long Wpp, const T* dyp,
                                                      long cout, long Wq, long kh, long kw, long OH, T* gwp) {
  constexpr long VL = long(64 / sizeof(T));
  const long ds = OH * Wq, gs = cin * kh * kw * VL;
  long co = 0;
  for (; co + 8 <= cout; co += 8) wgrad_rows<T, 8>(xp, cin, Hp, Wpp, dyp + co * ds, ds, Wq, kh, kw, OH, gwp + co * gs, gs);
  for (; co + 4 <= cout; co += 4) wgrad_rows<T, 4>(xp, cin, Hp, Wpp, dyp + co * ds, ds, Wq, kh, kw, OH, gwp + co * gs, gs);
  for (; co < cout; ++co) wgrad_rows<T, 1>(xp, cin, Hp, Wpp, dyp + co * ds, ds, Wq, kh, kw, OH, gwp + co * gs, gs);
}
PHYSDL_CONV_CLONES void direct_wgrad(const float* xp, long cin, long Hp, long Wpp, const float* dyp, long cout, long Wq,
                                     long kh, long kw, long OH, float* gwp) {
  wgrad_impl(xp, cin, Hp, Wpp, dyp, cout, Wq, kh, kw, OH, gwp);
}
PHYSDL_CONV_CLONES void direct_wgrad(const double* xp, long cin, long Hp, long Wpp, const double* dyp, long cout,
                                     long Wq, long kh, long kw, long OH, double* gwp) {
  wgrad_impl(xp, cin, Hp, Wpp, dyp, cout, Wq, kh, kw, OH, gwp);
}

// ------------------------------------------------------------------ convolution geometry
// Maps the images x[n, C, H, W] onto the columns of col[C*kh*kw, ld] (eq. 4.4-4.8), sample s in
// columns s*P .. s*P + P - 1 (P = OH*OW, ld >= n*P): column (s, oh, ow) of row (c, a, b) holds
// x[s, c, oh*sh - ph + a, ow*sw - pw + b], zero outside or wrapped when periodic.  With all samples
// side by side, one matrix product covers the whole batch.  For unit column stride an output row
// is a few contiguous runs of an input row (one run plus the wrapped part when periodic), copied as
// such; other strides go through the per-column index table.
struct Geometry {
  long C, H, W, kh, kw, sh, sw, ph, pw, OH, OW;
  bool periodic;
  std::vector<long> rowidx, colidx;  // source row/col per (a, oh) / (b, ow), -1 = zero padding
  std::vector<long> runs, runoff;    // unit stride: runs (ow, j, len) of kernel column b in runs[runoff[b]..]
  bool gaps = false;                 // some output column reads zero padding
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
    runs.clear();
    runoff.assign(std::size_t(kw + 1), 0);
    for (long b = 0; b < kw; ++b) {
      runoff[std::size_t(b)] = long(runs.size());
      if (sw != 1) continue;
      long o = 0;
      while (o < OW) {  // maximal runs of consecutive source columns
        const long j = colidx[std::size_t(b * OW + o)];
        if (j < 0) {
          gaps = true;
          ++o;
          continue;
        }
        long len = 1;
        while (o + len < OW && colidx[std::size_t(b * OW + o + len)] == j + len) ++len;
        runs.insert(runs.end(), {o, j, len});
        o += len;
      }
    }
    runoff[std::size_t(kw)] = long(runs.size());
    // padded planes (unit strides): source row of padded row r, runs (q, j, len) of a padded row
    const long Hp = OH + kh - 1, Wp = OW + kw - 1;
    padrow.assign(std::size_t(std::max(0L, Hp)), -1);
    for (long r = 0; r < Hp; ++r) {
      long i = r - ph;
      if (periodic) i = ((i % H) + H) % H;
      padrow[std::size_t(r)] = (i >= 0 && i < H) ? i : -1;
    }
    padruns.clear();
    padgaps = false;
    for (long q = 0; q < Wp;) {
      long j = q - pw;
      if (periodic) j = ((j % W) + W) % W;
      if (j < 0 || j >= W) {
        padgaps = true;
        ++q;
        continue;
      }
      const long len = std::min(Wp - q, W - j);
      padruns.insert(padruns.end(), {q, j, len});
      q += len;
    }
  }
  std::vector<long> padrow, padruns;
  bool padgaps = false;
  long K() const { return C * kh * kw; }
  long P() const { return OH * OW; }
  // One output row (kernel offset a, b; input row xr of the image, or null for a zero row) of length OW.
  template <class T>
  void fill_row(const T* __restrict xr, long b, T* __restrict r) const {
    if (!xr) {
      for (long ow = 0; ow < OW; ++ow) r[ow] = T(0);
      return;
    }
    if (sw == 1) {
      if (gaps)
        for (long ow = 0; ow < OW; ++ow) r[ow] = T(0);
      for (long q = runoff[std::size_t(b)]; q < runoff[std::size_t(b + 1)]; q += 3) {
        T* __restrict d = r + runs[std::size_t(q)];
        const T* __restrict src = xr + runs[std::size_t(q + 1)];
        const long len = runs[std::size_t(q + 2)];
        for (long t = 0; t < len; ++t) d[t] = src[t];
      }
      return;
    }
    const long* cj = colidx.data() + b * OW;
    for (long ow = 0; ow < OW; ++ow) r[ow] = cj[ow] < 0 ? T(0) : xr[cj[ow]];
  }
  // Unit strides: the plane xc[H, W] padded to xp[OH + kh - 1, Wpp] (row r is input row r - ph, column
  // q input column q - pw, wrapped or zero; columns from OW + kw - 1 on are zero).
  template <class T>
  void pad_plane(const T* xc, T* __restrict xp, long Wpp) const {
    const long Hp = OH + kh - 1, Wp = OW + kw - 1;
    for (long r = 0; r < Hp; ++r) {
      const long i = padrow[std::size_t(r)];
      T* __restrict d = xp + r * Wpp;
      if (i < 0 || padgaps)
        for (long q = 0; q < Wpp; ++q) d[q] = T(0);
      else
        for (long q = Wp; q < Wpp; ++q) d[q] = T(0);
      if (i < 0) continue;
      const T* __restrict xr = xc + i * W;
      for (std::size_t u = 0; u < padruns.size(); u += 3)
        copy_rows_impl(xr + padruns[u + 1], 0, d + padruns[u], 0, 1, padruns[u + 2]);
    }
  }
  // Unit-stride direct convolution of n samples: y[s] = conv(x[s]) with weights w[cout, C, kh, kw]
  // (+ bias), through direct_conv on padded planes (no im2col).
  template <class T>
  void direct(const T* x, long n, const T* w, long cout, const T* bias, T* y) const {
    constexpr long VL = long(64 / sizeof(T));
    const long Hp = OH + kh - 1, Wpp = (OW + VL - 1) / VL * VL + kw - 1;
    thread_local std::vector<T> xp;
    if (xp.size() < std::size_t(C * Hp * Wpp)) xp.resize(std::size_t(C * Hp * Wpp));
    for (long s = 0; s < n; ++s) {
      for (long c = 0; c < C; ++c) pad_plane(x + (s * C + c) * H * W, xp.data() + c * Hp * Wpp, Wpp);
      direct_conv(xp.data(), C, Hp, Wpp, w, cout, kh, kw, OH, OW, y + s * cout * OH * OW, bias);
    }
  }
  // Unit-stride weight gradient summed over n samples into lane-wise partial sums gwp[cout, K, VL]
  // (added to; the caller reduces the lanes): dy[n, cout, OH, OW].
  template <class T>
  void direct_wgrad(const T* x, const T* dy, long n, long cout, T* gwp) const {
    constexpr long VL = long(64 / sizeof(T));
    const long Hp = OH + kh - 1, Wq = (OW + VL - 1) / VL * VL, Wpp = Wq + kw - 1;
    thread_local std::vector<T> xp, dyp;
    if (xp.size() < std::size_t(C * Hp * Wpp)) xp.resize(std::size_t(C * Hp * Wpp));
    const bool copy_dy = Wq != OW;
    if (copy_dy && dyp.size() < std::size_t(cout * OH * Wq)) dyp.resize(std::size_t(cout * OH * Wq));
    for (long s = 0; s < n; ++s) {
      for (long c = 0; c < C; ++c) pad_plane(x + (s * C + c) * H * W, xp.data() + c * Hp * Wpp, Wpp);
      const T* ds = dy + s * cout * OH * OW;
      if (copy_dy) {  // rows of Wq with zero tails
        for (long r = 0; r < cout * OH; ++r) {
          std::memcpy(dyp.data() + r * Wq, ds + r * OW, sizeof(T) * std::size_t(OW));
          std::fill(dyp.data() + r * Wq + OW, dyp.data() + (r + 1) * Wq, T(0));
        }
        ds = dyp.data();
      }
      physdl::nn::detail::direct_wgrad(xp.data(), C, Hp, Wpp, ds, cout, Wq, kh, kw, OH, gwp);
    }
  }
  // Unit strides: each image plane is first copied into a padded plane xp[OH + kh - 1, OW + kw - 1]
  // (wrapped or zero rows and columns), so that row (c, a, b) of col holds, for every output row oh,
  // the OW contiguous values xp[oh + a, b ..]: one fixed-length copy per output row.  Other strides
  // go row by row through the index tables.
  template <class T>
  void im2col(const T* x, long n, T* col, long ld) const {
    const long P_ = P();
    if (sh == 1 && sw == 1) {
      const long Hp = OH + kh - 1, Wp = OW + kw - 1;
      thread_local std::vector<T> xp;
      if (xp.size() < std::size_t(Hp * Wp)) xp.resize(std::size_t(Hp * Wp));
      for (long s = 0; s < n; ++s)
        for (long c = 0; c < C; ++c) {
          pad_plane(x + (s * C + c) * H * W, xp.data(), Wp);
          for (long a = 0; a < kh; ++a)
            for (long b = 0; b < kw; ++b) {
              T* row = col + ((c * kh + a) * kw + b) * ld + s * P_;
              const T* src = xp.data() + a * Wp + b;
              copy_rows(src, Wp, row, OW, OH, OW);
            }
        }
      return;
    }
    for (long c = 0; c < C; ++c)
      for (long a = 0; a < kh; ++a)
        for (long b = 0; b < kw; ++b) {
          T* row = col + ((c * kh + a) * kw + b) * ld;
          for (long s = 0; s < n; ++s) {
            const T* xc = x + (s * C + c) * H * W;
            for (long oh = 0; oh < OH; ++oh) {
              const long i = rowidx[std::size_t(a * OH + oh)];
              fill_row(i < 0 ? static_cast<const T*>(nullptr) : xc + i * W, b, row + s * P_ + oh * OW);
            }
          }
        }
  }
  // x[n, C, H, W] += scatter of col[K, ld] (x must be zeroed by the caller when needed)
  template <class T>
  void col2im(const T* col, long n, long ld, T* x) const {
    const long P_ = P();
    for (long s = 0; s < n; ++s)
      for (long c = 0; c < C; ++c) {
        T* xc = x + (s * C + c) * H * W;
        for (long a = 0; a < kh; ++a)
          for (long oh = 0; oh < OH; ++oh) {
            const long i = rowidx[std::size_t(a * OH + oh)];
            if (i < 0) continue;
            T* __restrict xr = xc + i * W;
            for (long b = 0; b < kw; ++b) {
              const T* __restrict r = col + ((c * kh + a) * kw + b) * ld + s * P_ + oh * OW;
              if (sw == 1) {
                for (long q = runoff[std::size_t(b)]; q < runoff[std::size_t(b + 1)]; q += 3) {
                  const T* __restrict src = r + runs[std::size_t(q)];
                  T* __restrict d = xr + runs[std::size_t(q + 1)];
                  const long len = runs[std::size_t(q + 2)];
                  for (long t = 0; t < len; ++t) d[t] += src[t];
                }
              } else {
                const long* cj = colidx.data() + b * OW;
                for (long ow = 0; ow < OW; ++ow)
                  if (cj[ow] >= 0) xr[cj[ow]] += r[ow];
              }
            }
          }
      }
  }
};

// Sample-major a[n, C, P] <-> channel-major b[C, ld] (sample s in columns s*P ..), the layout of
// one product over the batch.
template <class T>
void to_channels(const T* a, long n, long C, long P, T* b, long ld) {
  for (long c = 0; c < C; ++c)
    for (long s = 0; s < n; ++s) std::memcpy(b + c * ld + s * P, a + (s * C + c) * P, sizeof(T) * std::size_t(P));
}
// a[s, c, :] = b[c, s*P:(s+1)*P] (+ bias[c] when given)
template <class T>
void from_channels(const T* b, long n, long C, long P, long ld, T* a, const T* bias) {
  for (long s = 0; s < n; ++s)
    for (long c = 0; c < C; ++c) {
      const T* __restrict src = b + c * ld + s * P;
      T* __restrict d = a + (s * C + c) * P;
      if (bias) {
        const T bc = bias[c];
        for (long q = 0; q < P; ++q) d[q] = src[q] + bc;
      } else {
        std::memcpy(d, src, sizeof(T) * std::size_t(P));
      }
    }
}

std::vector<long> check_image(const char* what, const std::vector<long>& ishape, long cin) {
  if (ishape.size() != 3 || ishape[0] != cin)
    fail(std::string(what) + " expects input of shape (" + std::to_string(cin) + ", H, W), got " +
         shape_str(ishape));
  return ishape;
}

// ------------------------------------------------------------------ Conv2d (eq. 4.6-4.8)
// Unit strides with output rows of at least half a vector register (direct_ok): the forward pass,
// its tangent and the weight gradient are direct convolutions on padded planes (direct_conv,
// direct_wgrad), no im2col matrix.  Otherwise the batch runs in chunks of nb samples whose im2col
// columns fit in the L2 cache: col = im2col(x) [K, nb*P], y = W col in channel-major order, copied to
// [n, cout, P] with the bias added; the weight gradient is the sum over chunks of dy col^T (dy in
// channel-major order).  Nothing is kept between passes: a backward pass reads its input x again.
// Sums run in a fixed order (samples, then chunks), the same on any number of threads.  The input
// gradient of a unit-stride convolution whose input gradient is itself a convolution of the same
// kind (periodic with OH = H, OW = W; or zero padding at most kernel - 1) is that convolution of dy
// with W'[ci, (co, a, b)] = W[co, ci, kh-1-a, kw-1-b] and padding kh-1-ph, kw-1-pw (direct, or
// through im2col'(dy)); otherwise col2im(W^T dy).
template <class T>
struct Conv2d : Layer<T> {
  Geometry g{}, gt{};  // gt: the input-gradient convolution on dy (when fast_dx)
  bool fast_dx = false, direct_ok = false;
  long cin = 0, cout = 0, Q = 0, nb = 1;  // Q = H * W; nb samples per chunk
  std::vector<T> col, ybuf, dyc, wf, gwp;
  Conv2d(const std::vector<long>& s, const std::vector<long>& ishape) {
    if (s.size() != 9) fail("Conv2d needs 9 settings");
    cin = s[0];
    cout = s[1];
    check_image("Conv2d", ishape, cin);
    g = Geometry{cin, ishape[1], ishape[2], s[2], s[3], s[4], s[5], s[6], s[7], 0, 0, s[8] != 0, {}, {}, {}, {}};
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
    Q = g.H * g.W;
    if (g.sh == 1 && g.sw == 1) {
      if (g.periodic)
        fast_dx = g.OH == g.H && g.OW == g.W && g.kh - 1 - g.ph <= g.OH && g.kw - 1 - g.pw <= g.OW;
      else
        fast_dx = g.ph <= g.kh - 1 && g.pw <= g.kw - 1;
    }
    if (fast_dx) {
      gt = Geometry{cout, g.OH, g.OW, g.kh, g.kw, 1, 1, g.kh - 1 - g.ph, g.kw - 1 - g.pw, g.H, g.W, g.periodic,
                    {}, {}, {}, {}};
      gt.build();
    }
    // direct convolution (no im2col) for unit strides and rows of at least half a vector
    direct_ok = g.sh == 1 && g.sw == 1 && g.OW >= long(32 / sizeof(T)) && (!fast_dx || g.W >= long(32 / sizeof(T)));
    // through im2col, the flipped-kernel product writes cout*kh*kw rows where the scatter writes and
    // re-reads K rows
    if (fast_dx && !direct_ok && gt.K() > 2 * g.K()) fast_dx = false;
    const long rows = std::max(g.K() * g.P(), fast_dx ? gt.K() * Q : 0L);
    nb = std::max(1L, long((std::size_t(1) << 20) / sizeof(T)) / std::max(1L, rows));
    this->in_shape = ishape;
    this->out_shape = {cout, g.OH, g.OW};
    this->np = cout * g.K() + cout;
    this->finish();
  }
  bool skips_param_grad() const override { return true; }
  void reserve(long cap) override {
    const long m = std::min(cap, nb);
    grow(col, std::size_t(std::max(g.K() * g.P(), fast_dx ? gt.K() * Q : 0L) * m));
    grow(ybuf, std::size_t(std::max(cout * g.P(), cin * Q) * m));
  }
  // y = conv(x) (+ bias when given), chunk by chunk
  void conv(const T* x, T* y, long n, const T* p, const T* bias) {
    const long K = g.K(), P = g.P();
    if (direct_ok) {
      g.direct(x, n, p, cout, bias, y);
      return;
    }
    for (long s0 = 0; s0 < n; s0 += nb) {
      const long m = std::min(nb, n - s0), N = m * P;
      g.im2col(x + s0 * this->in_size, m, col.data(), N);
      gemm<T>(false, false, cout, N, K, T(1), p, K, col.data(), N, T(0), ybuf.data(), N);
      from_channels(ybuf.data(), m, cout, P, N, y + s0 * this->out_size, bias);
    }
  }
  void forward(const T* x, T* y, long n, const T* p) override { conv(x, y, n, p, p + cout * g.K()); }
  // dx from dy ([n, cout, P])
  void input_grad(const T* dy, T* dx, long n, const T* p) {
    const long K = g.K(), P = g.P();
    if (fast_dx) {
      const long Kt = gt.K(), kk = g.kh * g.kw;
      grow(wf, std::size_t(cin * Kt));
      for (long ci = 0; ci < cin; ++ci)
        for (long co = 0; co < cout; ++co)
          for (long q = 0; q < kk; ++q) wf[std::size_t(ci * Kt + co * kk + q)] = p[(co * cin + ci) * kk + (kk - 1 - q)];
      if (direct_ok) {
        gt.direct(dy, n, wf.data(), cin, static_cast<const T*>(nullptr), dx);
        return;
      }
      for (long s0 = 0; s0 < n; s0 += nb) {
        const long m = std::min(nb, n - s0), N = m * Q;
        gt.im2col(dy + s0 * this->out_size, m, col.data(), N);
        gemm<T>(false, false, cin, N, Kt, T(1), wf.data(), Kt, col.data(), N, T(0), ybuf.data(), N);
        from_channels(ybuf.data(), m, cin, Q, N, dx + s0 * this->in_size, static_cast<const T*>(nullptr));
      }
      return;
    }
    grow(dyc, std::size_t(cout * nb * P));
    std::fill(dx, dx + n * this->in_size, T(0));
    for (long s0 = 0; s0 < n; s0 += nb) {
      const long m = std::min(nb, n - s0), N = m * P;
      to_channels(dy + s0 * this->out_size, m, cout, P, dyc.data(), N);
      gemm<T>(true, false, K, N, cout, T(1), p, K, dyc.data(), N, T(0), col.data(), N);
      g.col2im(col.data(), m, N, dx + s0 * this->in_size);
    }
  }
  // gW (+)= sum over chunks of dy col(x)^T, gb = sum of dy (when bias)
  void weight_grad(const T* x, const T* dy, long n, T* gr, bool acc, bool bias) {
    const long K = g.K(), P = g.P();
    if (direct_ok) {
      constexpr long VL = long(64 / sizeof(T));
      gwp.assign(std::size_t(cout * K * VL), T(0));
      g.direct_wgrad(x, dy, n, cout, gwp.data());
      for (long i = 0; i < cout * K; ++i) {
        const T* l = gwp.data() + i * VL;
        T t = T(0);
        for (long v = 0; v < VL; ++v) t += l[v];
        gr[i] = acc ? gr[i] + t : t;
      }
      if (bias)
        for (long co = 0; co < cout; ++co) {
          T t = T(0);
          for (long s = 0; s < n; ++s) t += vmath::sum_array(dy + (s * cout + co) * P, P);
          gr[cout * K + co] = t;
        }
      return;
    }
    grow(dyc, std::size_t(cout * nb * P));
    if (bias)
      for (long co = 0; co < cout; ++co) gr[cout * K + co] = T(0);
    for (long s0 = 0; s0 < n; s0 += nb) {
      const long m = std::min(nb, n - s0), N = m * P;
      g.im2col(x + s0 * this->in_size, m, col.data(), N);
      to_channels(dy + s0 * this->out_size, m, cout, P, dyc.data(), N);
      gemm<T>(false, true, cout, K, N, T(1), dyc.data(), N, col.data(), N, acc || s0 > 0 ? T(1) : T(0), gr, K);
      if (bias)
        for (long co = 0; co < cout; ++co) gr[cout * K + co] += vmath::sum_array(dyc.data() + co * N, N);
    }
  }
  void backward(const T* x, const T*, const T* dy, T* dx, long n, const T* p, T* gr) override {
    if (gr) weight_grad(x, dy, n, gr, false, true);  // gr null: input gradient only
    if (dx) input_grad(dy, dx, n, p);
  }
  bool has_tangent() const override { return true; }
  void forward_tangent(const T*, const T*, const T* xd, T* yd, long n, const T* p) override {
    conv(xd, yd, n, p, static_cast<const T*>(nullptr));
  }
  // gW = dyd col(x)^T + dy col(xd)^T, gb = sum dyd; dx, dxd: input gradients of dy, dyd
  void backward_tangent(const T* x, const T*, const T* xd, const T* dy, const T* dyd, T* dx, T* dxd, long n,
                        const T* p, T* gd) override {
    weight_grad(x, dyd, n, gd, false, true);
    weight_grad(xd, dy, n, gd, true, false);
    if (dx) input_grad(dy, dx, n, p);
    if (dxd) input_grad(dyd, dxd, n, p);
  }
  bool has_per_sample() const override { return true; }
  bool backward_per_sample(const T* x, const T*, const T* dy, T* dx, long n, const T* p, T* G, long ldg) override {
    const long K = g.K(), P = g.P();
    for (long s0 = 0; s0 < n; s0 += nb) {
      const long m = std::min(nb, n - s0), N = m * P;
      g.im2col(x + s0 * this->in_size, m, col.data(), N);
      for (long s = s0; s < s0 + m; ++s) {
        const T* ds = dy + s * cout * P;
        T* gr = G + s * ldg;
        gemm<T>(false, true, cout, K, P, T(1), ds, P, col.data() + (s - s0) * P, N, T(0), gr, K);
        for (long c = 0; c < cout; ++c) gr[cout * K + c] = vmath::sum_array(ds + c * P, P);
      }
    }
    if (dx) input_grad(dy, dx, n, p);
    return true;
  }
};

// ------------------------------------------------------------------ ConvTranspose2d (eq. 4.9)
// One product over the batch: col[K, n*P] = W^T x (x in channel-major order), then col2im onto y.
// A 1x1 input without padding (a dense projection onto the output maps) is y = x W directly.
template <class T>
struct ConvT2d : Layer<T> {
  Geometry g{};  // the convolution that maps this layer's output back onto its input
  long cin = 0, cout = 0;
  bool projection = false;
  std::vector<T> col, xc, dxc;
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
    g = Geometry{cout, OH, OW, kh, kw, sh, sw, ph, pw, ishape[1], ishape[2], false, {}, {}, {}, {}};
    g.build();
    projection = ishape[1] == 1 && ishape[2] == 1 && ph == 0 && pw == 0;
    this->in_shape = ishape;
    this->out_shape = {cout, OH, OW};
    this->np = cin * g.K() + cout;
    this->finish();
  }
  void reserve(long cap) override {
    if (projection) return;
    grow(col, std::size_t(g.K() * cap * g.P()));
    grow(xc, std::size_t(cin * cap * g.P()));
  }
  void add_bias(T* y, long n, const T* b) const {
    const long Q = g.H * g.W;
    for (long s = 0; s < n; ++s)
      for (long c = 0; c < cout; ++c) {
        T* yc = y + (s * cout + c) * Q;
        for (long q = 0; q < Q; ++q) yc[q] += b[c];
      }
  }
  void forward(const T* x, T* y, long n, const T* p) override {
    const long K = g.K(), P = g.P(), N = n * P, ld = N;
    if (projection) {
      gemm<T>(false, false, n, K, cin, T(1), x, cin, p, K, T(0), y, K);
    } else {
      to_channels(x, n, cin, P, xc.data(), ld);
      gemm<T>(true, false, K, N, cin, T(1), p, K, xc.data(), ld, T(0), col.data(), ld);
      std::fill(y, y + n * this->out_size, T(0));
      g.col2im(col.data(), n, ld, y);
    }
    add_bias(y, n, p + cin * K);
  }
  void backward(const T* x, const T*, const T* dy, T* dx, long n, const T* p, T* gr) override {
    const long K = g.K(), P = g.P(), N = n * P, ld = N, Q = g.H * g.W;
    if (projection) {
      gemm<T>(true, false, cin, K, n, T(1), x, cin, dy, K, T(0), gr, K);
      if (dx) gemm<T>(false, true, n, cin, K, T(1), dy, K, p, K, T(0), dx, cin);
    } else {
      g.im2col(dy, n, col.data(), ld);
      to_channels(x, n, cin, P, xc.data(), ld);
      gemm<T>(false, true, cin, K, N, T(1), xc.data(), ld, col.data(), ld, T(0), gr, K);
      if (dx) {
        grow(dxc, std::size_t(cin * ld));
        gemm<T>(false, false, cin, N, K, T(1), p, K, col.data(), ld, T(0), dxc.data(), ld);
        from_channels(dxc.data(), n, cin, P, ld, dx, static_cast<const T*>(nullptr));
      }
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
  std::vector<T> rowsum;
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
  // Non-overlapping average pooling (window = stride): the kh rows of a window row summed first
  // (contiguous, vectorisable), then kw neighbours of the row sum.
  bool tiles() const { return !is_max && kh == sh && kw == sw; }
  void forward(const T* x, T* y, long n, const T*) override {
    const T inv = T(1) / T(kh * kw);
    if (tiles()) {
      const long Wc = OW * kw;
      grow(rowsum, std::size_t(Wc));
      T* __restrict r = rowsum.data();
      for (long sc = 0; sc < n * C; ++sc) {
        const T* xc = x + sc * H * W;
        T* yc = y + sc * OH * OW;
        for (long oh = 0; oh < OH; ++oh) {
          const T* x0 = xc + oh * kh * W;
          for (long j = 0; j < Wc; ++j) r[j] = x0[j];
          for (long a = 1; a < kh; ++a) {
            const T* xa = x0 + a * W;
            for (long j = 0; j < Wc; ++j) r[j] += xa[j];
          }
          for (long ow = 0; ow < OW; ++ow) {
            T t = r[ow * kw];
            for (long b = 1; b < kw; ++b) t += r[ow * kw + b];
            yc[oh * OW + ow] = t * inv;
          }
        }
      }
      return;
    }
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
    const T inv = T(1) / T(kh * kw);
    if (tiles()) {  // each input of a window gets dy / (kh kw); rows and columns past the last window get 0
      const long Wc = OW * kw;
      grow(rowsum, std::size_t(Wc));
      T* __restrict r = rowsum.data();
      for (long sc = 0; sc < n * C; ++sc) {
        const T* dc = dy + sc * OH * OW;
        T* xc = dx + sc * H * W;
        for (long oh = 0; oh < OH; ++oh) {
          for (long ow = 0; ow < OW; ++ow)
            for (long b = 0; b < kw; ++b) r[ow * kw + b] = dc[oh * OW + ow] * inv;
          for (long a = 0; a < kh; ++a) {
            T* xa = xc + (oh * kh + a) * W;
            std::memcpy(xa, r, sizeof(T) * std::size_t(Wc));
            std::fill(xa + Wc, xa + W, T(0));
          }
        }
        std::fill(xc + OH * kh * W, xc + H * W, T(0));
      }
      return;
    }
    std::fill(dx, dx + n * this->in_size, T(0));
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
