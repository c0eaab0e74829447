// One whole training epoch of a restricted Boltzmann machine in one call (CD-k or PCD-k): every
// minibatch's data phase, Gibbs chain, gradient and in-place update, on caller-owned buffers.
// See ebm.hpp for the layout of the work buffer and the random-number addresses.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "physdl/ebm/ebm.hpp"
#include "physdl/nn/blas.hpp"
#include "physdl/random/philox.hpp"

// FP exceptions are never inspected here; without this the clamps in exp_fast block vectorisation.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math", "fp-contract=off")
#endif

namespace physdl::ebm {

namespace {

// Philox blocks (seed, stream, (q << 24) | jb) for jb in [0, nb): lanes into out[4 jb + lane].
// Baseline: structure of arrays over the blocks so that the ten rounds vectorise.
void philox_row_scalar(const physdl::random::PhiloxKeys& keys, std::uint64_t stream, std::uint64_t q, std::int64_t nb,
                       std::uint32_t* out) {
  constexpr std::int64_t C = 64;
  alignas(64) std::uint32_t x0[C], x1[C], x2[C], x3[C];
  const std::uint64_t base = q << 24;
  const std::uint32_t s0 = static_cast<std::uint32_t>(stream), s1 = static_cast<std::uint32_t>(stream >> 32);
  for (std::int64_t j0 = 0; j0 < nb; j0 += C) {
    const std::int64_t len = std::min(C, nb - j0);
    for (std::int64_t i = 0; i < len; ++i) {
      const std::uint64_t ctr = base | static_cast<std::uint64_t>(j0 + i);
      x0[i] = static_cast<std::uint32_t>(ctr);
      x1[i] = static_cast<std::uint32_t>(ctr >> 32);
      x2[i] = s0;
      x3[i] = s1;
    }
    for (int r = 0; r < 10; ++r) {
      const std::uint32_t k0 = keys.k[2 * r], k1 = keys.k[2 * r + 1];
#pragma omp simd
      for (std::int64_t i = 0; i < len; ++i) {
        const std::uint64_t p0 = static_cast<std::uint64_t>(0xD2511F53u) * x0[i];
        const std::uint64_t p1 = static_cast<std::uint64_t>(0xCD9E8D57u) * x2[i];
        const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ x1[i] ^ k0;
        const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ x3[i] ^ k1;
        x1[i] = static_cast<std::uint32_t>(p1);
        x3[i] = static_cast<std::uint32_t>(p0);
        x0[i] = n0;
        x2[i] = n2;
      }
    }
    for (std::int64_t i = 0; i < len; ++i) {
      std::uint32_t* o = out + 4 * (j0 + i);
      o[0] = x0[i];
      o[1] = x1[i];
      o[2] = x2[i];
      o[3] = x3[i];
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define PHYSDL_EBM_X86 1
// The same blocks kept as they are stored (array of structures): one 128-bit lane holds one block
// (x0, x1, x2, x3).  One unsigned 32 x 32 -> 64 multiply per 64-bit lane forms x0 M0 and x2 M1 at
// once, i.e. the words (lo0, hi0, lo1, hi1); the round is then (hi1, lo1, hi0, lo0) ^ (x1, 0, x3, 0)
// ^ (k0, 0, k1, 0): a word reversal, a 64-bit shift and the xors.  Four registers in flight hide
// the multiply latency; the output needs no transposition.
__attribute__((target("avx2"))) void philox_row_avx2(const physdl::random::PhiloxKeys& keys, std::uint64_t stream,
                                                     std::uint64_t q, std::int64_t nb, std::uint32_t* out) {
  const std::uint64_t base = q << 24;
  const __m256i init = _mm256_broadcastsi128_si256(
      _mm_set_epi32(static_cast<int>(stream >> 32), static_cast<int>(stream), static_cast<int>(base >> 32),
                    static_cast<int>(static_cast<std::uint32_t>(base))));
  const __m256i mul = _mm256_set_epi64x(0xCD9E8D57ll, 0xD2511F53ll, 0xCD9E8D57ll, 0xD2511F53ll);
  const __m256i inc = _mm256_set_epi32(0, 0, 0, 1, 0, 0, 0, 0);
  __m256i key[10];
  for (int r = 0; r < 10; ++r)
    key[r] = _mm256_broadcastsi128_si256(_mm_set_epi32(0, static_cast<int>(keys.k[2 * r + 1]), 0, static_cast<int>(keys.k[2 * r])));
  constexpr int V = 4;  // registers in flight, two blocks each
  std::int64_t j = 0;
  for (; j + 2 * V <= nb; j += 2 * V) {
    __m256i x[V];
    for (int v = 0; v < V; ++v)
      x[v] = _mm256_or_si256(init, _mm256_add_epi32(inc, _mm256_set_epi32(0, 0, 0, static_cast<int>(j + 2 * v), 0, 0, 0,
                                                                            static_cast<int>(j + 2 * v))));
    for (int r = 0; r < 10; ++r) {
      for (int v = 0; v < V; ++v) {
        const __m256i p = _mm256_mul_epu32(x[v], mul);
        x[v] = _mm256_xor_si256(_mm256_xor_si256(_mm256_shuffle_epi32(p, 0x1B), _mm256_srli_epi64(x[v], 32)), key[r]);
      }
    }
    for (int v = 0; v < V; ++v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4 * (j + 2 * v)), x[v]);
  }
  for (; j < nb; ++j) {
    const auto blk = physdl::random::philox_block_keyed(keys, stream, base | static_cast<std::uint64_t>(j));
    std::memcpy(out + 4 * j, blk.v, sizeof(blk.v));
  }
}

__attribute__((target("avx512f"))) void philox_row_avx512(const physdl::random::PhiloxKeys& keys, std::uint64_t stream,
                                                          std::uint64_t q, std::int64_t nb, std::uint32_t* out) {
  const std::uint64_t base = q << 24;
  const __m512i init = _mm512_broadcast_i32x4(
      _mm_set_epi32(static_cast<int>(stream >> 32), static_cast<int>(stream), static_cast<int>(base >> 32),
                    static_cast<int>(static_cast<std::uint32_t>(base))));
  const __m512i mul = _mm512_set_epi64(0xCD9E8D57ll, 0xD2511F53ll, 0xCD9E8D57ll, 0xD2511F53ll, 0xCD9E8D57ll,
                                       0xD2511F53ll, 0xCD9E8D57ll, 0xD2511F53ll);
  const __m512i inc = _mm512_set_epi32(0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0);
  const __m512i w0 = _mm512_set_epi32(0, 0, 0, -1, 0, 0, 0, -1, 0, 0, 0, -1, 0, 0, 0, -1);
  __m512i key[10];
  for (int r = 0; r < 10; ++r)
    key[r] = _mm512_broadcast_i32x4(_mm_set_epi32(0, static_cast<int>(keys.k[2 * r + 1]), 0, static_cast<int>(keys.k[2 * r])));
  constexpr int V = 4;  // registers in flight, four blocks each
  std::int64_t j = 0;
  for (; j + 4 * V <= nb; j += 4 * V) {
    __m512i x[V];
    for (int v = 0; v < V; ++v)
      x[v] = _mm512_or_si512(init, _mm512_add_epi32(inc, _mm512_and_si512(w0, _mm512_set1_epi32(static_cast<int>(j + 4 * v)))));
    for (int r = 0; r < 10; ++r) {
      for (int v = 0; v < V; ++v) {
        const __m512i p = _mm512_mul_epu32(x[v], mul);
        x[v] = _mm512_ternarylogic_epi32(_mm512_shuffle_epi32(p, _MM_PERM_ABCD), _mm512_srli_epi64(x[v], 32), key[r], 0x96);
      }
    }
    for (int v = 0; v < V; ++v) _mm512_storeu_si512(out + 4 * (j + 4 * v), x[v]);
  }
  for (; j + 4 <= nb; j += 4) {
    __m512i x = _mm512_or_si512(init, _mm512_add_epi32(inc, _mm512_and_si512(w0, _mm512_set1_epi32(static_cast<int>(j)))));
    for (int r = 0; r < 10; ++r) {
      const __m512i p = _mm512_mul_epu32(x, mul);
      x = _mm512_ternarylogic_epi32(_mm512_shuffle_epi32(p, _MM_PERM_ABCD), _mm512_srli_epi64(x, 32), key[r], 0x96);
    }
    _mm512_storeu_si512(out + 4 * j, x);
  }
  for (; j < nb; ++j) {
    const auto blk = physdl::random::philox_block_keyed(keys, stream, base | static_cast<std::uint64_t>(j));
    std::memcpy(out + 4 * j, blk.v, sizeof(blk.v));
  }
}
#endif

}  // namespace

// exp(y) for y in the clamped range, Cephes-style reduction y = n ln2 + r; float: degree-6 polynomial,
// double: the (3, 3) Pade form; both within about one unit in the last place.
__attribute__((always_inline)) inline float exp_fast(float y) {
  y = y < -87.0f ? -87.0f : (y > 87.0f ? 87.0f : y);
  const float t = y * 1.44269504088896341f + 12582912.0f;
  const float n = t - 12582912.0f;
  const float r = (y - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = (p * (r * r) + r) + 1.0f;
  const std::int32_t ni = static_cast<std::int32_t>(n);
  const std::uint32_t bits = static_cast<std::uint32_t>(ni + 127) << 23;
  return e * __builtin_bit_cast(float, bits);
}

__attribute__((always_inline)) inline double exp_fast(double y) {
  y = y < -708.0 ? -708.0 : (y > 708.0 ? 708.0 : y);
  const double t = y * 1.4426950408889634 + 6755399441055744.0;
  const double n = t - 6755399441055744.0;
  const double r = (y - n * 6.93145751953125e-1) - n * 1.42860682030941723212e-6;
  const double xx = r * r;
  const double px = r * ((1.26177193074810590878e-4 * xx + 3.02994407707441961300e-2) * xx + 9.99999999999999999910e-1);
  const double qx = ((3.00198505138664455042e-6 * xx + 2.52448340349684104192e-3) * xx + 2.27265548208155028766e-1) * xx +
                    2.00000000000000000009e0;
  const double e = 1.0 + 2.0 * (px / (qx - px));
  const std::int64_t ni = static_cast<std::int64_t>(static_cast<std::int32_t>(n));
  const std::uint64_t bits = static_cast<std::uint64_t>(ni + 1023) << 52;
  return e * __builtin_bit_cast(double, bits);
}

namespace {

template <class T>
__attribute__((always_inline)) inline T uniform_of(std::uint32_t w);
template <>
__attribute__((always_inline)) inline float uniform_of<float>(std::uint32_t w) {
  return static_cast<float>(w >> 8) * 5.9604644775390625e-8f;  // (w >> 8) / 2^24, exact
}
template <>
__attribute__((always_inline)) inline double uniform_of<double>(std::uint32_t w) {
  return static_cast<double>(w) * 2.3283064365386963e-10;  // w / 2^32, exact
}

// One row: p = sigmoid(scale (pre + bias)) = 1 / (1 + e); out = (u < p) ? 1 : lo when out (as
// u (1 + e) < 1 when only the samples are wanted); pre <- escale * E[u] when expect (E = p for
// {0,1} units, 2 p - 1 for +-1 units).  Branch-free loops in chunks so the compiler vectorises
// them; this template is the reference (and the double rows on every path), the float rows have
// AVX-512 / AVX2 intrinsics below with the same operations.
template <class T>
__attribute__((always_inline)) inline void sigmoid_row_impl(T* pre, const T* bias, std::int64_t nu, bool pm, const std::uint32_t* rnd, T* out,
                             bool expect, T escale) {
  constexpr std::int64_t C = 256;
  alignas(64) T p[C];
  const T scale = pm ? T(2) : T(1);
  const T lo = pm ? T(-1) : T(0);
  const T ea = escale * (pm ? T(2) : T(1)), eb = escale * (pm ? T(-1) : T(0));
  for (std::int64_t j0 = 0; j0 < nu; j0 += C) {
    const std::int64_t len = std::min(C, nu - j0);
    const T* x = pre + j0;
    const T* bb = bias + j0;
    if (!expect) {  // samples only: u < 1 / (1 + e) drawn as u (1 + e) < 1, without the division
      T* o = out + j0;
      const std::uint32_t* w = rnd + j0;
#pragma omp simd
      for (std::int64_t j = 0; j < len; ++j)
        o[j] = uniform_of<T>(w[j]) * (T(1) + exp_fast(-(scale * (x[j] + bb[j])))) < T(1) ? T(1) : lo;
      continue;
    }
#pragma omp simd
    for (std::int64_t j = 0; j < len; ++j) p[j] = T(1) / (T(1) + exp_fast(-(scale * (x[j] + bb[j]))));
    if (out) {
      T* o = out + j0;
      const std::uint32_t* w = rnd + j0;
#pragma omp simd
      for (std::int64_t j = 0; j < len; ++j) o[j] = uniform_of<T>(w[j]) < p[j] ? T(1) : lo;
    }
    if (expect) {
      T* e = pre + j0;
#pragma omp simd
      for (std::int64_t j = 0; j < len; ++j) e[j] = ea * p[j] + eb;
    }
  }
}

void sigmoid_row_scalar(float* pre, const float* bias, std::int64_t nu, bool pm, const std::uint32_t* rnd, float* out,
                        bool expect, float escale) {
  sigmoid_row_impl<float>(pre, bias, nu, pm, rnd, out, expect, escale);
}
// double rows: the template compiled for each width (float rows have their own vector code below)
#define PHYSDL_EBM_SIGMOID_ROWS(ATTR, SUFFIX)                                                                 \
  ATTR void sigmoid_row_##SUFFIX(double* pre, const double* bias, std::int64_t nu, bool pm,                        \
                                 const std::uint32_t* rnd, double* out, bool expect, double escale) {             \
    sigmoid_row_impl<double>(pre, bias, nu, pm, rnd, out, expect, escale);                                         \
  }
PHYSDL_EBM_SIGMOID_ROWS(, scalar)
#ifdef PHYSDL_EBM_X86
PHYSDL_EBM_SIGMOID_ROWS(__attribute__((target("avx2"))), avx2)
PHYSDL_EBM_SIGMOID_ROWS(__attribute__((target("avx512f"))), avx512)
#endif
#undef PHYSDL_EBM_SIGMOID_ROWS

#ifdef PHYSDL_EBM_X86
// float rows in one pass over 16 (AVX-512) or 8 (AVX2) lanes: the operations of sigmoid_row_impl<float>
// and exp_fast(float) in the same order, so the same bits.  The clamp is max then min with the
// operands ordered so that a NaN passes through as in the scalar comparisons.
#define PHYSDL_EBM_SIGMOID_BODY(VEC, P, EPI, WIDTH)                                                          \
  const VEC scale = P##_set1_ps(pm ? 2.0f : 1.0f);                                                          \
  const VEC ea = P##_set1_ps(escale * (pm ? 2.0f : 1.0f)), eb = P##_set1_ps(escale * (pm ? -1.0f : 0.0f));   \
  const VEC one = P##_set1_ps(1.0f), vlo = P##_set1_ps(pm ? -1.0f : 0.0f);                                  \
  const VEC cmin = P##_set1_ps(-87.0f), cmax = P##_set1_ps(87.0f);                                          \
  const VEC log2e = P##_set1_ps(1.44269504088896341f), magic = P##_set1_ps(12582912.0f);                    \
  const VEC c1 = P##_set1_ps(0.693359375f), c2 = P##_set1_ps(-2.12194440e-4f);                              \
  const VEC q0 = P##_set1_ps(1.9875691500e-4f), q1 = P##_set1_ps(1.3981999507e-3f);                         \
  const VEC q2 = P##_set1_ps(8.3334519073e-3f), q3 = P##_set1_ps(4.1665795894e-2f);                         \
  const VEC q4 = P##_set1_ps(1.6666665459e-1f), q5 = P##_set1_ps(5.0000001201e-1f);                         \
  const VEC ulp = P##_set1_ps(5.9604644775390625e-8f);                                                      \
  const EPI sign = P##_set1_epi32(static_cast<int>(0x80000000u)), b127 = P##_set1_epi32(127);               \
  auto prob = [&](VEC x, VEC bb) {                                                                           \
    VEC y = P##_castsi##WIDTH##_ps(P##_xor_si##WIDTH(P##_castps_si##WIDTH(P##_mul_ps(scale, P##_add_ps(x, bb))), sign)); \
    y = P##_min_ps(cmax, P##_max_ps(cmin, y));                                                               \
    const VEC n = P##_sub_ps(P##_add_ps(P##_mul_ps(y, log2e), magic), magic);                              \
    const VEC r = P##_sub_ps(P##_sub_ps(y, P##_mul_ps(n, c1)), P##_mul_ps(n, c2));                         \
    VEC p = q0;                                                                                              \
    p = P##_add_ps(P##_mul_ps(p, r), q1);                                                                    \
    p = P##_add_ps(P##_mul_ps(p, r), q2);                                                                    \
    p = P##_add_ps(P##_mul_ps(p, r), q3);                                                                    \
    p = P##_add_ps(P##_mul_ps(p, r), q4);                                                                    \
    p = P##_add_ps(P##_mul_ps(p, r), q5);                                                                    \
    VEC e = P##_add_ps(P##_add_ps(P##_mul_ps(p, P##_mul_ps(r, r)), r), one);                               \
    const EPI bits = P##_slli_epi32(P##_add_epi32(P##_cvttps_epi32(n), b127), 23);                         \
    e = P##_mul_ps(e, P##_castsi##WIDTH##_ps(bits));                                                         \
    return P##_add_ps(one, e);                                                                               \
  };

__attribute__((target("avx512f"))) void sigmoid_row_avx512(float* pre, const float* bias, std::int64_t nu, bool pm,
                                                           const std::uint32_t* rnd, float* out, bool expect,
                                                           float escale) {
  PHYSDL_EBM_SIGMOID_BODY(__m512, _mm512, __m512i, 512)
  for (std::int64_t j = 0; j < nu; j += 16) {
    const __mmask16 m = nu - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (nu - j)) - 1u);
    const __m512 den = prob(_mm512_maskz_loadu_ps(m, pre + j), _mm512_maskz_loadu_ps(m, bias + j));
    if (!expect) {
      const __m512 u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(_mm512_maskz_loadu_epi32(m, rnd + j), 8)), ulp);
      const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_mul_ps(u, den), one, _CMP_LT_OQ);
      _mm512_mask_storeu_ps(out + j, m, _mm512_mask_blend_ps(hit, vlo, one));
      continue;
    }
    const __m512 pr = _mm512_div_ps(one, den);
    if (out) {
      const __m512i w = _mm512_srli_epi32(_mm512_maskz_loadu_epi32(m, rnd + j), 8);
      const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_mul_ps(_mm512_cvtepi32_ps(w), ulp), pr, _CMP_LT_OQ);
      _mm512_mask_storeu_ps(out + j, m, _mm512_mask_blend_ps(hit, vlo, one));
    }
    _mm512_mask_storeu_ps(pre + j, m, _mm512_add_ps(_mm512_mul_ps(ea, pr), eb));
  }
}

