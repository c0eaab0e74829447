// Multi-spin coded checkerboard sweeps on the square lattice (layout in multispin.hpp).
//
// The fast path below gives exactly the lattice of multispin::update_word (the reference the
// CUDA port shares): each spin is still accepted iff U_j < P with U_j's digits at the documented
// Philox addresses.  It only reorganises the work: classes with equal thresholds are merged,
// threshold digits are pre-expanded to full words, and the Philox blocks of 8 words are
// computed together (AVX2 when the CPU has it, else scalar; the words are identical).
#include <vector>
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

#include "physdl/lattice/lattice.hpp"
#include "physdl/lattice/multispin.hpp"
#include "physdl/random/philox.hpp"

namespace physdl::lattice {

namespace ms = physdl::lattice::multispin;
using u64 = std::uint64_t;
using u32 = std::uint32_t;

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

constexpr int kBatch = 8;
constexpr int kAlways = 10, kNever = 11;  // slots after the (at most 10) threshold groups

// Threshold groups: classes with the same threshold strictly between 0 and 2^53, with their
// digits expanded to all-ones / all-zeros words per level.
struct Groups {
  int gid[10];         // group of each class; slot kAlways / kNever for decided classes
  u64 sel[12][10];     // sel[slot][class] = all ones when the class belongs to the slot
  int ng = 0;
  int member[10][10];  // member[g][..] = class indices, terminated by -1
  u64 digits[ms::kLevels][10];
  u64 always[10];      // classes with P >= 2^53
  int nalways = 0;
  int ncls = 0;
};

Groups make_groups(int update, const u64* thr) {
  Groups G;
  G.ncls = update == ms::kMetropolis ? 10 : 5;
  u64 value[10];
  int count[10] = {0};
  for (int i = 0; i < G.ncls; ++i) {
    if (thr[i] >= ms::kOne) {
      G.always[G.nalways++] = static_cast<u64>(i);
      G.gid[i] = kAlways;
      continue;
    }
    if (thr[i] == 0) {
      G.gid[i] = kNever;
      continue;
    }
    int g = 0;
    while (g < G.ng && value[g] != thr[i]) ++g;
    if (g == G.ng) {
      value[G.ng++] = thr[i];
    }
    G.gid[i] = g;
    G.member[g][count[g]++] = i;
  }
  for (int g = 0; g < G.ng; ++g) G.member[g][count[g]] = -1;
  for (int slot = 0; slot < 12; ++slot) {
    for (int i = 0; i < 10; ++i) G.sel[slot][i] = (i < G.ncls && G.gid[i] == slot) ? ~u64(0) : 0;
  }
  for (int k = 0; k < ms::kLevels; ++k) {
    for (int g = 0; g < G.ng; ++g) G.digits[k][g] = u64(0) - ((value[g] >> (52 - k)) & 1);
  }
  return G;
}

// Philox4x32-10 of 2 kBatch counters of one stream: identical words to philox_block.
void philox_batch_scalar(u64 seed, u64 stream, const u64* ctr, u32 (*out)[4]) {
  for (int l = 0; l < 2 * kBatch; ++l) {
    const auto b = physdl::random::philox_block(seed, stream, ctr[l]);
    for (int i = 0; i < 4; ++i) out[l][i] = b.v[i];
  }
}

#if defined(__GNUC__) && defined(__x86_64__)
#define PHYSDL_MS_AVX2 1
// The same rounds on 4 x 64-bit lanes per register (the low 32 bits hold each Philox word);
// 2 * kBatch counters in four independent registers per word hide the multiply latency.
__attribute__((target("avx2"))) void philox_batch_avx2(u64 seed, u64 stream, const u64* ctr, u32 (*out)[4]) {
  constexpr int V = 2 * kBatch / 4;
  const __m256i lo = _mm256_set1_epi64x(0xFFFFFFFFll);
  const __m256i m0 = _mm256_set1_epi64x(0xD2511F53ll), m1 = _mm256_set1_epi64x(0xCD9E8D57ll);
  __m256i c0[V], c1[V], c2[V], c3[V];
  for (int v = 0; v < V; ++v) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ctr + 4 * v));
    c0[v] = _mm256_and_si256(x, lo);
    c1[v] = _mm256_srli_epi64(x, 32);
    c2[v] = _mm256_set1_epi64x(static_cast<long long>(stream & 0xFFFFFFFFull));
    c3[v] = _mm256_set1_epi64x(static_cast<long long>(stream >> 32));
  }
  u64 k0 = seed & 0xFFFFFFFFull, k1 = seed >> 32;
  for (int r = 0; r < 10; ++r) {
    const __m256i K0 = _mm256_set1_epi64x(static_cast<long long>(k0));
    const __m256i K1 = _mm256_set1_epi64x(static_cast<long long>(k1));
    for (int v = 0; v < V; ++v) {
      const __m256i p0 = _mm256_mul_epu32(c0[v], m0), p1 = _mm256_mul_epu32(c2[v], m1);
      const __m256i n0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), c1[v]), K0);
      const __m256i n2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), c3[v]), K1);
      c1[v] = _mm256_and_si256(p1, lo);
      c3[v] = _mm256_and_si256(p0, lo);
      c0[v] = n0;
      c2[v] = n2;
    }
    k0 = (k0 + 0x9E3779B9ull) & 0xFFFFFFFFull;
    k1 = (k1 + 0xBB67AE85ull) & 0xFFFFFFFFull;
  }
  alignas(32) u64 a[4][2 * kBatch];
  for (int v = 0; v < V; ++v) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(a[0] + 4 * v), c0[v]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(a[1] + 4 * v), c1[v]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(a[2] + 4 * v), c2[v]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(a[3] + 4 * v), c3[v]);
  }
  for (int l = 0; l < 2 * kBatch; ++l) {
    for (int i = 0; i < 4; ++i) out[l][i] = static_cast<u32>(a[i][l]);
  }
}
const bool kHasAvx2 = __builtin_cpu_supports("avx2");
#endif

