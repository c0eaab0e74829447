#include "physdl/tensornet/blas.hpp"

#include <atomic>

#include "physdl/core/blas.hpp"

// The pointers and the direct loop live in physdl/core/blas.cpp, shared with the nn engine.
namespace physdl::tensornet {

namespace {
std::atomic<long> g_small{4096};

template <class T>
void gemm_core(bool ta, bool tb, long m, long n, long k, const T* a, long lda, const T* b, long ldb, T* c,
               long ldc) {
  core::gemm<T>(g_small.load(std::memory_order_relaxed), ta, tb, m, n, k, T(1), a, lda, b, ldb, T(0), c, ldc);
}
}  // namespace

void set_blas(gemm_fn<double> d, gemm_fn<float> s, gemm_fn<std::complex<double>> z,
              gemm_fn<std::complex<float>> c) {
  core::set_gemm<double>(d);
  core::set_gemm<float>(s);
  core::set_gemm<std::complex<double>>(z);
  core::set_gemm<std::complex<float>>(c);
}

void set_blas_addresses(std::uintptr_t d, std::uintptr_t s, std::uintptr_t z, std::uintptr_t c) {
  set_blas(reinterpret_cast<gemm_fn<double>>(d), reinterpret_cast<gemm_fn<float>>(s),
           reinterpret_cast<gemm_fn<std::complex<double>>>(z), reinterpret_cast<gemm_fn<std::complex<float>>>(c));
}

bool has_blas() {
  return core::get_gemm<double>() && core::get_gemm<float>() && core::get_gemm<std::complex<double>>() &&
         core::get_gemm<std::complex<float>>();
}
void set_small_gemm_threshold(long flops) { g_small.store(flops < 0 ? 0 : flops); }
long small_gemm_threshold() { return g_small.load(); }

template <>
void gemm<double>(bool ta, bool tb, long m, long n, long k, const double* a, long lda, const double* b, long ldb,
                  double* c, long ldc) {
  gemm_core(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
}
template <>
void gemm<float>(bool ta, bool tb, long m, long n, long k, const float* a, long lda, const float* b, long ldb,
                 float* c, long ldc) {
  gemm_core(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
}
template <>
void gemm<std::complex<double>>(bool ta, bool tb, long m, long n, long k, const std::complex<double>* a, long lda,
                                const std::complex<double>* b, long ldb, std::complex<double>* c, long ldc) {
  gemm_core(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
}
template <>
void gemm<std::complex<float>>(bool ta, bool tb, long m, long n, long k, const std::complex<float>* a, long lda,
                               const std::complex<float>* b, long ldb, std::complex<float>* c, long ldc) {
  gemm_core(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
}

}  // namespace physdl::tensornet
