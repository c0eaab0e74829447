// Bindings of the holographic network (src/physdl/holography): conversion and size checks only.
#include <stdexcept>

#include "common.hpp"
#include "physdl/holography/holographic.hpp"

namespace physdl::bindings {

namespace {
namespace ho = physdl::holography;

ho::Config config_from(const py::dict& d) {
  ho::Config c;
  c.n_layers = d["n_layers"].cast<int>();
  c.eta_ini = d["eta_ini"].cast<double>();
  c.eta_fin = d["eta_fin"].cast<double>();
  c.m2 = d["m2"].cast<double>();
  c.input_map = static_cast<ho::InputMap>(d["input_map"].cast<int>());
  c.nc = d["nc"].cast<double>();
  c.horizon = static_cast<ho::Horizon>(d["horizon"].cast<int>());
  c.output = static_cast<ho::Output>(d["output"].cast<int>());
  c.eps = d["eps"].cast<double>();
  c.sharpness = d["sharpness"].cast<double>();
  c.c_smooth = d["c_smooth"].cast<double>();
  c.c_bdry = d["c_bdry"].cast<double>();
  c.d_bdry = d["d_bdry"].cast<double>();
  c.c_horizon = d["c_horizon"].cast<double>();
  ho::check_config(c);
  return c;
}

void need(bool ok, const char* what) {
  if (!ok) throw py::value_error(std::string("holography binding: ") + what);
}
}  // namespace

void register_holography(py::module_& root) {
  auto m = root.def_submodule("holography", "holographic network kernels (book ch. 12)");

  m.def(
      "forward",
      [](const py::dict& cfg, carray<double> p, carray<double> x, carray<double> F, carray<double> y,
         py::object traj) {
        const auto c = config_from(cfg);
        const long n = static_cast<long>(F.size());
        need(p.size() == ho::n_params(c), "p must have n_layers + 2 entries");
        need(x.size() == 2 * n && y.size() == n, "x must be (n, 2), F and y (n,)");
        double* tp = nullptr;
        carray<double> t;
        if (!traj.is_none()) {
          t = traj.cast<carray<double>>();
          need(t.size() == n * 2 * (c.n_layers + 1), "traj must be (n, n_layers + 1, 2)");
          tp = mutable_data(t, "traj");
        }
        double* Fp = mutable_data(F, "F");
        double* yp = mutable_data(y, "y");
        py::gil_scoped_release nogil;
        ho::forward(c, p.data(), x.data(), n, Fp, yp, tp);
      },
      py::arg("config"), py::arg("p"), py::arg("x"), py::arg("F"), py::arg("y"), py::arg("traj") = py::none());

  m.def(
      "loss_grad",
      [](const py::dict& cfg, carray<double> p, carray<double> x, carray<double> labels, carray<double> grad) {
        const auto c = config_from(cfg);
        const long n = static_cast<long>(labels.size());
        need(p.size() == ho::n_params(c) && grad.size() == p.size(), "p and grad must have n_layers + 2 entries");
        need(x.size() == 2 * n && n >= 1, "x must be (n, 2) with n >= 1");
        double* g = mutable_data(grad, "grad");
        double data = 0.0, total = 0.0;
        {
          py::gil_scoped_release nogil;
          total = ho::loss_grad(c, p.data(), x.data(), labels.data(), n, g, &data);
        }
        return py::make_tuple(total, data);
      },
      py::arg("config"), py::arg("p"), py::arg("x"), py::arg("labels"), py::arg("grad"));

  m.def(
      "train",
      [](const py::dict& cfg, carray<double> p, carray<double> mom, carray<double> var, py::array_t<long, py::array::c_style> steps,
         carray<double> x, carray<double> labels, const py::dict& o, long epoch0, carray<double> history) {
        const auto c = config_from(cfg);
        const long P = ho::n_params(c);
        const long trials = static_cast<long>(steps.size());
        const long n = static_cast<long>(labels.size());
        ho::TrainOptions opt;
        opt.epochs = o["epochs"].cast<long>();
        opt.batch = o["batch"].cast<long>();
        opt.lr = o["lr"].cast<double>();
        opt.beta1 = o["beta1"].cast<double>();
        opt.beta2 = o["beta2"].cast<double>();
        opt.adam_eps = o["adam_eps"].cast<double>();
        opt.seed = o["seed"].cast<std::uint64_t>();
        opt.stream = o["stream"].cast<std::uint64_t>();
        opt.train_h = o["train_h"].cast<bool>();
        opt.train_lam = o["train_lam"].cast<bool>();
        opt.train_R = o["train_R"].cast<bool>();
        opt.lam_nonnegative = o["lam_nonnegative"].cast<bool>();
        need(trials >= 1 && p.size() == trials * P && mom.size() == p.size() && var.size() == p.size(),
             "p, m, v must be (trials, n_layers + 2)");
        need(x.size() == 2 * n && n >= 1, "x must be (n, 2) with n >= 1");
        need(history.size() == trials * opt.epochs, "history must be (trials, epochs)");
        double* pp = mutable_data(p, "p");
        double* mp = mutable_data(mom, "m");
        double* vp = mutable_data(var, "v");
        long* sp = steps.mutable_data();
        double* hp = mutable_data(history, "history");
        py::gil_scoped_release nogil;
        return ho::train(c, pp, mp, vp, sp, trials, x.data(), labels.data(), n, opt, epoch0, hp);
      },
      py::arg("config"), py::arg("p"), py::arg("m"), py::arg("v"), py::arg("steps"), py::arg("x"),
      py::arg("labels"), py::arg("options"), py::arg("epoch0"), py::arg("history"));
}

}  // namespace physdl::bindings