inline void philox_batch(u64 seed, u64 stream, const u64* ctr, u32 (*out)[4]) {
#ifdef PHYSDL_MS_AVX2
  if (kHasAvx2) {
    philox_batch_avx2(seed, stream, ctr, out);
    return;
  }
#endif
  philox_batch_scalar(seed, stream, ctr, out);
}

// Update the colour-c words with flat indices w0 .. w0 + nb - 1 (nb <= kBatch; flat index
// y * nw + q, so a batch may span rows); NCLS classes, NG threshold groups.
template <int NCLS, int NG>
void update_batch(u64* words, u64 ly, u64 nw, u64 n, int c, u64 w0, int nb, const Groups& G, u64 seed,
                  u64 stream) {
  constexpr bool metropolis = NCLS == 10;
  const int other = 1 - c;
  u64 own[kBatch] = {0}, gmask[kBatch][NG > 0 ? NG : 1], acc[kBatch] = {0}, und[kBatch] = {0},
      valid[kBatch] = {0};
  u64 any = 0;
  for (int b = 0; b < nb; ++b) {
    const u64 y = (w0 + static_cast<u64>(b)) / nw, q = (w0 + static_cast<u64>(b)) - y * nw;
    const u64* row = words + ms::word_offset(other, y, 0, ly, nw);
    const u64* up = words + ms::word_offset(other, y == 0 ? ly - 1 : y - 1, 0, ly, nw);
    const u64* down = words + ms::word_offset(other, y + 1 == ly ? 0 : y + 1, 0, ly, nw);
    const bool prev = ((y + static_cast<u64>(c)) & 1) == 0;
    const u64 o = words[ms::word_offset(c, y, q, ly, nw)];
    const u64 side = ms::side_word(row, q, nw, n, prev);
    valid[b] = ms::valid_mask(q, nw, n);
    u64 c0, c1, c2, cnt[5];
    if (metropolis) {
      ms::count4(o ^ up[q], o ^ down[q], o ^ row[q], o ^ side, c0, c1, c2);
    } else {
      ms::count4(up[q], down[q], row[q], side, c0, c1, c2);
    }
    ms::count_masks(c0, c1, c2, cnt);
    u64 cls[NCLS];
    for (int i = 0; i < NCLS; ++i) cls[i] = metropolis ? (i < 5 ? cnt[i] & ~o : cnt[i - 5] & o) : cnt[i];
    u64 u = 0;
    for (int g = 0; g < NG; ++g) {  // register-only selection (no scatter through memory)
      u64 m = 0;
      for (int i = 0; i < NCLS; ++i) m |= cls[i] & G.sel[g][i];
      gmask[b][g] = m & valid[b];
      u |= m;
    }
    u64 always = 0;
    for (int i = 0; i < NCLS; ++i) always |= cls[i] & G.sel[kAlways][i];
    own[b] = o;
    acc[b] = always & valid[b];
    und[b] = u & valid[b];
    any |= und[b];
  }
  for (int b = nb; b < kBatch; ++b) {
    for (int g = 0; g < NG; ++g) gmask[b][g] = 0;
  }
  // Level pairs two at a time (blocks of pairs p and p + 1 for all words in one call); levels
  // of a pair are only applied while some spin is undecided, so the result is the same.
  constexpr int kPairs = (ms::kLevels + 1) / 2;
  u64 ctr[2 * kBatch];
  u32 blk[2 * kBatch][4];
  for (int pair0 = 0; pair0 < kPairs && any; pair0 += 2) {
    for (int b = 0; b < kBatch; ++b) {
      const u64 w = w0 + static_cast<u64>(b < nb ? b : 0);
      ctr[b] = ms::counter_id(w, pair0);
      ctr[kBatch + b] = ms::counter_id(w, pair0 + 1 < kPairs ? pair0 + 1 : pair0);
    }
    philox_batch(seed, stream, ctr, blk);
    for (int sub = 0; sub < 2 && any; ++sub) {
      for (int half = 0; half < 2; ++half) {
        const int k = 2 * (pair0 + sub) + half;
        if (k >= ms::kLevels) break;
        const u64* dg = G.digits[k];
        for (int b = 0; b < kBatch; ++b) {  // decided and padding words are left unchanged (und = 0)
          const u32* v = blk[sub * kBatch + b];
          const u64 r = half == 0 ? (static_cast<u64>(v[0]) | (static_cast<u64>(v[1]) << 32))
                                  : (static_cast<u64>(v[2]) | (static_cast<u64>(v[3]) << 32));
          u64 pk = 0;
          for (int g = 0; g < NG; ++g) pk |= gmask[b][g] & dg[g];
          const u64 diff = und[b] & (r ^ pk);
          acc[b] |= diff & pk;
          und[b] &= ~diff;
        }
      }
      any = 0;
      for (int b = 0; b < kBatch; ++b) any |= und[b];
    }
  }
  for (int b = 0; b < nb; ++b) {
    const u64 y = (w0 + static_cast<u64>(b)) / nw, q = (w0 + static_cast<u64>(b)) - y * nw;
    words[ms::word_offset(c, y, q, ly, nw)] = metropolis ? ((own[b] ^ acc[b]) & valid[b]) : (acc[b] & valid[b]);
  }
}

