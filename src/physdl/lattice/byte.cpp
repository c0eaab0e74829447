// Checkerboard Metropolis and heat bath with one byte per spin (see lattice.hpp).
#include <cmath>
#include <cstring>
#include <vector>

#include "physdl/lattice/lattice.hpp"
#include "physdl/lattice/philox_lanes.hpp"
#include "physdl/random/philox.hpp"

#if defined(__GNUC__) && defined(__x86_64__)
#define PHYSDL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PHYSDL_CLONES
#endif

namespace physdl::lattice {

using physdl::random::philox_block;
using u64 = std::uint64_t;

std::uint64_t fixed_threshold(double p) {
  if (!(p < 1.0)) return kFixedOne;
  if (!(p > 0.0)) return 0;
  return static_cast<u64>(std::ceil(p * 9007199254740992.0));
}

namespace {
constexpr std::int64_t kChunk = 4096;

inline double site_energy(const std::int8_t* s, const Graph& g, std::int64_t i) {
  double loc = 0.0;
  for (int k = 0; k < g.z; ++k) loc += g.J[i * g.z + k] * s[g.nbr[i * g.z + k]];
  const double si = s[i];
  return -(0.5 * si * loc + g.h[i] * si);
}
}  // namespace

void byte_measure(const std::int8_t* s, const Graph& g, double& energy, std::int64_t& mag) {
  const std::int64_t n = g.n;
  std::int64_t m = 0;
#pragma omp parallel for reduction(+ : m) schedule(static) if (n > 262144)
  for (std::int64_t c = 0; c < (n + 65535) / 65536; ++c) {
    int acc = 0;  // |acc| <= 65536
    const std::int64_t end = (c + 1) * 65536 < n ? (c + 1) * 65536 : n;
    for (std::int64_t i = c * 65536; i < end; ++i) acc += s[i];
    m += acc;
  }
  mag = m;
  if (g.uniform && g.sq_ly > 0) {  // square lattice in row-major order: no table needed
    const std::int64_t ly = g.sq_ly, lx = g.sq_lx;
    std::int64_t S = 0;  // sum over forward bonds of s_i s_j (each bond once)
#pragma omp parallel for reduction(+ : S) schedule(static) if (n > 262144)
    for (std::int64_t y = 0; y < ly; ++y) {
      const std::int8_t* row = s + y * lx;
      const std::int8_t* dn = s + (y + 1 == ly ? 0 : y + 1) * lx;
      std::int64_t acc = 0;
      for (std::int64_t x = 0; x + 1 < lx; ++x) acc += row[x] * (row[x + 1] + dn[x]);
      acc += row[lx - 1] * (row[0] + dn[lx - 1]);
      S += acc;
    }
    energy = -g.J0 * static_cast<double>(2 * S) * 0.5 - g.h0 * static_cast<double>(m);
    return;
  }
  if (g.uniform) {
    std::int64_t S = 0;
#pragma omp parallel for reduction(+ : S) schedule(static) if (n > 32768)
    for (std::int64_t i = 0; i < n; ++i) {
      int sum = 0;
      for (int k = 0; k < g.z; ++k) sum += s[g.nbr[i * g.z + k]];
      S += s[i] * sum;
    }
    energy = -g.J0 * static_cast<double>(S) * 0.5 - g.h0 * static_cast<double>(m);
    return;
  }
  const std::int64_t nch = (n + kChunk - 1) / kChunk;
  std::vector<double> part(static_cast<size_t>(nch), 0.0);
#pragma omp parallel for schedule(static) if (nch > 8)
  for (std::int64_t c = 0; c < nch; ++c) {
    double e = 0.0;
    const std::int64_t end = (c + 1) * kChunk < n ? (c + 1) * kChunk : n;
    for (std::int64_t i = c * kChunk; i < end; ++i) e += site_energy(s, g, i);
    part[static_cast<size_t>(c)] = e;
  }
  double e = 0.0;
  for (double x : part) e += x;
  energy = e;
}

namespace {

// Decide U < P lazily: top 8 bits from `byte`, the other 45 only on a tie.
inline bool decide(u64 byte, u64 P, u64 seed, u64 stream, u64 j) {
  const u64 top = P >> 45;
  if (byte != top) return byte < top;
  const auto t = philox_block(seed, stream, (u64(1) << 40) | j);
  const u64 rest = ((static_cast<u64>(t.v[0]) << 32) | t.v[1]) >> 19;
  return rest < (P & ((u64(1) << 45) - 1));
}

template <bool Uniform>
void colour_pass(std::int8_t* __restrict s, const Graph& g, int update, double beta, const u64* table,
                 u64 seed, u64 stream, std::int64_t begin, std::int64_t count) {
  const int z = g.z;
  const std::int64_t nblk = (count + 15) / 16;
#pragma omp parallel for schedule(static) if (count > 2048)
  for (std::int64_t b = 0; b < nblk; ++b) {
    const auto blk = philox_block(seed, stream, static_cast<u64>(b));
    const std::int64_t jend = (b + 1) * 16 < count ? (b + 1) * 16 : count;
    for (std::int64_t j = b * 16; j < jend; ++j) {
      const std::int32_t i = g.order[begin + j];
      const int lane = static_cast<int>(j & 15);
      const u64 byte = (blk.v[lane >> 2] >> (8 * (lane & 3))) & 0xFF;
      const std::int8_t si = s[i];
      u64 P;
      if constexpr (Uniform) {
        int sum = 0;
        for (int k = 0; k < z; ++k) sum += s[g.nbr[static_cast<std::int64_t>(i) * z + k]];
        const int idx = (sum + z) / 2;
        P = update == kMetropolis ? table[(si > 0 ? z + 1 : 0) + idx] : table[idx];
      } else {
        double loc = 0.0;
        const std::int64_t base = static_cast<std::int64_t>(i) * z;
        for (int k = 0; k < z; ++k) loc += g.J[base + k] * s[g.nbr[base + k]];
        loc += g.h[i];
        if (update == kMetropolis) {
          P = fixed_threshold(std::exp(-2.0 * beta * si * loc));
        } else {
          P = fixed_threshold(1.0 / (1.0 + std::exp(-2.0 * beta * loc)));
        }
      }
      const bool acc = decide(byte, P, seed, stream, static_cast<u64>(j));
      if (update == kMetropolis) {
        if (acc) s[i] = static_cast<std::int8_t>(-si);
      } else {
        s[i] = acc ? 1 : -1;
      }
    }
  }
}

// The random bytes of one colour pass in order (byte j = byte j & 15 of block j >> 4), drawn
// 16 blocks at a time (philox_lanes.hpp) and handed out row by row: a thread's rows are
// consecutive, so no block is computed twice and none is wasted except at the end of its range.
class ByteStream {
 public:
  ByteStream(u64 seed, u64 stream) : seed_(seed), stream_(stream) {}

