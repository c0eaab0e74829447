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

namespace {

constexpr int kBatch = 8;

// Threshold groups: classes with the same threshold strictly between 0 and 2^53, with their
// digits expanded to all-ones / all-zeros words per level.
struct Groups {
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
      continue;
    }
    if (thr[i] == 0) continue;
    int g = 0;
    while (g < G.ng && value[g] != thr[i]) ++g;
    if (g == G.ng) {
      value[G.ng++] = thr[i];
    }
    G.member[g][count[g]++] = i;
  }
  for (int g = 0; g < G.ng; ++g) G.member[g][count[g]] = -1;
  for (int k = 0; k < ms::kLevels; ++k) {
    for (int g = 0; g < G.ng; ++g) G.digits[k][g] = u64(0) - ((value[g] >> (52 - k)) & 1);
  }
  return G;
}

// Philox4x32-10 of kBatch counters of one stream: identical words to philox_block.
void philox_batch_scalar(u64 seed, u64 stream, const u64* ctr, u32 (*out)[4]) {
  for (int l = 0; l < kBatch; ++l) {
    const auto b = physdl::random::philox_block(seed, stream, ctr[l]);
    for (int i = 0; i < 4; ++i) out[l][i] = b.v[i];
  }
}

#if defined(__GNUC__) && defined(__x86_64__)
#define PHYSDL_MS_AVX2 1
// The same rounds on 4 x 64-bit lanes per register (the low 32 bits hold each Philox word).
__attribute__((target("avx2"))) void philox_batch_avx2(u64 seed, u64 stream, const u64* ctr, u32 (*out)[4]) {
  const __m256i lo = _mm256_set1_epi64x(0xFFFFFFFFll);
  const __m256i m0 = _mm256_set1_epi64x(0xD2511F53ll), m1 = _mm256_set1_epi64x(0xCD9E8D57ll);
  __m256i c0[2], c1[2], c2[2], c3[2];
  for (int v = 0; v < 2; ++v) {
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
    for (int v = 0; v < 2; ++v) {
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
  alignas(32) u64 a[4][kBatch];
  for (int v = 0; v < 2; ++v) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(a[0] + 4 * v), c0[v]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(a[1] + 4 * v), c1[v]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(a[2] + 4 * v), c2[v]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(a[3] + 4 * v), c3[v]);
  }
  for (int l = 0; l < kBatch; ++l) {
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

// Update words q0 .. q0 + nb - 1 (nb <= kBatch) of row y, colour c.
void update_batch(int update, u64* words, u64 ly, u64 nw, u64 n, int c, u64 y, u64 q0, int nb,
                  const Groups& G, u64 seed, u64 stream) {
  const int other = 1 - c;
  const u64* row = words + ms::word_offset(other, y, 0, ly, nw);
  const u64* up = words + ms::word_offset(other, (y + ly - 1) % ly, 0, ly, nw);
  const u64* down = words + ms::word_offset(other, (y + 1) % ly, 0, ly, nw);
  u64* own_row = words + ms::word_offset(c, y, 0, ly, nw);
  const bool prev = ((y + static_cast<u64>(c)) & 1) == 0;
  u64 own[kBatch], gmask[kBatch][10], acc[kBatch], und[kBatch], valid[kBatch];
  u64 any = 0;
  for (int b = 0; b < nb; ++b) {
    const u64 q = q0 + static_cast<u64>(b);
    const u64 o = own_row[q];
    const u64 side = ms::side_word(row, q, nw, n, prev);
    valid[b] = ms::valid_mask(q, nw, n);
    u64 c0, c1, c2, cnt[5], cls[10];
    if (update == ms::kMetropolis) {
      ms::count4(o ^ up[q], o ^ down[q], o ^ row[q], o ^ side, c0, c1, c2);
      ms::count_masks(c0, c1, c2, cnt);
      for (int a = 0; a < 5; ++a) {
        cls[a] = cnt[a] & ~o;
        cls[a + 5] = cnt[a] & o;
      }
    } else {
      ms::count4(up[q], down[q], row[q], side, c0, c1, c2);
      ms::count_masks(c0, c1, c2, cnt);
      for (int a = 0; a < 5; ++a) cls[a] = cnt[a];
    }
    u64 a = 0;
    for (int i = 0; i < G.nalways; ++i) a |= cls[G.always[i]];
    u64 u = 0;
    for (int g = 0; g < G.ng; ++g) {
      u64 m = 0;
      for (const int* p = G.member[g]; *p >= 0; ++p) m |= cls[*p];
      gmask[b][g] = m & valid[b];
      u |= m;
    }
    own[b] = o;
    acc[b] = a & valid[b];
    und[b] = u & valid[b];
    any |= und[b];
  }
  u64 ctr[kBatch];
  u32 blk[kBatch][4];
  for (int pair = 0; pair < (ms::kLevels + 1) / 2 && any; ++pair) {
    for (int b = 0; b < kBatch; ++b) {
      ctr[b] = ms::counter_id(y * nw + q0 + static_cast<u64>(b < nb ? b : 0), pair);
    }
    philox_batch(seed, stream, ctr, blk);
    any = 0;
    for (int b = 0; b < nb; ++b) {
      for (int half = 0; half < 2; ++half) {
        const int k = 2 * pair + half;
        if (k >= ms::kLevels || !und[b]) break;
        const u64 r = half == 0 ? (static_cast<u64>(blk[b][0]) | (static_cast<u64>(blk[b][1]) << 32))
                                : (static_cast<u64>(blk[b][2]) | (static_cast<u64>(blk[b][3]) << 32));
        u64 pk = 0;
        for (int g = 0; g < G.ng; ++g) pk |= gmask[b][g] & G.digits[k][g];
        const u64 diff = und[b] & (r ^ pk);
        acc[b] |= diff & pk;
        und[b] &= ~diff;
      }
      any |= und[b];
    }
  }
  for (int b = 0; b < nb; ++b) {
    const u64 q = q0 + static_cast<u64>(b);
    own_row[q] = update == ms::kMetropolis ? ((own[b] ^ acc[b]) & valid[b]) : (acc[b] & valid[b]);
  }
}

}  // namespace

void multispin_sweeps(std::uint64_t* words, std::int64_t ly, std::int64_t lx, int update,
                      const std::uint64_t* thresholds, double J, double h, std::uint64_t seed,
                      std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
                      std::int64_t measure_every, double* energy, std::int64_t* mag) {
  const u64 nw = ms::words_per_row(static_cast<u64>(lx));
  const u64 n = static_cast<u64>(lx) / 2;
  const u64 uly = static_cast<u64>(ly);
  const Groups G = make_groups(update, thresholds);
  for (std::int64_t t = 0; t < nsweeps; ++t) {
    const u64 sweep = sweep0 + static_cast<u64>(t);
    for (int c = 0; c < 2; ++c) {
      const u64 stream = ms::stream_id(chain, sweep, c);
#pragma omp parallel for schedule(static) if (ly * static_cast<std::int64_t>(nw) > 256)
      for (std::int64_t y = 0; y < ly; ++y) {
        for (u64 q0 = 0; q0 < nw; q0 += kBatch) {
          const int nb = static_cast<int>(nw - q0 < kBatch ? nw - q0 : kBatch);
          update_batch(update, words, uly, nw, n, c, static_cast<u64>(y), q0, nb, G, seed, stream);
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
