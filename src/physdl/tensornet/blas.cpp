#include "physdl/tensornet/blas.hpp"

#include <atomic>

namespace physdl::tensornet {

namespace {
std::atomic<gemm_fn<double>> g_d{nullptr};
std::atomic<gemm_fn<float>> g_s{nullptr};
std::atomic<gemm_fn<std::complex<double>>> g_z{nullptr};
std::atomic<gemm_fn<std::complex<float>>> g_c{nullptr};
std::atomic<long> g_small{4096};

template <class T>
void gemm_loop(bool ta, bool tb, long m, long n, long k, const T* a, long lda, const T* b, long ldb, T* c,
               long ldc) {
  for (long i = 0; i < m; ++i) {
    T* ci = c + i * ldc;
    if (!tb) {
      for (long j = 0; j < n; ++j) ci[j] = T(0);
      for (long p = 0; p < k; ++p) {
        const T aip = ta ? a[p * lda + i] : a[i * lda + p];
        const T* bp = b + p * ldb;
        for (long j = 0; j < n; ++j) ci[j] += aip * bp[j];
      }
    } else {
      for (long j = 0; j < n; ++j) {
        const T* bj = b + j * ldb;
        T s = T(0);
        if (!ta) {
          const T* ai = a + i * lda;
          for (long p = 0; p < k; ++p) s += ai[p] * bj[p];
        } else {
          for (long p = 0; p < k; ++p) s += a[p * lda + i] * bj[p];
        }
        ci[j] = s;
      }
    }
  }
}

template <class T>
void gemm_through(gemm_fn<T> f, bool ta, bool tb, long m, long n, long k, const T* a, long lda, const T* b,
                  long ldb, T* c, long ldc) {
  if (m <= 0 || n <= 0) return;
  if (f == nullptr || k <= 0 || m * n * k <= g_small.load(std::memory_order_relaxed)) {
    gemm_loop(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
  const char cta = ta ? 'T' : 'N', ctb = tb ? 'T' : 'N';
  const int im = int(m), in = int(n), ik = int(k), ilda = int(lda), ildb = int(ldb), ildc = int(ldc);
  const T one(1), zero(0);
  f(&ctb, &cta, &in, &im, &ik, &one, b, &ildb, a, &ilda, &zero, c, &ildc);
}
}  // namespace

void set_blas(gemm_fn<double> d, gemm_fn<float> s, gemm_fn<std::complex<double>> z,
              gemm_fn<std::complex<float>> c) {
  g_d.store(d);
  g_s.store(s);
  g_z.store(z);
  g_c.store(c);
}

void set_blas_addresses(std::uintptr_t d, std::uintptr_t s, std::uintptr_t z, std::uintptr_t c) {
  set_blas(reinterpret_cast<gemm_fn<double>>(d), reinterpret_cast<gemm_fn<float>>(s),
           reinterpret_cast<gemm_fn<std::complex<double>>>(z), reinterpret_cast<gemm_fn<std::complex<float>>>(c));
}

bool has_blas() { return g_d.load() && g_s.load() && g_z.load() && g_c.load(); }
void set_small_gemm_threshold(long flops) { g_small.store(flops < 0 ? 0 : flops); }
long small_gemm_threshold() { return g_small.load(); }

template <>
void gemm<double>(bool ta, bool tb, long m, long n, long k, const double* a, long lda, const double* b, long ldb,
                  double* c, long ldc) {
  gemm_through(g_d.load(std::memory_order_relaxed), ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
}
template <>
void gemm<float>(bool ta, bool tb, long m, long n, long k, const float* a, long lda, const float* b, long ldb,
                 float* c, long ldc) {
  gemm_through(g_s.load(std::memory_order_relaxed), ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
}
template <>
void gemm<std::complex<double>>(bool ta, bool tb, long m, long n, long k, const std::complex<double>* a, long lda,
                                const std::complex<double>* b, long ldb, std::complex<double>* c, long ldc) {
  gemm_through(g_z.load(std::memory_order_relaxed), ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
}
template <>
void gemm<std::complex<float>>(bool ta, bool tb, long m, long n, long k, const std::complex<float>* a, long lda,
                               const std::complex<float>* b, long ldb, std::complex<float>* c, long ldc) {
  gemm_through(g_c.load(std::memory_order_relaxed), ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
}

}  // namespace physdl::tensornet
