// Multi-spin coded checkerboard sweeps on the square lattice (layout in multispin.hpp).
//
// The fast path below gives exactly the lattice of multispin::update_word (the reference the
// CUDA port shares): each spin is still accepted iff U_j < P with U_j's digits at the documented
// Philox addresses.  It only reorganises the work: classes with equal thresholds are merged,
// threshold digits are pre-expanded to full words, and Philox blocks are computed 16 at a time
// (philox_lanes.hpp: AVX2 when the CPU has it, else scalar; the words are identical), each for the next level pair
// of a word that still has undecided spins (see sweep_range): no block is drawn for a word that
// is already decided.
#ifdef _OPENMP
#include <omp.h>
#endif

#include "physdl/lattice/lattice.hpp"
#include "physdl/lattice/multispin.hpp"
#include "physdl/lattice/philox_lanes.hpp"
#include "physdl/random/philox.hpp"

namespace physdl::lattice {

namespace ms = physdl::lattice::multispin;
using u64 = std::uint64_t;

void multispin_measure(const std::uint64_t* words, std::int64_t ly, std::int64_t lx, double J, double h,
                       double& energy, std::int64_t& mag) {
  const u64 nw = ms::words_per_row(static_cast<u64>(lx)), n = static_cast<u64>(lx) / 2;
  const u64 uly = static_cast<u64>(ly);
  std::int64_t up_count = 0, anti = 0;
#pragma omp parallel for reduction(+ : up_count, anti) schedule(static) if (ly * static_cast<std::int64_t>(nw) >= 1024)
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

namespace {

using philox16::kLanes;  // Philox blocks per batched call
using philox16::philox_lanes;
constexpr int kAlways = 10, kNever = 11;  // slots after the (at most 10) threshold groups
constexpr int kPairs = (ms::kLevels + 1) / 2;  // level pairs per word: 27 (the last has level 52 only)

// Threshold groups: classes with the same threshold strictly between 0 and 2^53, with their
// digits expanded to all-ones / all-zeros words per level.
struct Groups {
  int gid[10];         // group of each class; slot kAlways / kNever for decided classes
  // Selection classes of each slot (groups, kAlways, kNever): the 10 (count, own spin) classes,
  // or the 5 counts when that suffices (heat bath; spin_symmetric Metropolis).  The lists are
  // the same for every word, so the loops over them are predicted.
  struct Members {
    int n[12];
    int idx[12][10];
  } members;
  int ng = 0;
  // digits[k][g]: level k of group g's threshold; row kLevels (past the last digit) is zero so
  // that the unused second half of the last pair accepts nothing.
  u64 digits[ms::kLevels + 1][10];
  int ncls = 0;
  // Metropolis with thresholds independent of the own spin (h = 0): the groups are unions of
  // antiparallel counts, selected from 5 count masks instead of 10 class masks.
  bool spin_symmetric = false;
};

Groups make_groups(int update, const u64* thr) {
  // the grouping and digit tables of the header's grouped form (shared with the CUDA kernel)
  const ms::GroupedPlan plan = ms::make_grouped_plan(update, thr, 0, false);
  Groups G;
  G.ncls = update == ms::kMetropolis ? 10 : 5;
  G.ng = plan.ngroups;
  for (int i = 0; i < G.ncls; ++i) {
    G.gid[i] = ((plan.always >> i) & 1) ? kAlways : kNever;
    for (int g = 0; g < G.ng; ++g)
      if ((plan.group_classes[g] >> i) & 1) G.gid[i] = g;
  }
  G.spin_symmetric = G.ncls == 10;
  for (int a = 0; a < 5 && G.spin_symmetric; ++a) G.spin_symmetric = G.gid[a] == G.gid[a + 5];
  const int nsel = (G.ncls == 10 && !G.spin_symmetric) ? 10 : 5;
  for (int slot = 0; slot < 12; ++slot) G.members.n[slot] = 0;
  for (int i = 0; i < nsel; ++i) {
    const int slot = G.gid[i];
    G.members.idx[slot][G.members.n[slot]++] = i;
  }
  for (int k = 0; k <= ms::kLevels; ++k) {
    for (int g = 0; g < 10; ++g) {
      G.digits[k][g] = (k < ms::kLevels && g < G.ng) ? u64(0) - (plan.digit_mask[k][g] & 1) : 0;
    }
  }
  return G;
}

// A word with undecided spins waiting for its next level pair.
template <int NG>
struct Pending {
  u64 res;   // the word's new value so far: own spins with the decided moves applied
  u64 und;   // spins still undecided
  u64 widx;  // word index y * nw + q within the colour (Philox counter = widx * 32 + pair)
  u64 pair;  // next level pair
  u64 g[NG > 0 ? NG : 1];  // spins of each threshold group
};

// Apply the two levels of one Philox block (words r0, r1) to a word: a spin is decided at the
// first digit where its random digit differs from its threshold's; accepted iff that digit is
// 1, which flips the spin in res (Metropolis) or sets it (heat bath: res starts at 0 there).
template <int NG>
inline void apply_pair(const u64* d0, const u64* d1, const u64* g, u64 r0, u64 r1, u64& res, u64& und) {
  u64 pk = 0;
  for (int k = 0; k < NG; ++k) pk |= g[k] & d0[k];
  u64 diff = und & (r0 ^ pk);
  res ^= diff & pk;
  und &= ~diff;
  pk = 0;
  for (int k = 0; k < NG; ++k) pk |= g[k] & d1[k];
  diff = und & (r1 ^ pk);
  res ^= diff & pk;
  und &= ~diff;
}

// Update the colour-c words with indices wbeg .. wend - 1 (index y * nw + q).
//
// Instead of drawing level pairs for a fixed batch of words until all of them are decided
// (which computes blocks for words already decided), the work is split in two phases:
//  A. kLanes new words with undecided spins are classified and their first kFirstPairs level
//     pairs drawn together (most words need them);
//  B. the words still undecided wait in a small FIFO; each Philox call computes the next pair
//     of the kLanes oldest waiting words, and a word leaves as soon as it is decided.
// Only needed blocks are computed (apart from words decided within the first pairs and the
// last, partly filled calls of the range), and each word still sees exactly the digits of the
// reference, level by level, so the words are identical.
template <bool METRO, bool SPLIT, int NG>
void sweep_range(u64* words, u64 ly, u64 nw, u64 n, int c, const Groups& G, u64 seed, u64 stream, u64 wbeg,
                 u64 wend) {
  constexpr bool metropolis = METRO;
  constexpr int NCLS = SPLIT ? 10 : 5;  // selection classes: (count, own spin) or count only
  // Measured best: 4 (a word with ~60 undecided spins needs 7 to 8 levels; drawing the 4th pair
  // for all, though ~40% do not need it, costs less than queueing the others for it).
  constexpr int kFirstPairs = 4;
  // Phase A pushes at most kLanes words onto a queue holding fewer than kLanes, and a call of
  // phase B pops kLanes and pushes back at most as many: fewer than 3 kLanes slots are live.
  constexpr unsigned kRing = 4 * kLanes;
  const int other = 1 - c;
  u64* const out = words + ms::word_offset(c, 0, 0, ly, nw);
  const Groups::Members mem = G.members;  // local copy: the stores to words cannot alias it
  Pending<NG> queue[kRing];
  unsigned head = 0, tail = 0;
  // Phase A words, lane-major so that the level loops run over lanes.
  u64 a_res[kLanes], a_und[kLanes], a_widx[kLanes], a_g[NG > 0 ? NG : 1][kLanes];
  alignas(32) u64 ctr[kLanes], r0[kLanes], r1[kLanes];

  u64 w = wbeg, y = wbeg / nw, q = wbeg - y * nw;
  const u64 *row = nullptr, *up = nullptr, *down = nullptr;
  bool prev = false;
  auto set_row = [&]() {
    row = words + ms::word_offset(other, y, 0, ly, nw);
    up = words + ms::word_offset(other, y == 0 ? ly - 1 : y - 1, 0, ly, nw);
    down = words + ms::word_offset(other, y + 1 == ly ? 0 : y + 1, 0, ly, nw);
    prev = ((y + static_cast<u64>(c)) & 1) == 0;
  };
  if (w < wend) set_row();

  for (;;) {
    // Phase A: classify words until kLanes of them have undecided spins.
    int na = 0;
    while (na < kLanes && w < wend) {
      const u64 valid = ms::valid_mask(q, nw, n);
      const u64 o = out[w] & valid;
      const u64 side = ms::side_word(row, q, nw, n, prev);
      u64 c0, c1, c2, cnt[5];
      ms::neighbour_count(metropolis, o, up[q], down[q], row[q], side, c0, c1, c2);
      ms::count_masks(c0, c1, c2, cnt);
      u64 cls[NCLS];
      for (int i = 0; i < NCLS; ++i) cls[i] = SPLIT ? (i < 5 ? cnt[i] & ~o : cnt[i - 5] & o) : cnt[i];
      u64 u = 0;
      for (int g = 0; g < NG; ++g) {
        u64 m = 0;
        for (int j = 0; j < mem.n[g]; ++j) m |= cls[mem.idx[g][j]];
        a_g[g][na] = m & valid;
        u |= m;
      }
      u64 never = 0;
      for (int j = 0; j < mem.n[kNever]; ++j) never |= cls[mem.idx[kNever][j]];
      const u64 always = ~(u | never);  // the classes partition the word
      // Metropolis flips accepted spins; heat bath sets them (+1) and the rest to -1.
      const u64 res = ((metropolis ? o : 0) ^ always) & valid;
      a_res[na] = res;
      a_und[na] = u & valid;
      a_widx[na] = w;
      out[w] = res;  // final unless spins remain undecided (then rewritten below)
      na += a_und[na] != 0;
      ++w;
      if (++q == nw && w < wend) {
        q = 0;
        ++y;
        set_row();
      }
    }
    if (na > 0) {
      for (int l = na; l < kLanes; ++l) {  // unused lanes: nothing undecided, results discarded
        a_und[l] = 0;
        a_res[l] = 0;
        a_widx[l] = 0;
        for (int g = 0; g < NG; ++g) a_g[g][l] = 0;
      }
      for (int p = 0; p < kFirstPairs; ++p) {
        for (int l = 0; l < kLanes; ++l) ctr[l] = ms::counter_id(a_widx[l], p);
        philox_lanes(seed, stream, ctr, r0, r1);
        const u64* d0 = G.digits[2 * p];
        const u64* d1 = G.digits[2 * p + 1];
        for (int l = 0; l < kLanes; ++l) {
          u64 gl[NG > 0 ? NG : 1];
          for (int g = 0; g < NG; ++g) gl[g] = a_g[g][l];
          apply_pair<NG>(d0, d1, gl, r0[l], r1[l], a_res[l], a_und[l]);
        }
      }
      for (int l = 0; l < na; ++l) {
        out[a_widx[l]] = a_res[l];
        Pending<NG>& e = queue[tail % kRing];
        e.res = a_res[l];
        e.und = a_und[l];
        e.widx = a_widx[l];
        e.pair = kFirstPairs;
        for (int g = 0; g < NG; ++g) e.g[g] = a_g[g][l];
        tail += a_und[l] != 0;
      }
    }
    // Phase B: full calls while kLanes words wait; at the end of the range, drain the queue.
    while (tail - head >= static_cast<unsigned>(kLanes) || (w == wend && tail != head)) {
      const unsigned cnt = tail - head < static_cast<unsigned>(kLanes) ? tail - head : kLanes;
      for (unsigned i = 0; i < cnt; ++i) {
        const Pending<NG>& e = queue[(head + i) % kRing];
        ctr[i] = ms::counter_id(e.widx, static_cast<int>(e.pair));
      }
      for (unsigned i = cnt; i < static_cast<unsigned>(kLanes); ++i) ctr[i] = 0;  // unused lanes
      philox_lanes(seed, stream, ctr, r0, r1);
      for (unsigned i = 0; i < cnt; ++i) {
        Pending<NG> e = queue[(head + i) % kRing];
        // the last pair (26) has level 52 only: row kLevels of the digits is zero (no acceptance)
        apply_pair<NG>(G.digits[2 * e.pair], G.digits[2 * e.pair + 1], e.g, r0[i], r1[i], e.res, e.und);
        ++e.pair;
        if (e.pair == kPairs) e.und = 0;  // all 53 digits equal P's: U = P, rejected
        out[e.widx] = e.res;
        queue[tail % kRing] = e;
        tail += e.und != 0;
      }
      head += cnt;
    }
    if (w == wend && tail == head) break;
  }
}

template <bool METRO, bool SPLIT, int NG>
void sweep_colour(u64* words, std::int64_t ly, u64 nw, u64 n, int c, const Groups& G, u64 seed, u64 stream) {
  const u64 uly = static_cast<u64>(ly);
  const u64 total = uly * nw;
#pragma omp parallel if (total >= 1024)
  {
#ifdef _OPENMP
    const u64 nt = static_cast<u64>(omp_get_num_threads()), t = static_cast<u64>(omp_get_thread_num());
#else
    const u64 nt = 1, t = 0;
#endif
    sweep_range<METRO, SPLIT, NG>(words, uly, nw, n, c, G, seed, stream, total * t / nt, total * (t + 1) / nt);
  }
}

template <bool METRO, bool SPLIT>
void sweep_colour_ng(u64* words, std::int64_t ly, u64 nw, u64 n, int c, const Groups& G, u64 seed, u64 stream) {
  switch (G.ng) {
    case 0: return sweep_colour<METRO, SPLIT, 0>(words, ly, nw, n, c, G, seed, stream);
    case 1: return sweep_colour<METRO, SPLIT, 1>(words, ly, nw, n, c, G, seed, stream);
    case 2: return sweep_colour<METRO, SPLIT, 2>(words, ly, nw, n, c, G, seed, stream);
    case 3: return sweep_colour<METRO, SPLIT, 3>(words, ly, nw, n, c, G, seed, stream);
    case 4: return sweep_colour<METRO, SPLIT, 4>(words, ly, nw, n, c, G, seed, stream);
    case 5: return sweep_colour<METRO, SPLIT, 5>(words, ly, nw, n, c, G, seed, stream);
    default: return sweep_colour<METRO, SPLIT, 10>(words, ly, nw, n, c, G, seed, stream);
  }
}

}  // namespace

void multispin_sweeps(std::uint64_t* words, std::int64_t ly, std::int64_t lx, int update,
                      const std::uint64_t* thresholds, double J, double h, std::uint64_t seed,
                      std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
                      std::int64_t measure_every, double* energy, std::int64_t* mag, Control* ctl) {
  const u64 nw = ms::words_per_row(static_cast<u64>(lx));
  const u64 n = static_cast<u64>(lx) / 2;
  const Groups G = make_groups(update, thresholds);  // groups past ng have digits 0, masks 0
  for (std::int64_t t = 0; t < nsweeps; ++t) {
    const u64 sweep = sweep0 + static_cast<u64>(t);
    for (int c = 0; c < 2; ++c) {
      const u64 stream = ms::stream_id(chain, sweep, c);
      if (update != ms::kMetropolis) {
        sweep_colour_ng<false, false>(words, ly, nw, n, c, G, seed, stream);
      } else if (G.spin_symmetric) {
        sweep_colour_ng<true, false>(words, ly, nw, n, c, G, seed, stream);
      } else {
        sweep_colour_ng<true, true>(words, ly, nw, n, c, G, seed, stream);
      }
    }
    if (measure_every > 0 && (t + 1) % measure_every == 0) {
      const std::int64_t m = (t + 1) / measure_every - 1;
      multispin_measure(words, ly, lx, J, h, energy[m], mag[m]);
    }
    if (ctl && ctl->after_sweep()) return;
  }
}

void multispin_reference_sweeps(std::uint64_t* words, std::int64_t ly, std::int64_t lx, int update,
                                const std::uint64_t* thresholds, std::uint64_t seed, std::uint64_t chain,
                                std::uint64_t sweep0, std::int64_t nsweeps, bool grouped, bool by_count) {
  const u64 nw = ms::words_per_row(static_cast<u64>(lx));
  const ms::GroupedPlan plan = ms::make_grouped_plan(update, thresholds, seed, by_count);
  for (std::int64_t t = 0; t < nsweeps; ++t) {
    for (int c = 0; c < 2; ++c) {
      for (std::int64_t y = 0; y < ly; ++y) {
        for (u64 q = 0; q < nw; ++q) {
          if (grouped) {
            ms::update_site_word_grouped(plan, words, static_cast<u64>(ly), static_cast<u64>(lx), c,
                                         static_cast<u64>(y), q, chain, sweep0 + static_cast<u64>(t));
          } else {
            ms::update_site_word(update, words, static_cast<u64>(ly), static_cast<u64>(lx), c, static_cast<u64>(y),
                                 q, thresholds, seed, chain, sweep0 + static_cast<u64>(t));
          }
        }
      }
    }
  }
}

}  // namespace physdl::lattice
