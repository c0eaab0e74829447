// Philox4x32-10 blocks of 16 counters of one stream at once (internal to the lattice kernels).
//
// philox_lanes(seed, stream, ctr, r0, r1) gives, for l = 0 .. 15, the block
// philox_block(seed, stream, ctr[l]) as two 64-bit words r0[l] = v0 | v1 << 32 and
// r1[l] = v2 | v3 << 32 (the little-endian bytes 0-7 and 8-15 of the block).  Scalar, AVX2 and
// AVX-512VL implementations give identical words; the widest the CPU has is used, and
// PHYSDL_LATTICE_ISA=scalar or avx2 in the environment (read once, at load) selects a
// narrower one so that tests can check every path on one machine.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

#include "physdl/random/philox.hpp"

namespace physdl::lattice::philox16 {

using u64 = std::uint64_t;

constexpr int kLanes = 16;

// Philox4x32-10 of kLanes counters of one stream, returned as the two level words of each
// block: r0[l] = v0 | v1 << 32, r1[l] = v2 | v3 << 32.
inline void philox_lanes_scalar(u64 seed, u64 stream, const u64* ctr, u64* r0, u64* r1) {
  for (int l = 0; l < kLanes; ++l) {
    const auto b = physdl::random::philox_block(seed, stream, ctr[l]);
    r0[l] = static_cast<u64>(b.v[0]) | (static_cast<u64>(b.v[1]) << 32);
    r1[l] = static_cast<u64>(b.v[2]) | (static_cast<u64>(b.v[3]) << 32);
  }
}

#if defined(__GNUC__) && defined(__x86_64__)
#define PHYSDL_PL_X86 1
// The same rounds on 4 x 64-bit lanes per register: the low 32 bits hold each Philox word.
// The high halves are never masked inside the rounds: the multiplies read only the low 32 bits,
// and the words that carry high garbage (v0 and v2, whose high halves come from the unmasked
// products) are masked once at the end.  kLanes counters in four independent registers per word
// hide the multiply latency.  The body is compiled twice: for AVX2, and for AVX-512VL where the
// same instructions get 32 registers and nothing spills.
#define PHYSDL_PL_BODY                                                                            \
  constexpr int V = kLanes / 4;                                                                          \
  const __m256i lo = _mm256_set1_epi64x(0xFFFFFFFFll);                                                   \
  const __m256i m0 = _mm256_set1_epi64x(0xD2511F53ll), m1 = _mm256_set1_epi64x(0xCD9E8D57ll);            \
  __m256i c0[V], c1[V], c2[V], c3[V];                                                                    \
  for (int v = 0; v < V; ++v) {                                                                          \
    c0[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ctr + 4 * v));                           \
    c1[v] = _mm256_srli_epi64(c0[v], 32);                                                                \
    c2[v] = _mm256_set1_epi64x(static_cast<long long>(stream & 0xFFFFFFFFull));                          \
    c3[v] = _mm256_set1_epi64x(static_cast<long long>(stream >> 32));                                    \
  }                                                                                                      \
  u64 k0 = seed & 0xFFFFFFFFull, k1 = seed >> 32;                                                        \
  for (int r = 0; r < 10; ++r) {                                                                         \
    const __m256i K0 = _mm256_set1_epi64x(static_cast<long long>(k0));                                   \
    const __m256i K1 = _mm256_set1_epi64x(static_cast<long long>(k1));                                   \
    for (int v = 0; v < V; ++v) {                                                                        \
      const __m256i p0 = _mm256_mul_epu32(c0[v], m0), p1 = _mm256_mul_epu32(c2[v], m1);                  \
      c0[v] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), c1[v]), K0);                  \
      c2[v] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), c3[v]), K1);                  \
      c1[v] = p1;                                                                                        \
      c3[v] = p0;                                                                                        \
    }                                                                                                    \
    k0 = (k0 + 0x9E3779B9ull) & 0xFFFFFFFFull;                                                           \
    k1 = (k1 + 0xBB67AE85ull) & 0xFFFFFFFFull;                                                           \
  }                                                                                                      \
  for (int v = 0; v < V; ++v) {                                                                          \
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(r0 + 4 * v),                                          \
                        _mm256_or_si256(_mm256_and_si256(c0[v], lo), _mm256_slli_epi64(c1[v], 32)));     \
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(r1 + 4 * v),                                          \
                        _mm256_or_si256(_mm256_and_si256(c2[v], lo), _mm256_slli_epi64(c3[v], 32)));     \
  }

inline __attribute__((target("avx2"))) void philox_lanes_avx2(u64 seed, u64 stream, const u64* ctr, u64* r0, u64* r1) {
  PHYSDL_PL_BODY
}
inline __attribute__((target("avx2,avx512f,avx512vl"))) void philox_lanes_avx512(u64 seed, u64 stream, const u64* ctr,
                                                                          u64* r0, u64* r1) {
  PHYSDL_PL_BODY
}
#undef PHYSDL_PL_BODY
#endif

// Philox path: the widest the CPU has, or the narrower one PHYSDL_LATTICE_ISA names.
enum class PhiloxPath { kScalar, kAvx2, kAvx512 };

inline PhiloxPath choose_philox_path() {
  PhiloxPath best = PhiloxPath::kScalar;
#ifdef PHYSDL_PL_X86
  if (__builtin_cpu_supports("avx2")) {
    best = (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) ? PhiloxPath::kAvx512
                                                                                    : PhiloxPath::kAvx2;
  }
#endif
  const char* env = std::getenv("PHYSDL_LATTICE_ISA");
  if (env != nullptr && std::strcmp(env, "scalar") == 0) return PhiloxPath::kScalar;
  if (env != nullptr && std::strcmp(env, "avx2") == 0 && best == PhiloxPath::kAvx512) return PhiloxPath::kAvx2;
  return best;
}

inline const PhiloxPath kPhiloxPath = choose_philox_path();

inline void philox_lanes(u64 seed, u64 stream, const u64* ctr, u64* r0, u64* r1) {
  switch (kPhiloxPath) {
#ifdef PHYSDL_PL_X86
    case PhiloxPath::kAvx512: return philox_lanes_avx512(seed, stream, ctr, r0, r1);
    case PhiloxPath::kAvx2: return philox_lanes_avx2(seed, stream, ctr, r0, r1);
#endif
    default: return philox_lanes_scalar(seed, stream, ctr, r0, r1);
  }
}

}  // namespace physdl::lattice::philox16