__attribute__((target("avx2"))) void sigmoid_row_avx2(float* pre, const float* bias, std::int64_t nu, bool pm,
                                                      const std::uint32_t* rnd, float* out, bool expect, float escale) {
  PHYSDL_EBM_SIGMOID_BODY(__m256, _mm256, __m256i, 256)
  std::int64_t j = 0;
  for (; j + 8 <= nu; j += 8) {
    const __m256 den = prob(_mm256_loadu_ps(pre + j), _mm256_loadu_ps(bias + j));
    if (!expect) {
      const __m256i w = _mm256_srli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rnd + j)), 8);
      const __m256 hit = _mm256_cmp_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(w), ulp), den), one, _CMP_LT_OQ);
      _mm256_storeu_ps(out + j, _mm256_blendv_ps(vlo, one, hit));
      continue;
    }
    const __m256 pr = _mm256_div_ps(one, den);
    if (out) {
      const __m256i w = _mm256_srli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rnd + j)), 8);
      const __m256 hit = _mm256_cmp_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(w), ulp), pr, _CMP_LT_OQ);
      _mm256_storeu_ps(out + j, _mm256_blendv_ps(vlo, one, hit));
    }
    _mm256_storeu_ps(pre + j, _mm256_add_ps(_mm256_mul_ps(ea, pr), eb));
  }
  if (j < nu) sigmoid_row_impl<float>(pre + j, bias + j, nu - j, pm, out ? rnd + j : nullptr, out ? out + j : nullptr, expect, escale);
}
#undef PHYSDL_EBM_SIGMOID_BODY
#endif