template <int NCLS, int NG>
void sweep_colour(u64* words, std::int64_t ly, u64 nw, u64 n, int c, const Groups& G, u64 seed, u64 stream) {
  const u64 uly = static_cast<u64>(ly);
  const std::int64_t total = ly * static_cast<std::int64_t>(nw);
  const std::int64_t nbatch = (total + kBatch - 1) / kBatch;
#pragma omp parallel for schedule(static) if (total >= 1024)
  for (std::int64_t i = 0; i < nbatch; ++i) {
    const std::int64_t w0 = i * kBatch;
    const int nb = static_cast<int>(total - w0 < kBatch ? total - w0 : kBatch);
    update_batch<NCLS, NG>(words, uly, nw, n, c, static_cast<u64>(w0), nb, G, seed, stream);
  }
}

template <int NCLS>
void sweep_colour_ng(u64* words, std::int64_t ly, u64 nw, u64 n, int c, const Groups& G, u64 seed, u64 stream) {
  switch (G.ng) {
    case 0: return sweep_colour<NCLS, 0>(words, ly, nw, n, c, G, seed, stream);
    case 1: return sweep_colour<NCLS, 1>(words, ly, nw, n, c, G, seed, stream);
    case 2: return sweep_colour<NCLS, 2>(words, ly, nw, n, c, G, seed, stream);
    case 3: return sweep_colour<NCLS, 3>(words, ly, nw, n, c, G, seed, stream);
    case 4: return sweep_colour<NCLS, 4>(words, ly, nw, n, c, G, seed, stream);
    case 5: return sweep_colour<NCLS, 5>(words, ly, nw, n, c, G, seed, stream);
    default: return sweep_colour<NCLS, 10>(words, ly, nw, n, c, G, seed, stream);
  }
}

}  // namespace

void multispin_sweeps(std::uint64_t* words, std::int64_t ly, std::int64_t lx, int update,
                      const std::uint64_t* thresholds, double J, double h, std::uint64_t seed,
                      std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
                      std::int64_t measure_every, double* energy, std::int64_t* mag) {
  const u64 nw = ms::words_per_row(static_cast<u64>(lx));
  const u64 n = static_cast<u64>(lx) / 2;
  Groups G = make_groups(update, thresholds);
  if (G.ng > 5) {  // pad to the 10-group instantiation with empty groups (digits 0, masks 0)
    for (int k = 0; k < ms::kLevels; ++k) {
      for (int g = G.ng; g < 10; ++g) G.digits[k][g] = 0;
    }
  }
  for (std::int64_t t = 0; t < nsweeps; ++t) {
    const u64 sweep = sweep0 + static_cast<u64>(t);
    for (int c = 0; c < 2; ++c) {
      const u64 stream = ms::stream_id(chain, sweep, c);
      if (update == ms::kMetropolis) {
        sweep_colour_ng<10>(words, ly, nw, n, c, G, seed, stream);
      } else {
        sweep_colour_ng<5>(words, ly, nw, n, c, G, seed, stream);
      }
    }
    if (measure_every > 0 && (t + 1) % measure_every == 0) {
      const std::int64_t m = (t + 1) / measure_every - 1;
      multispin_measure(words, ly, lx, J, h, energy[m], mag[m]);
    }
  }
}

void multispin_reference_sweeps(std::uint64_t* words, std::int64_t ly, std::int64_t lx, int update,
                                const std::uint64_t* thresholds, std::uint64_t seed, std::uint64_t chain,
                                std::uint64_t sweep0, std::int64_t nsweeps) {
  const u64 nw = ms::words_per_row(static_cast<u64>(lx));
  for (std::int64_t t = 0; t < nsweeps; ++t) {
    for (int c = 0; c < 2; ++c) {
      for (std::int64_t y = 0; y < ly; ++y) {
        for (u64 q = 0; q < nw; ++q) {
          ms::update_site_word(update, words, static_cast<u64>(ly), static_cast<u64>(lx), c, static_cast<u64>(y), q,
                               thresholds, seed, chain, sweep0 + static_cast<u64>(t));
        }
      }
    }
  }
}

}  // namespace physdl::lattice
