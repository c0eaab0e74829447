// Multi-spin coded checkerboard Metropolis and heat bath on the GPU (square lattice, uniform J, h).
//
// The layout, the random-number addressing and the per-word update are the host core's own
// (src/physdl/lattice/multispin.hpp, included here), so a sweep on the device gives the same
// lattice as `physdl::lattice::multispin_sweeps` on the host, bit for bit.  One thread updates one
// 64-spin word; a colour is one launch.  Energy and magnetisation are reduced on the device.
#include <cstdint>

#include "check.cuh"
#include "cuda_api.hpp"
#include "physdl/lattice/multispin.hpp"

namespace physdl::cuda {

namespace ms = physdl::lattice::multispin;
using u64 = std::uint64_t;

namespace {

constexpr int kThreads = 256;

struct Thresholds {
  u64 v[10];
};

__global__ void k_multispin_colour(int update, u64* words, u64 ly, u64 lx, int colour, Thresholds th,
                                   u64 seed, u64 chain, u64 sweep) {
  const u64 nw = ms::words_per_row(lx);
  const u64 total = ly * nw;
  for (u64 i = blockIdx.x * static_cast<u64>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<u64>(gridDim.x) * blockDim.x) {
    const u64 y = i / nw, q = i - y * nw;
    ms::update_site_word(update, words, ly, lx, colour, y, q, th.v, seed, chain, sweep);
  }
}

// acc[0] += number of +1 spins, acc[1] += number of antiparallel bonds (each bond once).
__global__ void k_multispin_measure(const u64* words, u64 ly, u64 lx, unsigned long long* acc) {
  const u64 nw = ms::words_per_row(lx), n = lx / 2;
  const u64 total = ly * nw;
  unsigned long long up_count = 0, anti = 0;
  for (u64 i = blockIdx.x * static_cast<u64>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<u64>(gridDim.x) * blockDim.x) {
    const u64 y = i / nw, q = i - y * nw;
    const u64* own = words + ms::word_offset(0, y, 0, ly, nw);
    const u64* oth = words + ms::word_offset(1, y, 0, ly, nw);
    const u64* up = words + ms::word_offset(1, (y + ly - 1) % ly, 0, ly, nw);
    const u64* dn = words + ms::word_offset(1, (y + 1) % ly, 0, ly, nw);
    const bool prev = (y & 1) == 0;
    const u64 side = ms::side_word(oth, q, nw, n, prev);
    up_count += __popcll(own[q]) + __popcll(oth[q]);
    anti += __popcll(own[q] ^ up[q]) + __popcll(own[q] ^ dn[q]) + __popcll(own[q] ^ oth[q]) +
            __popcll(own[q] ^ side);
  }
  // warp, then block reduction, then one atomic per block
  for (int off = 16; off > 0; off >>= 1) {
    up_count += __shfl_down_sync(0xffffffffu, up_count, off);
    anti += __shfl_down_sync(0xffffffffu, anti, off);
  }
  __shared__ unsigned long long s_up[kThreads / 32], s_anti[kThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    s_up[warp] = up_count;
    s_anti[warp] = anti;
  }
  __syncthreads();
  if (warp == 0) {
    up_count = lane < kThreads / 32 ? s_up[lane] : 0;
    anti = lane < kThreads / 32 ? s_anti[lane] : 0;
    for (int off = 16; off > 0; off >>= 1) {
      up_count += __shfl_down_sync(0xffffffffu, up_count, off);
      anti += __shfl_down_sync(0xffffffffu, anti, off);
    }
    if (lane == 0) {
      atomicAdd(acc, up_count);
      atomicAdd(acc + 1, anti);
    }
  }
}

unsigned grid_for(u64 items, int sms) {
  const u64 want = (items + kThreads - 1) / kThreads;
  const u64 cap = static_cast<u64>(sms > 0 ? sms : 1) * 32;  // enough blocks to fill the device
  const u64 g = want < cap ? want : cap;
  return static_cast<unsigned>(g ? g : 1);
}

}  // namespace

struct MultispinLattice::Impl {
  u64 ly = 0, lx = 0, nwords = 0;
  u64* words = nullptr;
  unsigned long long* acc = nullptr;
  int sms = 1;
  ~Impl() {
    if (words) cudaFree(words);
    if (acc) cudaFree(acc);
  }
};

std::size_t MultispinLattice::bytes_needed(std::uint64_t ly, std::uint64_t lx) {
  return static_cast<std::size_t>(2 * ly * ms::words_per_row(lx) * sizeof(u64) + 2 * sizeof(unsigned long long));
}

std::uint64_t MultispinLattice::words_for(std::uint64_t ly, std::uint64_t lx) {
  return 2 * ly * ms::words_per_row(lx);
}

MultispinLattice::MultispinLattice(std::uint64_t ly, std::uint64_t lx, const std::uint64_t* host_words)
    : impl_(new Impl) {
  if (ly < 2 || lx < 2 || (ly & 1) || (lx & 1))
    throw std::invalid_argument("MultispinLattice: ly and lx must be even and >= 2");
  impl_->ly = ly;
  impl_->lx = lx;
  impl_->nwords = 2 * ly * ms::words_per_row(lx);
  int dev = 0;
  PHYSDL_CUDA_CHECK(cudaGetDevice(&dev));
  PHYSDL_CUDA_CHECK(cudaDeviceGetAttribute(&impl_->sms, cudaDevAttrMultiProcessorCount, dev));
  std::size_t free_b = 0, total_b = 0;
  PHYSDL_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  const std::size_t need = bytes_needed(ly, lx);
  if (need > free_b)
    throw std::length_error("MultispinLattice: needs " + std::to_string(need) + " bytes of device memory, only " +
                            std::to_string(free_b) + " free");
  PHYSDL_CUDA_CHECK(cudaMalloc(&impl_->words, impl_->nwords * sizeof(u64)));
  PHYSDL_CUDA_CHECK(cudaMalloc(&impl_->acc, 2 * sizeof(unsigned long long)));
  upload(host_words);
}

MultispinLattice::~MultispinLattice() = default;

std::uint64_t MultispinLattice::nwords() const { return impl_->nwords; }

void MultispinLattice::upload(const std::uint64_t* host_words) {
  PHYSDL_CUDA_CHECK(cudaMemcpy(impl_->words, host_words, impl_->nwords * sizeof(u64), cudaMemcpyHostToDevice));
}

void MultispinLattice::download(std::uint64_t* host_words) const {
  PHYSDL_CUDA_CHECK(cudaMemcpy(host_words, impl_->words, impl_->nwords * sizeof(u64), cudaMemcpyDeviceToHost));
}

void MultispinLattice::measure(double J, double h, double& energy, std::int64_t& mag) {
  const u64 items = impl_->nwords / 2;
  PHYSDL_CUDA_CHECK(cudaMemsetAsync(impl_->acc, 0, 2 * sizeof(unsigned long long)));
  k_multispin_measure<<<grid_for(items, impl_->sms), kThreads>>>(impl_->words, impl_->ly, impl_->lx, impl_->acc);
  PHYSDL_CUDA_CHECK(cudaGetLastError());
  unsigned long long host[2];
  PHYSDL_CUDA_CHECK(cudaMemcpy(host, impl_->acc, sizeof(host), cudaMemcpyDeviceToHost));
  const std::int64_t nsites = static_cast<std::int64_t>(impl_->ly * impl_->lx);
  mag = 2 * static_cast<std::int64_t>(host[0]) - nsites;
  energy = -J * static_cast<double>(2 * nsites - 2 * static_cast<std::int64_t>(host[1])) - h * static_cast<double>(mag);
}

void MultispinLattice::sweeps(int update, const std::uint64_t* thresholds, double J, double h, std::uint64_t seed,
                              std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
                              std::int64_t measure_every, double* energy, std::int64_t* mag) {
  if (update != ms::kMetropolis && update != ms::kHeatBath)
    throw std::invalid_argument("MultispinLattice::sweeps: unknown update");
  Thresholds th{};
  const int ncls = update == ms::kMetropolis ? 10 : 5;
  for (int i = 0; i < ncls; ++i) th.v[i] = thresholds[i];
  const u64 items = impl_->nwords / 2;
  const unsigned grid = grid_for(items, impl_->sms);
  for (std::int64_t t = 0; t < nsweeps; ++t) {
    const u64 sweep = sweep0 + static_cast<u64>(t);
    for (int c = 0; c < 2; ++c)
      k_multispin_colour<<<grid, kThreads>>>(update, impl_->words, impl_->ly, impl_->lx, c, th, seed, chain, sweep);
    PHYSDL_CUDA_CHECK(cudaGetLastError());
    if (measure_every > 0 && (t + 1) % measure_every == 0) {
      const std::int64_t m = (t + 1) / measure_every - 1;
      measure(J, h, energy[m], mag[m]);
    }
  }
  check_launch("multispin sweeps");
}

}  // namespace physdl::cuda
