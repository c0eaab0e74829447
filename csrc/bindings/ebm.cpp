// Bindings of the energy-based-model kernels (Hopfield, RBM Gibbs, plaquette Metropolis, SLMC):
// shapes and index ranges are checked here, the physics is in src/physdl/ebm.
#include <cstdint>
#include <string>

#include "common.hpp"
#include "physdl/ebm/ebm.hpp"

namespace physdl::bindings {

namespace {

void need(bool ok, const std::string& what) {
  if (!ok) throw py::value_error(what);
}

void check_index(const carray<std::int32_t>& a, std::int64_t n, const char* name) {
  const auto* p = a.data();
  for (py::ssize_t k = 0; k < a.size(); ++k) need(p[k] >= 0 && p[k] < n, std::string(name) + " holds an index outside [0, n)");
}

physdl::ebm::Plaquette make_plaquette(std::int64_t n, const carray<std::int32_t>& nbr, const carray<std::int32_t>& plaq,
                                      double J, double K) {
  need(n > 0, "spins must not be empty");
  need(nbr.ndim() == 2 && nbr.shape(0) == n && nbr.shape(1) == 4, "nbr must have shape (n, 4)");
  need(plaq.ndim() == 3 && plaq.shape(0) == n && plaq.shape(1) == 4 && plaq.shape(2) == 3, "plaq must have shape (n, 4, 3)");
  check_index(nbr, n, "nbr");
  check_index(plaq, n, "plaq");
  return physdl::ebm::Plaquette{n, nbr.data(), plaq.data(), J, K};
}

template <class T>
void def_gibbs(py::module_& m, const char* name) {
  m.def(
      name,
      [](const carray<T>& W, const carray<T>& b, const carray<T>& c, bool pm, carray<T> v, carray<T> h, std::int64_t k,
         std::uint64_t seed, std::uint64_t stream0, std::uint64_t t0) {
        need(W.ndim() == 2, "W must be 2-dimensional");
        const std::int64_t nv = W.shape(0), nh = W.shape(1);
        need(b.size() == nv && c.size() == nh, "b, c must have n_visible, n_hidden entries");
        need(v.ndim() == 2 && v.shape(1) == nv && h.ndim() == 2 && h.shape(1) == nh && h.shape(0) == v.shape(0),
             "v, h must have shapes (m, n_visible), (m, n_hidden)");
        need(k >= 0, "k must be >= 0");
        auto* pv = mutable_data(v, "v");
        auto* ph = mutable_data(h, "h");
        const std::int64_t m = v.shape(0);
        py::gil_scoped_release nogil;
        physdl::ebm::rbm_gibbs<T>(W.data(), b.data(), c.data(), nv, nh, pm, pv, ph, m, k, seed, stream0, t0);
      },
      py::arg("W"), py::arg("b"), py::arg("c"), py::arg("pm"), py::arg("v"), py::arg("h"), py::arg("k"),
      py::arg("seed"), py::arg("stream0"), py::arg("t0"));
}

template <class T>
void def_epoch(py::module_& m, const char* name) {
  m.def(
      name,
      [](carray<T> W, carray<T> b, carray<T> c, bool pm, const carray<T>& data, const carray<std::int64_t>& order,
         std::int64_t B, bool persistent, std::int64_t k, double lr, carray<T> vchain, carray<T> hchain,
         std::uint64_t seed, std::uint64_t stream0, std::uint64_t t0) {
        need(W.ndim() == 2, "W must be 2-dimensional");
        const std::int64_t nv = W.shape(0), nh = W.shape(1);
        need(b.size() == nv && c.size() == nh, "b, c must have n_visible, n_hidden entries");
        need(data.ndim() == 2 && data.shape(1) == nv, "data must have shape (n, n_visible)");
        const std::int64_t n = data.shape(0);
        need(B >= 1 && k >= 1, "batch size and k must be >= 1");
        need(order.ndim() == 1, "order must be 1-dimensional");
        const std::int64_t nbatch = order.shape(0) / B;
        for (py::ssize_t i = 0; i < nbatch * B; ++i) need(order.data()[i] >= 0 && order.data()[i] < n, "order holds a row outside [0, n)");
        need(hchain.ndim() == 2 && hchain.shape(1) == nh, "hchain must have shape (nc, n_hidden)");
        const std::int64_t nc = hchain.shape(0);
        need(nc >= 1, "at least one chain");
        need(persistent || nc == B, "CD needs nc == B");
        need(!persistent || (vchain.ndim() == 2 && vchain.shape(0) == nc && vchain.shape(1) == nv),
             "vchain must have shape (nc, n_visible)");
        auto* pW = mutable_data(W, "W");
        auto* pb = mutable_data(b, "b");
        auto* pc = mutable_data(c, "c");
        auto* pvc = mutable_data(vchain, "vchain");
        auto* phc = mutable_data(hchain, "hchain");
        carray<T> work(physdl::ebm::rbm_epoch_workspace<T>(nv, nh, B, nc));
        auto* pwk = work.mutable_data();
        py::gil_scoped_release nogil;
        physdl::ebm::rbm_epoch<T>(pW, pb, pc, nv, nh, pm, data.data(), order.data(), nbatch, B, persistent, k,
                                  static_cast<T>(lr), pvc, phc, nc, seed, stream0, t0, pwk);
      },
      py::arg("W"), py::arg("b"), py::arg("c"), py::arg("pm"), py::arg("data"), py::arg("order"), py::arg("batch_size"),
      py::arg("persistent"), py::arg("k"), py::arg("lr"), py::arg("vchain"), py::arg("hchain"), py::arg("seed"),
      py::arg("stream0"), py::arg("t0"));
}

}  // namespace

void register_ebm(py::module_& root) {
  auto m = root.def_submodule("ebm", "energy-based models: Hopfield, RBM Gibbs, SLMC");

  m.def(
      "hopfield_async",
      [](const carray<double>& W, carray<std::int8_t> S, std::int64_t max_sweeps, bool tie_keep, std::uint64_t seed,
         std::uint64_t stream0, bool record_steps) {
        need(W.ndim() == 2 && W.shape(0) == W.shape(1), "W must be square");
        const std::int64_t n = W.shape(0);
        need(S.ndim() == 2 && S.shape(1) == n, "S must have shape (m, n)");
        need(n < (std::int64_t(1) << 24), "n must be below 2**24");
        need(max_sweeps >= 1 && max_sweeps < (std::int64_t(1) << 39), "max_sweeps out of range");
        const std::int64_t m = S.shape(0);
        auto* ps = mutable_data(S, "S");
        carray<double> es({m, max_sweeps + 1});
        carray<double> est(record_steps ? std::vector<py::ssize_t>{m, max_sweeps * n + 1} : std::vector<py::ssize_t>{0, 0});
        carray<std::int64_t> sweeps(m), flips(m);
        double* pes = es.mutable_data();
        double* pest = record_steps ? est.mutable_data() : nullptr;
        auto* psw = sweeps.mutable_data();
        auto* pfl = flips.mutable_data();
        {
          py::gil_scoped_release nogil;
          physdl::ebm::hopfield_async(W.data(), n, ps, m, max_sweeps, tie_keep, seed, stream0, pes, pest, psw, pfl);
        }
        return py::make_tuple(es, est, sweeps, flips);
      },
      py::arg("W"), py::arg("S"), py::arg("max_sweeps"), py::arg("tie_keep"), py::arg("seed"), py::arg("stream0"),
      py::arg("record_steps"));

  m.def(
      "hopfield_async_int",
      [](const carray<std::int16_t>& W, double scale, carray<std::int8_t> S, std::int64_t max_sweeps, bool tie_keep,
         std::uint64_t seed, std::uint64_t stream0, bool record_steps) {
        need(W.ndim() == 2 && W.shape(0) == W.shape(1), "W must be square");
        const std::int64_t n = W.shape(0);
        need(S.ndim() == 2 && S.shape(1) == n, "S must have shape (m, n)");
        need(n < (std::int64_t(1) << 24), "n must be below 2**24");
        need(max_sweeps >= 1 && max_sweeps < (std::int64_t(1) << 39), "max_sweeps out of range");
        const std::int64_t m = S.shape(0);
        auto* ps = mutable_data(S, "S");
        carray<double> es({m, max_sweeps + 1});
        carray<double> est(record_steps ? std::vector<py::ssize_t>{m, max_sweeps * n + 1} : std::vector<py::ssize_t>{0, 0});
        carray<std::int64_t> sweeps(m), flips(m);
        double* pes = es.mutable_data();
        double* pest = record_steps ? est.mutable_data() : nullptr;
        auto* psw = sweeps.mutable_data();
        auto* pfl = flips.mutable_data();
        {
          py::gil_scoped_release nogil;
          physdl::ebm::hopfield_async_int(W.data(), scale, n, ps, m, max_sweeps, tie_keep, seed, stream0, pes, pest, psw,
                                          pfl);
        }
        return py::make_tuple(es, est, sweeps, flips);
      },
      py::arg("W"), py::arg("scale"), py::arg("S"), py::arg("max_sweeps"), py::arg("tie_keep"), py::arg("seed"),
      py::arg("stream0"), py::arg("record_steps"));

  m.def(
      "hopfield_sync",
      [](const carray<double>& W, carray<std::int8_t> S, std::int64_t max_steps, bool tie_keep) {
        need(W.ndim() == 2 && W.shape(0) == W.shape(1), "W must be square");
        const std::int64_t n = W.shape(0);
        need(S.ndim() == 2 && S.shape(1) == n, "S must have shape (m, n)");
        need(max_steps >= 1, "max_steps must be >= 1");
        const std::int64_t m = S.shape(0);
        auto* ps = mutable_data(S, "S");
        carray<std::int8_t> prev({m, n});
        carray<std::int64_t> steps(m);
        carray<std::int32_t> period(m);
        auto* pp = prev.mutable_data();
        auto* pst = steps.mutable_data();
        auto* ppe = period.mutable_data();
        {
          py::gil_scoped_release nogil;
          physdl::ebm::hopfield_sync(W.data(), n, ps, pp, m, max_steps, tie_keep, pst, ppe);
        }
        return py::make_tuple(prev, steps, period);
      },
      py::arg("W"), py::arg("S"), py::arg("max_steps"), py::arg("tie_keep"));

  def_gibbs<double>(m, "rbm_gibbs_f64");
  def_gibbs<float>(m, "rbm_gibbs_f32");
  def_epoch<double>(m, "rbm_epoch_f64");
  def_epoch<float>(m, "rbm_epoch_f32");

  m.def(
      "plaquette_metropolis",
      [](const carray<std::int32_t>& nbr, const carray<std::int32_t>& plaq, double J, double K, carray<std::int8_t> S,
         double beta, std::int64_t nsweeps, std::uint64_t seed, std::uint64_t stream0, std::uint64_t t0) {
        need(S.ndim() == 2, "S must have shape (m, n)");
        const std::int64_t m = S.shape(0), n = S.shape(1);
        need(n < (std::int64_t(1) << 25), "n must be below 2**25");
        need(nsweeps >= 1, "nsweeps must be >= 1");
        auto p = make_plaquette(n, nbr, plaq, J, K);
        auto* ps = mutable_data(S, "S");
        carray<double> E({m, nsweeps});
        carray<std::int64_t> M({m, nsweeps});
        carray<std::int64_t> acc(m);
        auto* pe = E.mutable_data();
        auto* pm = M.mutable_data();
        auto* pa = acc.mutable_data();
        {
          py::gil_scoped_release nogil;
          physdl::ebm::plaquette_metropolis(p, ps, m, beta, nsweeps, seed, stream0, t0, pe, pm, pa);
        }
        return py::make_tuple(E, M, acc);
      },
      py::arg("nbr"), py::arg("plaq"), py::arg("J"), py::arg("K"), py::arg("S"), py::arg("beta"), py::arg("nsweeps"),
      py::arg("seed"), py::arg("stream0"), py::arg("t0"));

  m.def(
      "slmc_wolff",
      [](const carray<std::int32_t>& nbr, const carray<std::int32_t>& plaq, double J, double K,
         const carray<std::int32_t>& cnbr, const carray<double>& Jc, carray<std::int8_t> S, double beta,
         std::int64_t nsteps, std::int64_t nclusters, std::uint64_t seed, std::uint64_t stream0, std::uint64_t t0) {
        need(S.ndim() == 2, "S must have shape (m, n)");
        const std::int64_t m = S.shape(0), n = S.shape(1);
        need(nsteps >= 1, "nsteps must be >= 1");
        need(nclusters >= 1 && nclusters <= 64, "nclusters must be in [1, 64]");
        auto p = make_plaquette(n, nbr, plaq, J, K);
        need(cnbr.ndim() == 2 && cnbr.shape(0) == n, "cnbr must have shape (n, zc)");
        const std::int64_t zc = cnbr.shape(1);
        need(Jc.size() == zc, "Jc must hold zc couplings");
        need(n * (zc + 1) * nclusters < (std::int64_t(1) << 24), "n * (zc + 1) * nclusters must be below 2**24");
        check_index(cnbr, n, "cnbr");
        for (py::ssize_t k = 0; k < Jc.size(); ++k) need(Jc.data()[k] >= 0.0, "Jc must be >= 0");
        auto* ps = mutable_data(S, "S");
        carray<double> E({m, nsteps});
        carray<std::int64_t> M({m, nsteps}), C({m, nsteps});
        carray<std::int64_t> acc(m);
        auto* pe = E.mutable_data();
        auto* pm = M.mutable_data();
        auto* pc = C.mutable_data();
        auto* pa = acc.mutable_data();
        {
          py::gil_scoped_release nogil;
          physdl::ebm::slmc_wolff(p, cnbr.data(), zc, Jc.data(), ps, m, beta, nsteps, nclusters, seed, stream0, t0, pe, pm, pc, pa);
        }
        return py::make_tuple(E, M, C, acc);
      },
      py::arg("nbr"), py::arg("plaq"), py::arg("J"), py::arg("K"), py::arg("cnbr"), py::arg("Jc"), py::arg("S"),
      py::arg("beta"), py::arg("nsteps"), py::arg("nclusters"), py::arg("seed"), py::arg("stream0"), py::arg("t0"));
}

}  // namespace physdl::bindings
