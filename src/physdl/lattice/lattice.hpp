// Lattice Monte Carlo kernels (book sec. 5.2-5.3 and 8.1): byte storage on any periodic graph
// with fixed coordination, cluster updates, and multi-spin coding (multispin.hpp).
//
// Byte storage: spins are int8 (+1 / -1), sites 0 .. n-1.  A model is a directed neighbour
// table nbr[i * z + k] with either uniform couplings (J0, h0) or per-directed-bond couplings
// J[i * z + k] and per-site fields h[i]; H = -sum_<ij> J_ij s_i s_j - sum_i h_i s_i.
// Sites are updated colour by colour: order[col_off[c] .. col_off[c+1]) lists the sites of
// colour c (no two of which are neighbours), so they are updated independently.
//
// Randomness (byte storage, Metropolis / heat bath), sweep t, colour c, position j of the site
// in its colour list:  stream = (chain << 40) | (t * ncol + c);  the top 8 bits of the site's
// 53-bit uniform U are byte (j & 3) of word ((j >> 2) & 3) of block j >> 4 (byte 0 = bits 0-7);
// only on a tie with the threshold's top 8 bits are the remaining 45 bits drawn, as the top 45
// bits of (v0 << 32 | v1) of block (1 << 40) | j.  Accept iff U < P (P: 53-bit fixed point).
// Wolff: cluster number g (counted over the chain) uses stream (chain << 40) | g and the flat
// sequence of 64-bit values x_q = block q >> 1, lanes (v0 << 32 | v1) for even q, (v2 << 32 | v3)
// for odd q: x_0 picks the seed site x_0 mod n, x_1, x_2, ... decide the bond tests in the order
// they are made (depth-first stack); a bond is added iff (x >> 11) < P_add.
// Swendsen-Wang, sweep t: stream (chain << 40) | t; bond (i, k) with i < nbr uses x_{i z + k};
// cluster with smallest site r flips iff bit (r & 31) of word ((r >> 5) & 3) of block r >> 7 of
// stream ((chain << 40) | t | (1 << 39)) is 1.
#pragma once

#include <cstdint>

#include "physdl/core/stop_poll.hpp"

namespace physdl::lattice {

struct Graph {
  std::int64_t n = 0;           // sites
  int z = 0;                    // coordination
  const std::int32_t* nbr = nullptr;
  bool uniform = true;          // uniform couplings J0, h0; else J (n*z) and h (n)
  double J0 = 1.0, h0 = 0.0;
  const double* J = nullptr;
  const double* h = nullptr;
  const std::int32_t* order = nullptr;   // sites sorted by colour
  const std::int64_t* col_off = nullptr; // ncol + 1 offsets into order
  int ncol = 0;
  // Set (> 0) for a square lattice of ly rows and lx columns (both even) in row-major order whose
  // colour lists are the checkerboard in raster order: enables a table-free fast path that gives
  // the same lattice as the generic one.
  std::int64_t sq_ly = 0, sq_lx = 0;
};

/// Progress and interruption of a long sweep call.  After each completed sweep the kernel bumps
/// *sweeps (and, for Wolff, stores the next cluster number and adds the flipped spins), so the
/// counters always describe the state in memory; between sweeps, at most every interval_ns, it
/// calls stop(ctx) and returns early when that says so (the binding polls Python's signals there).
struct Control : physdl::core::StopPoll {
  std::int64_t* sweeps = nullptr;
  std::int64_t* cluster = nullptr;
  std::int64_t* flipped = nullptr;

