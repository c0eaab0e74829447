// physdl._core.tensornet: contraction programs and their execution (no logic: unpack and call).
#include <complex>
#include <string>
#include <tuple>
#include <vector>

#include "common.hpp"
#include "physdl/tensornet/blas.hpp"
#include "physdl/tensornet/contract.hpp"

namespace physdl::bindings {

namespace {
namespace tn = physdl::tensornet;
using Groups = std::vector<tn::Label>;
using OpTuple = std::tuple<int, Groups, Groups, Groups, Groups>;

tn::OperandSpec to_op(const OpTuple& t) {
  tn::OperandSpec o;
  o.slot = std::get<0>(t);
  o.batch = std::get<1>(t);
  o.rows = std::get<2>(t);
  o.cols = std::get<3>(t);
  o.sums = std::get<4>(t);
  return o;
}

// inputs: list of (array, batched, select_axes, select_index or None)
template <class T>
py::array run(const tn::Program& prog, const py::list& inputs, long n_samples, bool parallel) {
  const int ni = prog.n_inputs();
  if (int(inputs.size()) != ni) throw py::value_error("wrong number of inputs");
  std::vector<tn::InputView<T>> views(ni);
  std::vector<py::array> keep;
  for (int i = 0; i < ni; ++i) {
    auto t = inputs[i].cast<py::tuple>();
    auto arr = t[0].cast<py::array>();
    const bool batched = t[1].cast<bool>();
    const auto sel = t[2].cast<std::vector<int>>();
    if (!py::isinstance<py::array_t<T>>(arr) || arr.itemsize() != py::ssize_t(sizeof(T)))
      throw py::type_error("input " + std::to_string(i) + " has the wrong dtype");
    keep.push_back(arr);
    const auto& shape = prog.slot_shape(i);
    const int nd = int(arr.ndim());
    const int lead = batched ? 1 : 0;
    if (nd != lead + int(shape.size()) + int(sel.size()))
      throw py::value_error("input " + std::to_string(i) + " has the wrong rank");
    if (batched && arr.shape(0) != n_samples)
      throw py::value_error("input " + std::to_string(i) + ": leading axis must be the number of samples");
    auto& v = views[i];
    v.base = static_cast<const T*>(arr.data());
    for (int ax = 0; ax < nd; ++ax)
      if (arr.strides(ax) % py::ssize_t(sizeof(T)) != 0) throw py::value_error("unaligned strides");
    v.sample_stride = batched ? long(arr.strides(0) / py::ssize_t(sizeof(T))) : 0;
    std::vector<char> is_sel(nd, 0);
    for (int ax : sel) {
      if (ax < lead || ax >= nd || is_sel[ax]) throw py::value_error("bad select axes");
      is_sel[ax] = 1;
      v.select_strides.push_back(long(arr.strides(ax) / py::ssize_t(sizeof(T))));
      v.select_sizes.push_back(long(arr.shape(ax)));
    }
    int li = 0;
    for (int ax = lead; ax < nd; ++ax) {
      if (is_sel[ax]) continue;
      if (arr.shape(ax) != shape[li]) throw py::value_error("input " + std::to_string(i) + " has the wrong shape");
      v.strides.push_back(long(arr.strides(ax) / py::ssize_t(sizeof(T))));
      ++li;
    }
    if (!sel.empty()) {
      auto idx = t[3].cast<carray<std::int64_t>>();
      if (idx.ndim() != 2 || idx.shape(0) != n_samples || idx.shape(1) != py::ssize_t(sel.size()))
        throw py::value_error("select index of input " + std::to_string(i) + " must have shape (samples, n_select)");
      keep.push_back(idx);
      v.select_index = idx.data();
    }
  }
  std::vector<py::ssize_t> oshape;
  oshape.push_back(n_samples);
  for (long d : prog.out_shape()) oshape.push_back(d);
  py::array_t<T> out(oshape);
  T* o = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    tn::execute<T>(prog, views, n_samples, o, parallel);
  }
  return out;
}
}  // namespace

void register_tensornet(py::module_& root) {
  auto m = root.def_submodule("tensornet", "tensor-network contraction programs");
  m.def("set_blas", &tn::set_blas_addresses, py::arg("dgemm"), py::arg("sgemm"), py::arg("zgemm"), py::arg("cgemm"));
  m.def("has_blas", &tn::has_blas);
  m.def("set_small_gemm_threshold", &tn::set_small_gemm_threshold, py::arg("flops"));
  m.def("small_gemm_threshold", &tn::small_gemm_threshold);
  py::class_<tn::Program>(m, "Program")
      .def(py::init([](int n_inputs, std::vector<std::vector<long>> shapes,
                       const std::vector<std::pair<OpTuple, OpTuple>>& steps, const OpTuple& fin) {
             std::vector<tn::StepSpec> st;
             for (const auto& p : steps) st.push_back(tn::StepSpec{to_op(p.first), to_op(p.second)});
             return new tn::Program(n_inputs, std::move(shapes), std::move(st), to_op(fin));
           }),
           py::arg("n_inputs"), py::arg("slot_shapes"), py::arg("steps"), py::arg("final"))
      .def_property_readonly("out_shape", &tn::Program::out_shape)
      .def_property_readonly("n_steps", [](const tn::Program& p) { return p.steps().size(); })
      .def("flops", &tn::Program::flops)
      .def(
          "execute",
          [](const tn::Program& p, const py::list& inputs, long n, const std::string& dtype, bool parallel) -> py::array {
            if (dtype == "float64") return run<double>(p, inputs, n, parallel);
            if (dtype == "float32") return run<float>(p, inputs, n, parallel);
            if (dtype == "complex128") return run<std::complex<double>>(p, inputs, n, parallel);
            if (dtype == "complex64") return run<std::complex<float>>(p, inputs, n, parallel);
            throw py::type_error("dtype must be float32, float64, complex64 or complex128");
          },
          py::arg("inputs"), py::arg("n_samples"), py::arg("dtype"), py::arg("parallel") = true);
}

}  // namespace physdl::bindings
