// Many samples in one call: n_samples configurations `every` sweeps apart, each copied into `out`.
// Each sample is exactly the sweeps a caller looping over samples would run (same counters, same
// streams), so the result is bit-for-bit that of the per-sample loop.
#include <cstring>

#include "physdl/lattice/lattice.hpp"

namespace physdl::lattice {

std::uint64_t sample_configurations(std::int8_t* s, const Graph& g, int method, int update, double beta,
                                    const std::uint64_t* table, std::uint64_t p_add, std::uint64_t seed,
                                    std::uint64_t chain, std::uint64_t counter0, std::int64_t clusters_per_sweep,
                                    std::int64_t n_samples, std::int64_t every, std::int8_t* out,
                                    std::int64_t* flipped) {
  double e_dummy = 0.0;
  std::int64_t m_dummy = 0;
  std::uint64_t counter = counter0;
  const auto n = static_cast<std::size_t>(g.n);
  for (std::int64_t i = 0; i < n_samples; ++i) {
    if (method == kSampleLocal) {
      byte_sweeps(s, g, update, beta, table, seed, chain, counter, every, 0, &e_dummy, &m_dummy);
      counter += static_cast<std::uint64_t>(every);
    } else if (method == kSampleWolff) {
      counter = wolff_sweeps(s, g, beta, p_add, seed, chain, counter, clusters_per_sweep, every, 0, &e_dummy,
                             &m_dummy, flipped + i * every);
    } else {
      sw_sweeps(s, g, beta, p_add, seed, chain, counter, every, 0, &e_dummy, &m_dummy);
      counter += static_cast<std::uint64_t>(every);
    }
    std::memcpy(out + static_cast<std::size_t>(i) * n, s, n);
  }
  return counter;
}

}  // namespace physdl::lattice
