// Matrix products for the nn engine through a caller-supplied BLAS.
//
// The core does not link a BLAS itself: the host sets Fortran-interface dgemm/sgemm function
// pointers once with set_blas().  The Python package passes the pointers that SciPy exports
// (scipy.linalg.cython_blas); a C++ host application passes its own BLAS's `dgemm_`/`sgemm_`.
// Row-major products C = op(A) op(B) are computed as the column-major C^T = op(B)^T op(A)^T.
// Without pointers a plain loop is used (correct, slow); very small products always use the loop,
// where the BLAS call overhead costs more than the arithmetic.
#pragma once

#include <cstdint>

namespace physdl::nn {

using dgemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const double*,
                          const double*, const int*, const double*, const int*, const double*, double*,
                          const int*);
using sgemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const float*,
                          const float*, const int*, const float*, const int*, const float*, float*,
                          const int*);

// Install Fortran-interface gemm pointers (either may be null to clear it).
void set_blas(dgemm_fn d, sgemm_fn s);
void set_blas_addresses(std::uintptr_t dgemm_addr, std::uintptr_t sgemm_addr);
bool has_blas();
// Products with m*n*k at or below this go through the direct loop (default 2048).
void set_small_gemm_threshold(long flops);
long small_gemm_threshold();

// Row-major C[m,n] = alpha * op(A)[m,k] op(B)[k,n] + beta * C; op = transpose when ta/tb.
template <class T>
void gemm(bool ta, bool tb, long m, long n, long k, T alpha, const T* a, long lda, const T* b, long ldb,
          T beta, T* c, long ldc);

}  // namespace physdl::nn
