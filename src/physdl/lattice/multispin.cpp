// Multi-spin coded checkerboard sweeps on the square lattice (layout in multispin.hpp).
#include <vector>

#include "physdl/lattice/lattice.hpp"
#include "physdl/lattice/multispin.hpp"

namespace physdl::lattice {

namespace ms = physdl::lattice::multispin;
using u64 = std::uint64_t;

void multispin_measure(const std::uint64_t* words, std::int64_t ly, std::int64_t lx, double J, double h,
                       double& energy, std::int64_t& mag) {
  const u64 nw = ms::words_per_row(static_cast<u64>(lx)), n = static_cast<u64>(lx) / 2;
  const u64 uly = static_cast<u64>(ly);
  std::int64_t up_count = 0, anti = 0;
#pragma omp parallel for reduction(+ : up_count, anti) schedule(static) if (ly * static_cast<std::int64_t>(nw) > 256)
  for (std::int64_t y = 0; y < ly; ++y) {
    const u64 uy = static_cast<u64>(y);
    const u64* own = words + ms::word_offset(0, uy, 0, uly, nw);
    const u64* oth = words + ms::word_offset(1, uy, 0, uly, nw);
    const u64* up = words + ms::word_offset(1, (uy + uly - 1) % uly, 0, uly, nw);
    const u64* dn = words + ms::word_offset(1, (uy + 1) % uly, 0, uly, nw);
    const bool prev = (uy & 1) == 0;
    for (u64 q = 0; q < nw; ++q) {
      up_count += __builtin_popcountll(own[q]) + __builtin_popcountll(oth[q]);
      const u64 side = ms::side_word(oth, q, nw, n, prev);
      anti += __builtin_popcountll(own[q] ^ up[q]) + __builtin_popcountll(own[q] ^ dn[q]) +
              __builtin_popcountll(own[q] ^ oth[q]) + __builtin_popcountll(own[q] ^ side);
    }
  }
  const std::int64_t nsites = ly * lx;
  mag = 2 * up_count - nsites;
  energy = -J * static_cast<double>(2 * nsites - 2 * anti) - h * static_cast<double>(mag);
}

void multispin_sweeps(std::uint64_t* words, std::int64_t ly, std::int64_t lx, int update,
                      const std::uint64_t* thresholds, double J, double h, std::uint64_t seed,
                      std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
                      std::int64_t measure_every, double* energy, std::int64_t* mag) {
  const u64 nw = ms::words_per_row(static_cast<u64>(lx));
  const u64 uly = static_cast<u64>(ly), ulx = static_cast<u64>(lx);
  for (std::int64_t t = 0; t < nsweeps; ++t) {
    const u64 sweep = sweep0 + static_cast<u64>(t);
    for (int c = 0; c < 2; ++c) {
#pragma omp parallel for schedule(static) if (ly * static_cast<std::int64_t>(nw) > 256)
      for (std::int64_t y = 0; y < ly; ++y) {
        for (u64 q = 0; q < nw; ++q) {
          ms::update_site_word(update, words, uly, ulx, c, static_cast<u64>(y), q, thresholds, seed,
                               chain, sweep);
        }
      }
    }
    if (measure_every > 0 && (t + 1) % measure_every == 0) {
      const std::int64_t m = (t + 1) / measure_every - 1;
      multispin_measure(words, ly, lx, J, h, energy[m], mag[m]);
    }
  }
}

}  // namespace physdl::lattice
