// Byte-storage Ising kernels on any periodic graph in the C API (physdl/capi/capi.h, version 4):
// checkerboard / colour-ordered Metropolis and heat bath, Wolff, Swendsen-Wang, measurement; the
// graph arrays are checked as the Python binding checks them (csrc/bindings/lattice.cpp make_graph).
#include <cmath>
#include <cstdint>
#include <limits>

#include "physdl/capi/capi.h"
#include "physdl/lattice/lattice.hpp"

namespace {
namespace L = physdl::lattice;

constexpr std::uint64_t kAddr = std::uint64_t(1) << 39;  // the kernels' random-number address space

int make_graph(const physdl_graph* pg, L::Graph& g) {
  if (pg == nullptr) return PHYSDL_ERR_NULL;
  const physdl_graph& a = *pg;
  if (a.n < 1 || a.n > std::numeric_limits<std::int32_t>::max() || a.z < 1 || a.z > 64 || a.ncol < 1 ||
      a.ncol > a.n)
    return PHYSDL_ERR_SIZE;
  if (a.nbr == nullptr || a.order == nullptr || a.col_off == nullptr) return PHYSDL_ERR_NULL;
  if (a.uniform != 0 && a.uniform != 1) return PHYSDL_ERR_ENUM;
  const std::int64_t nz = a.n * a.z;
  for (std::int64_t k = 0; k < nz; ++k)
    if (a.nbr[k] < 0 || a.nbr[k] >= a.n) return PHYSDL_ERR_VALUE;
  for (std::int64_t k = 0; k < a.n; ++k)
    if (a.order[k] < 0 || a.order[k] >= a.n) return PHYSDL_ERR_VALUE;
  if (a.col_off[0] != 0 || a.col_off[a.ncol] != a.n) return PHYSDL_ERR_VALUE;
  for (int c = 0; c < a.ncol; ++c)
    if (a.col_off[c + 1] < a.col_off[c]) return PHYSDL_ERR_VALUE;
  if (a.uniform) {
    if (!std::isfinite(a.J0) || !std::isfinite(a.h0)) return PHYSDL_ERR_VALUE;
  } else {
    if (a.J == nullptr || a.h == nullptr) return PHYSDL_ERR_NULL;
    for (std::int64_t k = 0; k < nz; ++k)
      if (!std::isfinite(a.J[k])) return PHYSDL_ERR_VALUE;
    for (std::int64_t k = 0; k < a.n; ++k)
      if (!std::isfinite(a.h[k])) return PHYSDL_ERR_VALUE;
  }
  g.n = a.n;
  g.z = a.z;
  g.nbr = a.nbr;
  g.uniform = a.uniform == 1;
  g.J0 = a.uniform ? a.J0 : 0.0;
  g.h0 = a.uniform ? a.h0 : 0.0;
  g.J = a.uniform ? nullptr : a.J;
  g.h = a.uniform ? nullptr : a.h;
  g.order = a.order;
  g.col_off = a.col_off;
  g.ncol = a.ncol;
  g.sq_ly = g.sq_lx = 0;  // the generic path
  return PHYSDL_OK;
}

int check_spins(const std::int8_t* s, std::size_t len, std::int64_t n) {
  if (s == nullptr) return PHYSDL_ERR_NULL;
  if (len < static_cast<std::uint64_t>(n)) return PHYSDL_ERR_SHORT;
  for (std::int64_t i = 0; i < n; ++i)
    if (s[i] != 1 && s[i] != -1) return PHYSDL_ERR_VALUE;
  return PHYSDL_OK;
}

int check_out(std::int64_t nsweeps, std::int64_t every, const double* energy, std::size_t energy_len,
              const std::int64_t* mag, std::size_t mag_len) {
  if (nsweeps < 0 || every < 0) return PHYSDL_ERR_SIZE;
  const std::int64_t need = every > 0 ? nsweeps / every : 0;
  if (need > 0 && (energy == nullptr || mag == nullptr)) return PHYSDL_ERR_NULL;
  if (static_cast<std::uint64_t>(need) > energy_len || static_cast<std::uint64_t>(need) > mag_len)
    return PHYSDL_ERR_SHORT;
  return PHYSDL_OK;
}

bool beta_ok(double beta) { return std::isfinite(beta) && beta >= 0; }

template <class F>
int guarded(F&& f) {
  try {
    f();
    return PHYSDL_OK;
  } catch (...) {
    return PHYSDL_ERR_INTERNAL;
  }
}

std::uint64_t fixed(double p) {
  if (!(p < 1.0)) return L::kFixedOne;
  if (!(p > 0.0)) return 0;
  return static_cast<std::uint64_t>(std::ceil(p * 9007199254740992.0));
}
}  // namespace

