// Checkerboard Metropolis and heat bath with one byte per spin (see lattice.hpp).
#include <cmath>
#include <vector>

#include "physdl/lattice/lattice.hpp"
#include "physdl/random/philox.hpp"

namespace physdl::lattice {

using physdl::random::philox_block;
using u64 = std::uint64_t;

std::uint64_t fixed_threshold(double p) {
  if (!(p < 1.0)) return kFixedOne;
  if (!(p > 0.0)) return 0;
  return static_cast<u64>(std::ceil(p * 9007199254740992.0));
}

namespace {
constexpr std::int64_t kChunk = 4096;

inline double site_energy(const std::int8_t* s, const Graph& g, std::int64_t i) {
  double loc = 0.0;
  for (int k = 0; k < g.z; ++k) loc += g.J[i * g.z + k] * s[g.nbr[i * g.z + k]];
  const double si = s[i];
  return -(0.5 * si * loc + g.h[i] * si);
}
}  // namespace

void byte_measure(const std::int8_t* s, const Graph& g, double& energy, std::int64_t& mag) {
  const std::int64_t n = g.n;
  std::int64_t m = 0;
  for (std::int64_t i = 0; i < n; ++i) m += s[i];
  mag = m;
  if (g.uniform) {
    std::int64_t S = 0;
#pragma omp parallel for reduction(+ : S) schedule(static) if (n > 32768)
    for (std::int64_t i = 0; i < n; ++i) {
      int sum = 0;
      for (int k = 0; k < g.z; ++k) sum += s[g.nbr[i * g.z + k]];
      S += s[i] * sum;
    }
    energy = -g.J0 * static_cast<double>(S) * 0.5 - g.h0 * static_cast<double>(m);
    return;
  }
  const std::int64_t nch = (n + kChunk - 1) / kChunk;
  std::vector<double> part(static_cast<size_t>(nch), 0.0);
#pragma omp parallel for schedule(static) if (nch > 8)
  for (std::int64_t c = 0; c < nch; ++c) {
    double e = 0.0;
    const std::int64_t end = (c + 1) * kChunk < n ? (c + 1) * kChunk : n;
    for (std::int64_t i = c * kChunk; i < end; ++i) e += site_energy(s, g, i);
    part[static_cast<size_t>(c)] = e;
  }
  double e = 0.0;
  for (double x : part) e += x;
  energy = e;
}

namespace {

// Decide U < P lazily: top 8 bits from `byte`, the other 45 only on a tie.
inline bool decide(u64 byte, u64 P, u64 seed, u64 stream, u64 j) {
  const u64 top = P >> 45;
  if (byte != top) return byte < top;
  const auto t = philox_block(seed, stream, (u64(1) << 40) | j);
  const u64 rest = ((static_cast<u64>(t.v[0]) << 32) | t.v[1]) >> 19;
  return rest < (P & ((u64(1) << 45) - 1));
}

template <bool Uniform>
void colour_pass(std::int8_t* __restrict s, const Graph& g, int update, double beta, const u64* table,
                 u64 seed, u64 stream, std::int64_t begin, std::int64_t count) {
  const int z = g.z;
  const std::int64_t nblk = (count + 15) / 16;
#pragma omp parallel for schedule(static) if (count > 2048)
  for (std::int64_t b = 0; b < nblk; ++b) {
    const auto blk = philox_block(seed, stream, static_cast<u64>(b));
    const std::int64_t jend = (b + 1) * 16 < count ? (b + 1) * 16 : count;
    for (std::int64_t j = b * 16; j < jend; ++j) {
      const std::int32_t i = g.order[begin + j];
      const int lane = static_cast<int>(j & 15);
      const u64 byte = (blk.v[lane >> 2] >> (8 * (lane & 3))) & 0xFF;
      const std::int8_t si = s[i];
      u64 P;
      if constexpr (Uniform) {
        int sum = 0;
        for (int k = 0; k < z; ++k) sum += s[g.nbr[static_cast<std::int64_t>(i) * z + k]];
        const int idx = (sum + z) / 2;
        P = update == kMetropolis ? table[(si > 0 ? z + 1 : 0) + idx] : table[idx];
      } else {
        double loc = 0.0;
        const std::int64_t base = static_cast<std::int64_t>(i) * z;
        for (int k = 0; k < z; ++k) loc += g.J[base + k] * s[g.nbr[base + k]];
        loc += g.h[i];
        if (update == kMetropolis) {
          P = fixed_threshold(std::exp(-2.0 * beta * si * loc));
        } else {
          P = fixed_threshold(1.0 / (1.0 + std::exp(-2.0 * beta * loc)));
        }
      }
      const bool acc = decide(byte, P, seed, stream, static_cast<u64>(j));
      if (update == kMetropolis) {
        if (acc) s[i] = static_cast<std::int8_t>(-si);
      } else {
        s[i] = acc ? 1 : -1;
      }
    }
  }
}

}  // namespace

void byte_sweeps(std::int8_t* s, const Graph& g, int update, double beta, const std::uint64_t* table,
                 std::uint64_t seed, std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
                 std::int64_t measure_every, double* energy, std::int64_t* mag) {
  for (std::int64_t t = 0; t < nsweeps; ++t) {
    const u64 sweep = sweep0 + static_cast<u64>(t);
    for (int c = 0; c < g.ncol; ++c) {
      const u64 stream = (chain << 40) | (sweep * static_cast<u64>(g.ncol) + static_cast<u64>(c));
      const std::int64_t begin = g.col_off[c], count = g.col_off[c + 1] - g.col_off[c];
      if (g.uniform) {
        colour_pass<true>(s, g, update, beta, table, seed, stream, begin, count);
      } else {
        colour_pass<false>(s, g, update, beta, table, seed, stream, begin, count);
      }
    }
    if (measure_every > 0 && (t + 1) % measure_every == 0) {
      const std::int64_t m = (t + 1) / measure_every - 1;
      byte_measure(s, g, energy[m], mag[m]);
    }
  }
}

}  // namespace physdl::lattice
