// Multi-spin coding of the square-lattice Ising model: one bit per spin, 64 spins per word.
//
// Header-only and host/device (PHYSDL_HD) so that the C++ core and the CUDA port share every
// formula and produce bit-identical lattices for the same seed.  Everything a second
// implementation needs is specified here.
//
// ------------------------------------------------------------------------------- layout
// Lattice: Ly rows by Lx columns, periodic, both even (checkerboard).  Site (y, x) has
// colour c = (x + y) & 1.  In row y, colour c holds the n = Lx / 2 sites
//     x = 2 m + ((y + c) & 1),   m = 0 .. n - 1   (the "compressed" column m),
// packed into nw = ceil(n / 64) words: bit b of word q is m = 64 q + b.  Bits with m >= n
// (padding of the last word of a row) are always 0.  Bit value 1 means spin +1, 0 means -1.
// Storage: words[(c * Ly + y) * nw + q], uint64 (see `word_offset`).
//
// Neighbours of a colour-c site (y, x = 2m + p), p = (y + c) & 1, all of colour 1 - c:
//   up / down : rows y -+ 1 (periodic), same compressed column m (same word, same bit);
//   same      : row y, compressed column m;
//   side      : row y, column m - 1 (periodic in m) when p == 0, m + 1 when p == 1.
// The side word is the row rotated by one bit across its nw words (see `side_word`), so any
// even Lx >= 2 works (no requirement that Lx be a multiple of 128); Lx = 2 and Ly = 2 give
// double bonds, exactly as the periodic neighbour table does.
//
// ------------------------------------------------------------------------------- sweep
// One sweep t (t = 0, 1, 2, ... counted from the start of the chain) updates colour 0 then
// colour 1.  Within a colour every word is independent: the result does not depend on the
// order words are visited or on the number of threads.
//
// ------------------------------------------------------------------------------- randomness
// Every spin j (bit j of word q of row y, colour c, sweep t) owns a 53-bit uniform integer
//     U_j = sum_{k=0}^{52} d_{j,k} 2^(52-k),
// whose k-th binary digit (most significant first) is d_{j,k} = bit j of the 64-bit word R_k:
//     block   = philox_block(seed, stream, counter)      (Philox4x32-10, physdl addressing)
//     stream  = (chain << 40) | (2 t + c)                (see `stream_id`; t < 2^39, chain < 2^23)
//     counter = (y * nw + q) * 32 + k / 2                (see `counter_id`)
//     R_k     = k even ? block.v[0] | (uint64)block.v[1] << 32
//                      : block.v[2] | (uint64)block.v[3] << 32.
// A spin's move is accepted iff U_j < P, with P its threshold as a 53-bit fixed-point integer
// (P = ceil(p 2^53) clamped to [0, 2^53], computed once by the caller), i.e. u < p with
// u = U / 2^53 uniform on [0, 1) to double precision.
// The comparison is lazy: digits are drawn level by level only while some spin in the word is
// still undecided (a spin is decided at the first digit where d_{j,k} differs from P's k-th
// digit; it is accepted iff P's digit is 1).  Laziness never changes the outcome, only how
// many blocks are computed (on average ~7 levels = 4 blocks per 64 spins).  Spins whose P is
// 0 or 2^53 are decided without drawing.
//
// ------------------------------------------------------------------------------- moves
// Metropolis (book eq. 5.69): a = number of antiparallel neighbours (0..4) and s = own spin;
//   class index  cls = a + 5 * (s == +1)  (10 classes),
//   p = min(1, exp(-beta dE)), dE = 2 J (4 - 2 a) + 2 h s;  accepted spins flip.
// Heat bath (book eq. 5.72): u = number of +1 neighbours (0..4), class cls = u (5 classes),
//   p = 1 / (1 + exp(-2 beta (J (2u - 4) + h)));  the new spin is +1 iff accepted.
// The caller passes thresholds[cls] (uint64, 53-bit fixed point) for the chosen update.
//
// `update_site_word` below is the reference implementation of one word; the CPU fast path in
// multispin.cpp (batched, AVX2 Philox) is tested to give identical words, and the CUDA port can
// call it per thread (it compiles under nvcc: all functions are PHYSDL_HD).
#pragma once

#include <cstdint>

#include "physdl/core/macros.hpp"
#include "physdl/random/philox.hpp"

