#include "physdl/core/blas.hpp"

#include <atomic>

namespace physdl::core {

namespace {
template <class T>
std::atomic<gemm_fn<T>>& slot() {
  static std::atomic<gemm_fn<T>> f{nullptr};
  return f;
}

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

template <class T>
void set_gemm(gemm_fn<T> f) {
  slot<T>().store(f);
}

template <class T>
gemm_fn<T> get_gemm() {
  return slot<T>().load(std::memory_order_relaxed);
}

template <class T>
void gemm(long small_threshold, bool ta, bool tb, long m, long n, long k, T alpha, const T* a, long lda,
          const T* b, long ldb, T beta, T* c, long ldc) {
  if (m <= 0 || n <= 0) return;
  gemm_fn<T> f = get_gemm<T>();
  if (f == nullptr || k <= 0 || m * n * k <= small_threshold) {
    gemm_loop(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const char cta = ta ? 'T' : 'N', ctb = tb ? 'T' : 'N';
  const int im = int(m), in = int(n), ik = int(k), ilda = int(lda), ildb = int(ldb), ildc = int(ldc);
  f(&ctb, &cta, &in, &im, &ik, &alpha, b, &ildb, a, &ilda, &beta, c, &ildc);
}

#define PHYSDL_CORE_BLAS(T)                                                                                \
  template void set_gemm<T>(gemm_fn<T>);                                                                   \
  template gemm_fn<T> get_gemm<T>();                                                                       \
  template void gemm<T>(long, bool, bool, long, long, long, T, const T*, long, const T*, long, T, T*, long);
PHYSDL_CORE_BLAS(float)
PHYSDL_CORE_BLAS(double)
PHYSDL_CORE_BLAS(std::complex<float>)
PHYSDL_CORE_BLAS(std::complex<double>)
#undef PHYSDL_CORE_BLAS

}  // namespace physdl::core
