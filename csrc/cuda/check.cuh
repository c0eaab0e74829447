#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#define PHYSDL_CUDA_CHECK(expr)                                                              \
  do {                                                                                       \
    cudaError_t _e = (expr);                                                                 \
    if (_e != cudaSuccess)                                                                   \
      throw std::runtime_error(std::string("CUDA error in ") + #expr + ": " +                \
                               cudaGetErrorString(_e));                                      \
  } while (0)

namespace physdl::cuda {

/// Owning device buffer (RAII), so an exception never leaks device memory.
template <class T>
struct DeviceBuffer {
  T* ptr = nullptr;
  std::size_t n = 0;
  explicit DeviceBuffer(std::size_t count) : n(count) {
    if (count) PHYSDL_CUDA_CHECK(cudaMalloc(&ptr, count * sizeof(T)));
  }
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

inline void check_launch(const char* what) {
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) e = cudaDeviceSynchronize();
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("CUDA kernel ") + what + " failed: " + cudaGetErrorString(e));
}

}  // namespace physdl::cuda
