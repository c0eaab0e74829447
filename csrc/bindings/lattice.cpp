// Bindings of the lattice kernels: unpack arrays, guard sizes and indices, call the core.
#include <cstdint>
#include <string>

#include "common.hpp"
#include "physdl/lattice/lattice.hpp"
#include "physdl/lattice/multispin.hpp"

namespace physdl::bindings {

namespace {

using physdl::lattice::Graph;


// scan_indices = false only where the kernel provably reads neither nbr nor order (the
// table-free square path); sizes are always checked.
Graph make_graph(std::int64_t n, const carray<std::int32_t>& nbr, bool uniform, double J0, double h0,
                 const carray<double>& J, const carray<double>& h, const carray<std::int32_t>& order,
                 const carray<std::int64_t>& col_off, bool scan_indices = true) {
  if (n <= 0) throw py::value_error("spins must not be empty");
  if (nbr.ndim() != 2 || (scan_indices && nbr.shape(0) != n)) throw py::value_error("nbr must have shape (n, z)");
  Graph g;
  g.n = n;
  g.z = static_cast<int>(nbr.shape(1));
  g.nbr = nbr.data();
  const std::int64_t nz = scan_indices ? n * g.z : 0;
  for (std::int64_t k = 0; scan_indices && k < nz; ++k) {
    if (g.nbr[k] < 0 || g.nbr[k] >= n) throw py::value_error("nbr holds an index outside [0, n)");
  }
  g.uniform = uniform;
  g.J0 = J0;
  g.h0 = h0;
  if (!uniform) {
    if (J.size() != n * g.z) throw py::value_error("J must hold n * z couplings");
    if (h.size() != n) throw py::value_error("h must hold n fields");
    g.J = J.data();
    g.h = h.data();
  }
  if (scan_indices && order.size() != n) throw py::value_error("order must hold n sites");
  g.order = order.data();
  for (std::int64_t k = 0; scan_indices && k < n; ++k) {
    if (g.order[k] < 0 || g.order[k] >= n) throw py::value_error("order holds an index outside [0, n)");
  }
  if (col_off.size() < 2) throw py::value_error("col_off must hold ncol + 1 offsets");
  g.ncol = static_cast<int>(col_off.size() - 1);
  g.col_off = col_off.data();
  if (g.col_off[0] != 0 || g.col_off[g.ncol] != n) throw py::value_error("col_off must run from 0 to n");
  for (int c = 0; c < g.ncol; ++c) {
    if (g.col_off[c + 1] < g.col_off[c]) throw py::value_error("col_off must be non-decreasing");
  }
  return g;
}

// The table-free square path (uniform couplings, row-major ly x lx, two colours of n/2 sites)
// reads neither nbr nor order, so they may be empty there.
bool square_args(bool uniform, std::int64_t sq_ly, std::int64_t sq_lx) {
  if (sq_ly == 0 && sq_lx == 0) return false;
  if (!uniform) throw py::value_error("the square fast path needs uniform couplings");
  return true;
}

void set_square(Graph& g, std::int64_t sq_ly, std::int64_t sq_lx) {
  if (sq_ly == 0 && sq_lx == 0) return;
  if (sq_ly < 2 || sq_lx < 2 || sq_ly % 2 || sq_lx % 2 || sq_ly * sq_lx != g.n || g.ncol != 2 || g.z != 4 ||
      g.col_off[1] != g.n / 2) {
    throw py::value_error("square fast path needs even ly, lx with ly * lx = n, z = 4 and two colours");
  }
  g.sq_ly = sq_ly;
  g.sq_lx = sq_lx;
}

// Every spin of a byte configuration must be +1 or -1: the kernels index tables by neighbour sums
// and grow cluster stacks by spin equality, both of which assume it.
void check_spins(const carray<std::int8_t>& s) {
  const std::int8_t* p = s.data();
  const std::int64_t n = s.size();
  std::int64_t bad = 0;
  for (std::int64_t i = 0; i < n; ++i) bad += (p[i] != 1) & (p[i] != -1);
  if (bad) throw py::value_error("spins must hold only +1 and -1 (found " + std::to_string(bad) + " other values)");
}

// The kernel's control block: Python signals polled every 2 ms between sweeps; with `counters`
// (a writeable int64 array of 3: sweeps done, next Wolff cluster, spins flipped) the kernel
// advances them after each sweep, together with the state.
physdl::lattice::Control make_control(const py::object& counters, bool wolff = false) {
  physdl::lattice::Control c;
  c.stop = poll_signals;
  if (counters.is_none()) return c;
  if (!py::isinstance<py::array>(counters)) throw py::type_error("counters must be an int64 array of 3");
  auto a = py::reinterpret_borrow<py::array>(counters);
  if (!a.dtype().is(py::dtype::of<std::int64_t>()) || a.ndim() != 1 || a.shape(0) < 3 ||
      !(a.flags() & py::array::c_style) || !a.writeable()) {
    throw py::value_error("counters must be a writeable contiguous int64 array of 3");
  }
  auto* p = static_cast<std::int64_t*>(a.mutable_data());
  c.sweeps = p;
  if (wolff) {
    c.cluster = p + 1;
    c.flipped = p + 2;
  }
  return c;
}

void check_out(std::int64_t nsweeps, std::int64_t every, const carray<double>& e,
               const carray<std::int64_t>& m) {
  if (nsweeps < 0) throw py::value_error("nsweeps must be >= 0");
  const std::int64_t need = every > 0 ? nsweeps / every : 0;
  if (e.size() < need || m.size() < need) throw py::value_error("energy/mag outputs are too short");
}

}  // namespace

void register_lattice(py::module_& root) {
  auto m = root.def_submodule("lattice", "lattice kernels");
  namespace L = physdl::lattice;

  m.def(
      "byte_measure",
      [](carray<std::int8_t> s, carray<std::int32_t> nbr, bool uniform, double J0, double h0, carray<double> J,
         carray<double> h, carray<std::int32_t> order, carray<std::int64_t> col_off, std::int64_t sq_ly,
         std::int64_t sq_lx) {
        Graph g = make_graph(s.size(), nbr, uniform, J0, h0, J, h, order, col_off, !square_args(uniform, sq_ly, sq_lx));
        set_square(g, sq_ly, sq_lx);
        check_spins(s);
        double e = 0;
        std::int64_t mag = 0;
        {
          py::gil_scoped_release nogil;
          L::byte_measure(s.data(), g, e, mag);
        }
        return py::make_tuple(e, mag);
      },
      py::arg("spins"), py::arg("nbr"), py::arg("uniform"), py::arg("J0"), py::arg("h0"), py::arg("J"),
      py::arg("h"), py::arg("order"), py::arg("col_off"), py::arg("square_ly") = 0, py::arg("square_lx") = 0);

  m.def(
      "byte_sweeps",
      [](carray<std::int8_t> s, carray<std::int32_t> nbr, bool uniform, double J0, double h0, carray<double> J,
         carray<double> h, carray<std::int32_t> order, carray<std::int64_t> col_off, int update, double beta,
         carray<std::uint64_t> table, std::uint64_t seed, std::uint64_t chain, std::uint64_t sweep0,
         std::int64_t nsweeps, std::int64_t every, carray<double> energy, carray<std::int64_t> mag,
         std::int64_t sq_ly, std::int64_t sq_lx, py::object counters) {
        auto* sp = mutable_data(s, "spins");
        Graph g = make_graph(s.size(), nbr, uniform, J0, h0, J, h, order, col_off, !square_args(uniform, sq_ly, sq_lx));
        set_square(g, sq_ly, sq_lx);
        check_spins(s);
        if (update != L::kMetropolis && update != L::kHeatBath) throw py::value_error("unknown update");
        if (uniform && table.size() < 2 * (g.z + 1)) throw py::value_error("table too short");
        check_out(nsweeps, every, energy, mag);
        auto* ep = mutable_data(energy, "energy");
        auto* mp = mutable_data(mag, "mag");
        auto ctl = make_control(counters);
        {
          py::gil_scoped_release nogil;
          L::byte_sweeps(sp, g, update, beta, table.data(), seed, chain, sweep0, nsweeps, every, ep, mp, &ctl);
        }
        if (ctl.stopped) throw py::error_already_set();
      },
      py::arg("spins"), py::arg("nbr"), py::arg("uniform"), py::arg("J0"), py::arg("h0"), py::arg("J"),
      py::arg("h"), py::arg("order"), py::arg("col_off"), py::arg("update"), py::arg("beta"), py::arg("table"),
      py::arg("seed"), py::arg("chain"), py::arg("sweep0"), py::arg("nsweeps"), py::arg("measure_every"),
      py::arg("energy"), py::arg("mag"), py::arg("square_ly") = 0, py::arg("square_lx") = 0,
      py::arg("counters") = py::none());

  m.def(
      "wolff_sweeps",
      [](carray<std::int8_t> s, carray<std::int32_t> nbr, bool uniform, double J0, double h0, carray<double> J,
         carray<double> h, carray<std::int32_t> order, carray<std::int64_t> col_off, double beta,
         std::uint64_t p_add, std::uint64_t seed, std::uint64_t chain, std::uint64_t cluster0,
         std::int64_t per_sweep, std::int64_t nsweeps, std::int64_t every, carray<double> energy,
         carray<std::int64_t> mag, carray<std::int64_t> clusters, py::object counters) {
        auto* sp = mutable_data(s, "spins");
        const Graph g = make_graph(s.size(), nbr, uniform, J0, h0, J, h, order, col_off);
        check_spins(s);
        check_out(nsweeps, every, energy, mag);
        if (clusters.size() < nsweeps) throw py::value_error("flipped output is too short");
        if (per_sweep < 1) throw py::value_error("clusters_per_sweep must be >= 1");
        auto* ep = mutable_data(energy, "energy");
        auto* mp = mutable_data(mag, "mag");
        auto* cp = mutable_data(clusters, "clusters");
        auto ctl = make_control(counters, true);
        std::uint64_t next = 0;
        {
          py::gil_scoped_release nogil;
          next = L::wolff_sweeps(sp, g, beta, p_add, seed, chain, cluster0, per_sweep, nsweeps, every, ep, mp, cp, &ctl);
        }
        if (ctl.stopped) throw py::error_already_set();
        return next;
      },
      py::arg("spins"), py::arg("nbr"), py::arg("uniform"), py::arg("J0"), py::arg("h0"), py::arg("J"),
      py::arg("h"), py::arg("order"), py::arg("col_off"), py::arg("beta"), py::arg("p_add"), py::arg("seed"),
      py::arg("chain"), py::arg("cluster0"), py::arg("clusters_per_sweep"), py::arg("nsweeps"),
      py::arg("measure_every"), py::arg("energy"), py::arg("mag"), py::arg("flipped"),
      py::arg("counters") = py::none());

  m.def(
      "sw_sweeps",
      [](carray<std::int8_t> s, carray<std::int32_t> nbr, bool uniform, double J0, double h0, carray<double> J,
         carray<double> h, carray<std::int32_t> order, carray<std::int64_t> col_off, double beta,
         std::uint64_t p_add, std::uint64_t seed, std::uint64_t chain, std::uint64_t sweep0,
         std::int64_t nsweeps, std::int64_t every, carray<double> energy, carray<std::int64_t> mag,
         py::object counters) {
        auto* sp = mutable_data(s, "spins");
        const Graph g = make_graph(s.size(), nbr, uniform, J0, h0, J, h, order, col_off);
        check_spins(s);
        check_out(nsweeps, every, energy, mag);
        auto* ep = mutable_data(energy, "energy");
        auto* mp = mutable_data(mag, "mag");
        auto ctl = make_control(counters);
        {
          py::gil_scoped_release nogil;
          L::sw_sweeps(sp, g, beta, p_add, seed, chain, sweep0, nsweeps, every, ep, mp, &ctl);
        }
        if (ctl.stopped) throw py::error_already_set();
      },
      py::arg("spins"), py::arg("nbr"), py::arg("uniform"), py::arg("J0"), py::arg("h0"), py::arg("J"),
      py::arg("h"), py::arg("order"), py::arg("col_off"), py::arg("beta"), py::arg("p_add"), py::arg("seed"),
      py::arg("chain"), py::arg("sweep0"), py::arg("nsweeps"), py::arg("measure_every"), py::arg("energy"),
      py::arg("mag"), py::arg("counters") = py::none());

  m.def(
      "sample_configurations",
      [](carray<std::int8_t> s, carray<std::int32_t> nbr, bool uniform, double J0, double h0, carray<double> J,
         carray<double> h, carray<std::int32_t> order, carray<std::int64_t> col_off, int method, int update,
         double beta, carray<std::uint64_t> table, std::uint64_t p_add, std::uint64_t seed, std::uint64_t chain,
         std::uint64_t counter0, std::int64_t per_sweep, std::int64_t n_samples, std::int64_t every,
         carray<std::int8_t> out, carray<std::int64_t> flipped, std::int64_t sq_ly, std::int64_t sq_lx) {
        auto* sp = mutable_data(s, "spins");
        const bool local = method == L::kSampleLocal;
        if (method != L::kSampleLocal && method != L::kSampleWolff && method != L::kSampleSW)
          throw py::value_error("unknown sampling method");
        if (!local && (sq_ly || sq_lx)) throw py::value_error("the square fast path is for local updates only");
        Graph g = make_graph(s.size(), nbr, uniform, J0, h0, J, h, order, col_off,
                             !(local && square_args(uniform, sq_ly, sq_lx)));
        set_square(g, sq_ly, sq_lx);
        if (local && update != L::kMetropolis && update != L::kHeatBath) throw py::value_error("unknown update");
        if (local && uniform && table.size() < 2 * (g.z + 1)) throw py::value_error("table too short");
        if (n_samples < 0 || every < 1) throw py::value_error("n_samples must be >= 0 and every >= 1");
        if (out.size() != n_samples * g.n) throw py::value_error("out must hold n_samples * n spins");
        if (method == L::kSampleWolff) {
          if (per_sweep < 1) throw py::value_error("clusters_per_sweep must be >= 1");
          if (flipped.size() < n_samples * every) throw py::value_error("flipped must hold n_samples * every counts");
        }
        auto* op = mutable_data(out, "out");
        auto* fp = method == L::kSampleWolff ? mutable_data(flipped, "flipped") : nullptr;
        py::gil_scoped_release nogil;
        return L::sample_configurations(sp, g, method, update, beta, table.data(), p_add, seed, chain, counter0,
                                        per_sweep, n_samples, every, op, fp);
      },
      py::arg("spins"), py::arg("nbr"), py::arg("uniform"), py::arg("J0"), py::arg("h0"), py::arg("J"),
      py::arg("h"), py::arg("order"), py::arg("col_off"), py::arg("method"), py::arg("update"), py::arg("beta"),
      py::arg("table"), py::arg("p_add"), py::arg("seed"), py::arg("chain"), py::arg("counter0"),
      py::arg("clusters_per_sweep"), py::arg("n_samples"), py::arg("every"), py::arg("out"), py::arg("flipped"),
      py::arg("square_ly") = 0, py::arg("square_lx") = 0,
      "n_samples configurations `every` sweeps apart in one call (bit-for-bit the per-sample loop).");

  m.def(
      "tempering_rounds",
      [](carray<std::int8_t> states, carray<std::int32_t> nbr, bool uniform, double J0, double h0, carray<double> J,
         carray<double> h, carray<std::int32_t> order, carray<std::int64_t> col_off, int method, int update,
         carray<double> betas, carray<std::uint64_t> tables, carray<std::uint64_t> p_adds, std::uint64_t seed,
         carray<std::uint64_t> chains, carray<std::uint64_t> counters, carray<std::int64_t> per_sweep,
         std::int64_t n_rounds, std::int64_t burn_in, std::int64_t every, std::uint64_t round0,
         carray<double> uniforms, carray<double> energy, carray<std::int64_t> mag, carray<std::int64_t> accepted,
         carray<std::int64_t> attempted, carray<std::int64_t> flipped, carray<std::int8_t> configs,
         bool record_configs, std::int64_t sq_ly, std::int64_t sq_lx) {
        const std::int64_t R = betas.size();
        if (R < 2) throw py::value_error("betas must hold at least two temperatures");
        if (states.ndim() != 2 || states.shape(0) != R) throw py::value_error("states must have shape (R, n)");
        const std::int64_t n = states.shape(1);
        const bool local = method == L::kSampleLocal;
        if (method != L::kSampleLocal && method != L::kSampleWolff && method != L::kSampleSW)
          throw py::value_error("unknown sampling method");
        if (!local && (sq_ly || sq_lx)) throw py::value_error("the square fast path is for local updates only");
        Graph g = make_graph(n, nbr, uniform, J0, h0, J, h, order, col_off, !(local && square_args(uniform, sq_ly, sq_lx)));
        set_square(g, sq_ly, sq_lx);
        if (local && update != L::kMetropolis && update != L::kHeatBath) throw py::value_error("unknown update");
        const std::int64_t table_len = R > 0 ? tables.size() / R : 0;
        if (local && (tables.size() != R * table_len || (uniform && table_len < 2 * (g.z + 1))))
          throw py::value_error("tables must hold R tables of 2 (z + 1) thresholds");
        if (p_adds.size() != R || chains.size() != R || counters.size() != R || per_sweep.size() != R ||
            flipped.size() != R)
          throw py::value_error("p_adds, chains, counters, clusters_per_sweep and flipped must hold R values");
        if (method == L::kSampleWolff) {
          for (std::int64_t k = 0; k < R; ++k)
            if (per_sweep.data()[k] < 1) throw py::value_error("clusters_per_sweep must be >= 1");
        }
        if (n_rounds < 0 || burn_in < 0 || burn_in > n_rounds || every < 1)
          throw py::value_error("need 0 <= burn_in <= n_rounds and every >= 1");
        const std::int64_t kept = n_rounds - burn_in;
        if (uniforms.size() != n_rounds * R) throw py::value_error("uniforms must hold n_rounds * R values");
        if (energy.size() != R * kept || mag.size() != R * kept) throw py::value_error("energy/mag must hold R * kept");
        if (accepted.size() != R - 1 || attempted.size() != R - 1)
          throw py::value_error("accepted/attempted must hold R - 1 counts");
        if (record_configs && configs.size() != R * kept * n) throw py::value_error("configs must hold R * kept * n spins");
        auto* sp = mutable_data(states, "states");
        auto* cp = mutable_data(counters, "counters");
        auto* ep = mutable_data(energy, "energy");
        auto* mp = mutable_data(mag, "mag");
        auto* ap = mutable_data(accepted, "accepted");
        auto* tp = mutable_data(attempted, "attempted");
        auto* fp = mutable_data(flipped, "flipped");
        auto* op = record_configs ? mutable_data(configs, "configs") : nullptr;
        py::gil_scoped_release nogil;
        L::tempering_rounds(sp, R, g, method, update, betas.data(), tables.data(), table_len, p_adds.data(), seed,
                            chains.data(), cp, per_sweep.data(), n_rounds, burn_in, every, round0, uniforms.data(),
                            ep, mp, ap, tp, fp, op);
      },
      py::arg("states"), py::arg("nbr"), py::arg("uniform"), py::arg("J0"), py::arg("h0"), py::arg("J"),
      py::arg("h"), py::arg("order"), py::arg("col_off"), py::arg("method"), py::arg("update"), py::arg("betas"),
      py::arg("tables"), py::arg("p_adds"), py::arg("seed"), py::arg("chains"), py::arg("counters"),
      py::arg("clusters_per_sweep"), py::arg("n_rounds"), py::arg("burn_in"), py::arg("every"), py::arg("round0"),
      py::arg("uniforms"), py::arg("energy"), py::arg("mag"), py::arg("accepted"), py::arg("attempted"),
      py::arg("flipped"), py::arg("configs"), py::arg("record_configs"), py::arg("square_ly") = 0,
      py::arg("square_lx") = 0,
      "Parallel-tempering rounds in one call (the same operations as the per-round loop).");

  m.def(
      "multispin_measure",
      [](carray<std::uint64_t> words, std::int64_t ly, std::int64_t lx, double J, double h) {
        if (ly < 2 || lx < 2 || ly % 2 || lx % 2) throw py::value_error("ly and lx must be even and >= 2");
        const auto nw = static_cast<std::int64_t>(physdl::lattice::multispin::words_per_row(lx));
        if (words.size() != 2 * ly * nw) throw py::value_error("words has the wrong size");
        double e = 0;
        std::int64_t mag = 0;
        {
          py::gil_scoped_release nogil;
          L::multispin_measure(words.data(), ly, lx, J, h, e, mag);
        }
        return py::make_tuple(e, mag);
      },
      py::arg("words"), py::arg("ly"), py::arg("lx"), py::arg("J"), py::arg("h"));

  m.def(
      "multispin_sweeps",
      [](carray<std::uint64_t> words, std::int64_t ly, std::int64_t lx, int update, carray<std::uint64_t> thr,
         double J, double h, std::uint64_t seed, std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
         std::int64_t every, carray<double> energy, carray<std::int64_t> mag, py::object counters) {
        if (ly < 2 || lx < 2 || ly % 2 || lx % 2) throw py::value_error("ly and lx must be even and >= 2");
        const auto nw = static_cast<std::int64_t>(physdl::lattice::multispin::words_per_row(lx));
        if (words.size() != 2 * ly * nw) throw py::value_error("words has the wrong size");
        if (update != L::kMetropolis && update != L::kHeatBath) throw py::value_error("unknown update");
        if (thr.size() < (update == L::kMetropolis ? 10 : 5)) throw py::value_error("thresholds too short");
        check_out(nsweeps, every, energy, mag);
        auto* wp = mutable_data(words, "words");
        auto* ep = mutable_data(energy, "energy");
        auto* mp = mutable_data(mag, "mag");
        auto ctl = make_control(counters);
        {
          py::gil_scoped_release nogil;
          L::multispin_sweeps(wp, ly, lx, update, thr.data(), J, h, seed, chain, sweep0, nsweeps, every, ep, mp, &ctl);
        }
        if (ctl.stopped) throw py::error_already_set();
      },
      py::arg("words"), py::arg("ly"), py::arg("lx"), py::arg("update"), py::arg("thresholds"), py::arg("J"),
      py::arg("h"), py::arg("seed"), py::arg("chain"), py::arg("sweep0"), py::arg("nsweeps"),
      py::arg("measure_every"), py::arg("energy"), py::arg("mag"), py::arg("counters") = py::none());

  m.def(
      "multispin_plan",
      [](int update, carray<std::uint64_t> thr) {
        if (update != L::kMetropolis && update != L::kHeatBath) throw py::value_error("unknown update");
        if (thr.size() < (update == L::kMetropolis ? 10 : 5)) throw py::value_error("thresholds too short");
        const auto p = physdl::lattice::multispin::make_grouped_plan(update, thr.data(), 0);
        py::list groups;
        for (int g = 0; g < p.ngroups; ++g) groups.append(p.group_classes[g]);
        return py::dict(py::arg("ngroups") = p.ngroups, py::arg("by_count") = static_cast<bool>(p.by_count),
                        py::arg("always") = p.always, py::arg("group_classes") = groups);
      },
      py::arg("update"), py::arg("thresholds"),
      "How the grouped form (the CUDA kernel's) arranges a threshold table: groups, shape.");

  m.def(
      "multispin_reference_sweeps",
      [](carray<std::uint64_t> words, std::int64_t ly, std::int64_t lx, int update, carray<std::uint64_t> thr,
         std::uint64_t seed, std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps, bool grouped,
         bool by_count) {
        if (ly < 2 || lx < 2 || ly % 2 || lx % 2) throw py::value_error("ly and lx must be even and >= 2");
        const auto nw = static_cast<std::int64_t>(physdl::lattice::multispin::words_per_row(lx));
        if (words.size() != 2 * ly * nw) throw py::value_error("words has the wrong size");
        if (update != L::kMetropolis && update != L::kHeatBath) throw py::value_error("unknown update");
        if (thr.size() < (update == L::kMetropolis ? 10 : 5)) throw py::value_error("thresholds too short");
        if (nsweeps < 0) throw py::value_error("nsweeps must be >= 0");
        auto* wp = mutable_data(words, "words");
        py::gil_scoped_release nogil;
        L::multispin_reference_sweeps(wp, ly, lx, update, thr.data(), seed, chain, sweep0, nsweeps, grouped, by_count);
      },
      py::arg("words"), py::arg("ly"), py::arg("lx"), py::arg("update"), py::arg("thresholds"), py::arg("seed"),
      py::arg("chain"), py::arg("sweep0"), py::arg("nsweeps"), py::arg("grouped") = false, py::arg("by_count") = true,
      "Reference multi-spin sweeps through the header-only update_word (shared with CUDA).");
}

}  // namespace physdl::bindings
