// One BLAS registry for every engine of the core, in four dtypes.
//
// The core does not link a BLAS itself: the host installs Fortran-interface gemm pointers once (the
// Python package passes the ones scipy.linalg.cython_blas exports; a C++ host its own BLAS's `dgemm_`,
// `sgemm_`, `zgemm_`, `cgemm_`).  The nn and tensornet engines keep their own entry points
// (physdl/nn/blas.hpp, physdl/tensornet/blas.hpp) and small-product thresholds, but read and write these
// pointers and share the one direct loop used without a pointer or for small products.
// Row-major C = alpha op(A) op(B) + beta C is computed as the column-major C^T = op(B)^T op(A)^T.
#pragma once

#include <complex>
#include <cstdint>

namespace physdl::core {

template <class T>
using gemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const T*, const T*,
                         const int*, const T*, const int*, const T*, T*, const int*);

// T in {float, double, std::complex<float>, std::complex<double>}; a null pointer clears it.
template <class T>
void set_gemm(gemm_fn<T> f);
template <class T>
gemm_fn<T> get_gemm();

// Row-major C[m,n] = alpha op(A)[m,k] op(B)[k,n] + beta C (op = transpose when ta / tb) through the
// installed pointer, or the direct loop when none is installed or m*n*k <= small_threshold.
template <class T>
void gemm(long small_threshold, bool ta, bool tb, long m, long n, long k, T alpha, const T* a, long lda,
          const T* b, long ldb, T beta, T* c, long ldc);

}  // namespace physdl::core
