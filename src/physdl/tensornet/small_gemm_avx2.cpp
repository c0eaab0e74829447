// The small-product kernels of small_gemm.hpp compiled for AVX2 + FMA (chosen at run time by
// small_gemm.cpp when the CPU has both).
#include "physdl/tensornet/small_gemm.hpp"

#if defined(__GNUC__) && defined(__x86_64__)
namespace physdl::tensornet::detail::isa_avx2 {

#define PHYSDL_TN_TARGET __attribute__((target("avx2,fma"))) PHYSDL_TN_NO_LOOP_VEC
#include "physdl/tensornet/small_gemm_kernels.inc"
#undef PHYSDL_TN_TARGET

template small_kernel_fn<float> pick<float>(const SmallArgs&);
template small_kernel_fn<double> pick<double>(const SmallArgs&);
template small_kernel_fn<std::complex<float>> pick<std::complex<float>>(const SmallArgs&);
template small_kernel_fn<std::complex<double>> pick<std::complex<double>>(const SmallArgs&);

}  // namespace physdl::tensornet::detail::isa_avx2
#endif
