// Multi-spin coded checkerboard Metropolis and heat bath on the GPU (square lattice, uniform J, h).
//
// The layout, the random-number addressing and the per-word update are the host core's own
// (src/physdl/lattice/multispin.hpp, included here), so a sweep on the device gives the same
// lattice as `physdl::lattice::multispin_sweeps` on the host, bit for bit.  One thread updates one
// 64-spin word; a colour is one launch.
//
// Two kernels do the same update:
//  - the tuned one (default) runs the header's grouped form (`update_word_grouped`: classes with equal
//    thresholds merged, threshold digits tabulated, Philox round keys precomputed; `update_word_by_count`
//    where each group is one neighbour count, as for Metropolis at h = 0), indexes with 32-bit
//    arithmetic where the lattice allows, and, on sweeps that are measured, reduces the energy and
//    magnetisation inside the colour-1 launch (each colour-1 word sees all four of its bonds' partners,
//    so every bond is counted once) into a per-measurement slot on the device; the series is copied
//    to the host once per chunk of measurements, so measuring every sweep costs no synchronisation;
//  - the plain port (`tuned = false`) calls `update_site_word` per thread and a separate measuring
//    launch; it is kept as the baseline of the GPU benchmark and as a second check in the tests.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "check.cuh"
#include "cuda_api.hpp"
#include "physdl/lattice/multispin.hpp"

