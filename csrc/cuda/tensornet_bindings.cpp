// physdl._cuda.tensornet: run a contraction program on the device (no logic: unpack and call).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <complex>
#include <string>
#include <tuple>
#include <vector>

#include "tensornet_cuda.hpp"

namespace py = pybind11;

namespace physdl::cuda {

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

template <class T>
py::array run(const tn::Program& prog, const py::list& inputs, long n_samples) {
  const int ni = prog.n_inputs();
  if (int(inputs.size()) != ni) throw py::value_error("wrong number of inputs");
  std::vector<tn::InputView<T>> views(ni);
  std::vector<std::vector<long>> extent(ni);
  std::vector<py::array> keep;
  const auto item = py::ssize_t(sizeof(T));
  for (int i = 0; i < ni; ++i) {
    auto t = inputs[i].cast<py::tuple>();
    auto arr = t[0].cast<py::array>();
    const bool batched = t[1].cast<bool>();
    const auto sel = t[2].cast<std::vector<int>>();
    if (!py::isinstance<py::array_t<T>>(arr)) throw py::type_error("input " + std::to_string(i) + ": wrong dtype");
    keep.push_back(arr);
    const auto& shape = prog.slot_shape(i);
    const int nd = int(arr.ndim()), lead = batched ? 1 : 0;
    if (nd != lead + int(shape.size()) + int(sel.size())) throw py::value_error("input has the wrong rank");
    if (batched && arr.shape(0) != n_samples) throw py::value_error("leading axis must be the number of samples");
    auto& v = views[i];
    v.base = static_cast<const T*>(arr.data());
    long lo = 0, hi = 1;
    for (int ax = 0; ax < nd; ++ax) {
      if (arr.strides(ax) % item != 0) throw py::value_error("unaligned strides");
      const long st = long(arr.strides(ax) / item), span = long(arr.shape(ax) - 1) * st;
      if (arr.shape(ax) == 0) throw py::value_error("empty input");
      if (span < 0) lo += span; else hi += span;
    }
    extent[i] = {lo, hi};
    v.sample_stride = batched ? long(arr.strides(0) / item) : 0;
    std::vector<char> is_sel(nd, 0);
    for (int ax : sel) {
      if (ax < lead || ax >= nd || is_sel[ax]) throw py::value_error("bad select axes");
      is_sel[ax] = 1;
      v.select_strides.push_back(long(arr.strides(ax) / item));
      v.select_sizes.push_back(long(arr.shape(ax)));
    }
    int li = 0;
    for (int ax = lead; ax < nd; ++ax) {
      if (is_sel[ax]) continue;
      if (arr.shape(ax) != shape[li]) throw py::value_error("input has the wrong shape");
      v.strides.push_back(long(arr.strides(ax) / item));
      ++li;
    }
    if (!sel.empty()) {
      auto idx = t[3].cast<py::array_t<std::int64_t, py::array::c_style>>();
      if (idx.ndim() != 2 || idx.shape(0) != n_samples || idx.shape(1) != py::ssize_t(sel.size()))
        throw py::value_error("select index must have shape (samples, n_select)");
      keep.push_back(idx);
      v.select_index = idx.data();
    }
  }
  std::vector<py::ssize_t> oshape{n_samples};
  for (long d : prog.out_shape()) oshape.push_back(d);
  py::array_t<T> out(oshape);
  T* o = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    tensornet_execute<T>(prog, views, extent, n_samples, o);
  }
  return out;
}
}  // namespace

void register_cuda_tensornet(py::module_& root) {
  auto m = root.def_submodule("tensornet", "contraction programs on the device (cuBLAS strided-batched GEMM)");
  m.def("cublas_available", [] {
    std::string reason;
    const bool ok = tensornet_cublas_available(reason);
    return py::make_tuple(ok, reason);
  });
  m.def(
      "execute",
      [](int n_inputs, std::vector<std::vector<long>> shapes, const std::vector<std::pair<OpTuple, OpTuple>>& steps,
         const OpTuple& fin, const py::list& inputs, long n_samples, const std::string& dtype) -> py::array {
        std::vector<tn::StepSpec> st;
        for (const auto& p : steps) st.push_back(tn::StepSpec{to_op(p.first), to_op(p.second)});
        const tn::Program prog(n_inputs, std::move(shapes), std::move(st), to_op(fin));
        if (dtype == "float64") return run<double>(prog, inputs, n_samples);
        if (dtype == "float32") return run<float>(prog, inputs, n_samples);
        if (dtype == "complex128") return run<std::complex<double>>(prog, inputs, n_samples);
        if (dtype == "complex64") return run<std::complex<float>>(prog, inputs, n_samples);
        throw py::type_error("dtype must be float32, float64, complex64 or complex128");
      },
      py::arg("n_inputs"), py::arg("slot_shapes"), py::arg("steps"), py::arg("final"), py::arg("inputs"),
      py::arg("n_samples"), py::arg("dtype"));
}

}  // namespace physdl::cuda
