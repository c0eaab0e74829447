// Host-side interface of the CUDA kernels: plain C++ types only, so the
// binding code compiles with the ordinary C++ compiler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace physdl::cuda {

struct DeviceInfo {
  int index;
  std::string name;
  int major, minor;
  int multiprocessors;
  std::size_t total_memory;
  std::size_t free_memory;
};

/// Number of usable devices; 0 with `reason` set when CUDA cannot be used here.
int device_count(std::string& reason);
DeviceInfo device_info(int index);
std::string runtime_version();

/// Same words / uniforms / normals as physdl::random::fill_* on the host, written to host memory
/// (drawn on the device, then copied back).
void fill_uint32(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                 std::uint32_t* host_out, std::size_t n);
void fill_uniform_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                         double* host_out, std::size_t n);
void fill_uniform_float(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                        float* host_out, std::size_t n);
void fill_normal_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                        double* host_out, std::size_t n);

}  // namespace physdl::cuda