namespace physdl::lattice::multispin {

using u64 = std::uint64_t;

constexpr int kLevels = 53;
constexpr u64 kOne = u64(1) << 53;  // threshold meaning "always accept"
constexpr int kMetropolis = 0;
constexpr int kHeatBath = 1;

PHYSDL_HD u64 words_per_row(u64 lx) { return (lx / 2 + 63) / 64; }

PHYSDL_HD u64 word_offset(int colour, u64 y, u64 q, u64 ly, u64 nw) {
  return (static_cast<u64>(colour) * ly + y) * nw + q;
}

PHYSDL_HD u64 stream_id(u64 chain, u64 sweep, int colour) {
  return (chain << 40) | (2 * sweep + static_cast<u64>(colour));
}

PHYSDL_HD u64 counter_id(u64 word_index, int level_pair) {
  return word_index * 32 + static_cast<u64>(level_pair);
}

/// Mask of the real (non-padding) bits of word q of a row of n bits in nw words.
PHYSDL_HD u64 valid_mask(u64 q, u64 nw, u64 n) {
  const u64 r = n & 63;
  return (q + 1 < nw || r == 0) ? ~u64(0) : ((u64(1) << r) - 1);
}

/// Word q of the row rotated so that bit m holds column m - 1 (prev = true) or m + 1.
PHYSDL_HD u64 side_word(const u64* row, u64 q, u64 nw, u64 n, bool prev) {
  const u64 top = (n - 1) & 63;  // bit position of column n - 1 in the last word
  if (prev) {
    const u64 in = (q > 0) ? (row[q - 1] >> 63) : ((row[nw - 1] >> top) & 1);
    return ((row[q] << 1) | in) & valid_mask(q, nw, n);
  }
  const u64 in = (q + 1 < nw) ? ((row[q + 1] & 1) << 63) : ((row[0] & 1) << top);
  return (row[q] >> 1) | in;
}

/// Bit-sliced count of four bit-words: returns c0, c1, c2 with count = c0 + 2 c1 + 4 c2.
PHYSDL_HD void count4(u64 x0, u64 x1, u64 x2, u64 x3, u64& c0, u64& c1, u64& c2) {
  const u64 s01 = x0 ^ x1, k01 = x0 & x1;
  const u64 s23 = x2 ^ x3, k23 = x2 & x3;
  c0 = s01 ^ s23;
  const u64 k = s01 & s23;
  c1 = k01 ^ k23 ^ k;
  c2 = (k01 & k23) | (k & (k01 ^ k23));
}

/// The bit-sliced count a of each spin's class (see "moves"): antiparallel neighbours for
/// Metropolis, +1 neighbours for heat bath.
PHYSDL_HD void neighbour_count(bool metropolis, u64 own, u64 up, u64 down, u64 same, u64 side, u64& c0, u64& c1,
                               u64& c2) {
  if (metropolis) {
    count4(own ^ up, own ^ down, own ^ same, own ^ side, c0, c1, c2);
  } else {
    count4(up, down, same, side, c0, c1, c2);
  }
}

/// Masks of the five counts 0..4 from the bit-sliced count.
PHYSDL_HD void count_masks(u64 c0, u64 c1, u64 c2, u64 m[5]) {
  m[0] = ~c2 & ~c1 & ~c0;
  m[1] = ~c2 & ~c1 & c0;
  m[2] = ~c2 & c1 & ~c0;
  m[3] = ~c2 & c1 & c0;
  m[4] = c2;
}

/// Lazy bit-sliced comparison U_j < P_{cls(j)} for the spins in `undecided` (see header).
/// cls_mask[i] selects the spins of class i; `accept` holds spins already accepted.
PHYSDL_HD u64 lazy_accept(u64 seed, u64 stream, u64 word_index, const u64* cls_mask,
                          const u64* thresholds, int ncls, u64 undecided, u64 accept) {
  physdl::random::Philox4x32 blk{{0, 0, 0, 0}};
  for (int k = 0; k < kLevels && undecided; ++k) {
    u64 r;
    if ((k & 1) == 0) {
      blk = physdl::random::philox_block(seed, stream, counter_id(word_index, k >> 1));
      r = static_cast<u64>(blk.v[0]) | (static_cast<u64>(blk.v[1]) << 32);
    } else {
      r = static_cast<u64>(blk.v[2]) | (static_cast<u64>(blk.v[3]) << 32);
    }
    u64 pk = 0;
    for (int i = 0; i < ncls; ++i) {
      const u64 digit = (thresholds[i] >> (52 - k)) & 1;
      pk |= cls_mask[i] & (u64(0) - digit);
    }
    const u64 diff = undecided & (r ^ pk);
    accept |= diff & pk;
    undecided &= ~diff;
  }
  return accept;
}

/// New value of one word of colour-c spins given its four neighbour words.
/// `valid` masks the real bits; thresholds has 10 (Metropolis) or 5 (heat bath) entries.
PHYSDL_HD u64 update_word(int update, u64 own, u64 up, u64 down, u64 same, u64 side, u64 valid,
                          const u64* thresholds, u64 seed, u64 stream, u64 word_index) {
  u64 c0, c1, c2, cnt[5], cls[10];
  int ncls;
  neighbour_count(update == kMetropolis, own, up, down, same, side, c0, c1, c2);
  count_masks(c0, c1, c2, cnt);
  if (update == kMetropolis) {
    for (int a = 0; a < 5; ++a) {
      cls[a] = cnt[a] & ~own & valid;
      cls[a + 5] = cnt[a] & own & valid;
    }
    ncls = 10;
  } else {
    for (int a = 0; a < 5; ++a) cls[a] = cnt[a] & valid;
    ncls = 5;
  }
  u64 accept = 0, undecided = 0;
  for (int i = 0; i < ncls; ++i) {
    if (thresholds[i] >= kOne) {
      accept |= cls[i];
    } else if (thresholds[i] > 0) {
      undecided |= cls[i];
    }
  }
  accept = lazy_accept(seed, stream, word_index, cls, thresholds, ncls, undecided, accept);
  return update == kMetropolis ? ((own ^ accept) & valid) : (accept & valid);
}

/// The four neighbour words of word q of row y of colour c (all of the other colour), with its
/// position: what every form of the update reads.
struct SiteWord {
  u64 up, down, same, side, valid;
  u64 idx;         // position of the word in `words`
  u64 word_index;  // y * nw + q: the Philox counter's word number
};

PHYSDL_HD SiteWord site_word(const u64* words, u64 ly, u64 lx, int colour, u64 y, u64 q) {
  const u64 nw = words_per_row(lx), n = lx / 2;
  const int other = 1 - colour;
  const u64* row = words + word_offset(other, y, 0, ly, nw);
  const u64* up = words + word_offset(other, (y + ly - 1) % ly, 0, ly, nw);
  const u64* down = words + word_offset(other, (y + 1) % ly, 0, ly, nw);
  const bool prev = ((y + static_cast<u64>(colour)) & 1) == 0;
  return SiteWord{up[q], down[q], row[q], side_word(row, q, nw, n, prev), valid_mask(q, nw, n),
                  word_offset(colour, y, q, ly, nw), y * nw + q};
}

/// Update word q of row y of colour c in place: reads the other colour's rows only.
PHYSDL_HD void update_site_word(int update, u64* words, u64 ly, u64 lx, int colour, u64 y, u64 q,
                                const u64* thresholds, u64 seed, u64 chain, u64 sweep) {
  const SiteWord w = site_word(words, ly, lx, colour, y, q);
  words[w.idx] = update_word(update, words[w.idx], w.up, w.down, w.same, w.side, w.valid, thresholds, seed,
                             stream_id(chain, sweep, colour), w.word_index);
}
// ------------------------------------------------------------------------------- grouped form
// The same update, reorganised for speed (the CUDA kernel's form; the CPU test runs it through
// `multispin_reference_sweeps(..., grouped = true)` and checks it equals the form above):
//  - classes whose thresholds are equal and strictly between 0 and 2^53 share one group, so the
//    per-level work is one select per group (Metropolis at h = 0 has 2 groups, heat bath 4);
//  - the digits of each group's threshold are tabulated level by level as masks (digit_mask[k][g]);
//  - Philox round keys are computed once per run.
// Nothing about which spins are accepted changes: every spin still compares its own U_j with its
// own class's threshold, digit by digit, with the same blocks.

struct GroupedPlan {
  int update;                       // kMetropolis or kHeatBath
  int ngroups;                      // 0 .. 10
  std::uint32_t always;             // classes with threshold >= 2^53 (bit i: class i)
  std::uint32_t group_classes[10];  // classes of group g
  std::uint32_t digit_mask[kLevels][10];  // all ones where digit k (most significant first) of group g's
                                         // threshold is 1, else 0: read per level, no bit extraction
  physdl::random::PhiloxKeys keys;
  // The "by count" shape (Metropolis at h = 0, heat bath with distinct thresholds): the fate of a
  // spin depends on its count a alone (antiparallel neighbours for Metropolis, +1 neighbours for
  // heat bath), not on its own sign, and each group holds exactly one count.  Then the group masks
  // are equality tests on the bit-sliced count, with no per-class masks at all.
  int by_count;                     // 1 when the plan has that shape
  std::uint32_t group_count[10];    // the count of group g
  std::uint32_t never_counts;       // counts whose threshold is 0 (bit a)
};

/// Group the thresholds of `update` (10 for Metropolis, 5 for heat bath) for `seed`.
/// allow_by_count = false keeps the general form (the tests compare the two).
PHYSDL_HD GroupedPlan make_grouped_plan(int update, const u64* thresholds, u64 seed, bool allow_by_count = true) {
  GroupedPlan p{};
  p.update = update;
  p.keys = physdl::random::philox_keys(seed);
  u64 value[10] = {};
  const int ncls = update == kMetropolis ? 10 : 5;
  for (int i = 0; i < ncls; ++i) {
    const u64 t = thresholds[i];
    if (t >= kOne) {
      p.always |= 1u << i;
    } else if (t > 0) {
      int g = 0;
      while (g < p.ngroups && value[g] != t) ++g;
      if (g == p.ngroups) value[p.ngroups++] = t;
      p.group_classes[g] |= 1u << i;
    }
  }
  for (int k = 0; k < kLevels; ++k)
    for (int g = 0; g < p.ngroups; ++g) p.digit_mask[k][g] = ((value[g] >> (52 - k)) & 1) ? 0xffffffffu : 0u;
  // by-count shape: the classes of count a (a and a + 5 for Metropolis, a for heat bath) share one fate
  auto count_classes = [update](int a) {  // the classes of count a
    return update == kMetropolis ? ((1u << a) | (1u << (a + 5))) : (1u << a);
  };
  bool ok = allow_by_count;
  std::uint32_t always_counts = 0;
  for (int a = 0; a < 5 && ok; ++a) {
    const std::uint32_t members = count_classes(a);
    if ((p.always & members) == members) {
      always_counts |= 1u << a;
    } else if ((p.always & members) != 0) {
      ok = false;
    }
  }
  for (int g = 0; g < p.ngroups && ok; ++g) {
    int found = -1;
    for (int a = 0; a < 5; ++a)
      if (p.group_classes[g] == count_classes(a)) found = a;
    if (found < 0) ok = false;
    else p.group_count[g] = static_cast<std::uint32_t>(found);
  }
  if (ok) {
    std::uint32_t grouped = 0;
    for (int g = 0; g < p.ngroups; ++g) grouped |= 1u << p.group_count[g];
    p.never_counts = 0x1fu & ~(always_counts | grouped);
    p.by_count = 1;
  }
  return p;
}

/// The lazy digit-by-digit comparison of a grouped plan (see the header's "randomness"): gm[g] holds
/// the undecided spins of group g on entry; spins decided to be accepted are added to `accept`.
template <int GMAX>
PHYSDL_HD u64 grouped_lazy_accept(const GroupedPlan& p, u64 (&gm)[GMAX], u64 undecided, u64 accept, u64 stream,
                                  u64 word_index) {
  const u64 base = counter_id(word_index, 0);  // a multiple of 32: the pair is OR-ed in
  for (unsigned pair = 0; undecided && pair < (kLevels + 1) / 2; ++pair) {
    const physdl::random::Philox4x32 blk = physdl::random::philox_block_keyed(p.keys, stream, base | pair);
    PHYSDL_UNROLL
    for (unsigned half = 0; half < 2; ++half) {
      const unsigned k = 2 * pair + half;
      if (k >= static_cast<unsigned>(kLevels)) break;
      const u64 r = half == 0 ? (static_cast<u64>(blk.v[0]) | (static_cast<u64>(blk.v[1]) << 32))
                              : (static_cast<u64>(blk.v[2]) | (static_cast<u64>(blk.v[3]) << 32));
      u64 pk = 0;  // the threshold digit of each undecided spin's group
      PHYSDL_UNROLL
      for (int g = 0; g < GMAX; ++g) {
        const u64 m = p.digit_mask[k][g];
        pk |= gm[g] & (m | (m << 32));
      }
      const u64 diff = undecided & (r ^ pk);
      accept |= diff & pk;
      undecided &= ~diff;
    }
  }
  return accept;
}

/// `update_word` through a grouped plan.  GMAX >= p.ngroups bounds the (unrolled) group loops;
/// UPDATE = kMetropolis or kHeatBath fixes the update at compile time (it must equal p.update), -1
/// reads it from the plan.
template <int GMAX, int UPDATE = -1>
PHYSDL_HD u64 update_word_grouped(const GroupedPlan& p, u64 own, u64 up, u64 down, u64 same, u64 side, u64 valid,
                                  u64 stream, u64 word_index) {
  u64 c0, c1, c2, cnt[5];
  const bool metropolis = UPDATE >= 0 ? UPDATE == kMetropolis : p.update == kMetropolis;
  constexpr int kClasses = UPDATE == kHeatBath ? 5 : 10;  // heat bath uses classes 0 .. 4 only
  neighbour_count(metropolis, own, up, down, same, side, c0, c1, c2);
  count_masks(c0, c1, c2, cnt);
  u64 cls[10];
  PHYSDL_UNROLL
  for (int a = 0; a < 5; ++a) {
    cls[a] = metropolis ? (cnt[a] & ~own & valid) : (cnt[a] & valid);
    cls[a + 5] = metropolis ? (cnt[a] & own & valid) : 0;
  }
  u64 accept = 0, gm[GMAX];
  PHYSDL_UNROLL
  for (int i = 0; i < kClasses; ++i)
    if ((p.always >> i) & 1) accept |= cls[i];
  u64 undecided = 0;
  PHYSDL_UNROLL
  for (int g = 0; g < GMAX; ++g) {
    gm[g] = 0;
    if (g < p.ngroups) {
      PHYSDL_UNROLL
      for (int i = 0; i < kClasses; ++i)
        if ((p.group_classes[g] >> i) & 1) gm[g] |= cls[i];
    }
    undecided |= gm[g];
  }
  accept = grouped_lazy_accept<GMAX>(p, gm, undecided, accept, stream, word_index);
  return metropolis ? ((own ^ accept) & valid) : (accept & valid);
}

/// Spins whose bit-sliced count (c2 c1 c0) equals a.
PHYSDL_HD u64 count_equals(u64 c0, u64 c1, u64 c2, std::uint32_t a) {
  const u64 k0 = u64(0) - static_cast<u64>(a & 1), k1 = u64(0) - static_cast<u64>((a >> 1) & 1),
            k2 = u64(0) - static_cast<u64>((a >> 2) & 1);
  return ~((c0 ^ k0) | (c1 ^ k1) | (c2 ^ k2));
}

/// `update_word_grouped` for a plan of the by-count shape (p.by_count == 1): group masks are count
/// equalities, and the accepted-without-drawing spins are the valid ones in no group and not never.
template <int GMAX, int UPDATE = -1>
PHYSDL_HD u64 update_word_by_count(const GroupedPlan& p, u64 own, u64 up, u64 down, u64 same, u64 side, u64 valid,
                                   u64 stream, u64 word_index) {
  u64 c0, c1, c2;
  const bool metropolis = UPDATE >= 0 ? UPDATE == kMetropolis : p.update == kMetropolis;
  neighbour_count(metropolis, own, up, down, same, side, c0, c1, c2);
  u64 gm[GMAX], undecided = 0;
  PHYSDL_UNROLL
  for (int g = 0; g < GMAX; ++g) {
    gm[g] = g < p.ngroups ? count_equals(c0, c1, c2, p.group_count[g]) & valid : 0;
    undecided |= gm[g];
  }
  u64 never = 0;
  if (p.never_counts) {
    PHYSDL_UNROLL
    for (std::uint32_t a = 0; a < 5; ++a)
      if ((p.never_counts >> a) & 1) never |= count_equals(c0, c1, c2, a);
  }
  u64 accept = valid & ~undecided & ~never;
  accept = grouped_lazy_accept<GMAX>(p, gm, undecided, accept, stream, word_index);
  return metropolis ? ((own ^ accept) & valid) : (accept & valid);
}

/// `update_site_word` through a grouped plan (any p.ngroups, either shape).
PHYSDL_HD void update_site_word_grouped(const GroupedPlan& p, u64* words, u64 ly, u64 lx, int colour, u64 y, u64 q,
                                        u64 chain, u64 sweep) {
  const SiteWord w = site_word(words, ly, lx, colour, y, q);
  const u64 stream = stream_id(chain, sweep, colour);
  words[w.idx] = p.by_count ? update_word_by_count<10>(p, words[w.idx], w.up, w.down, w.same, w.side, w.valid, stream,
                                                       w.word_index)
                            : update_word_grouped<10>(p, words[w.idx], w.up, w.down, w.same, w.side, w.valid, stream,
                                                      w.word_index);
}
}  // namespace physdl::lattice::multispin