// The vector width: the widest the CPU has, or the narrower one PHYSDL_EBM_ISA (scalar, avx2) names,
// read once at load so that tests can run every path on one machine.  Every path performs the same
// IEEE operations in the same order (contraction into FMA is off in this file), so the samples and
// the updates do not depend on it.
enum class Isa { kScalar, kAvx2, kAvx512 };

Isa choose_isa() {
  Isa best = Isa::kScalar;
#ifdef PHYSDL_EBM_X86
  if (__builtin_cpu_supports("avx2")) best = __builtin_cpu_supports("avx512f") ? Isa::kAvx512 : Isa::kAvx2;
#endif
  const char* env = std::getenv("PHYSDL_EBM_ISA");
  if (env != nullptr && std::strcmp(env, "scalar") == 0) return Isa::kScalar;
  if (env != nullptr && std::strcmp(env, "avx2") == 0 && best == Isa::kAvx512) return Isa::kAvx2;
  return best;
}

const Isa kIsa = choose_isa();

inline void philox_row(const physdl::random::PhiloxKeys& keys, std::uint64_t stream, std::uint64_t q, std::int64_t nb,
                       std::uint32_t* out) {
  switch (kIsa) {
#ifdef PHYSDL_EBM_X86
    case Isa::kAvx512: return philox_row_avx512(keys, stream, q, nb, out);
    case Isa::kAvx2: return philox_row_avx2(keys, stream, q, nb, out);
#endif
    default: return philox_row_scalar(keys, stream, q, nb, out);
  }
}

