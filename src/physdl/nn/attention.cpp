// Dot-product self-attention (book lines 1854-1857).  Numba twin: python/physdl/nn/_numba/attention.py.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "physdl/nn/blas.hpp"
#include "physdl/nn/detail.hpp"
#include "physdl/nn/vmath.hpp"

namespace physdl::nn::detail {

namespace {

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


}  // namespace

template <class T>
std::unique_ptr<Layer<T>> make_attention_family(int kind, const std::vector<long>& s, const std::vector<long>& ishape) {
  switch (kind) {
    case kAttention:
      return std::make_unique<Attention<T>>(s, ishape);
    default:
      return nullptr;
  }
}

template std::unique_ptr<Layer<float>> make_attention_family<float>(int, const std::vector<long>&, const std::vector<long>&);
template std::unique_ptr<Layer<double>> make_attention_family<double>(int, const std::vector<long>&, const std::vector<long>&);

}  // namespace physdl::nn::detail
