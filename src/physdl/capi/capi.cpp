// The C API of physdl/capi/capi.h: argument checks, then the core's kernels (no logic of its own).
#include "physdl/capi/capi.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <new>

#include "physdl/lattice/lattice.hpp"
#include "physdl/lattice/multispin.hpp"
#include "physdl/random/philox.hpp"
#include "physdl/random/random.hpp"

namespace {
namespace L = physdl::lattice;
namespace R = physdl::random;

// Largest side accepted: keeps ly * lx and 2 * ly * words far from overflow.
constexpr std::int64_t kMaxSide = std::int64_t(1) << 30;

template <class T>
int check_fill(const T* out, std::size_t out_len, std::size_t n) {
  if (n == 0) return PHYSDL_OK;
  if (out == nullptr) return PHYSDL_ERR_NULL;
  if (out_len < n) return PHYSDL_ERR_SHORT;
  return PHYSDL_OK;
}

bool good_shape(std::int64_t ly, std::int64_t lx) {
  return ly >= 2 && lx >= 2 && ly % 2 == 0 && lx % 2 == 0 && ly <= kMaxSide && lx <= kMaxSide &&
         ly <= std::numeric_limits<std::int64_t>::max() / lx;
}

int check_sweep_out(std::int64_t nsweeps, std::int64_t every, const double* energy, std::size_t energy_len,
                    const std::int64_t* mag, std::size_t mag_len) {
  if (nsweeps < 0 || every < 0) return PHYSDL_ERR_SIZE;
  const std::int64_t need = every > 0 ? nsweeps / every : 0;
  if (need > 0 && (energy == nullptr || mag == nullptr)) return PHYSDL_ERR_NULL;
  if (static_cast<std::uint64_t>(need) > energy_len || static_cast<std::uint64_t>(need) > mag_len)
    return PHYSDL_ERR_SHORT;
  return PHYSDL_OK;
}

bool is_finite(double x) { return std::isfinite(x); }

// ceil(p 2^53) clamped to [0, 2^53], as physdl.lattice.simulation._fixed.
std::uint64_t fixed(double p) {
  if (!(p < 1.0)) return L::kFixedOne;
  if (!(p > 0.0)) return 0;
  return static_cast<std::uint64_t>(std::ceil(p * 9007199254740992.0));
}

// The square lattice in row-major order as the table-free byte kernel sees it.
struct Square {
  std::int64_t col_off[3];
  std::int32_t none[1] = {0};
  L::Graph g;
  Square(std::int64_t ly, std::int64_t lx, double J, double h) {
    const std::int64_t n = ly * lx;
    col_off[0] = 0;
    col_off[1] = n / 2;
    col_off[2] = n;
    g.n = n;
    g.z = 4;
    g.nbr = none;
    g.uniform = true;
    g.J0 = J;
    g.h0 = h;
    g.order = none;
    g.col_off = col_off;
    g.ncol = 2;
    g.sq_ly = ly;
    g.sq_lx = lx;
  }
};

int check_byte(const std::int8_t* s, std::size_t len, std::int64_t ly, std::int64_t lx) {
  if (!good_shape(ly, lx)) return PHYSDL_ERR_SIZE;
  if (s == nullptr) return PHYSDL_ERR_NULL;
  if (len < static_cast<std::uint64_t>(ly * lx)) return PHYSDL_ERR_SHORT;
  for (std::int64_t i = 0; i < ly * lx; ++i)
    if (s[i] != 1 && s[i] != -1) return PHYSDL_ERR_VALUE;
  return PHYSDL_OK;
}

int check_words(const std::uint64_t* w, std::size_t len, std::int64_t ly, std::int64_t lx) {
  if (!good_shape(ly, lx)) return PHYSDL_ERR_SIZE;
  if (w == nullptr) return PHYSDL_ERR_NULL;
  if (len < physdl_multispin_words_len(ly, lx)) return PHYSDL_ERR_SHORT;
  return PHYSDL_OK;
}

template <class F>
int guarded(F&& f) {
  try {
    f();
    return PHYSDL_OK;
  } catch (...) {
    return PHYSDL_ERR_INTERNAL;
  }
}
}  // namespace