  // Copy bytes j .. j + count - 1 to dst.
  void read(u64 j, std::uint8_t* dst, std::int64_t count) {
    if (j != at_) {  // not where the last read ended: restart at the block holding byte j
      next_ = j >> 4;
      refill();
      pos_ = static_cast<int>(j & 15);
      at_ = j;
    }
    while (count > 0) {
      if (pos_ == kBytes) refill();
      const std::int64_t n = count < kBytes - pos_ ? count : kBytes - pos_;
      std::memcpy(dst, buf_ + pos_, static_cast<size_t>(n));
      dst += n;
      count -= n;
      pos_ += static_cast<int>(n);
      at_ += static_cast<u64>(n);
    }
  }

 private:
  static constexpr int kBytes = 16 * philox16::kLanes;

  void refill() {
    u64 ctr[philox16::kLanes], r0[philox16::kLanes], r1[philox16::kLanes];
    for (int l = 0; l < philox16::kLanes; ++l) ctr[l] = next_ + static_cast<u64>(l);
    philox16::philox_lanes(seed_, stream_, ctr, r0, r1);
    for (int l = 0; l < philox16::kLanes; ++l) {  // bytes of v0..v3, little-endian
      for (int k = 0; k < 8; ++k) {
        buf_[16 * l + k] = static_cast<std::uint8_t>(r0[l] >> (8 * k));
        buf_[16 * l + 8 + k] = static_cast<std::uint8_t>(r1[l] >> (8 * k));
      }
    }
    next_ += philox16::kLanes;
    pos_ = 0;
  }

