#include "physdl/nn/blas.hpp"

#include <atomic>

#include "physdl/core/blas.hpp"

// The pointers and the direct loop live in physdl/core/blas.cpp, shared with the tensornet engine.
namespace physdl::nn {

namespace {
std::atomic<long> g_small{2048};
}  // namespace

void set_blas(dgemm_fn d, sgemm_fn s) {
  core::set_gemm<double>(d);
  core::set_gemm<float>(s);
}

void set_blas_addresses(std::uintptr_t dgemm_addr, std::uintptr_t sgemm_addr) {
  set_blas(reinterpret_cast<dgemm_fn>(dgemm_addr), reinterpret_cast<sgemm_fn>(sgemm_addr));
}

bool has_blas() { return core::get_gemm<double>() != nullptr && core::get_gemm<float>() != nullptr; }

void set_small_gemm_threshold(long flops) { g_small.store(flops < 0 ? 0 : flops); }
long small_gemm_threshold() { return g_small.load(); }

template <>
void gemm<double>(bool ta, bool tb, long m, long n, long k, double alpha, const double* a, long lda,
                  const double* b, long ldb, double beta, double* c, long ldc) {
  core::gemm<double>(g_small.load(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <>
void gemm<float>(bool ta, bool tb, long m, long n, long k, float alpha, const float* a, long lda,
                 const float* b, long ldb, float beta, float* c, long ldc) {
  core::gemm<float>(g_small.load(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace physdl::nn