#ifdef PHYSDL_EBM_X86
#define PHYSDL_EBM_SIGMOID_DISPATCH                                                         \
  switch (kIsa) {                                                                           \
    case Isa::kAvx512: return sigmoid_row_avx512(pre, bias, nu, pm, rnd, out, expect, escale); \
    case Isa::kAvx2: return sigmoid_row_avx2(pre, bias, nu, pm, rnd, out, expect, escale);     \
    default: return sigmoid_row_scalar(pre, bias, nu, pm, rnd, out, expect, escale);           \
  }
#else
#define PHYSDL_EBM_SIGMOID_DISPATCH return sigmoid_row_scalar(pre, bias, nu, pm, rnd, out, expect, escale);
#endif
inline void sigmoid_row(float* pre, const float* bias, std::int64_t nu, bool pm, const std::uint32_t* rnd, float* out,
                        bool expect, float escale) {
  PHYSDL_EBM_SIGMOID_DISPATCH
}
inline void sigmoid_row(double* pre, const double* bias, std::int64_t nu, bool pm, const std::uint32_t* rnd,
                        double* out, bool expect, double escale) {
  PHYSDL_EBM_SIGMOID_DISPATCH
}
#undef PHYSDL_EBM_SIGMOID_DISPATCH


}  // namespace