extern "C" {

int physdl_philox_block(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter, std::uint32_t* out,
                        std::size_t out_len) {
  if (out == nullptr) return PHYSDL_ERR_NULL;
  if (out_len < 4) return PHYSDL_ERR_SHORT;
  const R::Philox4x32 b = R::philox_block(seed, stream, counter);
  out[0] = b.v[0];
  out[1] = b.v[1];
  out[2] = b.v[2];
  out[3] = b.v[3];
  return PHYSDL_OK;
}

int physdl_fill_uint32(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, std::uint32_t* out,
                       std::size_t out_len, std::size_t n) {
  if (int rc = check_fill(out, out_len, n)) return rc;
  return n ? guarded([&] { R::fill_uint32(seed, stream, offset, out, n); }) : PHYSDL_OK;
}

int physdl_fill_uniform_float(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, float* out,
                              std::size_t out_len, std::size_t n) {
  if (int rc = check_fill(out, out_len, n)) return rc;
  return n ? guarded([&] { R::fill_uniform_float(seed, stream, offset, out, n); }) : PHYSDL_OK;
}

int physdl_fill_uniform_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, double* out,
                               std::size_t out_len, std::size_t n) {
  if (int rc = check_fill(out, out_len, n)) return rc;
  return n ? guarded([&] { R::fill_uniform_double(seed, stream, offset, out, n); }) : PHYSDL_OK;
}

int physdl_fill_normal_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, double* out,
                              std::size_t out_len, std::size_t n) {
  if (int rc = check_fill(out, out_len, n)) return rc;
  return n ? guarded([&] { R::fill_normal_double(seed, stream, offset, out, n); }) : PHYSDL_OK;
}

int physdl_lattice_table(int multispin, int update, double beta, double J, double h, std::uint64_t* out,
                         std::size_t out_len, std::size_t* written) {
  if (update != PHYSDL_METROPOLIS && update != PHYSDL_HEAT_BATH) return PHYSDL_ERR_ENUM;
  if (multispin != 0 && multispin != 1) return PHYSDL_ERR_ENUM;
  if (!is_finite(beta) || !is_finite(J) || !is_finite(h) || beta < 0) return PHYSDL_ERR_VALUE;
  const std::size_t need = (multispin && update == PHYSDL_HEAT_BATH) ? 5 : 10;
  if (out == nullptr) return PHYSDL_ERR_NULL;
  if (out_len < need) return PHYSDL_ERR_SHORT;
  if (multispin) {  // as simulation._multispin_table
    if (update == PHYSDL_METROPOLIS) {
      for (int si = 0; si < 2; ++si)
        for (int a = 0; a < 5; ++a)
          out[si * 5 + a] = fixed(std::exp(-beta * (2.0 * J * (4.0 - 2.0 * a) + 2.0 * h * (si ? 1.0 : -1.0))));
    } else {
      for (int a = 0; a < 5; ++a) out[a] = fixed(1.0 / (1.0 + std::exp(-2.0 * beta * (J * (2.0 * a - 4.0) + h))));
    }
  } else {  // as simulation._byte_table with z = 4: sums -4, -2, ..., 4
    for (int k = 0; k < 5; ++k) {
      const double sum = -4.0 + 2.0 * k;
      if (update == PHYSDL_METROPOLIS) {
        out[k] = fixed(std::exp(-beta * 2.0 * -1.0 * (J * sum + h)));
        out[5 + k] = fixed(std::exp(-beta * 2.0 * 1.0 * (J * sum + h)));
      } else {
        out[k] = fixed(1.0 / (1.0 + std::exp(-2.0 * beta * (J * sum + h))));
        out[5 + k] = 0;
      }
    }
  }
  if (written) *written = need;
  return PHYSDL_OK;
}

std::size_t physdl_multispin_words_len(std::int64_t ly, std::int64_t lx) {
  if (!good_shape(ly, lx)) return 0;
  return static_cast<std::size_t>(2 * ly) * static_cast<std::size_t>(L::multispin::words_per_row(lx));
}