namespace physdl::cuda {

namespace ms = physdl::lattice::multispin;
using u64 = std::uint64_t;

namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kSeriesChunk = 4096;  // measurements held on the device between copies

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

// Sum two counters over the block and add them to acc[0], acc[1] (one atomic per block).
__device__ __forceinline__ void block_accumulate(unsigned long long a, unsigned long long b, unsigned long long* acc) {
  for (int off = 16; off > 0; off >>= 1) {
    a += __shfl_down_sync(0xffffffffu, a, off);
    b += __shfl_down_sync(0xffffffffu, b, off);
  }
  __shared__ unsigned long long s_a[kThreads / 32], s_b[kThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    s_a[warp] = a;
    s_b[warp] = b;
  }
  __syncthreads();
  if (warp == 0) {
    a = lane < kThreads / 32 ? s_a[lane] : 0;
    b = lane < kThreads / 32 ? s_b[lane] : 0;
    for (int off = 16; off > 0; off >>= 1) {
      a += __shfl_down_sync(0xffffffffu, a, off);
      b += __shfl_down_sync(0xffffffffu, b, off);
    }
    if (lane == 0) {
      atomicAdd(acc, a);
      atomicAdd(acc + 1, b);
    }
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
  block_accumulate(up_count, anti, acc);
}

// The tuned colour update.  Index is uint32_t when ly * nw < 2^32, else u64.  When acc is not null
// (colour 1 of a measured sweep) the launch also adds the +1 spins and antiparallel bonds to acc.
template <int UPDATE, int GMAX, bool BY_COUNT, typename Index>
__global__ void __launch_bounds__(kThreads)
    k_grouped_colour(u64* __restrict__ words, Index ly, Index nw, u64 n, int colour,
                     const __grid_constant__ ms::GroupedPlan plan, u64 stream, unsigned long long* acc) {
  const Index total = ly * nw;
  const int other = 1 - colour;
  const u64* __restrict__ oth = words + static_cast<u64>(other) * total;
  u64* __restrict__ mine = words + static_cast<u64>(colour) * total;
  unsigned long long up_count = 0, anti = 0;
  for (Index i = blockIdx.x * static_cast<Index>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<Index>(gridDim.x) * blockDim.x) {
    const Index y = i / nw, q = i - y * nw;
    const Index yu = y == 0 ? ly - 1 : y - 1, yd = y + 1 == ly ? 0 : y + 1;
    const u64* row = oth + static_cast<u64>(y) * nw;
    const bool prev = ((y + static_cast<Index>(colour)) & 1) == 0;
    const u64 same = row[q];
    const u64 side = ms::side_word(row, q, nw, n, prev);
    const u64 up = oth[static_cast<u64>(yu) * nw + q], down = oth[static_cast<u64>(yd) * nw + q];
    const u64 valid = ms::valid_mask(q, nw, n);
    const u64 w = BY_COUNT ? ms::update_word_by_count<GMAX, UPDATE>(plan, mine[i], up, down, same, side, valid, stream,
                                                                    static_cast<u64>(i))
                           : ms::update_word_grouped<GMAX, UPDATE>(plan, mine[i], up, down, same, side, valid, stream,
                                                                   static_cast<u64>(i));
    mine[i] = w;
    if (acc) {
      up_count += __popcll(w) + __popcll(same);
      anti += __popcll(w ^ up) + __popcll(w ^ down) + __popcll(w ^ same) + __popcll(w ^ side);
    }
  }
  if (acc) block_accumulate(up_count, anti, acc);
}

// PHYSDL_CUDA_INDEX=64 forces the 64-bit index kernels (normally used only above 2^32 words per
// colour, i.e. lattices of tens of GiB) so that the tests can check them on small lattices.
bool wide_index_forced() {
  static const bool forced = [] {
    const char* v = std::getenv("PHYSDL_CUDA_INDEX");
    return v != nullptr && std::string(v) == "64";
  }();
  return forced;
}

template <int UPDATE, int GMAX, bool BY_COUNT>
void launch_grouped(unsigned grid, u64* words, u64 ly, u64 nw, u64 n, int colour, const ms::GroupedPlan& plan,
                    u64 stream, unsigned long long* acc) {
  if (ly * nw < (u64(1) << 32) && !wide_index_forced()) {
    k_grouped_colour<UPDATE, GMAX, BY_COUNT, std::uint32_t><<<grid, kThreads>>>(
        words, static_cast<std::uint32_t>(ly), static_cast<std::uint32_t>(nw), n, colour, plan, stream, acc);
  } else {
    k_grouped_colour<UPDATE, GMAX, BY_COUNT, u64><<<grid, kThreads>>>(words, ly, nw, n, colour, plan, stream, acc);
  }
}

template <int UPDATE, int GMAX>
void launch_grouped_shape(unsigned grid, u64* words, u64 ly, u64 nw, u64 n, int colour, const ms::GroupedPlan& plan,
                          u64 stream, unsigned long long* acc) {
  if constexpr (GMAX <= 5) {  // a by-count plan has at most one group per count 0 .. 4
    if (plan.by_count) return launch_grouped<UPDATE, GMAX, true>(grid, words, ly, nw, n, colour, plan, stream, acc);
  }
  launch_grouped<UPDATE, GMAX, false>(grid, words, ly, nw, n, colour, plan, stream, acc);
}

template <int UPDATE>
void launch_grouped_update(unsigned grid, u64* words, u64 ly, u64 nw, u64 n, int colour, const ms::GroupedPlan& plan,
                           u64 stream, unsigned long long* acc) {
  switch (plan.ngroups) {  // the group loops are unrolled to exactly the groups there are
    case 0:
    case 1:
    case 2:
      return launch_grouped_shape<UPDATE, 2>(grid, words, ly, nw, n, colour, plan, stream, acc);
    case 3:
      return launch_grouped_shape<UPDATE, 3>(grid, words, ly, nw, n, colour, plan, stream, acc);
    case 4:
      return launch_grouped_shape<UPDATE, 4>(grid, words, ly, nw, n, colour, plan, stream, acc);
    case 5:
      return launch_grouped_shape<UPDATE, 5>(grid, words, ly, nw, n, colour, plan, stream, acc);
    case 6:
      return launch_grouped_shape<UPDATE, 6>(grid, words, ly, nw, n, colour, plan, stream, acc);
    default:
      return launch_grouped_shape<UPDATE, 10>(grid, words, ly, nw, n, colour, plan, stream, acc);
  }
}

void launch_grouped_any(unsigned grid, u64* words, u64 ly, u64 nw, u64 n, int colour, const ms::GroupedPlan& plan,
                        u64 stream, unsigned long long* acc) {
  if (plan.update == ms::kMetropolis)
    launch_grouped_update<ms::kMetropolis>(grid, words, ly, nw, n, colour, plan, stream, acc);
  else
    launch_grouped_update<ms::kHeatBath>(grid, words, ly, nw, n, colour, plan, stream, acc);
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

namespace {
void observables(u64 ly, u64 lx, double J, double h, unsigned long long up_count, unsigned long long anti,
                 double& energy, std::int64_t& mag) {
  const std::int64_t nsites = static_cast<std::int64_t>(ly * lx);
  mag = 2 * static_cast<std::int64_t>(up_count) - nsites;
  energy = -J * static_cast<double>(2 * nsites - 2 * static_cast<std::int64_t>(anti)) - h * static_cast<double>(mag);
}
}  // namespace

void MultispinLattice::measure(double J, double h, double& energy, std::int64_t& mag) {
  const u64 items = impl_->nwords / 2;
  PHYSDL_CUDA_CHECK(cudaMemsetAsync(impl_->acc, 0, 2 * sizeof(unsigned long long)));
  k_multispin_measure<<<grid_for(items, impl_->sms), kThreads>>>(impl_->words, impl_->ly, impl_->lx, impl_->acc);
  PHYSDL_CUDA_CHECK(cudaGetLastError());
  unsigned long long host[2];
  PHYSDL_CUDA_CHECK(cudaMemcpy(host, impl_->acc, sizeof(host), cudaMemcpyDeviceToHost));
  observables(impl_->ly, impl_->lx, J, h, host[0], host[1], energy, mag);
}

void MultispinLattice::sweeps(int update, const std::uint64_t* thresholds, double J, double h, std::uint64_t seed,
                              std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
                              std::int64_t measure_every, double* energy, std::int64_t* mag, bool tuned) {
  if (update != ms::kMetropolis && update != ms::kHeatBath)
    throw std::invalid_argument("MultispinLattice::sweeps: unknown update");
  if (nsweeps < 0 || measure_every < 0)
    throw std::invalid_argument("MultispinLattice::sweeps: nsweeps and measure_every must be >= 0");
  const u64 items = impl_->nwords / 2;
  const unsigned grid = grid_for(items, impl_->sms);
  if (!tuned) {
    Thresholds th{};
    const int ncls = update == ms::kMetropolis ? 10 : 5;
    for (int i = 0; i < ncls; ++i) th.v[i] = thresholds[i];
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
    return;
  }
  const ms::GroupedPlan plan = ms::make_grouped_plan(update, thresholds, seed);
  const u64 ly = impl_->ly, lx = impl_->lx, nw = ms::words_per_row(lx), n = lx / 2;
  const std::int64_t nmeas = measure_every > 0 ? nsweeps / measure_every : 0;
  const std::int64_t chunk = nmeas < kSeriesChunk ? nmeas : kSeriesChunk;
  DeviceBuffer<unsigned long long> series(static_cast<std::size_t>(2 * chunk));
  std::vector<unsigned long long> host(static_cast<std::size_t>(2 * chunk));
  std::int64_t done = 0;  // measurements copied out
  auto flush = [&](std::int64_t upto) {
    const std::int64_t k = upto - done;
    if (k <= 0) return;
    PHYSDL_CUDA_CHECK(cudaMemcpy(host.data(), series.ptr, static_cast<std::size_t>(2 * k) * sizeof(unsigned long long),
                                 cudaMemcpyDeviceToHost));
    for (std::int64_t j = 0; j < k; ++j)
      observables(ly, lx, J, h, host[2 * j], host[2 * j + 1], energy[done + j], mag[done + j]);
    done = upto;
  };
  if (chunk > 0)
    PHYSDL_CUDA_CHECK(cudaMemsetAsync(series.ptr, 0, static_cast<std::size_t>(2 * chunk) * sizeof(unsigned long long)));
  for (std::int64_t t = 0; t < nsweeps; ++t) {
    const u64 sweep = sweep0 + static_cast<u64>(t);
    const bool measured = measure_every > 0 && (t + 1) % measure_every == 0;
    const std::int64_t m = measured ? (t + 1) / measure_every - 1 : -1;
    for (int c = 0; c < 2; ++c) {
      unsigned long long* acc = (c == 1 && measured) ? series.ptr + 2 * ((m - done) % (chunk > 0 ? chunk : 1)) : nullptr;
      const u64 stream = ms::stream_id(chain, sweep, c);
      launch_grouped_any(grid, impl_->words, ly, nw, n, c, plan, stream, acc);
    }
    PHYSDL_CUDA_CHECK(cudaGetLastError());
    if (measured && m + 1 - done == chunk) {  // the chunk is full: copy it out and clear it
      flush(m + 1);
      PHYSDL_CUDA_CHECK(
          cudaMemsetAsync(series.ptr, 0, static_cast<std::size_t>(2 * chunk) * sizeof(unsigned long long)));
    }
  }
  check_launch("multispin sweeps");
  flush(nmeas);
}

}  // namespace physdl::cuda
