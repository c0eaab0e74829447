// Philox4x32-10 on the device: the same header as the host core, so the words
// are identical by construction (and checked by tests on a GPU machine).
#include <cmath>

#include "check.cuh"
#include "cuda_api.hpp"
#include "physdl/random/philox.hpp"

namespace physdl::cuda {

using physdl::random::philox_block;
using physdl::random::Philox4x32;

namespace {

constexpr int kThreads = 256;

inline unsigned grid_for(std::size_t nblocks) {
  std::size_t g = (nblocks + kThreads - 1) / kThreads;
  if (g > 1u << 30) g = 1u << 30;
  return static_cast<unsigned>(g ? g : 1);
}

__global__ void k_fill_uint32(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                              std::uint32_t* out, std::size_t n) {
  const std::size_t nblocks = (n + 3) / 4;
  for (std::size_t b = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; b < nblocks;
       b += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const Philox4x32 r = philox_block(seed, stream, offset + b);
    for (int l = 0; l < 4; ++l)
      if (4 * b + l < n) out[4 * b + l] = r.v[l];
  }
}

__global__ void k_fill_uniform_float(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                                     float* out, std::size_t n) {
  const std::size_t nblocks = (n + 3) / 4;
  for (std::size_t b = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; b < nblocks;
       b += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const Philox4x32 r = philox_block(seed, stream, offset + b);
    for (int l = 0; l < 4; ++l)
      if (4 * b + l < n) out[4 * b + l] = physdl::random::uniform_float(r.v[l]);
  }
}

__global__ void k_fill_uniform_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                                      double* out, std::size_t n) {
  const std::size_t nblocks = (n + 1) / 2;
  for (std::size_t b = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; b < nblocks;
       b += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const Philox4x32 r = philox_block(seed, stream, offset + b);
    out[2 * b] = physdl::random::uniform_double(r.v[0], r.v[1]);
    if (2 * b + 1 < n) out[2 * b + 1] = physdl::random::uniform_double(r.v[2], r.v[3]);
  }
}

__global__ void k_fill_normal_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                                     double* out, std::size_t n) {
  const std::size_t nblocks = (n + 1) / 2;
  for (std::size_t b = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; b < nblocks;
       b += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const Philox4x32 r = philox_block(seed, stream, offset + b);
    const double u1 = physdl::random::uniform_double_open0(r.v[0], r.v[1]);
    const double u2 = physdl::random::uniform_double(r.v[2], r.v[3]);
    const double rad = sqrt(-2.0 * log(u1));
    const double theta = 6.283185307179586476925286766559 * u2;
    out[2 * b] = rad * cos(theta);
    if (2 * b + 1 < n) out[2 * b + 1] = rad * sin(theta);
  }
}

template <class T, class Launch>
void run_and_copy(T* host_out, std::size_t n, std::size_t nblocks, Launch launch, const char* what) {
  if (n == 0) return;
  DeviceBuffer<T> d(n);
  launch(grid_for(nblocks), d.ptr);
  check_launch(what);
  PHYSDL_CUDA_CHECK(cudaMemcpy(host_out, d.ptr, n * sizeof(T), cudaMemcpyDeviceToHost));
}

}  // namespace

int device_count(std::string& reason) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    reason = cudaGetErrorString(e);
    cudaGetLastError();
    return 0;
  }
  if (n == 0) reason = "no CUDA device";
  return n;
}

DeviceInfo device_info(int index) {
  cudaDeviceProp p{};
  PHYSDL_CUDA_CHECK(cudaGetDeviceProperties(&p, index));
  DeviceInfo d;
  d.index = index;
  d.name = p.name;
  d.major = p.major;
  d.minor = p.minor;
  d.multiprocessors = p.multiProcessorCount;
  d.total_memory = p.totalGlobalMem;
  PHYSDL_CUDA_CHECK(cudaSetDevice(index));
  std::size_t free_b = 0, total_b = 0;
  PHYSDL_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  d.free_memory = free_b;
  return d;
}

std::string runtime_version() {
  int v = 0;
  cudaRuntimeGetVersion(&v);
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

void fill_uint32(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                 std::uint32_t* host_out, std::size_t n) {
  run_and_copy(host_out, n, (n + 3) / 4,
               [&](unsigned g, std::uint32_t* d) { k_fill_uint32<<<g, kThreads>>>(seed, stream, offset, d, n); },
               "fill_uint32");
}

void fill_uniform_float(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                        float* host_out, std::size_t n) {
  run_and_copy(host_out, n, (n + 3) / 4,
               [&](unsigned g, float* d) { k_fill_uniform_float<<<g, kThreads>>>(seed, stream, offset, d, n); },
               "fill_uniform_float");
}

void fill_uniform_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                         double* host_out, std::size_t n) {
  run_and_copy(host_out, n, (n + 1) / 2,
               [&](unsigned g, double* d) { k_fill_uniform_double<<<g, kThreads>>>(seed, stream, offset, d, n); },
               "fill_uniform_double");
}

void fill_normal_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                        double* host_out, std::size_t n) {
  run_and_copy(host_out, n, (n + 1) / 2,
               [&](unsigned g, double* d) { k_fill_normal_double<<<g, kThreads>>>(seed, stream, offset, d, n); },
               "fill_normal_double");
}

}  // namespace physdl::cuda
