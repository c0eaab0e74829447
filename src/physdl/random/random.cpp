#include "physdl/random/random.hpp"

#include <cmath>

#include "physdl/random/philox.hpp"

namespace physdl::random {

namespace {
// Blocks per parallel chunk: large enough to amortise scheduling.
constexpr std::int64_t kChunk = 4096;
// Below this many blocks the fork-join of a parallel region costs more than the work.
constexpr std::int64_t kParallelMin = 16384;
constexpr double kTwoPi = 6.283185307179586476925286766559;
}  // namespace

void fill_uint32(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                 std::uint32_t* words, std::size_t n) {
  const std::int64_t nblocks = static_cast<std::int64_t>((n + 3) / 4);
#pragma omp parallel for schedule(static, kChunk) if (nblocks > kParallelMin)
  for (std::int64_t b = 0; b < nblocks; ++b) {
    const Philox4x32 r = philox_block(seed, stream, offset + static_cast<std::uint64_t>(b));
    const std::size_t base = static_cast<std::size_t>(b) * 4;
    for (std::size_t l = 0; l < 4 && base + l < n; ++l) words[base + l] = r.v[l];
  }
}

void fill_uniform_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                         double* out, std::size_t n) {
  const std::int64_t nblocks = static_cast<std::int64_t>((n + 1) / 2);
#pragma omp parallel for schedule(static, kChunk) if (nblocks > kParallelMin)
  for (std::int64_t b = 0; b < nblocks; ++b) {
    const Philox4x32 r = philox_block(seed, stream, offset + static_cast<std::uint64_t>(b));
    const std::size_t base = static_cast<std::size_t>(b) * 2;
    out[base] = uniform_double(r.v[0], r.v[1]);
    if (base + 1 < n) out[base + 1] = uniform_double(r.v[2], r.v[3]);
  }
}

void fill_uniform_float(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                        float* out, std::size_t n) {
  const std::int64_t nblocks = static_cast<std::int64_t>((n + 3) / 4);
#pragma omp parallel for schedule(static, kChunk) if (nblocks > kParallelMin)
  for (std::int64_t b = 0; b < nblocks; ++b) {
    const Philox4x32 r = philox_block(seed, stream, offset + static_cast<std::uint64_t>(b));
    const std::size_t base = static_cast<std::size_t>(b) * 4;
    for (std::size_t l = 0; l < 4 && base + l < n; ++l) out[base + l] = uniform_float(r.v[l]);
  }
}

void fill_normal_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                        double* out, std::size_t n) {
  const std::int64_t nblocks = static_cast<std::int64_t>((n + 1) / 2);
#pragma omp parallel for schedule(static, kChunk) if (nblocks > kParallelMin)
  for (std::int64_t b = 0; b < nblocks; ++b) {
    const Philox4x32 r = philox_block(seed, stream, offset + static_cast<std::uint64_t>(b));
    const double u1 = uniform_double_open0(r.v[0], r.v[1]);
    const double u2 = uniform_double(r.v[2], r.v[3]);
    const double rad = std::sqrt(-2.0 * std::log(u1));
    const double theta = kTwoPi * u2;
    const std::size_t base = static_cast<std::size_t>(b) * 2;
    out[base] = rad * std::cos(theta);
    if (base + 1 < n) out[base + 1] = rad * std::sin(theta);
  }
}

}  // namespace physdl::random