  // Call after each completed sweep; true = stop now.
  bool after_sweep(std::int64_t flipped_now = 0, std::uint64_t next_cluster = 0) {
    if (sweeps) ++*sweeps;
    if (cluster) *cluster = static_cast<std::int64_t>(next_cluster);
    if (flipped) *flipped += flipped_now;
    return poll();
  }
};

constexpr int kMetropolis = 0;
constexpr int kHeatBath = 1;
constexpr std::uint64_t kFixedOne = std::uint64_t(1) << 53;

/// 53-bit fixed-point threshold ceil(p 2^53) clamped to [0, 2^53].
std::uint64_t fixed_threshold(double p);

/// Energy and magnetisation of a byte configuration (deterministic summation order).
void byte_measure(const std::int8_t* s, const Graph& g, double& energy, std::int64_t& mag);

/// nsweeps checkerboard sweeps; the table (uniform couplings) holds thresholds indexed by
/// Metropolis: (s > 0) * (z + 1) + (sum + z) / 2; heat bath: (sum + z) / 2, sum = sum of neighbours.
/// Every measure_every-th sweep writes energy[m], mag[m].
void byte_sweeps(std::int8_t* s, const Graph& g, int update, double beta, const std::uint64_t* table,
                 std::uint64_t seed, std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
                 std::int64_t measure_every, double* energy, std::int64_t* mag, Control* ctl = nullptr);

/// Wolff single-cluster sweeps, a fixed number of clusters each (a fixed count, so that measuring
/// at the end of a sweep is unbiased); p_add for uniform couplings is p_add_uniform, else
/// 1 - exp(-2 beta J_ij).  Records the spins flipped per sweep; returns the next cluster number.
std::uint64_t wolff_sweeps(std::int8_t* s, const Graph& g, double beta, std::uint64_t p_add_uniform,
                           std::uint64_t seed, std::uint64_t chain, std::uint64_t cluster0,
                           std::int64_t clusters_per_sweep, std::int64_t nsweeps,
                           std::int64_t measure_every, double* energy, std::int64_t* mag,
                           std::int64_t* flipped_per_sweep, Control* ctl = nullptr);

/// Swendsen-Wang sweeps (union-find).
void sw_sweeps(std::int8_t* s, const Graph& g, double beta, std::uint64_t p_add_uniform,
               std::uint64_t seed, std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
               std::int64_t measure_every, double* energy, std::int64_t* mag, Control* ctl = nullptr);

/// Multi-spin coded square lattice (layout in multispin.hpp).
void multispin_measure(const std::uint64_t* words, std::int64_t ly, std::int64_t lx, double J, double h,
                       double& energy, std::int64_t& mag);

void multispin_sweeps(std::uint64_t* words, std::int64_t ly, std::int64_t lx, int update,
                      const std::uint64_t* thresholds, double J, double h, std::uint64_t seed,
                      std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
                      std::int64_t measure_every, double* energy, std::int64_t* mag,
                      Control* ctl = nullptr);

/// The same sweeps through multispin::update_site_word, word by word on one thread: the
/// header-only reference the CUDA port shares (tests check it equals multispin_sweeps).
/// grouped = true runs the grouped form (multispin::update_site_word_grouped) the CUDA kernel uses;
/// by_count = false keeps it in its general shape even where the by-count shape applies.
void multispin_reference_sweeps(std::uint64_t* words, std::int64_t ly, std::int64_t lx, int update,
                                const std::uint64_t* thresholds, std::uint64_t seed, std::uint64_t chain,
                                std::uint64_t sweep0, std::int64_t nsweeps, bool grouped = false,
                                bool by_count = true);

/// n_samples configurations, `every` sweeps apart, copied one after another into out (n_samples * n
/// bytes): method kSampleLocal (byte_sweeps with `update`, counter = first sweep), kSampleWolff
/// (counter = first cluster number; flipped gets n_samples * every per-sweep counts) or kSampleSW
/// (counter = first sweep).  Bit-for-bit the per-sample loop; returns the next counter.
constexpr int kSampleLocal = 0;
constexpr int kSampleWolff = 1;
constexpr int kSampleSW = 2;
std::uint64_t sample_configurations(std::int8_t* s, const Graph& g, int method, int update, double beta,
                                    const std::uint64_t* table, std::uint64_t p_add, std::uint64_t seed,
                                    std::uint64_t chain, std::uint64_t counter0, std::int64_t clusters_per_sweep,
                                    std::int64_t n_samples, std::int64_t every, std::int8_t* out,
                                    std::int64_t* flipped);

/// n_rounds parallel-tempering rounds over R slots whose byte configurations lie one after another in
/// states (R * n): per slot its beta, threshold table (tables + k * table_len), p_add, chain, counter
/// (sweep or cluster number, updated) and Wolff clusters per sweep; uniforms holds n_rounds * R
/// exchange uniforms (round r, pair p at r * R + p); round0 is the global number of the first round
/// (its parity picks the pairs).  After the first burn_in rounds each round's energies, magnetisations
/// (R * (n_rounds - burn_in), slot-major), swap counts and, when configs is not null, configurations
/// (R * kept * n) are recorded; flipped[k] accumulates Wolff flips.
void tempering_rounds(std::int8_t* states, std::int64_t R, const Graph& g, int method, int update,
                      const double* betas, const std::uint64_t* tables, std::int64_t table_len,
                      const std::uint64_t* p_adds, std::uint64_t seed, const std::uint64_t* chains,
                      std::uint64_t* counters, const std::int64_t* clusters_per_sweep, std::int64_t n_rounds,
                      std::int64_t burn_in, std::int64_t every, std::uint64_t round0, const double* uniforms,
                      double* energy, std::int64_t* mag, std::int64_t* accepted, std::int64_t* attempted,
                      std::int64_t* flipped, std::int8_t* configs);

}  // namespace physdl::lattice
