// physdl._cuda.nn: the CUDA dense engine (csrc/cuda/nn_cuda.hpp) with the same methods as
// physdl._core.nn's Network / Optimizer, so physdl.nn.Sequential(backend="cuda") drives either.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>

#include "nn_cuda.hpp"

namespace py = pybind11;

namespace physdl::cuda {

namespace {

namespace cn = physdl::cuda::nn;

template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <class T>
long samples(const carray<T>& x, long per_sample, const char* name) {
  if (x.ndim() < 1) throw py::value_error(std::string(name) + " must have a leading sample axis");
  const long n = long(x.shape(0));
  if (n < 1 || n * per_sample != long(x.size()))
    throw py::value_error(std::string(name) + " has " + std::to_string(x.size()) + " values, expected n >= 1 x " +
                          std::to_string(per_sample));
  return n;
}

template <class T>
T* writable(carray<T>& a, const char* name) {
  if (!a.writeable()) throw py::value_error(std::string(name) + " must be writeable");
  return a.mutable_data();
}

[[noreturn]] void not_implemented(const char* what) {
  PyErr_SetString(PyExc_NotImplementedError, what);
  throw py::error_already_set();
}

constexpr int kSoftmaxCE = 3;  // physdl/nn/layer_kinds.hpp

template <class T>
void bind(py::module_& m, const char* net_name, const char* opt_name) {
  using Net = cn::Network<T>;
  using Opt = cn::Optimizer<T>;
  py::class_<Opt>(m, opt_name, "Optimizer state on the device (0 SGD/momentum, 1 Adam).")
      .def(py::init<int, double, double, double, double, double, double, double, bool, long>(), py::arg("kind"),
           py::arg("lr"), py::arg("momentum"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
           py::arg("weight_decay"), py::arg("clip_norm"), py::arg("nesterov"), py::arg("nparams"))
      .def("set_lr", &Opt::set_lr)
      .def_property("steps", &Opt::steps, &Opt::set_steps)
      .def("m", [](py::object self) {
        auto& o = self.cast<Opt&>();
        return py::array_t<T>({py::ssize_t(o.size())}, {py::ssize_t(sizeof(T))}, o.host_m(), self);
      })
      .def("v", [](py::object self) {
        auto& o = self.cast<Opt&>();
        return py::array_t<T>({py::ssize_t(o.size())}, {py::ssize_t(sizeof(T))}, o.host_v(), self);
      });

  py::class_<Net>(m, net_name, "A Dense/activation stack resident on the device (opaque).")
      .def(py::init<const std::vector<int>&, const std::vector<std::vector<long>>&, const std::vector<long>&, long>(),
           py::arg("kinds"), py::arg("settings"), py::arg("input_shape"), py::arg("max_batch"))
      .def_property_readonly("num_params", &Net::num_params)
      .def_property_readonly("graphs", &Net::graphs)
      .def("param_offset", &Net::param_offset)
      .def("param_count", &Net::param_count)
      .def("params", [](py::object self) {
        auto& n = self.cast<Net&>();
        return py::array_t<T>({py::ssize_t(n.num_params())}, {py::ssize_t(sizeof(T))}, n.host_params(), self);
      })
      .def("grads", [](py::object self) {
        auto& n = self.cast<Net&>();
        return py::array_t<T>({py::ssize_t(n.num_params())}, {py::ssize_t(sizeof(T))}, n.host_grads(), self);
      })
      .def("forward", [](Net& net, carray<T> x, carray<T> out) {
        const long n = samples(x, net.in_size(), "X");
        if (long(out.size()) != n * net.out_size()) throw py::value_error("out has the wrong size");
        T* o = writable(out, "out");
        py::gil_scoped_release nogil;
        net.forward(x.data(), n, o);
      })
      .def("gradients_values", [](Net& net, carray<T> x, carray<T> t, int loss, bool input_grad, carray<T> dx) {
        const long n = samples(x, net.in_size(), "X");
        if (long(t.size()) != n * net.out_size()) throw py::value_error("y has the wrong size");
        if (input_grad && long(dx.size()) != n * net.in_size()) throw py::value_error("dx has the wrong size");
        T* d = input_grad ? writable(dx, "dx") : nullptr;
        py::gil_scoped_release nogil;
        return net.gradients(x.data(), n, loss, t.data(), nullptr, d);
      })
      .def("gradients_labels", [](Net& net, carray<T> x, carray<std::int64_t> lab, bool input_grad, carray<T> dx) {
        const long n = samples(x, net.in_size(), "X");
        if (long(lab.size()) != n * net.out_size() / net.classes())
          throw py::value_error("y has the wrong number of labels");
        if (input_grad && long(dx.size()) != n * net.in_size()) throw py::value_error("dx has the wrong size");
        T* d = input_grad ? writable(dx, "dx") : nullptr;
        py::gil_scoped_release nogil;
        return net.gradients(x.data(), n, kSoftmaxCE, nullptr, lab.data(), d);
      })
      .def("train_values", [](Net& net, carray<T> x, carray<T> t, int loss, Opt& opt) {
        const long n = samples(x, net.in_size(), "X");
        if (long(t.size()) != n * net.out_size()) throw py::value_error("y has the wrong size");
        py::gil_scoped_release nogil;
        return net.train(x.data(), n, loss, t.data(), nullptr, opt);
      })
      .def("train_labels", [](Net& net, carray<T> x, carray<std::int64_t> lab, Opt& opt) {
        const long n = samples(x, net.in_size(), "X");
        if (long(lab.size()) != n * net.out_size() / net.classes())
          throw py::value_error("y has the wrong number of labels");
        py::gil_scoped_release nogil;
        return net.train(x.data(), n, kSoftmaxCE, nullptr, lab.data(), opt);
      })
      .def("backward", [](Net& net, carray<T> x, carray<T> dy, bool input_grad, carray<T> dx) {
        const long n = samples(x, net.in_size(), "X");
        if (long(dy.size()) != n * net.out_size()) throw py::value_error("dY has the wrong size");
        if (input_grad && long(dx.size()) != n * net.in_size()) throw py::value_error("dx has the wrong size");
        T* d = input_grad ? writable(dx, "dx") : nullptr;
        py::gil_scoped_release nogil;
        net.backward(x.data(), n, dy.data(), d);
      })
      .def("per_sample_gradients", [](Net&, py::args) {
        not_implemented("per_sample_gradients has no CUDA implementation yet; use backend='cpp'");
      })
      .def("double_backward", [](Net&, py::args) {
        not_implemented("double_backward (and gradient_penalty) has no CUDA implementation yet; use backend='cpp'");
      })
      .def("apply_gradients", [](Net& net, carray<T> g, Opt& opt) {
        if (long(g.size()) != net.num_params()) throw py::value_error("grads has the wrong size");
        py::gil_scoped_release nogil;
        net.apply_gradients(g.data(), opt);
      });
}

}  // namespace

void register_cuda_nn(py::module_& root) {
  auto m = root.def_submodule("nn", "the dense nn engine on the device (cuBLAS, fused kernels, CUDA graphs)");
  m.def("unavailable_reason", &cn::unavailable_reason, "why the CUDA nn engine cannot run here ('' if it can)");
  m.def("supports_layer", &cn::supports_layer, "whether a layer kind (layer_kinds.hpp) has a CUDA implementation");
  bind<float>(m, "Network32", "Optimizer32");
  bind<double>(m, "Network64", "Optimizer64");
}

}  // namespace physdl::cuda
