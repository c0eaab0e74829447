// Fixed-size products for the batched executor (internal): C[q,i,j] = sum_p A[q,i,p] B[q,p,j] for small
// m, n, k, with A and B read in place through arbitrary strides and C contiguous.  The kernel for a
// step's sizes and layout is picked once per call (per plan), not per sample; kernels for n in
// {1, 2, 3, 4, 8} and k in {1, 2, 3, 4, 8, 16} have both sizes fixed at compile time (the sums over p kept in registers), others
// take a general loop.  Every kernel sums over p in increasing order starting from zero.  On x86-64 a
// second set compiled for AVX2 and FMA is chosen at run time when the CPU has them (the environment
// variable PHYSDL_TENSORNET_ISA=default forces the first); fused multiply-adds round once where the
// first set rounds twice, so results of the two sets may differ in the last bit, never between runs or
// thread counts on one machine.
#pragma once

#include <complex>

// The kernels are compiled without GCC's loop vectoriser (see small_gemm_kernels.inc); other compilers
// get no such attribute.
#if defined(__GNUC__) && !defined(__clang__)
#define PHYSDL_TN_NO_LOOP_VEC __attribute__((optimize("no-tree-loop-vectorize")))
#else
#define PHYSDL_TN_NO_LOOP_VEC
#endif

namespace physdl::tensornet::detail {

struct SmallArgs {
  long nb = 1, m = 1, n = 1, k = 1;
  long a_bs = 0, a_rs = 0, a_cs = 0;  // A[q,i,p] at a + q*a_bs + i*a_rs + p*a_cs
  long b_bs = 0, b_rs = 0, b_cs = 0;  // B[q,p,j] at b + q*b_bs + p*b_rs + j*b_cs
};                                    // C[q,i,j] at c + (q*m + i)*n + j

template <class T>
using small_kernel_fn = void (*)(const SmallArgs&, const T*, const T*, T*);

// Never null.
template <class T>
small_kernel_fn<T> pick_small_kernel(const SmallArgs& g);

// Name of the instruction set the kernels run with ("avx2" or "default").
const char* small_kernel_isa();

}  // namespace physdl::tensornet::detail
