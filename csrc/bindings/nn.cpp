#include <cstdint>
#include <string>

#include "common.hpp"
#include "physdl/nn/automata.hpp"
#include "physdl/nn/blas.hpp"
#include "physdl/nn/network.hpp"

namespace physdl::bindings {

namespace {

namespace nn = physdl::nn;

template <class T>
long samples(const carray<T>& x, long per_sample, const char* name) {
  if (x.ndim() < 1) throw py::value_error(std::string(name) + " must have a leading sample axis");
  const long n = long(x.shape(0));
  if (n * per_sample != long(x.size()))
    throw py::value_error(std::string(name) + " has " + std::to_string(x.size()) + " values, expected " +
                          std::to_string(n) + " x " + std::to_string(per_sample));
  return n;
}

template <class T>
void bind_network(py::module_& m, const char* net_name, const char* opt_name) {
  using Net = nn::Network<T>;
  using Opt = nn::Optimizer<T>;
  py::class_<Opt>(m, opt_name, "Optimizer state (0 SGD/momentum, 1 Adam).")
      .def(py::init<int, double, double, double, double, double, double, double, bool, long>(), py::arg("kind"),
           py::arg("lr"), py::arg("momentum"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
           py::arg("weight_decay"), py::arg("clip_norm"), py::arg("nesterov"), py::arg("nparams"))
      .def("set_lr", &Opt::set_lr)
      .def_property("steps", &Opt::steps, &Opt::set_steps)
      .def("m", [](py::object self) {
        auto& o = self.cast<Opt&>();
        return py::array_t<T>({py::ssize_t(o.m().size())}, {py::ssize_t(sizeof(T))}, o.m().data(), self);
      })
      .def("v", [](py::object self) {
        auto& o = self.cast<Opt&>();
        return py::array_t<T>({py::ssize_t(o.v().size())}, {py::ssize_t(sizeof(T))}, o.v().data(), self);
      })
      .def("step", [](Opt& o, carray<T> params, carray<T> grads) {
        if (params.size() != grads.size()) throw py::value_error("params and grads differ in size");
        auto* p = mutable_data(params, "params");
        auto* g = mutable_data(grads, "grads");
        py::gil_scoped_release nogil;
        return o.step(p, g, long(params.size()));
      });

  py::class_<Net>(m, net_name, "A layer stack with fused forward/backward (opaque).")
      .def(py::init<const std::vector<int>&, const std::vector<std::vector<long>>&, const std::vector<long>&, long>(),
           py::arg("kinds"), py::arg("settings"), py::arg("input_shape"), py::arg("max_batch"))
      .def_property_readonly("num_params", &Net::num_params)
      .def_property_readonly("output_shape", &Net::output_shape)
      .def("param_offset", &Net::param_offset)
      .def("param_count", &Net::param_count)
      .def("layer_output_shape", &Net::layer_output_shape)
      .def("params", [](py::object self) {
        auto& n = self.cast<Net&>();
        return py::array_t<T>({py::ssize_t(n.num_params())}, {py::ssize_t(sizeof(T))}, n.params(), self);
      })
      .def("grads", [](py::object self) {
        auto& n = self.cast<Net&>();
        return py::array_t<T>({py::ssize_t(n.num_params())}, {py::ssize_t(sizeof(T))}, n.grads(), self);
      })
      .def("forward", [](Net& net, carray<T> x, carray<T> out) {
        const long n = samples(x, net.input_size(), "X");
        if (long(out.size()) != n * net.output_size()) throw py::value_error("out has the wrong size");
        T* o = mutable_data(out, "out");
        py::gil_scoped_release nogil;
        const T* y = net.forward(x.data(), n);
        std::copy(y, y + n * net.output_size(), o);
      })
      .def("gradients_values", [](Net& net, carray<T> x, carray<T> t, int loss, bool input_grad, carray<T> dx) {
        const long n = samples(x, net.input_size(), "X");
        if (long(t.size()) != n * net.output_size()) throw py::value_error("y has the wrong size");
        if (input_grad && long(dx.size()) != n * net.input_size()) throw py::value_error("dx has the wrong size");
        T* d = mutable_data(dx, "dx");
        py::gil_scoped_release nogil;
        const double L = net.loss_and_gradients(x.data(), n, loss, t.data(), nullptr, input_grad);
        if (input_grad) std::copy(net.input_grad_data(), net.input_grad_data() + n * net.input_size(), d);
        return L;
      })
      .def("gradients_labels", [](Net& net, carray<T> x, carray<std::int64_t> lab, bool input_grad, carray<T> dx) {
        const long n = samples(x, net.input_size(), "X");
        if (long(lab.size()) != n * net.label_count()) throw py::value_error("y has the wrong number of labels");
        if (input_grad && long(dx.size()) != n * net.input_size()) throw py::value_error("dx has the wrong size");
        T* d = mutable_data(dx, "dx");
        py::gil_scoped_release nogil;
        const double L = net.loss_and_gradients(x.data(), n, nn::kSoftmaxCE, nullptr, lab.data(), input_grad);
        if (input_grad) std::copy(net.input_grad_data(), net.input_grad_data() + n * net.input_size(), d);
        return L;
      })
      .def("train_values", [](Net& net, carray<T> x, carray<T> t, int loss, Opt& opt) {
        const long n = samples(x, net.input_size(), "X");
        if (long(t.size()) != n * net.output_size()) throw py::value_error("y has the wrong size");
        py::gil_scoped_release nogil;
        return net.train_step(x.data(), n, loss, t.data(), nullptr, opt);
      })
      .def("train_labels", [](Net& net, carray<T> x, carray<std::int64_t> lab, Opt& opt) {
        const long n = samples(x, net.input_size(), "X");
        if (long(lab.size()) != n * net.label_count()) throw py::value_error("y has the wrong number of labels");
        py::gil_scoped_release nogil;
        return net.train_step(x.data(), n, nn::kSoftmaxCE, nullptr, lab.data(), opt);
      })
      .def("backward", [](Net& net, carray<T> x, carray<T> dy, bool input_grad, carray<T> dx) {
        const long n = samples(x, net.input_size(), "X");
        if (long(dy.size()) != n * net.output_size()) throw py::value_error("dY has the wrong size");
        if (input_grad && long(dx.size()) != n * net.input_size()) throw py::value_error("dx has the wrong size");
        T* d = mutable_data(dx, "dx");
        py::gil_scoped_release nogil;
        net.backward(x.data(), n, dy.data(), input_grad);
        if (input_grad) std::copy(net.input_grad_data(), net.input_grad_data() + n * net.input_size(), d);
      })
      .def("per_sample_gradients", [](Net& net, carray<T> x, carray<T> dy, carray<T> G) {
        const long n = samples(x, net.input_size(), "X");
        if (long(dy.size()) != n * net.output_size()) throw py::value_error("dY has the wrong size");
        if (long(G.size()) != n * net.num_params()) throw py::value_error("G has the wrong size");
        T* g = mutable_data(G, "G");
        py::gil_scoped_release nogil;
        net.per_sample_gradients(x.data(), n, dy.data(), g);
      })
      .def("double_backward", [](Net& net, carray<T> x, carray<T> dy, carray<T> h, carray<T> dx) {
        const long n = samples(x, net.input_size(), "X");
        if (long(dy.size()) != n * net.output_size()) throw py::value_error("dY has the wrong size");
        if (long(h.size()) != n * net.input_size()) throw py::value_error("H has the wrong size");
        if (long(dx.size()) != n * net.input_size()) throw py::value_error("dx has the wrong size");
        T* d = mutable_data(dx, "dx");
        py::gil_scoped_release nogil;
        net.double_backward(x.data(), n, dy.data(), h.data());
        std::copy(net.input_grad_data(), net.input_grad_data() + n * net.input_size(), d);
      })
      .def("apply_gradients", [](Net& net, carray<T> g, Opt& opt) {
        if (long(g.size()) != net.num_params()) throw py::value_error("grads has the wrong size");
        py::gil_scoped_release nogil;
        net.apply_gradients(g.data(), opt);
      })
      .def("backward_from_forward", [](Net& net, carray<T> x, carray<T> dy, bool input_grad, bool param_grad,
                                       carray<T> dx) {
        const long n = samples(x, net.input_size(), "X");
        if (long(dy.size()) != n * net.output_size()) throw py::value_error("dY has the wrong size");
        if (input_grad && long(dx.size()) != n * net.input_size()) throw py::value_error("dx has the wrong size");
        T* d = mutable_data(dx, "dx");
        py::gil_scoped_release nogil;
        net.backward_from_forward(x.data(), n, dy.data(), input_grad, param_grad);
        if (input_grad) std::copy(net.input_grad_data(), net.input_grad_data() + n * net.input_size(), d);
      })
      .def("double_backward_from_forward", [](Net& net, carray<T> x, carray<T> dy, carray<T> h, carray<T> dx) {
        const long n = samples(x, net.input_size(), "X");
        if (long(dy.size()) != n * net.output_size()) throw py::value_error("dY has the wrong size");
        if (long(h.size()) != n * net.input_size()) throw py::value_error("H has the wrong size");
        if (long(dx.size()) != n * net.input_size()) throw py::value_error("dx has the wrong size");
        T* d = mutable_data(dx, "dx");
        py::gil_scoped_release nogil;
        net.double_backward_from_forward(x.data(), n, dy.data(), h.data());
        std::copy(net.input_grad_data(), net.input_grad_data() + n * net.input_size(), d);
      })
      .def("set_spectral_norm", &Net::set_spectral_norm, py::arg("layer"), py::arg("eps"))
      .def("spectral_norm", &Net::spectral_norm)
      .def("power_iteration", &Net::power_iteration)
      .def("sn_sigma", &Net::sn_sigma)
      .def("sn_u", [](py::object self, long layer) {
        auto& v = self.cast<Net&>().sn_u(layer);
        return py::array_t<T>({py::ssize_t(v.size())}, {py::ssize_t(sizeof(T))}, v.data(), self);
      })
      .def("sn_v", [](py::object self, long layer) {
        auto& v = self.cast<Net&>().sn_v(layer);
        return py::array_t<T>({py::ssize_t(v.size())}, {py::ssize_t(sizeof(T))}, v.data(), self);
      })
      .def_property_readonly("last_grad_norm", &Net::last_grad_norm);
}

template <class T>
void bind_penalty_terms(py::module_& m, const char* name) {
  m.def(
      name,
      [](carray<T> g, long m_, double t, carray<double> norm, carray<T> h) {
        const long n = samples(g, m_, "g");
        if (long(norm.size()) != n || long(h.size()) != n * m_) throw py::value_error("norm or h has the wrong size");
        double* r = mutable_data(norm, "norm");
        T* o = mutable_data(h, "h");
        py::gil_scoped_release nogil;
        nn::penalty_terms(g.data(), n, m_, t, r, o);
      },
      py::arg("g"), py::arg("m"), py::arg("t"), py::arg("norm"), py::arg("h"));
}

}  // namespace

void register_nn(py::module_& root) {
  auto m = root.def_submodule("nn", "nn kernels: fused layer stacks, optimizers, BLAS hook");
  m.def(
      "set_blas", [](std::uintptr_t d, std::uintptr_t s) { nn::set_blas_addresses(d, s); }, py::arg("dgemm_addr"),
      py::arg("sgemm_addr"), "Install Fortran-interface dgemm/sgemm function addresses.");
  m.def("has_blas", &nn::has_blas);
  bind_penalty_terms<float>(m, "penalty_terms32");
  bind_penalty_terms<double>(m, "penalty_terms64");
  m.def("set_small_gemm_threshold", &nn::set_small_gemm_threshold);
  m.def("small_gemm_threshold", &nn::small_gemm_threshold);
  m.def(
      "box_ball_evolve",
      [](carray<std::uint8_t> init, long steps, carray<std::uint8_t> history) {
        const long L = long(init.size());
        if (steps < 0) throw py::value_error("steps must be >= 0");
        if (long(history.size()) != (steps + 1) * L) throw py::value_error("history must hold (steps + 1) * L values");
        auto* h = mutable_data(history, "history");
        py::gil_scoped_release nogil;
        return nn::box_ball_evolve(init.data(), L, steps, h);
      },
      py::arg("init"), py::arg("steps"), py::arg("history"));
  m.def(
      "layer_kinds",
      [] {
        py::dict d;
#define PHYSDL_NN_KIND_(name, id, code) d[#name] = int(code);
        PHYSDL_NN_LAYER_KINDS(PHYSDL_NN_KIND_)
        return d;
      },
      "The layer-kind registry (src/physdl/nn/layer_kinds.hpp): class name -> code.");
  m.def(
      "loss_kinds",
      [] {
        py::dict d;
        PHYSDL_NN_LOSS_KINDS(PHYSDL_NN_KIND_)
        return d;
      },
      "The loss registry (src/physdl/nn/layer_kinds.hpp): name -> code.");
  m.def(
      "optimizer_kinds",
      [] {
        py::dict d;
        PHYSDL_NN_OPTIMIZER_KINDS(PHYSDL_NN_KIND_)
#undef PHYSDL_NN_KIND_
        return d;
      },
      "The optimizer registry (src/physdl/nn/layer_kinds.hpp): class name -> code.");
  m.attr("FIRST_CUSTOM_KIND") = int(nn::kFirstCustomKind);
  bind_network<double>(m, "Network64", "Optimizer64");
  bind_network<float>(m, "Network32", "Optimizer32");
}

}  // namespace physdl::bindings
