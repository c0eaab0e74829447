// Portable function qualifiers shared by the C++ core and the CUDA kernels.
#pragma once

#if defined(__CUDACC__)
#define PHYSDL_HD __host__ __device__ __forceinline__
#else
#define PHYSDL_HD inline
#endif

// Ask nvcc to unroll the next loop (small fixed loops over classes, groups, rounds); no-op on the host.
#if defined(__CUDACC__)
#define PHYSDL_UNROLL _Pragma("unroll")
#else
#define PHYSDL_UNROLL
#endif

// Keep the next loop rolled on the device (long data-dependent loops: unrolling them only costs registers).
#if defined(__CUDACC__)
#define PHYSDL_NO_UNROLL _Pragma("unroll 1")
#else
#define PHYSDL_NO_UNROLL
#endif
