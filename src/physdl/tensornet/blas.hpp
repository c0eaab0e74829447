// Matrix products for the tensornet engine through a caller-supplied BLAS, in four dtypes.
//
// The pointers are those of physdl/core/blas.hpp (shared with physdl/nn/blas.hpp): the host sets Fortran-interface
// d/s/z/cgemm pointers once; the Python package passes the ones SciPy exports
// (scipy.linalg.cython_blas), a C++ host its own BLAS's `dgemm_`, `sgemm_`, `zgemm_`, `cgemm_`.
// Row-major C = op(A) op(B) is the column-major C^T = op(B)^T op(A)^T.  Without a pointer, and for
// products with m*n*k at or below the small threshold, a direct loop is used.
#pragma once

#include <complex>
#include <cstdint>

namespace physdl::tensornet {

template <class T>
using gemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const T*, const T*,
                         const int*, const T*, const int*, const T*, T*, const int*);

// Install the four pointers (any may be 0 to clear it).
void set_blas_addresses(std::uintptr_t dgemm, std::uintptr_t sgemm, std::uintptr_t zgemm, std::uintptr_t cgemm);
void set_blas(gemm_fn<double> d, gemm_fn<float> s, gemm_fn<std::complex<double>> z,
              gemm_fn<std::complex<float>> c);
bool has_blas();
void set_small_gemm_threshold(long flops);
long small_gemm_threshold();

// Row-major C[m,n] = op(A)[m,k] op(B)[k,n]  (beta = 0); op = transpose when ta / tb.
template <class T>
void gemm(bool ta, bool tb, long m, long n, long k, const T* a, long lda, const T* b, long ldb, T* c, long ldc);

}  // namespace physdl::tensornet