namespace {

// db = sum_r f_r A[r] (f_r = sd for the B data rows, sm for the chains), dc = sum_r G[r], each entry
// summed over the rows in row order (a column block at a time, so that the sums stay in L1).
template <class T>
__attribute__((always_inline)) inline void bias_sums_impl(const T* A, const T* G, std::int64_t rows, std::int64_t B,
                                                          std::int64_t nv, std::int64_t nh, T sd, T sm, T* db, T* dc) {
  constexpr std::int64_t C = 128;
  for (std::int64_t j0 = 0; j0 < nv; j0 += C) {
    const std::int64_t len = std::min(C, nv - j0);
    T* acc = db + j0;
    for (std::int64_t j = 0; j < len; ++j) acc[j] = T(0);
    for (std::int64_t r = 0; r < rows; ++r) {
      const T f = r < B ? sd : sm;
      const T* a = A + r * nv + j0;
#pragma omp simd
      for (std::int64_t j = 0; j < len; ++j) acc[j] += f * a[j];
    }
  }
  for (std::int64_t j0 = 0; j0 < nh; j0 += C) {
    const std::int64_t len = std::min(C, nh - j0);
    T* acc = dc + j0;
    for (std::int64_t j = 0; j < len; ++j) acc[j] = T(0);
    for (std::int64_t r = 0; r < rows; ++r) {
      const T* g = G + r * nh + j0;
#pragma omp simd
      for (std::int64_t j = 0; j < len; ++j) acc[j] += g[j];
    }
  }
}

#define PHYSDL_EBM_BIAS_SUMS(ATTR, SUFFIX)                                                                        \
  ATTR void bias_sums_##SUFFIX(const float* A, const float* G, std::int64_t rows, std::int64_t B, std::int64_t nv, \
                               std::int64_t nh, float sd, float sm, float* db, float* dc) {                        \
    bias_sums_impl<float>(A, G, rows, B, nv, nh, sd, sm, db, dc);                                                  \
  }                                                                                                                \
  ATTR void bias_sums_##SUFFIX(const double* A, const double* G, std::int64_t rows, std::int64_t B,                \
                               std::int64_t nv, std::int64_t nh, double sd, double sm, double* db, double* dc) {   \
    bias_sums_impl<double>(A, G, rows, B, nv, nh, sd, sm, db, dc);                                                 \
  }
