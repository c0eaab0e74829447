#include "physdl/nn/blas.hpp"

#include <atomic>

namespace physdl::nn {

namespace {
std::atomic<dgemm_fn> g_dgemm{nullptr};
std::atomic<sgemm_fn> g_sgemm{nullptr};
std::atomic<long> g_small{2048};

// Direct row-major loop; the inner loop runs over contiguous memory of C and op(B) when possible.
template <class T>
void gemm_loop(bool ta, bool tb, long m, long n, long k, T alpha, const T* a, long lda, const T* b, long ldb,
               T beta, T* c, long ldc) {
  for (long i = 0; i < m; ++i) {
    T* ci = c + i * ldc;
    if (beta == T(0)) {
      for (long j = 0; j < n; ++j) ci[j] = T(0);
    } else if (beta != T(1)) {
      for (long j = 0; j < n; ++j) ci[j] *= beta;
    }
    if (!tb) {
      for (long p = 0; p < k; ++p) {
        const T aip = alpha * (ta ? a[p * lda + i] : a[i * lda + p]);
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
        ci[j] += alpha * s;
      }
    }
  }
}
}  // namespace

void set_blas(dgemm_fn d, sgemm_fn s) {
  g_dgemm.store(d);
  g_sgemm.store(s);
}

void set_blas_addresses(std::uintptr_t dgemm_addr, std::uintptr_t sgemm_addr) {
  set_blas(reinterpret_cast<dgemm_fn>(dgemm_addr), reinterpret_cast<sgemm_fn>(sgemm_addr));
}

bool has_blas() { return g_dgemm.load() != nullptr && g_sgemm.load() != nullptr; }

void set_small_gemm_threshold(long flops) { g_small.store(flops < 0 ? 0 : flops); }
long small_gemm_threshold() { return g_small.load(); }

namespace {
// Row-major C = op(A) op(B) through a column-major Fortran gemm: C^T = op(B)^T op(A)^T.
template <class T, class F>
void gemm_through(F f, bool ta, bool tb, long m, long n, long k, T alpha, const T* a, long lda, const T* b,
                  long ldb, T beta, T* c, long ldc) {
  if (m <= 0 || n <= 0) return;
  if (f == nullptr || k <= 0 || m * n * k <= g_small.load()) {
    gemm_loop(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const char cta = ta ? 'T' : 'N', ctb = tb ? 'T' : 'N';
  const int im = int(m), in = int(n), ik = int(k), ilda = int(lda), ildb = int(ldb), ildc = int(ldc);
  f(&ctb, &cta, &in, &im, &ik, &alpha, b, &ildb, a, &ilda, &beta, c, &ildc);
}
}  // namespace

template <>
void gemm<double>(bool ta, bool tb, long m, long n, long k, double alpha, const double* a, long lda,
                  const double* b, long ldb, double beta, double* c, long ldc) {
  gemm_through(g_dgemm.load(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <>
void gemm<float>(bool ta, bool tb, long m, long n, long k, float alpha, const float* a, long lda,
                 const float* b, long ldb, float beta, float* c, long ldc) {
  gemm_through(g_sgemm.load(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace physdl::nn
