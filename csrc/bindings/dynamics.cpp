// Bindings of the dynamics kernels (src/physdl/dynamics): conversion and size checks only.
#include "common.hpp"
#include "physdl/dynamics/integrators.hpp"

namespace physdl::bindings {

void register_dynamics(py::module_& root) {
  namespace dy = physdl::dynamics;
  auto m = root.def_submodule("dynamics", "Hamiltonian integrators and Lyapunov exponents (book ch. 9)");
  m.def(
      "integrate",
      [](int system, int method, carray<double> q, carray<double> p, double dt, long steps, long record_every,
         py::object E) {
        const auto s = static_cast<dy::System>(system);
        const int d = dy::system_dim(s);
        const long n = static_cast<long>(q.size() / d);
        if (q.size() != p.size() || q.size() != n * d) throw py::value_error("q and p must be (n, dim)");
        double* Ep = nullptr;
        carray<double> Ea;
        if (!E.is_none()) {
          Ea = E.cast<carray<double>>();
          if (Ea.size() != n * (steps / record_every + 1)) throw py::value_error("E must be (n, steps // record_every + 1)");
          Ep = mutable_data(Ea, "E");
        }
        double* qp = mutable_data(q, "q");
        double* pp = mutable_data(p, "p");
        py::gil_scoped_release nogil;
        dy::integrate(s, static_cast<dy::Method>(method), qp, pp, n, dt, steps, record_every, Ep);
      },
      py::arg("system"), py::arg("method"), py::arg("q"), py::arg("p"), py::arg("dt"), py::arg("steps"),
      py::arg("record_every"), py::arg("E") = py::none());
  m.def(
      "lorenz_lyapunov",
      [](std::array<double, 3> x0, double sg, double rho, double be, double dt, long steps, long renorm,
         long transient) {
        std::array<double, 3> out{};
        physdl::core::StopPoll ctl;
        ctl.stop = poll_signals;
        {
          py::gil_scoped_release nogil;
          dy::lorenz_lyapunov(x0.data(), sg, rho, be, dt, steps, renorm, transient, out.data(), &ctl);
        }
        if (ctl.stopped) throw py::error_already_set();
        return out;
      },
      py::arg("x0"), py::arg("sigma"), py::arg("rho"), py::arg("beta"), py::arg("dt"), py::arg("steps"),
      py::arg("renorm"), py::arg("transient"));
  m.def(
      "standard_map_lyapunov",
      [](carray<double> q0, carray<double> p0, double K, long iterations, long transient, carray<double> out) {
        const long n = static_cast<long>(q0.size());
        if (p0.size() != n || out.size() != 2 * n) throw py::value_error("q0, p0 (n,) and out (n, 2)");
        double* o = mutable_data(out, "out");
        py::gil_scoped_release nogil;
        dy::standard_map_lyapunov(q0.data(), p0.data(), n, K, iterations, transient, o);
      },
      py::arg("q0"), py::arg("p0"), py::arg("K"), py::arg("iterations"), py::arg("transient"), py::arg("out"));
  m.def(
      "henon_heiles_lyapunov",
      [](carray<double> q0, carray<double> p0, double dt, long steps, long renorm, carray<double> out) {
        const long n = static_cast<long>(out.size());
        if (q0.size() != 2 * n || p0.size() != 2 * n) throw py::value_error("q0, p0 (n, 2) and out (n,)");
        double* o = mutable_data(out, "out");
        py::gil_scoped_release nogil;
        dy::henon_heiles_lyapunov(q0.data(), p0.data(), n, dt, steps, renorm, o);
      },
      py::arg("q0"), py::arg("p0"), py::arg("dt"), py::arg("steps"), py::arg("renorm"), py::arg("out"));
}

}  // namespace physdl::bindings