int physdl_multispin_sweeps(std::uint64_t* words, std::size_t words_len, std::int64_t ly, std::int64_t lx,
                            int update, const std::uint64_t* table, std::size_t table_len, double J, double h,
                            std::uint64_t seed, std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
                            std::int64_t measure_every, double* energy, std::size_t energy_len, std::int64_t* mag,
                            std::size_t mag_len) {
  if (int rc = check_words(words, words_len, ly, lx)) return rc;
  if (update != PHYSDL_METROPOLIS && update != PHYSDL_HEAT_BATH) return PHYSDL_ERR_ENUM;
  if (table == nullptr) return PHYSDL_ERR_NULL;
  if (table_len < (update == PHYSDL_METROPOLIS ? 10u : 5u)) return PHYSDL_ERR_SHORT;
  if (!is_finite(J) || !is_finite(h)) return PHYSDL_ERR_VALUE;
  if (int rc = check_sweep_out(nsweeps, measure_every, energy, energy_len, mag, mag_len)) return rc;
  if (nsweeps == 0) return PHYSDL_OK;
  return guarded([&] {
    L::multispin_sweeps(words, ly, lx, update, table, J, h, seed, chain, sweep0, nsweeps, measure_every, energy,
                        mag, nullptr);
  });
}

int physdl_byte_sweeps(std::int8_t* spins, std::size_t spins_len, std::int64_t ly, std::int64_t lx, int update,
                       const std::uint64_t* table, std::size_t table_len, double J, double h, std::uint64_t seed,
                       std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps, std::int64_t measure_every,
                       double* energy, std::size_t energy_len, std::int64_t* mag, std::size_t mag_len) {
  if (int rc = check_byte(spins, spins_len, ly, lx)) return rc;
  if (update != PHYSDL_METROPOLIS && update != PHYSDL_HEAT_BATH) return PHYSDL_ERR_ENUM;
  if (table == nullptr) return PHYSDL_ERR_NULL;
  if (table_len < 10u) return PHYSDL_ERR_SHORT;
  if (!is_finite(J) || !is_finite(h)) return PHYSDL_ERR_VALUE;
  if (int rc = check_sweep_out(nsweeps, measure_every, energy, energy_len, mag, mag_len)) return rc;
  if (nsweeps == 0) return PHYSDL_OK;
  Square sq(ly, lx, J, h);
  // beta enters the byte kernel only through the table for uniform couplings.
  return guarded([&] {
    L::byte_sweeps(spins, sq.g, update, 0.0, table, seed, chain, sweep0, nsweeps, measure_every, energy, mag,
                   nullptr);
  });
}

int physdl_multispin_measure(const std::uint64_t* words, std::size_t words_len, std::int64_t ly, std::int64_t lx,
                             double J, double h, double* energy, std::int64_t* mag) {
  if (int rc = check_words(words, words_len, ly, lx)) return rc;
  if (energy == nullptr || mag == nullptr) return PHYSDL_ERR_NULL;
  return guarded([&] { L::multispin_measure(words, ly, lx, J, h, *energy, *mag); });
}

int physdl_byte_measure(const std::int8_t* spins, std::size_t spins_len, std::int64_t ly, std::int64_t lx, double J,
                        double h, double* energy, std::int64_t* mag) {
  if (int rc = check_byte(spins, spins_len, ly, lx)) return rc;
  if (energy == nullptr || mag == nullptr) return PHYSDL_ERR_NULL;
  Square sq(ly, lx, J, h);
  return guarded([&] { L::byte_measure(spins, sq.g, *energy, *mag); });
}

const physdl_capi* physdl_capi_table(void) {
  static const physdl_capi table = {
      PHYSDL_CAPI_VERSION,        physdl_philox_block,     physdl_fill_uint32,
      physdl_fill_uniform_float,  physdl_fill_uniform_double, physdl_fill_normal_double,
      physdl_lattice_table,       physdl_multispin_words_len, physdl_multispin_sweeps,
      physdl_byte_sweeps,         physdl_multispin_measure, physdl_byte_measure,
      // version 2
      physdl_nn_sizes,            physdl_nn_forward_f64,   physdl_nn_forward_f32,
      physdl_nn_train_step_f64,   physdl_nn_train_step_f32,
      // version 3
      physdl_rbm_gibbs_f64,       physdl_rbm_gibbs_f32,    physdl_hopfield_async,
      physdl_lasso_solve,         physdl_vmc_local_energy, physdl_tn_sizes,
      physdl_tn_input_size,       physdl_tn_execute_f64,   physdl_tn_execute_f32,
      // version 4
      physdl_graph_table,         physdl_cluster_p_add,    physdl_graph_measure,
      physdl_graph_sweeps,        physdl_graph_wolff_sweeps, physdl_graph_sw_sweeps,
      // version 5
      physdl_lasso_solve_stop,
  };
  return &table;
}

}  // extern "C"
