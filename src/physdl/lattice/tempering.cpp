// Parallel-tempering rounds in one call: every slot k (inverse temperature betas[k], chain chains[k])
// runs `every` sweeps and measures; then neighbouring slots (even pairs on even rounds, odd pairs on
// odd rounds) swap configurations when u < exp(min(0, (b_k - b_{k+1}) (E_k - E_{k+1}))), u being the
// caller's exchange uniform of that round and pair.  The same operations, in the same order, as the
// Python round loop it replaces (physdl.lattice.ParallelTempering).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "physdl/lattice/lattice.hpp"

namespace physdl::lattice {

void tempering_rounds(std::int8_t* states, std::int64_t R, const Graph& g, int method, int update,
                      const double* betas, const std::uint64_t* tables, std::int64_t table_len,
                      const std::uint64_t* p_adds, std::uint64_t seed, const std::uint64_t* chains,
                      std::uint64_t* counters, const std::int64_t* clusters_per_sweep, std::int64_t n_rounds,
                      std::int64_t burn_in, std::int64_t every, std::uint64_t round0, const double* uniforms,
                      double* energy, std::int64_t* mag, std::int64_t* accepted, std::int64_t* attempted,
                      std::int64_t* flipped, std::int8_t* configs) {
  const std::int64_t n = g.n;
  const std::int64_t kept = n_rounds - burn_in;
  std::vector<double> E(static_cast<std::size_t>(R));
  std::vector<std::int64_t> M(static_cast<std::size_t>(R));
  std::vector<std::int64_t> F(static_cast<std::size_t>(every));
  for (std::int64_t r = 0; r < n_rounds; ++r) {
    for (std::int64_t k = 0; k < R; ++k) {
      std::int8_t* s = states + k * n;
      if (method == kSampleLocal) {
        byte_sweeps(s, g, update, betas[k], tables + k * table_len, seed, chains[k], counters[k], every, every,
                    &E[k], &M[k]);
        counters[k] += static_cast<std::uint64_t>(every);
      } else if (method == kSampleWolff) {
        counters[k] = wolff_sweeps(s, g, betas[k], p_adds[k], seed, chains[k], counters[k], clusters_per_sweep[k],
                                   every, every, &E[k], &M[k], F.data());
        for (std::int64_t t = 0; t < every; ++t) flipped[k] += F[t];
      } else {
        sw_sweeps(s, g, betas[k], p_adds[k], seed, chains[k], counters[k], every, every, &E[k], &M[k]);
        counters[k] += static_cast<std::uint64_t>(every);
      }
    }
    const bool keep = r >= burn_in;
    for (std::int64_t p = static_cast<std::int64_t>((round0 + r) % 2); p + 1 < R; p += 2) {
      const double x = (betas[p] - betas[p + 1]) * (E[p] - E[p + 1]);
      const bool acc = uniforms[r * R + p] < std::exp(std::min(x, 0.0));
      if (acc) {
        std::swap_ranges(states + p * n, states + (p + 1) * n, states + (p + 1) * n);
        std::swap(E[p], E[p + 1]);
        std::swap(M[p], M[p + 1]);
      }
      if (keep) {
        attempted[p] += 1;
        accepted[p] += acc ? 1 : 0;
      }
    }
    if (keep) {
      const std::int64_t i = r - burn_in;
      for (std::int64_t k = 0; k < R; ++k) {
        energy[k * kept + i] = E[k];
        mag[k * kept + i] = M[k];
        if (configs) std::memcpy(configs + (k * kept + i) * n, states + k * n, static_cast<std::size_t>(n));
      }
    }
  }
}

}  // namespace physdl::lattice