PHYSDL_EBM_BIAS_SUMS(, scalar)
#ifdef PHYSDL_EBM_X86
PHYSDL_EBM_BIAS_SUMS(__attribute__((target("avx2"))), avx2)
PHYSDL_EBM_BIAS_SUMS(__attribute__((target("avx512f"))), avx512)
#endif
#undef PHYSDL_EBM_BIAS_SUMS

template <class T>
inline void bias_sums(const T* A, const T* G, std::int64_t rows, std::int64_t B, std::int64_t nv, std::int64_t nh, T sd,
                      T sm, T* db, T* dc) {
  switch (kIsa) {
#ifdef PHYSDL_EBM_X86
    case Isa::kAvx512: return bias_sums_avx512(A, G, rows, B, nv, nh, sd, sm, db, dc);
    case Isa::kAvx2: return bias_sums_avx2(A, G, rows, B, nv, nh, sd, sm, db, dc);
#endif
    default: return bias_sums_scalar(A, G, rows, B, nv, nh, sd, sm, db, dc);
  }
}

}  // namespace

template <class T>
std::int64_t rbm_epoch_workspace(std::int64_t nv, std::int64_t nh, std::int64_t B, std::int64_t nc) {
  const std::int64_t rows = B + nc;
  const std::int64_t rnd_words = ((std::max(nv, nh) + 3) / 4) * 4;  // uint32 words, stored in T slots
  const std::int64_t rnd_slots = (rnd_words * 4 + static_cast<std::int64_t>(sizeof(T)) - 1) / static_cast<std::int64_t>(sizeof(T));
  return rows * nv + rows * nh + nc * nv + nv + nh + rows * rnd_slots;
}

