// Wolff and Swendsen-Wang cluster updates for ferromagnetic couplings (see lattice.hpp).
#include <cmath>
#include <vector>

#include "physdl/lattice/lattice.hpp"
#include "physdl/random/philox.hpp"

namespace physdl::lattice {

using physdl::random::philox_block;
using u64 = std::uint64_t;

namespace {

// The flat sequence of 64-bit values of one stream, with the current block cached.
struct Values {
  u64 seed, stream;
  u64 cached = ~u64(0);
  physdl::random::Philox4x32 blk{{0, 0, 0, 0}};
  u64 at(u64 q) {
    if ((q >> 1) != cached) {
      cached = q >> 1;
      blk = philox_block(seed, stream, cached);
    }
    return (q & 1) == 0 ? ((static_cast<u64>(blk.v[0]) << 32) | blk.v[1])
                        : ((static_cast<u64>(blk.v[2]) << 32) | blk.v[3]);
  }
};

inline u64 p_add(const Graph& g, double beta, u64 uniform_p, std::int64_t bond) {
  if (g.uniform) return uniform_p;
  return fixed_threshold(1.0 - std::exp(-2.0 * beta * g.J[bond]));
}

inline std::int32_t find_root(std::int32_t* parent, std::int32_t i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

}  // namespace

std::uint64_t wolff_sweeps(std::int8_t* s, const Graph& g, double beta, std::uint64_t p_add_uniform,
                           std::uint64_t seed, std::uint64_t chain, std::uint64_t cluster0,
                           std::int64_t clusters_per_sweep, std::int64_t nsweeps,
                           std::int64_t measure_every, double* energy, std::int64_t* mag,
                           std::int64_t* flipped_per_sweep, Control* ctl) {
  const std::int64_t n = g.n;
  const int z = g.z;
  std::vector<std::int32_t> stack(static_cast<size_t>(n));
  u64 cluster = cluster0;
  for (std::int64_t t = 0; t < nsweeps; ++t) {
    std::int64_t flipped = 0;
    for (std::int64_t c = 0; c < clusters_per_sweep; ++c) {
      Values val{seed, (chain << 40) | cluster};
      u64 q = 0;
      const auto i0 = static_cast<std::int32_t>(val.at(q++) % static_cast<u64>(n));
      const std::int8_t sign = s[i0];
      s[i0] = static_cast<std::int8_t>(-sign);
      std::int64_t top = 0, size = 1;
      stack[static_cast<size_t>(top++)] = i0;
      while (top > 0) {
        const std::int32_t i = stack[static_cast<size_t>(--top)];
        for (int k = 0; k < z; ++k) {
          const std::int64_t bond = static_cast<std::int64_t>(i) * z + k;
          const std::int32_t j = g.nbr[bond];
          if (s[j] != sign) continue;
          if ((val.at(q++) >> 11) < p_add(g, beta, p_add_uniform, bond)) {
            s[j] = static_cast<std::int8_t>(-sign);
            stack[static_cast<size_t>(top++)] = j;
            ++size;
          }
        }
      }
      flipped += size;
      ++cluster;
    }
    if (flipped_per_sweep) flipped_per_sweep[t] = flipped;
    if (measure_every > 0 && (t + 1) % measure_every == 0) {
      const std::int64_t m = (t + 1) / measure_every - 1;
      byte_measure(s, g, energy[m], mag[m]);
    }
    if (ctl && ctl->after_sweep(flipped, cluster)) break;
  }
  return cluster;
}

void sw_sweeps(std::int8_t* s, const Graph& g, double beta, std::uint64_t p_add_uniform,
               std::uint64_t seed, std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
               std::int64_t measure_every, double* energy, std::int64_t* mag, Control* ctl) {
  const std::int64_t n = g.n;
  const int z = g.z;
  std::vector<std::int32_t> parent(static_cast<size_t>(n));
  for (std::int64_t t = 0; t < nsweeps; ++t) {
    const u64 sweep = sweep0 + static_cast<u64>(t);
    const u64 stream = (chain << 40) | sweep;
    for (std::int64_t i = 0; i < n; ++i) parent[static_cast<size_t>(i)] = static_cast<std::int32_t>(i);
    Values val{seed, stream};
    for (std::int64_t i = 0; i < n; ++i) {
      for (int k = 0; k < z; ++k) {
        const std::int64_t bond = i * z + k;
        const std::int32_t j = g.nbr[bond];
        if (j <= i || s[j] != s[i]) continue;
        if ((val.at(static_cast<u64>(bond)) >> 11) < p_add(g, beta, p_add_uniform, bond)) {
          std::int32_t a = find_root(parent.data(), static_cast<std::int32_t>(i));
          std::int32_t b = find_root(parent.data(), j);
          if (a == b) continue;
          if (a < b) {
            parent[static_cast<size_t>(b)] = a;
          } else {
            parent[static_cast<size_t>(a)] = b;
          }
        }
      }
    }
    Values flip{seed, stream | (u64(1) << 39)};
    physdl::random::Philox4x32 blk{{0, 0, 0, 0}};
    u64 cached = ~u64(0);
    for (std::int64_t i = 0; i < n; ++i) {
      const auto r = static_cast<u64>(find_root(parent.data(), static_cast<std::int32_t>(i)));
      if ((r >> 7) != cached) {
        cached = r >> 7;
        blk = philox_block(seed, flip.stream, cached);
      }
      if ((blk.v[(r >> 5) & 3] >> (r & 31)) & 1) s[i] = static_cast<std::int8_t>(-s[i]);
    }
    if (measure_every > 0 && (t + 1) % measure_every == 0) {
      const std::int64_t m = (t + 1) / measure_every - 1;
      byte_measure(s, g, energy[m], mag[m]);
    }
    if (ctl && ctl->after_sweep()) return;
  }
}

}  // namespace physdl::lattice
