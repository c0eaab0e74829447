// Philox4x32-10 counter-based random numbers (Salmon et al., SC'11).
//
// The one generator of physdl: the same (seed, stream, counter) gives the same
// words in C++, CUDA and the Numba twins.  Addressing convention:
//   key     = (seed & 0xffffffff, seed >> 32)
//   counter = (counter & 0xffffffff, counter >> 32, stream & 0xffffffff, stream >> 32)
// Each block yields four 32-bit words; word j of a flat draw comes from
// block (offset + j / 4), lane j % 4.
//
// This header is self-contained and usable from host and device code.
#pragma once

#include <cstdint>

#include "physdl/core/macros.hpp"

namespace physdl::random {

struct Philox4x32 {
  std::uint32_t v[4];
};

namespace detail {
constexpr std::uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr std::uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr std::uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr std::uint32_t kPhiloxW1 = 0xBB67AE85u;

PHYSDL_HD void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
  const std::uint64_t p = static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b);
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
}

PHYSDL_HD void philox_round(std::uint32_t c[4], const std::uint32_t k[2]) {
  std::uint32_t hi0, lo0, hi1, lo1;
  mulhilo(kPhiloxM0, c[0], hi0, lo0);
  mulhilo(kPhiloxM1, c[2], hi1, lo1);
  const std::uint32_t n0 = hi1 ^ c[1] ^ k[0];
  const std::uint32_t n1 = lo1;
  const std::uint32_t n2 = hi0 ^ c[3] ^ k[1];
  const std::uint32_t n3 = lo0;
  c[0] = n0;
  c[1] = n1;
  c[2] = n2;
  c[3] = n3;
}
}  // namespace detail

/// Philox4x32 with `rounds` rounds (10 is the standard) on one counter block.
PHYSDL_HD Philox4x32 philox4x32(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                std::uint32_t c3, std::uint32_t k0, std::uint32_t k1,
                                int rounds = 10) {
  std::uint32_t c[4] = {c0, c1, c2, c3};
  std::uint32_t k[2] = {k0, k1};
  for (int r = 0; r < rounds; ++r) {
    if (r > 0) {
      k[0] += detail::kPhiloxW0;
      k[1] += detail::kPhiloxW1;
    }
    detail::philox_round(c, k);
  }
  return Philox4x32{{c[0], c[1], c[2], c[3]}};
}

/// The block for (seed, stream, counter) under the physdl addressing convention.
PHYSDL_HD Philox4x32 philox_block(std::uint64_t seed, std::uint64_t stream,
                                  std::uint64_t counter) {
  return philox4x32(static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32),
                    static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32),
                    static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
}

/// The ten round keys of one seed, computed once: kernels that draw many blocks under one seed
/// (the lattice sweeps) keep them in constant memory or registers instead of re-deriving them.
struct PhiloxKeys {
  std::uint32_t k[20];  // k[2 r], k[2 r + 1]: the key of round r
};

PHYSDL_HD PhiloxKeys philox_keys(std::uint64_t seed) {
  PhiloxKeys out{};
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    out.k[2 * r] = k0;
    out.k[2 * r + 1] = k1;
    k0 += detail::kPhiloxW0;
    k1 += detail::kPhiloxW1;
  }
  return out;
}

/// Same block as philox_block(seed, stream, counter), with the round keys of `seed` given.
PHYSDL_HD Philox4x32 philox_block_keyed(const PhiloxKeys& keys, std::uint64_t stream, std::uint64_t counter) {
  std::uint32_t c[4] = {static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32),
                        static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)};
  PHYSDL_UNROLL
  for (int r = 0; r < 10; ++r) detail::philox_round(c, keys.k + 2 * r);
  return Philox4x32{{c[0], c[1], c[2], c[3]}};
}

/// Uniform float in [0, 1) from the top 24 bits of one word.
PHYSDL_HD float uniform_float(std::uint32_t w) {
  return static_cast<float>(w >> 8) * 5.9604644775390625e-08f;  // 2^-24
}

/// Uniform double in [0, 1) from 53 bits of two words (hi supplies the top 32).
PHYSDL_HD double uniform_double(std::uint32_t hi, std::uint32_t lo) {
  const std::uint64_t x = (static_cast<std::uint64_t>(hi) << 32 | lo) >> 11;
  return static_cast<double>(x) * 1.1102230246251565e-16;  // 2^-53
}

/// Uniform double in (0, 1]: used where a logarithm follows (Box-Muller).
PHYSDL_HD double uniform_double_open0(std::uint32_t hi, std::uint32_t lo) {
  const std::uint64_t x = (static_cast<std::uint64_t>(hi) << 32 | lo) >> 11;
  return static_cast<double>(x + 1) * 1.1102230246251565e-16;
}

}  // namespace physdl::random
