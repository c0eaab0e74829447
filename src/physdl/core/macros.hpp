// Portable function qualifiers shared by the C++ core and the CUDA kernels.
#pragma once

#if defined(__CUDACC__)
#define PHYSDL_HD __host__ __device__ __forceinline__
#else
#define PHYSDL_HD inline
#endif
