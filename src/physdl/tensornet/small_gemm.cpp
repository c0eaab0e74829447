#include "physdl/tensornet/small_gemm.hpp"

#include <cstdlib>
#include <cstring>

namespace physdl::tensornet::detail {

namespace isa_default {
#define PHYSDL_TN_TARGET PHYSDL_TN_NO_LOOP_VEC
#include "physdl/tensornet/small_gemm_kernels.inc"
#undef PHYSDL_TN_TARGET
}  // namespace isa_default

#if defined(__GNUC__) && defined(__x86_64__)
#define PHYSDL_TN_HAVE_AVX2 1
namespace isa_avx2 {
template <class T>
small_kernel_fn<T> pick(const SmallArgs& g);  // small_gemm_avx2.cpp
}  // namespace isa_avx2
#endif

namespace {
bool use_avx2() {
#ifdef PHYSDL_TN_HAVE_AVX2
  static const bool yes = [] {
    const char* env = std::getenv("PHYSDL_TENSORNET_ISA");
    if (env != nullptr && std::strcmp(env, "default") == 0) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return yes;
#else
  return false;
#endif
}
}  // namespace

template <class T>
small_kernel_fn<T> pick_small_kernel(const SmallArgs& g) {
#ifdef PHYSDL_TN_HAVE_AVX2
  if (use_avx2()) return isa_avx2::pick<T>(g);
#endif
  return isa_default::pick<T>(g);
}

const char* small_kernel_isa() { return use_avx2() ? "avx2" : "default"; }

template small_kernel_fn<float> pick_small_kernel<float>(const SmallArgs&);
template small_kernel_fn<double> pick_small_kernel<double>(const SmallArgs&);
template small_kernel_fn<std::complex<float>> pick_small_kernel<std::complex<float>>(const SmallArgs&);
template small_kernel_fn<std::complex<double>> pick_small_kernel<std::complex<double>>(const SmallArgs&);

}  // namespace physdl::tensornet::detail