  u64 seed_, stream_;
  u64 next_ = 0;          // first block not yet drawn
  u64 at_ = ~u64(0);      // byte index of buf_[pos_]
  int pos_ = kBytes;
  std::uint8_t buf_[kBytes];
};

// Square lattice, uniform couplings, checkerboard colour c: position j in the colour list is
// row y = j / (lx/2), column x = 2 (j mod lx/2) + ((y + c) & 1) (raster order of that colour).
// Row by row with branch-free, vectorisable loops; the random bytes of consecutive positions are
// the bytes of consecutive Philox blocks (lane order = little-endian byte order).  Ties of the
// top 8 bits are resolved exactly by decide().  Same lattice as the generic path.
PHYSDL_CLONES
void square_row(std::int8_t* __restrict s, std::int64_t ly, std::int64_t lx, std::int64_t y, int c, int update,
                const u64* table, const std::uint8_t* top8, u64 seed, u64 stream, ByteStream& rnd,
                std::uint8_t* __restrict rb,
                std::uint8_t* __restrict key, std::uint8_t* __restrict acc, std::uint8_t* __restrict tie) {
  const std::int64_t half = lx / 2, p = (y + c) & 1;
  std::int8_t* row = s + y * lx;
  const std::int8_t* up = s + (y == 0 ? ly - 1 : y - 1) * lx;
  const std::int8_t* dn = s + (y == ly - 1 ? 0 : y + 1) * lx;
  // random bytes of positions j0 .. j0 + half - 1
  const std::int64_t j0 = y * half;
  rnd.read(static_cast<u64>(j0), rb, half);
  const std::uint8_t* r = rb;
  // class key: (s > 0) * 5 + (sum + 4) / 2 for Metropolis, (sum + 4) / 2 for heat bath
  const int met = update == kMetropolis;
  auto keyof = [&](std::int64_t x, std::int64_t xl, std::int64_t xr) {
    const int sum = up[x] + dn[x] + row[xl] + row[xr];
    return static_cast<std::uint8_t>((met & (row[x] > 0)) * 5 + ((sum + 4) >> 1));
  };
  key[0] = keyof(p, p == 0 ? lx - 1 : p - 1, p + 1 == lx ? 0 : p + 1);
  for (std::int64_t m = 1; m < half - 1; ++m) {
    const std::int64_t x = 2 * m + p;
    const int sum = up[x] + dn[x] + row[x - 1] + row[x + 1];
    key[m] = static_cast<std::uint8_t>((met & (row[x] > 0)) * 5 + ((sum + 4) >> 1));
  }
  if (half > 1) {
    const std::int64_t x = 2 * (half - 1) + p;
    key[half - 1] = keyof(x, x - 1, x + 1 == lx ? 0 : x + 1);
  }
  // top8[key] as a select chain over the (at most 10) keys: vectorises to compares and blends,
  // where a table lookup would be an element-by-element gather
  std::uint8_t tb[10];
  for (int i = 0; i < 10; ++i) tb[i] = top8[i];
  int ties = 0;
  for (std::int64_t m = 0; m < half; ++m) {
    const std::uint8_t k = key[m];
    std::uint8_t t = tb[0];
    for (int i = 1; i < 10; ++i) {
      const std::uint8_t sel = static_cast<std::uint8_t>(0 - static_cast<int>(k == i));
      t = static_cast<std::uint8_t>((tb[i] & sel) | (t & ~sel));
    }
    acc[m] = r[m] < t;
    tie[m] = r[m] == t;
    ties |= tie[m];
  }
  if (ties) {  // a tie has probability 1/256: visit only the flagged spins, skipping 8 flags at a time
    for (std::int64_t m0 = 0; m0 < half; m0 += 8) {
      u64 flags;
      std::memcpy(&flags, tie + m0, 8);  // tie is zero-padded past half
      if (flags == 0) continue;
      for (std::int64_t m = m0; m < m0 + 8 && m < half; ++m) {
        if (tie[m]) acc[m] = decide(r[m], table[key[m]], seed, stream, static_cast<u64>(j0 + m));
      }
    }
  }
  if (met) {
    for (std::int64_t m = 0; m < half; ++m) {
      const std::int64_t x = 2 * m + p;
      row[x] = static_cast<std::int8_t>(row[x] * (1 - 2 * acc[m]));
    }
  } else {
    for (std::int64_t m = 0; m < half; ++m) row[2 * m + p] = static_cast<std::int8_t>(2 * acc[m] - 1);
  }
}

void colour_pass_square(std::int8_t* s, const Graph& g, int update, const u64* table, u64 seed, u64 stream,
                        int c) {
  const std::int64_t ly = g.sq_ly, lx = g.sq_lx, half = lx / 2;
  std::uint8_t top8[10] = {0};
  const int ncls = update == kMetropolis ? 10 : 5;
  for (int i = 0; i < ncls; ++i) {
    const u64 t = table[i] >> 45;
    top8[i] = static_cast<std::uint8_t>(t > 255 ? 255 : t);
  }
#pragma omp parallel if (ly * lx > 65536)
  {
    ByteStream rnd(seed, stream);
    std::vector<std::uint8_t> rb(static_cast<size_t>(half)), key(static_cast<size_t>(half)),
        acc(static_cast<size_t>(half)), tie(static_cast<size_t>(half + 8), 0);
#pragma omp for schedule(static)
    for (std::int64_t y = 0; y < ly; ++y) {
      square_row(s, ly, lx, y, c, update, table, top8, seed, stream, rnd, rb.data(), key.data(), acc.data(), tie.data());
    }
  }
}

}  // namespace

void byte_sweeps(std::int8_t* s, const Graph& g, int update, double beta, const std::uint64_t* table,
                 std::uint64_t seed, std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
                 std::int64_t measure_every, double* energy, std::int64_t* mag, Control* ctl) {
  for (std::int64_t t = 0; t < nsweeps; ++t) {
    const u64 sweep = sweep0 + static_cast<u64>(t);
    for (int c = 0; c < g.ncol; ++c) {
      const u64 stream = (chain << 40) | (sweep * static_cast<u64>(g.ncol) + static_cast<u64>(c));
      const std::int64_t begin = g.col_off[c], count = g.col_off[c + 1] - g.col_off[c];
      if (g.uniform && g.sq_ly > 0 && g.ncol == 2) {
        colour_pass_square(s, g, update, table, seed, stream, c);
      } else if (g.uniform) {
        colour_pass<true>(s, g, update, beta, table, seed, stream, begin, count);
      } else {
        colour_pass<false>(s, g, update, beta, table, seed, stream, begin, count);
      }
    }
    if (measure_every > 0 && (t + 1) % measure_every == 0) {
      const std::int64_t m = (t + 1) / measure_every - 1;
      byte_measure(s, g, energy[m], mag[m]);
    }
    if (ctl && ctl->after_sweep()) return;
  }
}

}  // namespace physdl::lattice
