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

