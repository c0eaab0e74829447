// Recurrent layers: RNN (eq. 4.13-4.21) and LSTM (eq. 4.25-4.35).  Numba twin: python/physdl/nn/_numba/recurrent.py.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "physdl/nn/blas.hpp"
#include "physdl/nn/detail.hpp"
#include "physdl/nn/vmath.hpp"

namespace physdl::nn::detail {

namespace {

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
    vmath::add_row_vector(pre.data(), b, Tn * n, G);
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
    vmath::sum_rows(dpre.data(), gWh + G * H, Tn * n, G);
    if (dx) {
      gemm<T>(false, false, Tn * n, I, G, T(1), dpre.data(), G, Wx, I, T(0), dxtm.data(), I);
      for (long s = 0; s < n; ++s)
        for (long t = 0; t < Tn; ++t) std::memcpy(dx + (s * Tn + t) * I, &dxtm[std::size_t((t * n + s) * I)], sizeof(T) * I);
    }
  }
};


}  // namespace

template <class T>
std::unique_ptr<Layer<T>> make_recurrent_family(int kind, const std::vector<long>& s, const std::vector<long>& ishape) {
  switch (kind) {
    case kRNN:
    case kLSTM:
      return std::make_unique<Recurrent<T>>(kind == kLSTM, s, ishape);
    default:
      return nullptr;
  }
}

template std::unique_ptr<Layer<float>> make_recurrent_family<float>(int, const std::vector<long>&, const std::vector<long>&);
template std::unique_ptr<Layer<double>> make_recurrent_family<double>(int, const std::vector<long>&, const std::vector<long>&);

}  // namespace physdl::nn::detail