extern "C" {

int physdl_graph_table(int update, int z, double beta, double J, double h, uint64_t* out, size_t out_len,
                       size_t* written) {
  if (update != PHYSDL_METROPOLIS && update != PHYSDL_HEAT_BATH) return PHYSDL_ERR_ENUM;
  if (z < 1 || z > 64) return PHYSDL_ERR_SIZE;
  if (!beta_ok(beta) || !std::isfinite(J) || !std::isfinite(h)) return PHYSDL_ERR_VALUE;
  const std::size_t need = 2 * static_cast<std::size_t>(z + 1);
  if (out == nullptr) return PHYSDL_ERR_NULL;
  if (out_len < need) return PHYSDL_ERR_SHORT;
  for (int k = 0; k <= z; ++k) {  // as physdl.lattice.simulation._byte_table: sums -z, -z + 2, ..., z
    const double sum = -z + 2.0 * k;
    if (update == PHYSDL_METROPOLIS) {
      out[k] = fixed(std::exp(-beta * 2.0 * -1.0 * (J * sum + h)));
      out[z + 1 + k] = fixed(std::exp(-beta * 2.0 * 1.0 * (J * sum + h)));
    } else {
      out[k] = fixed(1.0 / (1.0 + std::exp(-2.0 * beta * (J * sum + h))));
      out[z + 1 + k] = 0;
    }
  }
  if (written) *written = need;
  return PHYSDL_OK;
}

int physdl_cluster_p_add(double beta, double J, uint64_t* p_add) {
  if (p_add == nullptr) return PHYSDL_ERR_NULL;
  if (!beta_ok(beta) || !std::isfinite(J)) return PHYSDL_ERR_VALUE;
  *p_add = fixed(1.0 - std::exp(-2.0 * beta * J));
  return PHYSDL_OK;
}

int physdl_graph_measure(const physdl_graph* graph, const int8_t* spins, size_t spins_len, double* energy,
                         int64_t* mag) {
  L::Graph g;
  if (int rc = make_graph(graph, g)) return rc;
  if (int rc = check_spins(spins, spins_len, g.n)) return rc;
  if (energy == nullptr || mag == nullptr) return PHYSDL_ERR_NULL;
  return guarded([&] { L::byte_measure(spins, g, *energy, *mag); });
}

int physdl_graph_sweeps(const physdl_graph* graph, int8_t* spins, size_t spins_len, int update, double beta,
                        const uint64_t* table, size_t table_len, uint64_t seed, uint64_t chain, uint64_t sweep0,
                        int64_t nsweeps, int64_t measure_every, double* energy, size_t energy_len, int64_t* mag,
                        size_t mag_len) {
  L::Graph g;
  if (int rc = make_graph(graph, g)) return rc;
  if (int rc = check_spins(spins, spins_len, g.n)) return rc;
  if (update != PHYSDL_METROPOLIS && update != PHYSDL_HEAT_BATH) return PHYSDL_ERR_ENUM;
  if (!beta_ok(beta)) return PHYSDL_ERR_VALUE;
  if (table == nullptr) return PHYSDL_ERR_NULL;
  if (table_len < 2 * static_cast<std::size_t>(g.z + 1)) return PHYSDL_ERR_SHORT;
  if (int rc = check_out(nsweeps, measure_every, energy, energy_len, mag, mag_len)) return rc;
  // as Simulation's budget: (sweep0 + nsweeps) * ncol < 2^39
  if (sweep0 >= kAddr || static_cast<std::uint64_t>(nsweeps) >= kAddr ||
      sweep0 + static_cast<std::uint64_t>(nsweeps) > (kAddr - 1) / static_cast<std::uint64_t>(g.ncol))
    return PHYSDL_ERR_SIZE;
  if (nsweeps == 0) return PHYSDL_OK;
  return guarded([&] {
    L::byte_sweeps(spins, g, update, beta, table, seed, chain, sweep0, nsweeps, measure_every, energy, mag, nullptr);
  });
}

int physdl_graph_wolff_sweeps(const physdl_graph* graph, int8_t* spins, size_t spins_len, double beta,
                              uint64_t p_add, uint64_t seed, uint64_t chain, uint64_t cluster0,
                              int64_t clusters_per_sweep, int64_t nsweeps, int64_t measure_every, double* energy,
                              size_t energy_len, int64_t* mag, size_t mag_len, int64_t* flipped,
                              size_t flipped_len, uint64_t* next_cluster) {
  L::Graph g;
  if (int rc = make_graph(graph, g)) return rc;
  if (int rc = check_spins(spins, spins_len, g.n)) return rc;
  if (!beta_ok(beta) || p_add > L::kFixedOne) return PHYSDL_ERR_VALUE;
  if (clusters_per_sweep < 1) return PHYSDL_ERR_SIZE;
  if (int rc = check_out(nsweeps, measure_every, energy, energy_len, mag, mag_len)) return rc;
  if (nsweeps > 0 && flipped == nullptr) return PHYSDL_ERR_NULL;
  if (static_cast<std::uint64_t>(nsweeps) > flipped_len) return PHYSDL_ERR_SHORT;
  if (cluster0 >= kAddr || static_cast<std::uint64_t>(nsweeps) >= kAddr ||
      static_cast<std::uint64_t>(clusters_per_sweep) >= kAddr ||
      (nsweeps > 0 &&  // as Simulation: cluster0 + nsweeps * clusters_per_sweep < 2^39
       static_cast<std::uint64_t>(clusters_per_sweep) > (kAddr - 1 - cluster0) / static_cast<std::uint64_t>(nsweeps)))
    return PHYSDL_ERR_SIZE;
  std::uint64_t next = cluster0;
  int rc = PHYSDL_OK;
  if (nsweeps > 0)
    rc = guarded([&] {
      next = L::wolff_sweeps(spins, g, beta, p_add, seed, chain, cluster0, clusters_per_sweep, nsweeps, measure_every,
                             energy, mag, flipped, nullptr);
    });
  if (rc == PHYSDL_OK && next_cluster) *next_cluster = next;
  return rc;
}

int physdl_graph_sw_sweeps(const physdl_graph* graph, int8_t* spins, size_t spins_len, double beta, uint64_t p_add,
                           uint64_t seed, uint64_t chain, uint64_t sweep0, int64_t nsweeps, int64_t measure_every,
                           double* energy, size_t energy_len, int64_t* mag, size_t mag_len) {
  L::Graph g;
  if (int rc = make_graph(graph, g)) return rc;
  if (int rc = check_spins(spins, spins_len, g.n)) return rc;
  if (!beta_ok(beta) || p_add > L::kFixedOne) return PHYSDL_ERR_VALUE;
  if (int rc = check_out(nsweeps, measure_every, energy, energy_len, mag, mag_len)) return rc;
  if (sweep0 >= kAddr || static_cast<std::uint64_t>(nsweeps) >= kAddr - sweep0) return PHYSDL_ERR_SIZE;
  if (nsweeps == 0) return PHYSDL_OK;
  return guarded([&] {
    L::sw_sweeps(spins, g, beta, p_add, seed, chain, sweep0, nsweeps, measure_every, energy, mag, nullptr);
  });
}

}  // extern "C"