template <class T>
void rbm_epoch(T* W, T* b, T* c, std::int64_t nv, std::int64_t nh, bool pm, const T* data, const std::int64_t* order,
               std::int64_t nbatch, std::int64_t B, bool persistent, std::int64_t k, T lr, T* vchain, T* hchain,
               std::int64_t nc, std::uint64_t seed, std::uint64_t stream0, std::uint64_t t0, T* work) {
  const std::int64_t rows = B + nc;
  const std::int64_t rnd_words = ((std::max(nv, nh) + 3) / 4) * 4;
  const std::int64_t rnd_slots = (rnd_words * 4 + static_cast<std::int64_t>(sizeof(T)) - 1) / static_cast<std::int64_t>(sizeof(T));
  T* A = work;               // rows x nv: [V_data; V_model]
  T* G = A + rows * nv;      // rows x nh: [lr/B E_data; -lr/nc E_model] (pre-activations first)
  T* PV = G + rows * nh;     // nc x nv: visible pre-activations of the chains
  T* db = PV + nc * nv;      // nv
  T* dc = db + nv;           // nh
  auto* RND = reinterpret_cast<std::uint32_t*>(dc + nh);  // rows x rnd_words
  const auto keys = physdl::random::philox_keys(seed);
  const T lo = pm ? T(-1) : T(0);
  const bool big = rows * std::max(nv, nh) >= 16384;
  const T sd = lr / static_cast<T>(B), sm = -lr / static_cast<T>(nc);
  T* VM = A + B * nv;
  T* GM = G + B * nh;
  if (persistent) std::memcpy(VM, vchain, sizeof(T) * nc * nv);

  for (std::int64_t s = 0; s < nbatch; ++s) {
    const std::uint64_t q0 = 2 * (t0 + static_cast<std::uint64_t>(s) * static_cast<std::uint64_t>(k));
    for (std::int64_t r = 0; r < B; ++r) std::memcpy(A + r * nv, data + order[s * B + r] * nv, sizeof(T) * nv);
    // the next minibatch's rows (scattered over the data set) are fetched while this one computes
    if (s + 1 < nbatch) {
      for (std::int64_t r = 0; r < B; ++r) {
        const char* row = reinterpret_cast<const char*>(data + order[(s + 1) * B + r] * nv);
        for (std::int64_t off = 0; off < nv * static_cast<std::int64_t>(sizeof(T)); off += 64) __builtin_prefetch(row + off, 0, 2);
      }
    }
    // data phase: E[h | v_data].  CD starts its chains at h ~ P(h | v_data) (half-step q0) and so needs
    // it first; PCD computes it in the same product as the chains' last step, [V_data; V_model] W.
    if (!persistent) {
      physdl::nn::gemm<T>(false, false, B, nh, nv, T(1), A, nv, W, nh, T(0), G, nh);
#pragma omp parallel for schedule(static) if (big)
      for (std::int64_t r = 0; r < B; ++r) {
        std::uint32_t* rnd = RND + r * rnd_slots * (sizeof(T) / 4);
        philox_row(keys, stream0 + static_cast<std::uint64_t>(r), q0, (nh + 3) / 4, rnd);
        sigmoid_row(G + r * nh, c, nh, pm, rnd, hchain + r * nh, true, sd);
      }
    }
    // the chains: PCD half-steps v, h, v, h, ... (q0 .. q0 + 2k - 1); CD h (done), v, h, ..., v
    for (std::int64_t t = 0; t < k; ++t) {
      const std::uint64_t qv = persistent ? q0 + 2 * t : q0 + 2 * t + 1;
      physdl::nn::gemm<T>(false, true, nc, nv, nh, T(1), hchain, nh, W, nh, T(0), PV, nv);
#pragma omp parallel for schedule(static) if (big)
      for (std::int64_t r = 0; r < nc; ++r) {
        std::uint32_t* rnd = RND + r * rnd_slots * (sizeof(T) / 4);
        philox_row(keys, stream0 + static_cast<std::uint64_t>(r), qv, (nv + 3) / 4, rnd);
        sigmoid_row(PV + r * nv, b, nv, pm, rnd, VM + r * nv, false, T(0));
      }
      const bool last = t == k - 1;
      const bool both = persistent && last;  // one product for the data rows and the chains
      if (both) {
        physdl::nn::gemm<T>(false, false, rows, nh, nv, T(1), A, nv, W, nh, T(0), G, nh);
      } else {
        physdl::nn::gemm<T>(false, false, nc, nh, nv, T(1), VM, nv, W, nh, T(0), GM, nh);
      }
      const bool draw = !last || persistent;
      const std::int64_t r0 = both ? -B : 0;  // rows r < 0 are the data rows
#pragma omp parallel for schedule(static) if (big)
      for (std::int64_t r = r0; r < nc; ++r) {
        if (r < 0) {
          sigmoid_row(GM + r * nh, c, nh, pm, nullptr, nullptr, true, sd);
          continue;
        }
        std::uint32_t* rnd = RND + r * rnd_slots * (sizeof(T) / 4);
        if (draw) philox_row(keys, stream0 + static_cast<std::uint64_t>(r), qv + 1, (nh + 3) / 4, rnd);
        sigmoid_row(GM + r * nh, c, nh, pm, rnd, draw ? hchain + r * nh : nullptr, last, sm);
      }
    }
    // bias gradients (sums over the stacked rows, in row order), then W += A^T G in one product
    bias_sums(A, G, rows, B, nv, nh, sd, sm, db, dc);
    physdl::nn::gemm<T>(true, false, nv, nh, rows, T(1), A, nv, G, nh, T(1), W, nh);
    for (std::int64_t j = 0; j < nv; ++j) b[j] += db[j];
    for (std::int64_t j = 0; j < nh; ++j) c[j] += dc[j];
  }
  if (persistent) std::memcpy(vchain, VM, sizeof(T) * nc * nv);
  (void)lo;
}

template std::int64_t rbm_epoch_workspace<double>(std::int64_t, std::int64_t, std::int64_t, std::int64_t);
template std::int64_t rbm_epoch_workspace<float>(std::int64_t, std::int64_t, std::int64_t, std::int64_t);
template void rbm_epoch<double>(double*, double*, double*, std::int64_t, std::int64_t, bool, const double*,
                                const std::int64_t*, std::int64_t, std::int64_t, bool, std::int64_t, double, double*,
                                double*, std::int64_t, std::uint64_t, std::uint64_t, std::uint64_t, double*);
template void rbm_epoch<float>(float*, float*, float*, std::int64_t, std::int64_t, bool, const float*,
                               const std::int64_t*, std::int64_t, std::int64_t, bool, std::int64_t, float, float*,
                               float*, std::int64_t, std::uint64_t, std::uint64_t, std::uint64_t, float*);

}  // namespace physdl::ebm
